"""Current records: the SQL that runs in the warehouse equals the pandas specification, on both databases."""

import pandas as pd
import pytest

from schemas.tables import TABLES
from transforms.current_records import latest_records, latest_records_sql
from warehouse.db import (distinct_values, insert_frame, make_engine, read_table, replace_table_from_select,
                          ensure_table)

STAGING, FACT = TABLES["stg_employment_spells"], TABLES["fct_employment_spells"]
DEFAULTS = {"string": "x", "int": 1, "float": 32.0, "bool": False, "date": "2022-01-01", "timestamp": "2022-02-01 10:00"}


def staging_frame(rows: list[dict]) -> pd.DataFrame:
    """Staging rows over type defaults, typed as the warehouse reads them back."""
    base = {c.name: DEFAULTS[c.field.type] for c in STAGING.columns}
    df = pd.DataFrame([base | r for r in rows], columns=STAGING.column_names)
    for c in STAGING.columns:
        t = c.field.type
        df[c.name] = (pd.to_datetime(df[c.name]).astype("datetime64[us]") if t in ("date", "timestamp")
                      else df[c.name].astype({"int": "Int64", "float": "float64", "bool": "boolean", "string": "str"}[t]))
    return df


# (partner, record, period, version, source row, marker): the marker names the row that must win.
ROWS = [
    ("p1", "r1", "2022-01", 1, 5, "old"),
    ("p1", "r1", "2022-03", 1, 2, "WIN"),        # later period beats a higher row number
    ("p1", "r1", "2022-02", 2, 9, "old"),        # a correction of an earlier period does not win
    ("p1", "r2", "2022-Q1", 1, 1, "old"),        # quarter 1 starts in January ...
    ("p1", "r2", "2022-02", 1, 1, "WIN"),        # ... so February is later
    ("p1", "r3", "2022-Q2", 1, 1, "WIN"),        # quarter 2 starts in April, after March
    ("p1", "r3", "2022-03", 1, 7, "old"),
    ("p1", "r4", "2022-05", 1, 3, "old"),
    ("p1", "r4", "2022-05", 2, 1, "WIN"),        # same period: the higher version wins
    ("p1", "r5", "2022-06", 1, 3, "old"),
    ("p1", "r5", "2022-06", 1, 4, "WIN"),        # same delivery: the later source row wins
    ("p2", "r1", "2021-12", 1, 1, "WIN"),        # same record key, other partner: its own record
    ("p1", "r6", "2022-Q4", 1, 1, "lose"),
    ("p1", "r6", "2022-10", 3, 9, "WIN"),        # October and quarter 4 start on one day: version 3 wins
]


@pytest.fixture
def staged(warehouse_url):
    rows = [dict(partner_code=p, record_key=r, delivery_period=per, delivery_version=v, source_row_number=n,
                 function_code=marker, delivery_id=f"{p}-{per}-v{v}") for p, r, per, v, n, marker in ROWS]
    engine = make_engine(warehouse_url)
    with engine.begin() as conn:
        ensure_table(conn, STAGING)
        insert_frame(conn, STAGING.name, staging_frame(rows))
    return engine


def test_sql_current_records_equal_the_pandas_specification(staged):
    expected = latest_records(read_table(staged, STAGING.name), FACT)
    rows = replace_table_from_select(staged, FACT.name, latest_records_sql(STAGING, FACT))
    got = read_table(staged, FACT.name).sort_values(["partner_code", "record_key"]).reset_index(drop=True)
    assert rows == len(expected) == 7
    pd.testing.assert_frame_equal(got, expected)
    winners = dict(zip(got["partner_code"] + "/" + got["record_key"], got["function_code"]))
    assert winners == {"p1/r1": "WIN", "p1/r2": "WIN", "p1/r3": "WIN", "p1/r4": "WIN", "p1/r5": "WIN",
                       "p1/r6": "WIN", "p2/r1": "WIN"}


def test_reading_columns_filtered_and_limited(staged):
    part = read_table(staged, STAGING.name, where="partner_code = :p AND delivery_version >= :v",
                      params={"p": "p1", "v": 2}, columns=["record_key", "delivery_version", "start_date"])
    assert list(part.columns) == ["record_key", "delivery_version", "start_date"]
    assert sorted(part["record_key"]) == ["r1", "r4", "r6"]
    assert str(part["delivery_version"].dtype) == "Int64" and str(part["start_date"].dtype) == "datetime64[us]"
    assert len(read_table(staged, STAGING.name, limit=3)) == 3
    assert distinct_values(staged, STAGING.name, "partner_code") == {"p1", "p2"}
