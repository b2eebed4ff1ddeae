"""Nightly runs rebuild only what changed: tables whose feeds got no new delivery are kept as they are."""

import shutil

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from pipelines.checks import all_checks
from pipelines.definitions import all_assets
from pipelines.incremental import FULL_REBUILD_TAG
from pipelines.resources import IngestResource, WarehouseResource
from warehouse.build_state import built_from, input_fingerprint, record_built, up_to_date
from warehouse.db import make_engine, read_table

pytestmark = pytest.mark.slow  # whole-pipeline runs


def _flag(entry: dg.MetadataValue) -> bool:
    """The value of a boolean metadata entry (the pipeline writes `rebuilt` and `rechecked` as bools)."""
    assert isinstance(entry, dg.BoolMetadataValue) and entry.value is not None, entry
    return entry.value


def run(url: str, landing, feedback, tags: dict | None = None) -> dict[str, bool]:
    """Materialise everything; per asset whether it was rebuilt (from its materialization metadata)."""
    result = dg.materialize(
        [*all_assets, *all_checks],
        instance=dg.DagsterInstance.get(),
        tags=tags,
        resources={
            "warehouse": WarehouseResource(url=url),
            "ingest": IngestResource(environment="test", landing_dir=str(landing), feedback_dir=str(feedback)),
        },
    )
    assert result.success
    rebuilt = {}
    for event in result.get_asset_materialization_events():
        key = event.materialization.asset_key.to_user_string()
        md = event.materialization.metadata
        if "rebuilt" in md:
            rebuilt[key] = _flag(md["rebuilt"])
        if md.get("updated_from_new_deliveries") is not None and md["updated_from_new_deliveries"].value:
            UPDATED.add(key)
    CHECKS_RUN.clear()
    for evaluation in result.get_asset_check_evaluations():
        assert evaluation.passed or evaluation.severity == dg.AssetCheckSeverity.WARN, evaluation.check_name
        rechecked = evaluation.metadata.get("rechecked")
        CHECKS_RUN[evaluation.check_name] = rechecked is None or _flag(rechecked)
    return rebuilt


UPDATED: set[str] = set()  # assets brought up to date from new deliveries alone, over the runs of a test
CHECKS_RUN: dict[
    str, bool
] = {}  # per check of the last run: whether it ran (False: its tables were unchanged since it passed)


def test_a_run_without_new_deliveries_rebuilds_nothing_and_one_new_delivery_rebuilds_only_its_side(
    sample, tmp_path, dagster_home
):
    landing = tmp_path / "landing"
    shutil.copytree(sample["landing"], landing)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"

    first = run(url, landing, tmp_path / "feedback")
    assert first and all(first.values())  # everything built
    engine = make_engine(url)
    before = {
        t: read_table(engine, t) for t in ("pub_sector_flows", "fct_employment_spells", "fct_enrolments", "dim_person")
    }
    state = read_table(engine, "build_state")
    engine.dispose()

    assert all(CHECKS_RUN.values()) and len(CHECKS_RUN) == len(all_checks_names())
    second = run(url, landing, tmp_path / "feedback")
    assert set(second) == set(first) and not any(second.values())  # nothing rebuilt
    skipped = {name for name, ran in CHECKS_RUN.items() if not ran}
    assert {"fct_enrolments_conforms_to_schema", "pub_sector_flows_no_small_counts", "outflow_above_stock"} <= skipped
    assert "spell_longer_than_50_years" not in skipped  # its answer depends on the day it runs
    assert "stg_employment_spells_rows_accounted_for" not in skipped  # reads the audit tables
    engine = make_engine(url)
    for table, frame in before.items():
        assert read_table(engine, table).equals(frame), table
    assert read_table(engine, "build_state").equals(state)
    engine.dispose()

    folder = landing / "zorggroep_haaglanden"  # one more monthly file of one care employer
    last = sorted(p for p in folder.iterdir() if p.suffix == ".csv")[-1]
    year, month = int(last.stem[-7:-3]), int(last.stem[-2:])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    shutil.copyfile(last, folder / f"zorggroep_haaglanden_{year:04d}-{month:02d}.csv")
    UPDATED.clear()
    third = run(url, landing, tmp_path / "feedback")
    assert {"fct_employment_spells", "fct_person_residence"} == UPDATED  # from the new delivery alone
    assert CHECKS_RUN["fct_employment_spells_conforms_to_schema"] and CHECKS_RUN["outflow_above_stock"]
    assert not CHECKS_RUN["fct_enrolments_conforms_to_schema"]  # the enrolments side did not change
    assert third["fct_employment_spells"] and third["pub_sector_flows"] and third["dim_person"]
    assert not third["fct_enrolments"] and not third["fct_municipal_trajectories"]  # their feeds got nothing new
    assert not third["dim_region"]  # configuration only

    engine = make_engine(url)
    updated = {t: _sorted(read_table(engine, t), t) for t in DERIVED}
    covered = read_table(engine, "build_deliveries")
    engine.dispose()
    assert set(covered["asset_name"]) >= {
        "fct_employment_spells",
        "fct_person_residence",
        "stg_employment_spells_conforms_to_schema",
    }

    forced = run(url, landing, tmp_path / "feedback", tags={FULL_REBUILD_TAG: "true"})
    assert set(forced) == set(first) and all(forced.values())  # the operator's way to rebuild everything
    assert all(CHECKS_RUN.values())  # and to check everything again
    engine = make_engine(url)
    for table in DERIVED:  # the tables brought up to date from the new delivery alone equal a whole rebuild
        pd.testing.assert_frame_equal(_sorted(read_table(engine, table), table), updated[table], obj=table)
    engine.dispose()


