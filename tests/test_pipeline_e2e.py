"""End to end with Dagster on a real instance: generated deliveries into DuckDB and into PostgreSQL."""

import contextlib
import subprocess
import sys
from datetime import datetime
from decimal import Decimal

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import assert_frame_holds_no_identity, identity_needles, postgres_schema

from pipelines.checks import all_checks
from pipelines.definitions import all_assets
from pipelines.resources import IngestResource, WarehouseResource
from schemas.tables import FEED_FACT, FEED_STAGING, TABLES
from warehouse.db import make_engine, read_table

pytestmark = pytest.mark.slow  # whole-pipeline runs on DuckDB and PostgreSQL


def run_everything(warehouse_url: str, landing, feedback_dir) -> dg.ExecuteInProcessResult:
    instance = dg.DagsterInstance.get()  # the real instance in $DAGSTER_HOME (tests set it)
    return dg.materialize(
        [*all_assets, *all_checks],
        instance=instance,
        resources={
            "warehouse": WarehouseResource(url=warehouse_url),
            "ingest": IngestResource(environment="test", landing_dir=str(landing), feedback_dir=str(feedback_dir)),
        },
    )


def expected_current_records(sample, feed: str) -> int:
    """Distinct (partner, record key) among the valid rows of the files in force: worked out from the truth files."""
    truth = pd.read_csv(sample["truth"] / f"valid_{feed}.csv", dtype=str, keep_default_na=False)
    partner = truth["path"].str.split("/").str[1]
    return len(set(zip(partner, truth["record_key"])))


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def loaded(request, stats_sample, tmp_path_factory):
    """The whole pipeline run once per warehouse (module scope: the tests below only read)."""
    root = tmp_path_factory.mktemp(f"e2e_{request.param}")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with pytest.MonkeyPatch.context() as mp, contextlib.ExitStack() as stack:
        mp.setenv("DAGSTER_HOME", str(home))
        if request.param == "duckdb":  # read and validate in worker processes, as at scale (bench/): same results
            mp.setenv("ZORGSTROOM_READ_WORKERS", "2")
            mp.setenv("ZORGSTROOM_READ_WORKERS_MIN_BYTES", "0")
        url = (
            f"duckdb:///{root / 'warehouse.duckdb'}"
            if request.param == "duckdb"
            else stack.enter_context(postgres_schema())
        )
        result = run_everything(url, stats_sample["landing"], root / "feedback")
        engine = make_engine(url)
        yield result, engine, root
        engine.dispose()


