"""dim_person, fct_person_residence and dim_period on hand-made frames; expected values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from transforms.periods import dim_period
from transforms.persons import (
    DIM_PERSON_COLUMNS,
    RESIDENCE_COLUMNS,
    dim_person,
    person_residence,
    person_residence_sql,
    touched_persons_sql,
)
from warehouse.db import TOUCHED_KEYS, make_engine, read_table, replace_rows, replace_table_from_select

T = pd.Timestamp


def frame(rows: list[dict], **dtypes) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    types = {c: ("Int64" if c == "birth_year" else "str") for c in df.columns}
    return df.astype(types | dtypes)


def test_dim_person_joins_codes_and_takes_the_most_recent_record():
    spells = frame(
        [
            {
                "partner_code": "zorggroep_haaglanden",
                "record_key": "1",
                "person_id": "a",
                "person_id_kind": "bsn",
                "birth_year": 1990,
                "residence_municipality_code": "GM0518",
                "programme_code": "werkoffensief_500",
                "delivery_period": "2022-03",
            },
            {
                "partner_code": "vph_delfland",
                "record_key": "7",
                "person_id": "a",
                "person_id_kind": "bsn",
                "birth_year": 1991,
                "residence_municipality_code": "GM0503",
                "programme_code": None,
                "delivery_period": "2022-Q2",
            },
            {
                "partner_code": "vph_delfland",
                "record_key": "8",
                "person_id": "b",
                "person_id_kind": "bsn",
                "birth_year": 1970,
                "residence_municipality_code": None,
                "programme_code": None,
                "delivery_period": "2022-01",
            },
        ]
    )
    enrolments = frame(
        [
            {
                "partner_code": "threewise",
                "record_key": "e1",
                "person_id": "c",
                "person_id_kind": "onderwijsnummer",
                "birth_year": 2005,
                "residence_municipality_code": "GM0637",
                "programme_code": "taakbrigades",
                "delivery_period": "2022-02",
            },
        ]
    )
    trajectories = frame(
        [
            {
                "partner_code": "gemeente_den_haag",
                "record_key": "t1",
                "person_id": "a",
                "person_id_kind": "bsn",
                "birth_year": 1990,
                "residence_municipality_code": "GM0518",
                "target_group_code": "statushouder",
                "programme_code": "werkoffensief_500",
                "delivery_period": "2022-01",
            },
            {
                "partner_code": "gemeente_den_haag",
                "record_key": "t2",
                "person_id": "a",
                "person_id_kind": "bsn",
                "birth_year": 1990,
                "residence_municipality_code": "GM0518",
                "target_group_code": "bijstand",
                "programme_code": "brugbanen",
                "delivery_period": "2022-02",
            },
        ]
    )
    dim = dim_person(spells, enrolments, trajectories)
    assert list(dim.columns) == DIM_PERSON_COLUMNS
    assert dim["person_id"].tolist() == ["a", "b", "c"]
    a, b, c = (dim.set_index("person_id").loc[p] for p in "abc")
    # a: the most recent record is VPH's of 2022-Q2 (starts 2022-04-01, after 2022-03)
    assert (a["birth_year"], a["residence_municipality_code"]) == (1991, "GM0503")
    assert a["target_group_codes"] == "bijstand|statushouder"
    assert a["programme_codes"] == "brugbanen|werkoffensief_500"
    assert (a["is_employee"], a["is_student"], a["is_participant"]) == (True, False, True)
    assert (a["first_seen_period"], a["last_seen_period"]) == ("2022-01", "2022-Q2")
    assert (
        pd.isna(b["target_group_codes"]) and pd.isna(b["programme_codes"]) and pd.isna(b["residence_municipality_code"])
    )
    assert (c["person_id_kind"], c["is_employee"], c["is_student"], c["is_participant"]) == (
        "onderwijsnummer",
        False,
        True,
        False,
    )
    assert c["programme_codes"] == "taakbrigades"
    assert dim["birth_year"].dtype == "Int64" and dim["is_employee"].dtype == "boolean"


def test_person_residence_yields_change_intervals():
    employer = frame(
        [
            {
                "person_id": "a",
                "delivery_period": "2022-01",
                "residence_municipality_code": "GM0518",
                "record_key": "1",
            },
            {
                "person_id": "a",
                "delivery_period": "2022-02",
                "residence_municipality_code": "GM0518",
                "record_key": "1",
            },
            {
                "person_id": "a",
                "delivery_period": "2022-03",
                "residence_municipality_code": "GM0503",
                "record_key": "1",
            },
            {"person_id": "a", "delivery_period": "2022-05", "residence_municipality_code": None, "record_key": "1"},
            {
                "person_id": "a",
                "delivery_period": "2022-07",
                "residence_municipality_code": "GM0518",
                "record_key": "1",
            },
            {
                "person_id": "b",
                "delivery_period": "2022-02",
                "residence_municipality_code": "BUITEN_REGIO",
                "record_key": "2",
            },
        ]
    )
    trainer = frame(
        [
            {
                "person_id": "a",
                "delivery_period": "2022-Q2",
                "residence_municipality_code": "GM0503",
                "record_key": "e",
            },
        ]
    )
    res = person_residence([employer, trainer])
    assert list(res.columns) == RESIDENCE_COLUMNS
    a = res[res["person_id"] == "a"]
    assert a["residence_municipality_code"].tolist() == ["GM0518", "GM0503", "GM0518"]  # back again: a new interval
    assert a["valid_from"].tolist() == [T("2022-01-01"), T("2022-03-01"), T("2022-07-01")]
    # the quarterly 2022-Q2 row keeps Delft until June; the May row without a residence is no move
    assert a["valid_to"].iloc[:2].tolist() == [T("2022-02-28"), T("2022-06-30")]
    assert pd.isna(a["valid_to"].iloc[2])  # current
    b = res[res["person_id"] == "b"]
    assert b["valid_from"].tolist() == [T("2022-02-01")] and b["valid_to"].isna().all()
    assert res["valid_from"].dtype == "datetime64[us]" and res["valid_to"].dtype == "datetime64[us]"


def test_person_residence_of_nothing_is_empty():
    assert person_residence([]).empty
    assert list(person_residence([]).columns) == RESIDENCE_COLUMNS


def test_dim_period_covers_the_months():
    p = dim_period(T("2022-11-15"), T("2023-02-03"))
    assert p["month_label"].tolist() == ["2022-11", "2022-12", "2023-01", "2023-02"]
    assert p["month_start"].tolist() == [T("2022-11-01"), T("2022-12-01"), T("2023-01-01"), T("2023-02-01")]
    assert p["month_end"].tolist() == [T("2022-11-30"), T("2022-12-31"), T("2023-01-31"), T("2023-02-28")]
    assert p["quarter_label"].tolist() == ["2022-Q4", "2022-Q4", "2023-Q1", "2023-Q1"]
    assert p["year"].tolist() == [2022, 2022, 2023, 2023] and p["month_of_year"].tolist() == [11, 12, 1, 2]
    assert list(p.columns) == ["month_start", "month_end", "month_label", "quarter_label", "year", "month_of_year"]
    assert p["month_start"].dtype == "datetime64[us]" and p["year"].dtype == "Int64"
    assert len(dim_period(T("2024-02-29"), T("2024-02-29"))) == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_person_residence_in_sql_equals_the_pandas_specification(warehouse_url, seed):
    """Random rows over two staging tables (monthly and quarterly periods, disagreeing codes, ties, gaps,
    returns): the warehouse's SQL gives exactly the intervals of the pandas function."""
    rng = np.random.default_rng(seed)
    periods = [f"2022-{m:02d}" for m in range(1, 13)] + [f"2022-Q{q}" for q in range(1, 5)] + ["2023-01"]
    codes = ["GM0518", "GM0503", "BUITEN_REGIO", "GM0603", None]
    tables = []
    for name in ("stg_x", "stg_y"):
        n = 400
        tables.append(
            (
                name,
                frame(
                    [
                        {
                            "person_id": f"p{rng.integers(0, 25)}",
                            "delivery_period": str(rng.choice(periods)),
                            "residence_municipality_code": codes[rng.integers(0, len(codes))],
                        }
                        for _ in range(n)
                    ]
                ),
            )
        )
    engine = make_engine(warehouse_url)
    with engine.begin() as conn:
        for name, df in tables:
            conn.execute(
                sa.text(
                    f'CREATE TABLE "{name}" (person_id TEXT, delivery_period TEXT, residence_municipality_code TEXT)'
                )
            )
            conn.execute(
                sa.text(f'INSERT INTO "{name}" VALUES (:a, :b, :c)'),
                [
                    {
                        "a": r.person_id,
                        "b": r.delivery_period,
                        "c": None if pd.isna(r.residence_municipality_code) else r.residence_municipality_code,
                    }
                    for r in df.itertuples()
                ],
            )
    expected = (
        person_residence([df for _, df in tables]).sort_values(["person_id", "valid_from"]).reset_index(drop=True)
    )
    with engine.connect() as conn:
        got = pd.read_sql(sa.text(person_residence_sql([n for n, _ in tables], engine.dialect.name)), conn)
    got = (
        got.astype(
            {
                "valid_from": "datetime64[us]",
                "valid_to": "datetime64[us]",
                "person_id": "str",
                "residence_municipality_code": "str",
            }
        )
        .sort_values(["person_id", "valid_from"])
        .reset_index(drop=True)
    )
    assert len(expected) > 25  # moves happened
    pd.testing.assert_frame_equal(got[RESIDENCE_COLUMNS], expected, check_dtype=False)


