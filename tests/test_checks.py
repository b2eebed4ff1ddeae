"""The pipeline's own checks, each on passing and on failing data (PUDL's lesson: a check that never
fails has never been tested)."""

import pandas as pd
import sqlalchemy as sa

from pipelines.checks import PUBLISHED_COUNTS, small_counts
from warehouse.db import make_engine, replace_table
from warehouse.quality import late_deliveries_sql, load_quality_config, offending_rows
from warehouse.reconcile import reconcile_feed

# Schema checks: tests/test_sql_checks.py.


def _audit_tables(engine, staged_rows: int, rows_accepted: int):
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE stg_enrolments (delivery_id TEXT, partner_code TEXT)"))
        conn.execute(
            sa.text("CREATE TABLE quarantine_rows (delivery_id TEXT, source_row_number BIGINT, severity TEXT)")
        )
        conn.execute(
            sa.text(
                "CREATE TABLE delivery_log (delivery_id TEXT, partner_code TEXT, delivery_status TEXT, rows_read "
                "BIGINT, "
                "rows_accepted BIGINT, rows_quarantined BIGINT)"
            )
        )
        for _ in range(staged_rows):
            conn.execute(sa.text("INSERT INTO stg_enrolments VALUES ('d1', 'p')"))
        conn.execute(
            sa.text(
                "INSERT INTO quarantine_rows VALUES ('d1', 7, 'row_rejected'), ('d1', 7, 'row_rejected'), ('d1', "
                "9, 'flagged')"
            )
        )
        conn.execute(
            sa.text(f"INSERT INTO delivery_log VALUES ('d1', 'p', 'loaded', {rows_accepted + 1}, {rows_accepted}, 1)")
        )


