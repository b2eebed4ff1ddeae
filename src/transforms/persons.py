"""Persons: dim_person (one row per person over all feeds) and fct_person_residence (residence over time).

Definitions (docs/statistics_spec.md):

- dim_person: every person_id in the employment spells, enrolments or municipal trajectories.
  person_id_kind and residence_municipality_code are those of the person's most recent record by
  delivery_period; birth_year that of the most recent record holding one (a partner that does not
  deliver birth dates leaves it to the others: the BSN links the person to their birth year);
  is_employee / is_student / is_participant say in which feeds the person occurs; target_group_codes
  (trajectories) and programme_codes (all three feeds) are the sorted distinct codes joined by '|',
  NaN if none; first_seen_period / last_seen_period are the earliest and
  latest delivery_period labels of the person's rows.
- fct_person_residence: from the staging rows of all feeds, per person the runs of consecutive
  delivery periods with the same residence municipality: valid_from = first day of the first period
  of the run, valid_to = the day before the next run's valid_from (NaN for the current run).

Choices where the rules leave room:
- Periods are ordered by their first day (transforms.current_records.period_start); a monthly and a
  quarterly label starting on the same day tie and are then ordered by label. "Most recent record":
  latest period, ties by feed (spells, enrolments, trajectories), then partner_code and record_key;
  its values are taken as they are (a most recent record without a residence gives NaN).
- first/last_seen_period come from the rows passed in: given the fct_ tables (one row per record, its
  latest delivery), they are the earliest and latest period among the records' latest deliveries.
- Residence: rows without a residence municipality are ignored (an unknown postcode is not a move).
  When one person's rows in one period disagree, the most frequent code wins, ties by the smallest
  code. A return to an earlier municipality starts a new interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.current_records import period_sort_key_sql, period_start
from transforms.sector_flows import first_flags, ranks, to_days

DIM_PERSON_COLUMNS = [
    "person_id",
    "person_id_kind",
    "birth_year",
    "residence_municipality_code",
    "is_employee",
    "is_student",
    "is_participant",
    "target_group_codes",
    "programme_codes",
    "first_seen_period",
    "last_seen_period",
]
RESIDENCE_COLUMNS = ["person_id", "valid_from", "valid_to", "residence_municipality_code"]
FEEDS = ("spells", "enrolments", "trajectories")  # the tie-break order of the feeds


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series(None, index=frame.index, dtype="object")


def _period_days(labels: pd.Series) -> np.ndarray:
    """First day of each period label as a day number; period_start evaluated once per distinct label."""
    codes, uniques = pd.factorize(labels.astype("str"), use_na_sentinel=True)
    days, _ = to_days(period_start(pd.Series(np.asarray(uniques, dtype=object), dtype="str")))
    return days[codes]


def _joined_codes(person: np.ndarray, codes: pd.Series, n_persons: int) -> pd.Series:
    """Per person code 0..n-1: the sorted distinct codes joined by '|' (NaN if none). The string is
    built once per distinct combination of codes, not once per person."""
    values, rank = ranks(codes)
    have = rank >= 0
    person, rank = person[have], rank[have]
    out = pd.Series(None, index=range(n_persons), dtype="str")
    if len(person) == 0:
        return out
    pairs = np.unique(person * len(values) + rank)  # distinct (person, code), sorted by person then code
    p, r = pairs // len(values), pairs % len(values)
    first = first_flags(p)
    starts = np.flatnonzero(first)
    names = np.asarray(values, dtype=object)
    if len(values) <= 62:  # each person's set of codes as a bit mask; one string per distinct mask
        bits = np.bitwise_or.reduceat(np.left_shift(np.int64(1), r), starts)
        masks, inverse = np.unique(bits, return_inverse=True)
        labels = np.asarray(
            ["|".join(names[[i for i in range(len(names)) if m >> i & 1]]) for m in masks], dtype=object
        )
        joined = labels[inverse]
    else:
        joined = pd.Series(names[r]).groupby(np.cumsum(first) - 1).agg("|".join).to_numpy()
    out.iloc[p[starts]] = joined
    return out.astype("str")


def _latest_known(values: pd.Series, order: np.ndarray, person_of_order: np.ndarray, n: int) -> np.ndarray:
    """Per person the value of their most recent row (rows in `order`, oldest first) that holds one."""
    known = values.iloc[order].notna().to_numpy()
    out = pd.array([pd.NA] * n, dtype=values.dtype)
    rows, persons = order[known], person_of_order[known]
    if len(rows):
        last = np.r_[persons[1:] != persons[:-1], True]
        out[persons[last]] = values.iloc[rows[last]].to_numpy()
    return out


def dim_person(spells: pd.DataFrame, enrolments: pd.DataFrame, trajectories: pd.DataFrame) -> pd.DataFrame:
    """dim_person: one row per person over the three feeds."""
    frames = [
        f if f is not None else pd.DataFrame(columns=["person_id", "delivery_period"])
        for f in (spells, enrolments, trajectories)
    ]
    feed = np.concatenate([np.full(len(f), i, dtype="int64") for i, f in enumerate(frames)])

    def col(name: str) -> pd.Series:
        dtype = "Int64" if name == "birth_year" else "str"
        return pd.concat([_column(f, name).astype(dtype) for f in frames], ignore_index=True)

    person_ids, person = ranks(col("person_id"))
    keep = person >= 0
    period = col("delivery_period")
    _, label_rank = ranks(period)
    _, partner_rank = ranks(col("partner_code"))
    _, record_rank = ranks(col("record_key"))
    days = _period_days(period)
    order = np.flatnonzero(keep)
    order = order[
        np.lexsort(
            (record_rank[order], partner_rank[order], feed[order], label_rank[order], days[order], person[order])
        )
    ]
    P = person[order]
    first = first_flags(P)
    last = np.r_[first[1:], True] if len(P) else first
    latest, earliest = order[last], order[first]
    n = len(person_ids)

    out = pd.DataFrame({"person_id": pd.Series(np.asarray(person_ids, dtype=object), dtype="str")})
    out["person_id_kind"] = col("person_id_kind").iloc[latest].to_numpy()
    out["birth_year"] = _latest_known(col("birth_year"), order, P, n)
    out["residence_municipality_code"] = col("residence_municipality_code").iloc[latest].to_numpy()
    for name, i in (("is_employee", 0), ("is_student", 1), ("is_participant", 2)):
        out[name] = np.bincount(person[keep & (feed == i)], minlength=n) > 0
    target_groups = col("target_group_code").where(pd.Series(feed == 2))
    out["target_group_codes"] = _joined_codes(person[keep], target_groups[keep], n).to_numpy()
    out["programme_codes"] = _joined_codes(person[keep], col("programme_code")[keep], n).to_numpy()
    out["first_seen_period"] = period.iloc[earliest].to_numpy()
    out["last_seen_period"] = period.iloc[latest].to_numpy()
    return out[DIM_PERSON_COLUMNS].astype(
        {
            "person_id": "str",
            "person_id_kind": "str",
            "birth_year": "Int64",
            "residence_municipality_code": "str",
            "is_employee": "boolean",
            "is_student": "boolean",
            "is_participant": "boolean",
            "target_group_codes": "str",
            "programme_codes": "str",
            "first_seen_period": "str",
            "last_seen_period": "str",
        }
    )


def person_residence(staging_frames: list[pd.DataFrame]) -> pd.DataFrame:
    """fct_person_residence: per person the intervals of an unchanged residence municipality."""
    cols = ["person_id", "delivery_period", "residence_municipality_code"]
    parts = [f[cols] for f in staging_frames if f is not None and len(f)]
    rows = pd.concat(parts, ignore_index=True).dropna() if parts else pd.DataFrame(columns=cols)
    if rows.empty:
        return pd.DataFrame(
            {
                "person_id": pd.Series(dtype="str"),
                "valid_from": pd.Series(dtype="datetime64[us]"),
                "valid_to": pd.Series(dtype="datetime64[us]"),
                "residence_municipality_code": pd.Series(dtype="str"),
            }
        )
    person_ids, person = ranks(rows["person_id"])
    codes, code = ranks(rows["residence_municipality_code"])
    days = _period_days(rows["delivery_period"])
    # Rows per (person, period start, code); one code per person and period: most rows, then smallest code.
    n_codes = len(codes)
    packed = (person * (2**25) + (days + 10**6)) * n_codes + code
    uniq, count = np.unique(packed, return_counts=True)
    u_code = uniq % n_codes
    u_pd = uniq // n_codes
    o = np.lexsort((u_code, -count, u_pd))
    u_pd, u_code = u_pd[o], u_code[o]
    one = first_flags(u_pd)
    u_pd, u_code = u_pd[one], u_code[one]
    u_person, u_day = u_pd // (2**25), u_pd % (2**25) - 10**6
    # Runs of an unchanged code per person.
    changed = first_flags(u_person, u_code)
    r_person, r_day, r_code = u_person[changed], u_day[changed], u_code[changed]
    nxt = np.r_[r_day[1:], 0]
    current = np.r_[r_person[1:] != r_person[:-1], True]
    valid_to = pd.Series((nxt - 1).astype("datetime64[D]"), dtype="datetime64[us]").where(~current)
    return pd.DataFrame(
        {
            "person_id": pd.Series(np.asarray(person_ids, dtype=object)[r_person], dtype="str"),
            "valid_from": pd.Series(r_day.astype("datetime64[D]"), dtype="datetime64[us]"),
            "valid_to": valid_to.astype("datetime64[us]"),
            "residence_municipality_code": pd.Series(np.asarray(codes, dtype=object)[r_code], dtype="str"),
        }
    )[RESIDENCE_COLUMNS]


def person_residence_sql(staging_tables: list[str], dialect: str, persons_sql: str | None = None) -> str:
    """`person_residence` as one SELECT over the staging tables, run inside the warehouse; with
    `persons_sql` (a SELECT of person_id) only for those persons.

    The same rules as the pandas function above, which stays the executable specification
    (tests/test_persons.py holds them equal on both databases). Staging holds every row of every
    delivery in force (millions at the benchmark's scale); in SQL they never travel through Python.
    A person's history depends on their own rows only, so the persons of new deliveries can be
    rebuilt alone (`touched_persons_sql`).
    """
    collate = ' COLLATE "C"' if dialect == "postgresql" else ""  # the smallest code by bytes, as in pandas
    only = f" AND person_id IN ({persons_sql})" if persons_sql else ""
    rows = " UNION ALL ".join(
        f"SELECT person_id, CAST({period_sort_key_sql('delivery_period')} || '-01' AS DATE) AS day, "
        f'residence_municipality_code AS code FROM "{t}" '
        f"WHERE person_id IS NOT NULL AND delivery_period IS NOT NULL AND residence_municipality_code IS NOT NULL{only}"
        for t in staging_tables
    )
    return f"""
WITH residence_rows AS ({rows}),
counted AS (SELECT person_id, day, code, COUNT(*) AS n FROM residence_rows GROUP BY person_id, day, code),
per_period AS (
    SELECT person_id, day, code FROM (
        SELECT person_id, day, code,
               ROW_NUMBER() OVER (PARTITION BY person_id, day ORDER BY n DESC, code{collate}) AS pick
        FROM counted) AS ranked
    WHERE pick = 1),
marked AS (
    SELECT person_id, day, code, LAG(code) OVER (PARTITION BY person_id ORDER BY day) AS previous_code
    FROM per_period),
runs AS (SELECT person_id, day AS valid_from, code FROM marked WHERE previous_code IS NULL OR previous_code <> code)
SELECT person_id, valid_from,
       CAST(LEAD(valid_from) OVER (PARTITION BY person_id ORDER BY valid_from) - INTERVAL '1 day' AS DATE) AS valid_to,
       code AS residence_municipality_code
FROM runs
ORDER BY person_id, valid_from"""


def touched_persons_sql(staging_tables: list[str]) -> str:
    """The persons with rows in the deliveries bound as `:added` (a SELECT of person_id)."""
    return " UNION ".join(
        f'SELECT person_id FROM "{t}" WHERE delivery_id IN :added AND person_id IS NOT NULL' for t in staging_tables
    )
