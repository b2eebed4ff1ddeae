"""Retention of inflow cohorts on hand-made inflows and spells; expected values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.retention import COHORT_COLUMNS, member_columns, retention_cohorts, retention_members

T = pd.Timestamp


def inflows(*rows) -> pd.DataFrame:
    """rows: (person, inflow date, municipality)."""
    df = pd.DataFrame(
        [
            {
                "person_id": p,
                "event_date": T(d),
                "municipality_code": m,
                "region_code": "AMR_HAAGLANDEN",
                "inflow_kind": "zij_instromer",
            }
            for p, d, m in rows
        ]
    )
    return df.astype(
        {
            "person_id": "str",
            "event_date": "datetime64[us]",
            "municipality_code": "str",
            "region_code": "str",
            "inflow_kind": "str",
        }
    )


def spells(*rows) -> pd.DataFrame:
    """rows: (person, start, end or None)."""
    df = pd.DataFrame(
        [
            {
                "partner_code": "zorggroep_haaglanden",
                "record_key": str(i),
                "person_id": p,
                "start_date": T(s),
                "end_date": T(e) if e else pd.NaT,
            }
            for i, (p, s, e) in enumerate(rows)
        ]
    )
    return df.astype({"person_id": "str", "start_date": "datetime64[us]", "end_date": "datetime64[us]"})


def member(members: pd.DataFrame, person: str) -> pd.Series:
    return members.set_index("person_id").loc[person]


def test_left_and_returned_before_12_months_counts_as_retained_at_12():
    m = retention_members(
        inflows(("p", "2021-01-15", "GM0518")),
        spells(("p", "2021-01-15", "2021-05-31"), ("p", "2021-10-01", None)),
        cutoff=T("2023-12-31"),
    )
    row = member(m, "p")
    assert row["check_date_6m"] == T("2021-07-15") and row["retained_6m"] == False  # noqa: E712  (gap June-September)
    assert row["check_date_12m"] == T("2022-01-15") and row["retained_12m"] == True  # noqa: E712
    assert row["check_date_24m"] == T("2023-01-15") and row["retained_24m"] == True  # noqa: E712
    assert row["check_date_36m"] == T("2024-01-15") and pd.isna(row["retained_36m"])  # after the cutoff


def test_check_dates_clip_to_the_month_end():
    m = retention_members(
        inflows(("a", "2021-08-31", "GM0518"), ("b", "2023-08-31", "GM0518")),
        spells(("a", "2021-08-31", "2022-02-28"), ("b", "2023-08-31", "2024-02-28")),
        cutoff=T("2024-12-31"),
    )
    a, b = member(m, "a"), member(m, "b")
    assert a["check_date_6m"] == T("2022-02-28") and a["retained_6m"] == True  # noqa: E712  (end date inclusive)
    assert b["check_date_6m"] == T("2024-02-29") and b["retained_6m"] == False  # noqa: E712  (ended the day before)
    assert a["check_date_12m"] == T("2022-08-31")


def test_members_frame_has_the_spec_columns():
    m = retention_members(
        inflows(("p", "2021-03-10", "GM0518")), spells(("p", "2021-03-10", None)), cutoff=T("2021-12-31")
    )
    assert list(m.columns) == member_columns()
    assert list(m.columns)[:8] == [
        "person_id",
        "inflow_date",
        "cohort_month",
        "municipality_code",
        "region_code",
        "inflow_kind",
        "check_date_6m",
        "retained_6m",
    ]
    assert m["cohort_month"].tolist() == [T("2021-03-01")]
    assert m["retained_6m"].dtype == "boolean" and m["check_date_6m"].dtype == "datetime64[us]"
    assert m["retained_6m"].tolist() == [True]  # ongoing spell covers 2021-09-10
    assert pd.isna(m["retained_12m"].iloc[0])  # 2022-03-10 > cutoff


def test_cohort_not_reported_while_a_member_check_date_is_after_the_cutoff():
    cutoff = T("2022-04-15")
    members = retention_members(
        inflows(
            ("s1", "2021-09-15", "GM0518"),
            ("s2", "2021-09-30", "GM0503"),  # +6m: 2022-03-15, 2022-03-30
            ("o1", "2021-10-10", "GM0503"),  # +6m: 2022-04-10, passed
            ("o2", "2021-10-20", "GM0518"),  # +6m: 2022-04-20, after the cutoff
        ),
        spells(
            ("s1", "2021-09-15", None),
            ("s2", "2021-09-30", "2021-12-31"),
            ("o1", "2021-10-10", None),
            ("o2", "2021-10-20", None),
        ),
        cutoff=cutoff,
    )
    cohorts = retention_cohorts(members, cutoff=cutoff)
    assert list(cohorts.columns) == COHORT_COLUMNS
    six = cohorts[cohorts["horizon_months"] == 6].set_index(["cohort_month", "municipality_code"])
    sep_den_haag, sep_delft = six.loc[(T("2021-09-01"), "GM0518")], six.loc[(T("2021-09-01"), "GM0503")]
    assert (sep_den_haag["cohort_persons"], sep_den_haag["retained_persons"], sep_den_haag["retained_share"]) == (
        1,
        1,
        1.0,
    )
    assert (sep_delft["cohort_persons"], sep_delft["retained_persons"], sep_delft["retained_share"]) == (1, 0, 0.0)
    # October: o2's check date is after the cutoff, so Delft is not reported either, though o1's passed
    for mun in ("GM0503", "GM0518"):
        row = six.loc[(T("2021-10-01"), mun)]
        assert row["cohort_persons"] == 1
        assert pd.isna(row["retained_persons"]) and np.isnan(row["retained_share"])
    # +12 months: nothing passed yet
    assert cohorts[cohorts["horizon_months"] == 12]["retained_persons"].isna().all()
    assert sorted(cohorts["horizon_months"].unique().tolist()) == [6, 12, 24, 36]
    assert len(cohorts) == 4 * 4  # 2 months x 2 municipalities x 4 horizons
    sep = cohorts.iloc[0]
    assert (sep["cohort_quarter"], sep["cohort_year"], sep["region_code"]) == ("2021-Q3", 2021, "AMR_HAAGLANDEN")
    assert cohorts["retained_persons"].dtype == "Int64" and cohorts["retained_share"].dtype == "float64"


def test_cohort_share_over_several_members():
    cutoff = T("2023-12-31")
    members = retention_members(
        inflows(("a", "2022-01-03", "GM0518"), ("b", "2022-01-20", "GM0518"), ("c", "2022-01-31", "GM0518")),
        spells(("a", "2022-01-03", None), ("b", "2022-01-20", "2022-03-31"), ("c", "2022-01-31", "2022-07-31")),
        cutoff=cutoff,
    )
    # +6m check dates: 2022-07-03 (a covered), 2022-07-20 (b gone), 2022-07-31 (c's last day: covered)
    six = retention_cohorts(members, cutoff=cutoff).query("horizon_months == 6").iloc[0]
    assert (six["cohort_persons"], six["retained_persons"]) == (3, 2)
    assert six["retained_share"] == 2 / 3


def test_empty_inflow_gives_empty_frames():
    members = retention_members(
        inflows(("p", "2021-01-01", "GM0518")).iloc[:0], spells(("p", "2021-01-01", None)), cutoff=T("2022-12-31")
    )
    assert members.empty and list(members.columns) == member_columns()
    assert retention_cohorts(members, cutoff=T("2022-12-31")).empty
