"""Identity-leak audit: after a whole pipeline run on generated data, no raw BSN, onderwijsnummer,
name, full birth date or full postcode of any generated person appears in any warehouse table,
the quarantine, the feedback reports, the Dagster instance (run logs, event log, asset metadata)
or anything else the run wrote."""

import csv

import dagster as dg
import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import assert_frame_holds_no_identity, identity_needles

from pipelines.checks import all_checks
from pipelines.definitions import all_assets
from pipelines.resources import IngestResource, WarehouseResource
from warehouse.db import make_engine

pytestmark = pytest.mark.slow  # a whole-pipeline run scanned


@pytest.fixture(scope="module")
def audited_run(sample, tmp_path_factory):
    root = tmp_path_factory.mktemp("audit")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    url = f"duckdb:///{root / 'warehouse.duckdb'}"
    instance = dg.DagsterInstance.from_config(str(home))  # a persistent instance, as DAGSTER_HOME gives
    result = dg.materialize(
        [*all_assets, *all_checks],
        instance=instance,
        resources={
            "warehouse": WarehouseResource(url=url),
            "ingest": IngestResource(
                environment="test", landing_dir=str(sample["landing"]), feedback_dir=str(root / "feedback")
            ),
        },
    )
    assert result.success
    events = instance.all_logs(result.run_id)
    event_text = "\n".join(dg.serialize_value(e) for e in events)
    instance.dispose()
    engine = make_engine(url)
    yield {"root": root, "home": home, "engine": engine, "events": events, "event_text": event_text}
    engine.dispose()


@pytest.fixture(scope="module")
def identities(sample) -> dict:
    return identity_needles(sample["truth"])


def assert_clean(text: str, where: str, identities: dict) -> None:
    """Free text (logs, files): no number, postcode, full name or full birth date of anyone."""
    for needle in identities["substrings"] | identities["births_text"]:
        assert needle not in text, f"a raw identity ({len(needle)} chars) in {where}"


def test_warehouse_tables_hold_no_identity(audited_run, identities):
    engine = audited_run["engine"]
    tables = sa.inspect(engine).get_table_names()
    assert {
        "stg_employment_spells",
        "quarantine_rows",
        "delivery_log",
        "fct_employment_spells",
        "pub_sector_flows",
    } <= set(tables)
    scanned = sum(
        assert_frame_holds_no_identity(pd.read_sql(sa.text(f'SELECT * FROM "{t}"'), engine), t, identities)
        for t in tables
    )
    assert scanned > 10_000


def test_feedback_reports_hold_no_identity(audited_run, identities):
    folder = audited_run["root"] / "feedback"
    reports = [*folder.rglob("*_feedback.*"), *folder.rglob("*_overzicht.xlsx")]  # per delivery, per partner
    assert len(reports) > 10 and any(p.name.endswith("_overzicht.xlsx") for p in reports)
    for path in reports:
        if path.suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as fh:
                cells = [c for row in csv.reader(fh, delimiter=";") for c in row]
        else:
            cells = [
                str(c.value)
                for sheet in openpyxl.load_workbook(path).worksheets
                for row in sheet.iter_rows()
                for c in row
                if c.value is not None
            ]
        assert not (set(cells) & identities["cells"]), f"a name in {path.name}"
        assert_clean("\n".join(cells), path.name, identities)


def test_dagster_event_log_run_logs_and_metadata_hold_no_identity(audited_run, identities):
    events = audited_run["events"]
    assert any(e.dagster_event and e.dagster_event.event_type_value == "ASSET_MATERIALIZATION" for e in events)
    assert "rows_quarantined" in audited_run["event_text"]  # the metadata is in what we scan
    assert_clean(audited_run["event_text"], "the Dagster event log", identities)


def test_no_file_the_run_wrote_holds_an_identity(audited_run, identities):
    """Everything on disk under the Dagster home (SQLite storage, captured compute logs) and the warehouse file."""
    scanned = 0
    for path in [*audited_run["home"].rglob("*"), *audited_run["root"].glob("warehouse.duckdb*")]:
        if path.is_file():
            assert_clean(path.read_bytes().decode("latin-1"), str(path.name), identities)
            scanned += 1
    assert scanned >= 2


# --- the hostile corpus: identifiers planted where they do not belong ------------------------------------------


def _assert_no_planted(text: str, where: str, planted: set[str]) -> None:
    for needle in planted:
        assert needle not in text, f"a planted identifier ({len(needle)} chars) in {where}"


@pytest.mark.slow
def test_hostile_corpus_every_table_holds_no_planted_identifier(hostile_run):
    engine, planted = hostile_run["engine"], hostile_run["corpus"].planted
    assert len(planted) > 50
    tables = sa.inspect(engine).get_table_names()
    assert {"stg_municipal_participants", "stg_enrolments", "quarantine_rows", "delivery_log"} <= set(tables)
    scanned = 0
    for table in tables:
        df = pd.read_sql(sa.text(f'SELECT * FROM "{table}"'), engine)
        for column in df.columns:
            values = df[column].dropna().astype(str)
            _assert_no_planted("\n".join(values), f"{table}.{column}", planted)
            scanned += len(values)
    assert scanned > 10_000


@pytest.mark.slow
def test_hostile_corpus_event_log_and_metadata_hold_no_planted_identifier(hostile_run):
    text = hostile_run["event_text"]
    assert "preview" in text and "rows_quarantined" in text  # asset metadata is part of what is scanned
    _assert_no_planted(text, "the Dagster event log", hostile_run["corpus"].planted)
    scanned = 0
    for path in hostile_run["home"].rglob("*"):  # SQLite storage, captured compute logs
        if path.is_file():
            _assert_no_planted(path.read_bytes().decode("latin-1"), path.name, hostile_run["corpus"].planted)
            scanned += 1
    assert scanned >= 2


@pytest.mark.slow
def test_hostile_corpus_feedback_holds_no_planted_identifier(hostile_run):
    reports = list((hostile_run["root"] / "feedback").rglob("*_feedback.*"))
    hostile_reports = [p for p in reports if "2021" in p.name]
    assert len(hostile_reports) >= 10  # the corpus's rejected files and quarantined rows got their reports
    for path in reports:
        if path.suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as fh:
                cells = [c for row in csv.reader(fh, delimiter=";") for c in row]
        else:
            cells = [str(c.value) for row in openpyxl.load_workbook(path).active.iter_rows() for c in row if c.value]
        _assert_no_planted("\n".join(cells), path.name, hostile_run["corpus"].planted)
