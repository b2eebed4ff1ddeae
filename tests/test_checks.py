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
        conn.execute(sa.text("CREATE TABLE quarantine_rows (delivery_id TEXT, source_row_number BIGINT, severity TEXT)"))
        conn.execute(sa.text("CREATE TABLE delivery_log (delivery_id TEXT, partner_code TEXT, delivery_status TEXT, rows_read BIGINT, "
                             "rows_accepted BIGINT, rows_quarantined BIGINT)"))
        for _ in range(staged_rows):
            conn.execute(sa.text("INSERT INTO stg_enrolments VALUES ('d1', 'p')"))
        conn.execute(sa.text("INSERT INTO quarantine_rows VALUES ('d1', 7, 'row_rejected'), ('d1', 7, 'row_rejected'), ('d1', 9, 'flagged')"))
        conn.execute(sa.text(f"INSERT INTO delivery_log VALUES ('d1', 'p', 'loaded', {rows_accepted + 1}, {rows_accepted}, 1)"))


def test_reconciliation_passes_when_every_row_is_accounted_for(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    _audit_tables(engine, staged_rows=3, rows_accepted=3)
    assert reconcile_feed(engine, "enrolments").empty


def test_reconciliation_fails_when_a_row_went_missing(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    _audit_tables(engine, staged_rows=2, rows_accepted=3)
    problems = reconcile_feed(engine, "enrolments")
    assert problems["delivery_id"].tolist() == ["d1"] and "2 rows in stg_enrolments, log says 3" in problems["problem"].iloc[0]


def test_small_count_check_on_published_tables():
    counts, differences = PUBLISHED_COUNTS["pub_retention"]
    ok = pd.DataFrame({"cohort_persons": pd.array([10, None, 0], dtype="Int64"), "retained_persons": pd.array([5, None, 0], dtype="Int64")})
    assert small_counts(ok, counts, differences) == {}
    leaky = pd.DataFrame({"cohort_persons": pd.array([10, 3], dtype="Int64"), "retained_persons": pd.array([8, None], dtype="Int64")})
    assert small_counts(leaky, counts, differences) == {"cohort_persons": 1, "cohort_persons - retained_persons": 1}


def test_lateness_rule_flags_late_and_missing_partners(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    late_days = load_quality_config().late_warning_days
    df = pd.DataFrame({
        "partner_code": ["p", "p", "p"], "delivery_period": ["2024-01", "2024-02", "2024-03"],
        "period_start": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
        "period_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]),
        "due_date": pd.to_datetime(["2024-02-15", "2024-03-15", "2024-04-15"]),
        "received": pd.array([True, True, False], dtype="boolean"),
        "first_received_at": pd.to_datetime(["2024-02-10", "2024-04-30", None]),
        "days_late": pd.array([0, late_days + 1, late_days], dtype="Int64"),
        "completeness_status": ["on_time", "late", "missing"], "as_of_date": pd.to_datetime(["2024-04-25"] * 3)})
    replace_table(engine, "fct_delivery_completeness", df.astype({c: "datetime64[us]" for c in df.columns if df[c].dtype.kind == "M"}))
    n, sample = offending_rows(engine, late_deliveries_sql(late_days))
    assert n == 1 and sample["delivery_period"].tolist() == ["2024-02"]