def test_reconciliation_passes_when_every_row_is_accounted_for(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    _audit_tables(engine, staged_rows=3, rows_accepted=3)
    assert reconcile_feed(engine, "enrolments").empty


def test_reconciliation_fails_when_a_row_went_missing(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    _audit_tables(engine, staged_rows=2, rows_accepted=3)
    problems = reconcile_feed(engine, "enrolments")
    assert (
        problems["delivery_id"].tolist() == ["d1"]
        and "2 rows in stg_enrolments, log says 3" in problems["problem"].iloc[0]
    )


def test_small_count_check_on_published_tables():
    counts, differences = PUBLISHED_COUNTS["pub_retention"]
    ok = pd.DataFrame(
        {
            "cohort_persons": pd.array([10, None, 0], dtype="Int64"),
            "retained_persons": pd.array([5, None, 0], dtype="Int64"),
        }
    )
    assert small_counts(ok, counts, differences) == {}
    leaky = pd.DataFrame(
        {"cohort_persons": pd.array([10, 3], dtype="Int64"), "retained_persons": pd.array([8, None], dtype="Int64")}
    )
    assert small_counts(leaky, counts, differences) == {"cohort_persons": 1, "cohort_persons - retained_persons": 1}


def test_lateness_rule_flags_late_and_missing_partners(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    late_days = load_quality_config().late_warning_days
    df = pd.DataFrame(
        {
            "partner_code": ["p", "p", "p"],
            "delivery_period": ["2024-01", "2024-02", "2024-03"],
            "period_start": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
            "period_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]),
            "due_date": pd.to_datetime(["2024-02-15", "2024-03-15", "2024-04-15"]),
            "received": pd.array([True, True, False], dtype="boolean"),
            "first_received_at": pd.to_datetime(["2024-02-10", "2024-04-30", None]),
            "days_late": pd.array([0, late_days + 1, late_days], dtype="Int64"),
            "completeness_status": ["on_time", "late", "missing"],
            "as_of_date": pd.to_datetime(["2024-04-25"] * 3),
        }
    )
    replace_table(
        engine,
        "fct_delivery_completeness",
        df.astype({c: "datetime64[us]" for c in df.columns if df[c].dtype.kind == "M"}),
    )
    n, sample = offending_rows(engine, late_deliveries_sql(late_days))
    assert n == 1 and sample["delivery_period"].tolist() == ["2024-02"]


def test_a_failing_blocking_check_stops_the_assets_downstream(tmp_path, dagster_home):
    """Checks run grouped per asset (one step each); a blocking one that fails still keeps the assets
    downstream from running, while the other checks of the same asset are still reported."""
    import dagster as dg
    from test_sql_checks import STG

    from pipelines.checks import all_checks
    from pipelines.definitions import all_assets
    from pipelines.resources import IngestResource, WarehouseResource
    from schemas.tables import TABLES
    from warehouse.db import ensure_table, insert_frame, table_exists

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    engine = make_engine(url)
    row = {c.name: None for c in STG.columns} | {
        "delivery_id": "p/x.csv@0",
        "partner_code": "zorggroep_haaglanden",
        "delivery_period": "2024-01",
        "delivery_version": 1,
        "source_file": "x.csv",
        "content_hash": "0" * 64,
        "source_row_number": 2,
        "received_at": "2024-02-01",
        "record_key": "1",
        "person_id": "a" * 64,
        "person_id_kind": "bsn",
        "birth_year": 1850,  # fails the schema
        "function_code": "VPK",
        "contract_type_code": "vast",
        "start_date": "2024-01-01",
    }
    frame = pd.DataFrame([row]).astype(
        {
            c.name: {
                "int": "Int64",
                "float": "float64",
                "bool": "boolean",
                "string": "str",
                "date": "datetime64[us]",
                "timestamp": "datetime64[us]",
            }[c.field.type]
            for c in STG.columns
        }
    )
    with engine.begin() as conn:
        for t in ("stg_employment_spells", "delivery_log", "quarantine_rows"):
            ensure_table(conn, TABLES[t])
        insert_frame(conn, STG.name, frame)
    engine.dispose()
    (tmp_path / "landing").mkdir()
    result = dg.materialize(
        [*all_assets, *all_checks],
        instance=dg.DagsterInstance.get(),
        raise_on_error=False,
        selection=["stg_employment_spells", "fct_employment_spells"],
        resources={
            "warehouse": WarehouseResource(url=url),
            "ingest": IngestResource(
                environment="test", landing_dir=str(tmp_path / "landing"), feedback_dir=str(tmp_path / "feedback")
            ),
        },
    )
    evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations["stg_employment_spells_conforms_to_schema"] is False
    assert "stg_employment_spells_rows_accounted_for" in evaluations  # the other checks of the step still ran
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"stg_employment_spells"}
    assert not table_exists(make_engine(url), "fct_employment_spells")


def test_a_check_that_cannot_run_is_reported_and_the_others_of_its_asset_still_run(tmp_path, dagster_home):
    import dagster as dg

    from pipelines.checks import CheckDef, grouped_per_asset
    from pipelines.resources import IngestResource, WarehouseResource

    @dg.asset(name="some_table")
    def some_table() -> None:
        return None

    def broken(warehouse, ingest):
        raise RuntimeError("rule SQL refers to a column that is gone")

    checks = grouped_per_asset(
        [
            CheckDef(dg.AssetCheckSpec("warns_but_broken", asset="some_table"), broken),
            CheckDef(
                dg.AssetCheckSpec("blocks_and_passes", asset="some_table", blocking=True),
                lambda w, i: dg.AssetCheckResult(passed=True),
            ),
        ]
    )
    result = dg.materialize(
        [some_table, *checks],
        instance=dg.DagsterInstance.get(),
        raise_on_error=False,
        resources={
            "warehouse": WarehouseResource(url=f"duckdb:///{tmp_path / 'w.duckdb'}"),
            "ingest": IngestResource(environment="test", landing_dir=str(tmp_path), feedback_dir=str(tmp_path)),
        },
    )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert result.success  # a warning-only check that breaks does not fail the run
    assert evaluations["blocks_and_passes"].passed
    broken_eval = evaluations["warns_but_broken"]
    assert not broken_eval.passed and broken_eval.severity == dg.AssetCheckSeverity.WARN
    assert "column that is gone" in broken_eval.metadata["error"].value
