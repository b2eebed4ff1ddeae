"""Current records: the SQL that runs in the warehouse equals the pandas specification, on both databases."""

import random

import pandas as pd
import pytest

from schemas.tables import TABLES
from transforms.current_records import added_records_sql, latest_records, latest_records_sql
from warehouse.db import (
    TOUCHED_KEYS,
    distinct_values,
    ensure_table,
    insert_frame,
    make_engine,
    read_table,
    replace_rows,
    replace_table_from_select,
)

STAGING, FACT = TABLES["stg_employment_spells"], TABLES["fct_employment_spells"]
DEFAULTS = {
    "string": "x",
    "int": 1,
    "float": 32.0,
    "bool": False,
    "date": "2022-01-01",
    "timestamp": "2022-02-01 10:00",
}


def staging_frame(rows: list[dict], table=STAGING) -> pd.DataFrame:
    """Rows of a table (staging by default) over type defaults, typed as the warehouse reads them back."""
    base = {c.name: DEFAULTS[c.field.type] for c in table.columns}
    df = pd.DataFrame([base | r for r in rows], columns=table.column_names)
    for c in table.columns:
        t = c.field.type
        df[c.name] = (
            pd.to_datetime(df[c.name]).astype("datetime64[us]")
            if t in ("date", "timestamp")
            else df[c.name].astype({"int": "Int64", "float": "float64", "bool": "boolean", "string": "str"}[t])
        )
    return df


# (partner, record, period, version, source row, marker): the marker names the row that must win.
ROWS = [
    ("p1", "r1", "2022-01", 1, 5, "old"),
    ("p1", "r1", "2022-03", 1, 2, "WIN"),  # later period beats a higher row number
    ("p1", "r1", "2022-02", 2, 9, "old"),  # a correction of an earlier period does not win
    ("p1", "r2", "2022-Q1", 1, 1, "old"),  # quarter 1 starts in January ...
    ("p1", "r2", "2022-02", 1, 1, "WIN"),  # ... so February is later
    ("p1", "r3", "2022-Q2", 1, 1, "WIN"),  # quarter 2 starts in April, after March
    ("p1", "r3", "2022-03", 1, 7, "old"),
    ("p1", "r4", "2022-05", 1, 3, "old"),
    ("p1", "r4", "2022-05", 2, 1, "WIN"),  # same period: the higher version wins
    ("p1", "r5", "2022-06", 1, 3, "old"),
    ("p1", "r5", "2022-06", 1, 4, "WIN"),  # same delivery: the later source row wins
    ("p2", "r1", "2021-12", 1, 1, "WIN"),  # same record key, other partner: its own record
    ("p1", "r6", "2022-Q4", 1, 1, "lose"),
    ("p1", "r6", "2022-10", 3, 9, "WIN"),  # October and quarter 4 start on one day: version 3 wins
]


@pytest.fixture
def staged(warehouse_url):
    rows = [
        dict(
            partner_code=p,
            record_key=r,
            delivery_period=per,
            delivery_version=v,
            source_row_number=n,
            function_code=marker,
            delivery_id=f"{p}-{per}-v{v}",
        )
        for p, r, per, v, n, marker in ROWS
    ]
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
    assert winners == {
        "p1/r1": "WIN",
        "p1/r2": "WIN",
        "p1/r3": "WIN",
        "p1/r4": "WIN",
        "p1/r5": "WIN",
        "p1/r6": "WIN",
        "p2/r1": "WIN",
    }


def test_reading_columns_filtered_and_limited(staged):
    part = read_table(
        staged,
        STAGING.name,
        where="partner_code = :p AND delivery_version >= :v",
        params={"p": "p1", "v": 2},
        columns=["record_key", "delivery_version", "start_date"],
    )
    assert list(part.columns) == ["record_key", "delivery_version", "start_date"]
    assert sorted(part["record_key"]) == ["r1", "r4", "r6"]
    assert str(part["delivery_version"].dtype) == "Int64" and str(part["start_date"].dtype) == "datetime64[us]"
    assert len(read_table(staged, STAGING.name, limit=3)) == 3
    assert distinct_values(staged, STAGING.name, "partner_code") == {"p1", "p2"}


def _load(engine, rows: list[dict]) -> None:
    """Staging rows and their deliveries' log records (status loaded), as ingestion writes them."""
    log = {
        r["delivery_id"]: dict(
            delivery_id=r["delivery_id"],
            partner_code=r["partner_code"],
            delivery_period=r["delivery_period"],
            delivery_version=r["delivery_version"],
            delivery_status="loaded",
        )
        for r in rows
    }
    with engine.begin() as conn:
        ensure_table(conn, STAGING)
        ensure_table(conn, TABLES["delivery_log"])
        insert_frame(conn, STAGING.name, staging_frame(rows))
        insert_frame(conn, "delivery_log", staging_frame(list(log.values()), TABLES["delivery_log"]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_new_deliveries_applied_alone_give_what_a_whole_rebuild_gives(warehouse_url, seed):
    """Deliveries arrive in a random order (a correction or an older period late, too); after each
    arrival the current records brought up to date from the new delivery alone equal a whole rebuild.
    A record may change person between deliveries (a corrected BSN)."""
    rng = random.Random(seed)
    rows = [
        dict(
            partner_code=p,
            record_key=r,
            delivery_period=per,
            delivery_version=v,
            source_row_number=n,
            function_code=marker,
            person_id=f"person-{rng.randint(1, 3)}",
            delivery_id=f"{p}-{per}-v{v}",
        )
        for p, r, per, v, n, marker in ROWS
    ]
    deliveries = sorted({r["delivery_id"] for r in rows})
    rng.shuffle(deliveries)
    engine = make_engine(warehouse_url)
    _load(engine, [r for r in rows if r["delivery_id"] == deliveries[0]])
    replace_table_from_select(engine, FACT.name, latest_records_sql(STAGING, FACT))
    keys, changed = added_records_sql(STAGING, FACT, TOUCHED_KEYS)
    for i in range(1, len(deliveries), 2):  # one or two deliveries at a time
        added = deliveries[i : i + 2]
        _load(engine, [r for r in rows if r["delivery_id"] in added])
        written, total = replace_rows(
            engine, FACT.name, ["partner_code", "record_key"], keys, changed, {"added": added}
        )
        got = read_table(engine, FACT.name).sort_values(["partner_code", "record_key"]).reset_index(drop=True)
        expected = latest_records(read_table(engine, STAGING.name), FACT)
        pd.testing.assert_frame_equal(got, expected)
        assert total == len(expected) and written == len(
            {(r["partner_code"], r["record_key"]) for r in rows if r["delivery_id"] in added}
        )
    winners = dict(zip(got["partner_code"] + "/" + got["record_key"], got["function_code"]))
    assert set(winners.values()) == {"WIN"} and len(winners) == 7