@pytest.mark.parametrize("seed", [1, 2])
def test_residence_rebuilt_for_the_persons_of_new_deliveries_equals_a_whole_rebuild(warehouse_url, seed):
    """Deliveries of two feeds arrive one or two at a time; rebuilding only the persons in them gives
    the whole history the pandas specification gives over all rows."""
    rng = np.random.default_rng(seed)
    periods = [f"2022-{m:02d}" for m in range(1, 13)] + ["2022-Q3"]
    codes = ["GM0518", "GM0503", "BUITEN_REGIO", None]
    names = ["stg_x", "stg_y"]

    def row(delivery: int) -> dict:  # a delivery holds persons of its own and some of the next one's
        return {
            "person_id": f"p{delivery * 5 + rng.integers(0, 8)}",
            "delivery_period": str(rng.choice(periods)),
            "residence_municipality_code": codes[rng.integers(0, len(codes))],
            "delivery_id": f"d{delivery}",
        }

    rows = {name: frame([row(int(rng.integers(0, 6))) for _ in range(300)]) for name in names}
    engine = make_engine(warehouse_url)

    def load(deliveries):
        with engine.begin() as conn:
            for name, df in rows.items():
                part = df[df["delivery_id"].isin(deliveries)]
                conn.execute(
                    sa.text(f'INSERT INTO "{name}" VALUES (:a, :b, :c, :d)'),
                    [
                        {
                            "a": r.person_id,
                            "b": r.delivery_period,
                            "c": None if pd.isna(r.residence_municipality_code) else r.residence_municipality_code,
                            "d": r.delivery_id,
                        }
                        for r in part.itertuples()
                    ],
                )

    with engine.begin() as conn:
        for name in names:
            conn.execute(
                sa.text(
                    f'CREATE TABLE "{name}" (person_id TEXT, delivery_period TEXT, '
                    "residence_municipality_code TEXT, delivery_id TEXT)"
                )
            )
    load(["d0", "d1"])
    replace_table_from_select(engine, "fct_person_residence", person_residence_sql(names, engine.dialect.name))
    persons = touched_persons_sql(names)
    for added in (["d2"], ["d3", "d4"], ["d5"]):
        load(added)
        written, total = replace_rows(
            engine,
            "fct_person_residence",
            ["person_id"],
            persons,
            person_residence_sql(names, engine.dialect.name, persons_sql=f'SELECT person_id FROM "{TOUCHED_KEYS}"'),
            {"added": added},
        )
        loaded = [df[df["delivery_id"] <= added[-1]] for df in rows.values()]
        expected = person_residence(loaded).sort_values(["person_id", "valid_from"]).reset_index(drop=True)
        got = read_table(engine, "fct_person_residence").sort_values(["person_id", "valid_from"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
        assert total == len(expected) and 0 < written < total  # only some persons were rebuilt