def all_checks_names() -> set[str]:
    return {spec.name for checks in all_checks for spec in checks.check_specs}


DERIVED = [
    "fct_employment_spells",
    "fct_enrolments",
    "fct_person_residence",
    "dim_person",
    "fct_sector_inflow",
    "fct_sector_outflow",
    "fct_retention",
    "fct_target_persons",
    "pub_sector_flows",
    "pub_target_attainment",
]


def _sorted(df, table: str):
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def test_build_state_records_what_a_table_was_built_from(warehouse_url):
    engine = make_engine(warehouse_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE delivery_log (delivery_id TEXT, partner_code TEXT, delivery_status TEXT)"))
        conn.execute(
            sa.text(
                "INSERT INTO delivery_log VALUES ('a/1', 'a', 'loaded'), ('b/1', 'b', 'loaded'), ('b/0', 'b', "
                "'rejected')"
            )
        )
        conn.execute(sa.text("CREATE TABLE t1 (x INTEGER)"))
    fp_a, fp_all = input_fingerprint(engine, {"a"}, code="v1"), input_fingerprint(engine, None, code="v1")
    assert fp_a != fp_all and input_fingerprint(engine, {"a"}, code="v2") != fp_a  # other code: other fingerprint
    assert not up_to_date(engine, ["t1"], fp_a)
    record_built(engine, ["t1", "t2"], fp_a, "run-1")
    assert built_from(engine, ["t1", "t2"]) == {"t1": fp_a, "t2": fp_a}
    assert up_to_date(engine, ["t1"], fp_a)
    assert not up_to_date(engine, ["t1", "t2"], fp_a)  # t2 was never created (or was dropped): rebuild
    with engine.begin() as conn:  # a new delivery of b does not change what a's tables are built from
        conn.execute(sa.text("INSERT INTO delivery_log VALUES ('b/2', 'b', 'loaded')"))
    assert input_fingerprint(engine, {"a"}, code="v1") == fp_a
    assert input_fingerprint(engine, None, code="v1") != fp_all


def test_a_table_built_from_an_upstream_table_that_was_rebuilt_since_is_built_again(duckdb_url):
    """Per-layer jobs: statistics built while the facts were stale must not be taken as current once the
    facts are rebuilt; the upstream tables' own fingerprints are part of the downstream one."""
    engine = make_engine(duckdb_url)
    record_built(engine, ["fct_x"], "1" * 64, "run-1")
    before = input_fingerprint(engine, None, code="v1", upstream=["fct_x", "stg_y"])
    record_built(engine, ["stats"], before, "run-2")
    assert input_fingerprint(engine, None, code="v1", upstream=["fct_x", "stg_y"]) == before  # nothing changed
    record_built(engine, ["fct_x"], "2" * 64, "run-3")  # the facts were rebuilt (new deliveries, other code)
    assert input_fingerprint(engine, None, code="v1", upstream=["fct_x", "stg_y"]) != before