def test_rows_per_feed_equal_what_the_generator_says_is_valid(stats_sample, loaded):
    result, engine, _ = loaded
    assert result.success
    manifest = stats_sample["manifest"]
    for feed, table in FEED_STAGING.items():
        with engine.connect() as conn:
            n = conn.execute(sa.text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()
        assert n == manifest["expected_staging_rows"][feed], feed
        fact = read_table(engine, FEED_FACT[feed])
        assert len(fact) == expected_current_records(stats_sample, feed), feed
        assert not fact.duplicated(["partner_code", "record_key"]).any()


def test_every_check_ran_and_passed(loaded):
    result, _, _ = loaded
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {key.name for chk in all_checks for key in chk.check_keys}
    assert len(evaluations) == 47
    failed = [e for e in evaluations if not e.passed]
    # blocking (ERROR) checks all pass; warnings are allowed (tiny sample deliveries have high quarantine shares)
    assert all(e.severity == dg.AssetCheckSeverity.WARN for e in failed), [e.check_name for e in failed]
    names = {e.check_name for e in evaluations if e.passed}
    assert {
        "fct_sector_inflow_municipality_code_in_dim_region",
        "spell_end_before_start",
        "outflow_above_stock",
        "stg_employment_spells_rows_accounted_for",
        "pub_sector_flows_no_small_counts",
    } <= names


def test_delivery_log_accounts_for_every_row_and_every_file(stats_sample, loaded):
    _, engine, _ = loaded
    log = read_table(engine, "delivery_log")
    files = stats_sample["manifest"]["files"]
    broken = stats_sample["manifest"]["rejected_files"]
    assert len(log) == len(files) + len(broken)  # every file seen once
    assert (log["rows_read"] == log["rows_accepted"] + log["rows_quarantined"]).all()
    statuses = log["delivery_status"].value_counts().to_dict()
    want = (
        pd.Series([f["status"] for f in files] + ["rejected"] * len(broken))
        .replace({"load": "loaded"})
        .value_counts()
        .to_dict()
    )
    assert statuses == want
    rejected = log[log["delivery_status"] == "rejected"]
    by_name = dict(zip(rejected["source_file"].str.split("/").str[-1], rejected["reason_code"]))
    assert by_name == {b["path"].split("/")[-1]: b["expected_reason_code"] for b in broken}
    assert rejected["reason"].str.len().min() > 30  # a sentence a partner can act on
    superseded = log[log["delivery_status"] == "superseded"].iloc[0]
    v2_name = next(f for f in files if f["status"] == "superseded")["superseded_by"].split("/")[-1]
    v2 = log[log["source_file"] == v2_name].iloc[0]
    assert superseded["superseded_by"] == v2["delivery_id"] and v2["delivery_status"] == "loaded"
    for table in FEED_STAGING.values():
        staging = read_table(engine, table)
        assert not staging["delivery_id"].isin(log.loc[log["delivery_status"] != "loaded", "delivery_id"]).any()
        per_delivery = staging.groupby("delivery_id").size()
        loaded_log = log[log["delivery_id"].isin(per_delivery.index)].set_index("delivery_id")
        assert (loaded_log["rows_accepted"] == per_delivery.reindex(loaded_log.index)).all()
    quarantine = read_table(engine, "quarantine_rows")
    rejected_rows = quarantine[quarantine["severity"] == "row_rejected"].drop_duplicates(
        ["delivery_id", "source_row_number"]
    )
    assert len(rejected_rows) == int(log["rows_quarantined"].sum())


def test_second_run_changes_nothing(stats_sample, loaded):
    _, engine, root = loaded
    before = {t: read_table(engine, t) for t in TABLES if t not in ("delivery_log",)}
    log_before = read_table(engine, "delivery_log").drop(columns="processed_at")
    result = run_everything(
        engine.url.render_as_string(hide_password=False), stats_sample["landing"], root / "feedback"
    )
    assert result.success
    for t, df in before.items():
        after = read_table(engine, t)
        pd.testing.assert_frame_equal(
            df.sort_values(list(df.columns)).reset_index(drop=True),
            after.sort_values(list(df.columns)).reset_index(drop=True),
            obj=t,
        )
    pd.testing.assert_frame_equal(log_before, read_table(engine, "delivery_log").drop(columns="processed_at"))


def test_no_raw_identity_of_any_generated_person_in_any_table(stats_sample, loaded):
    """Privacy scan: no BSN, onderwijsnummer, name, full birth date or full postcode anywhere in the warehouse."""
    _, engine, _ = loaded
    needles = identity_needles(stats_sample["truth"])
    scanned = 0
    for table in sa.inspect(engine).get_table_names():
        scanned += assert_frame_holds_no_identity(
            pd.read_sql(sa.text(f'SELECT * FROM "{table}"'), engine), table, needles
        )
    assert scanned > 10_000


def test_people_are_linked_across_partners_by_pseudonym(stats_sample, loaded):
    """The persons in both the municipal and the employer facts are exactly those the truth files share."""
    _, engine, _ = loaded
    valid = {
        feed: pd.read_csv(stats_sample["truth"] / f"valid_{feed}.csv", dtype=str, keep_default_na=False)
        for feed in ("employment_spells", "municipal_participants")
    }
    shared_bsns = set(valid["employment_spells"]["bsn"]) & set(valid["municipal_participants"]["bsn"])
    employed = set(read_table(engine, "fct_employment_spells")["person_id"])
    participants = set(read_table(engine, "fct_municipal_trajectories")["person_id"])
    assert shared_bsns, "the sample should link some participants to employers"
    assert len(employed & participants) == len(shared_bsns)


def test_a_feedback_report_for_every_delivery_with_rejections(loaded):
    _, engine, root = loaded
    log = read_table(engine, "delivery_log")
    quarantine = read_table(engine, "quarantine_rows")
    expected = set(log.loc[log["delivery_status"] == "rejected", "content_hash"].str[:8]) | set(
        log.loc[log["delivery_id"].isin(quarantine["delivery_id"]), "content_hash"].str[:8]
    )
    reports = list((root / "feedback").rglob("*_feedback.xlsx"))
    assert {p.stem.split("_")[-2] for p in reports} == expected
    assert len(list((root / "feedback").rglob("*_feedback.csv"))) == len(reports)


# --- statistics (issue 3) ------------------------------------------------------------------------------

PUBLISHED = ["pub_sector_flows", "pub_retention", "pub_programme_flows", "pub_target_attainment"]


def test_published_tables_hold_sensible_aggregates_and_no_pseudonyms(loaded):
    _, engine, _ = loaded
    for name in PUBLISHED:
        df = read_table(engine, name)
        assert len(df) > 0, name
        assert "person_id" not in df.columns
        counts = [c for c in ("persons", "cohort_persons", "retained_persons", "achieved") if c in df.columns]
        for c in counts:
            assert not df[c].between(1, 4).any(), f"{name}.{c} shows a small count"
        assert (df["suppressed"] == df[counts[0]].isna()).all() or name == "pub_target_attainment"
        assert df.loc[df["suppressed"].astype(bool), "suppression_reason"].notna().all()
    flows = read_table(engine, "pub_sector_flows")
    totals = flows[(flows["area_level"] == "all") & (flows["breakdown"] == "total")]
    assert set(totals["measure"]) == {"inflow", "outflow", "internal_mobility"}


def test_published_totals_equal_the_facts_wherever_nothing_is_suppressed(loaded):
    _, engine, _ = loaded
    flows = read_table(engine, "pub_sector_flows")
    facts = {
        "inflow": read_table(engine, "fct_sector_inflow"),
        "outflow": read_table(engine, "fct_sector_outflow"),
        "internal_mobility": read_table(engine, "fct_internal_mobility"),
    }
    checked = 0
    for measure, fact in facts.items():
        per_month = fact.groupby("event_month")["person_id"].nunique()
        shown = flows[
            (flows["measure"] == measure)
            & (flows["area_level"] == "all")
            & (flows["breakdown"] == "total")
            & ~flows["suppressed"].astype(bool)
        ]
        for month, persons in zip(shown["period_month"], shown["persons"]):
            assert persons == per_month[month], (measure, month)
            checked += 1
        per_municipality = fact.groupby(["event_month", "municipality_code"])["person_id"].nunique()
        shown = flows[
            (flows["measure"] == measure)
            & (flows["area_level"] == "municipality")
            & (flows["breakdown"] == "total")
            & ~flows["suppressed"].astype(bool)
        ]
        for month, code, persons in zip(shown["period_month"], shown["area_code"], shown["persons"]):
            assert persons == per_municipality[(month, code)]
            checked += 1
    assert checked > 10
    attainment = read_table(engine, "pub_target_attainment")
    fct = read_table(engine, "fct_target_attainment")
    both = attainment.merge(fct, on=["target_code", "as_of_date"], suffixes=("", "_fct"))
    shown = both[both["achieved"].notna()]
    assert len(shown) > 0 and (shown["achieved"] == shown["achieved_fct"]).all()


def test_cohorts_hidden_in_the_flows_are_hidden_in_retention(loaded):
    _, engine, _ = loaded
    flows = read_table(engine, "pub_sector_flows")
    hidden = flows[(flows["measure"] == "inflow") & (flows["breakdown"] == "total") & flows["suppressed"].astype(bool)]
    retention = read_table(engine, "pub_retention")
    joined = retention.merge(
        hidden[["period_month", "area_code"]],
        left_on=["cohort_month", "area_code"],
        right_on=["period_month", "area_code"],
    )
    assert joined["cohort_persons"].isna().all()


BI_QUERY = """SELECT target_code, achieved, target_number, status
FROM pub_target_attainment WHERE is_latest ORDER BY target_code"""


def test_a_bi_tool_reads_the_attainment_of_each_target_from_a_separate_process(loaded):
    """As a BI tool would: a plain SQL query from another process (DuckDB read-only, or PostgreSQL)."""
    _, engine, _ = loaded
    url = engine.url
    if url.get_backend_name() == "duckdb":
        engine.dispose()  # DuckDB: the reader opens the file read-only once the writer is done
        code = (
            f"import duckdb; con = duckdb.connect({url.database!r}, read_only=True); "
            f"print(con.execute({BI_QUERY!r}).fetchall())"
        )
    else:
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        code = (
            "import psycopg, sys; con = psycopg.connect(sys.argv[1].split('?')[0], options='-csearch_path=' + "
            "sys.argv[2]);"
            f" print(con.execute({BI_QUERY!r}).fetchall())"
        )
    args = [] if url.get_backend_name() == "duckdb" else [plain, url.query["options"].split("=")[-1]]
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = eval(out.stdout, {"datetime": datetime, "Decimal": Decimal})  # the printed list of tuples
    assert [r[0] for r in rows] == sorted(
        ["brugbanen", "sectordeal_zorg", "taakbrigades", "voortraject", "wep_trein", "werkoffensief_500"]
    )
    by_code = {r[0]: r for r in rows}
    assert by_code["brugbanen"][2] is None and by_code["brugbanen"][3] is None  # count only, no status
    assert by_code["sectordeal_zorg"][2] == 2000 and by_code["sectordeal_zorg"][3] in {
        "achieved",
        "on_track",
        "needs_acceleration",
        "off_track",
    }


@pytest.mark.parametrize("loaded", ["duckdb"], indirect=True)  # the reference is DuckDB SQL
def test_the_benchmarks_sql_reference_agrees_with_the_pipeline(loaded):
    """bench/reference.sql computes inflow and outflow per municipality and month from
    stg_employment_spells on its own: its counts equal fct_sector_inflow / fct_sector_outflow."""
    from test_bench_reference import _reference_module

    _, engine, _ = loaded
    path = engine.url.database
    engine.dispose()  # the reference opens the file read-only, as a second process would
    result = _reference_module().compare(path)
    assert result["differences"] == [], result["differences"][:20]
    assert result["verdict"] == "EQUAL" and result["totals"]["reference_inflow"]["persons_summed"] > 100
