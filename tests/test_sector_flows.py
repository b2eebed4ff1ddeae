"""Sector inflow, outflow and internal mobility on small hand-made spell sets.

Every expected value is worked out by hand in the test (dates inclusive, "a year" = same calendar
date, 29 February -> 28 February).
"""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.sector_flows import (
    INFLOW_COLUMNS,
    MOBILITY_COLUMNS,
    OUTFLOW_COLUMNS,
    care_spells,
    sector_events,
)

ZG, VPH, TW = "zorggroep_haaglanden", "vph_delfland", "thuiszorg_westland"
PARTNERS = pd.DataFrame(
    {
        "partner_code": [ZG, VPH, TW],
        "partner_name": ["Zorggroep", "VPH", "Thuiszorg"],
        "partner_kind": ["employer"] * 3,
        "location_municipality_code": ["GM0518", "GM0503", "GM1783"],
    }
).astype("str")
REGIONS = pd.DataFrame(
    {
        "municipality_code": ["GM0518", "GM0503", "GM1783"],
        "municipality_name": ["'s-Gravenhage", "Delft", "Westland"],
        "labour_market_region_code": ["AMR_HAAGLANDEN"] * 3,
        "labour_market_region_name": ["Haaglanden"] * 3,
    }
).astype("str")
NO_TRAJECTORIES = pd.DataFrame(
    {
        "partner_code": pd.Series(dtype="str"),
        "record_key": pd.Series(dtype="str"),
        "person_id": pd.Series(dtype="str"),
        "target_group_code": pd.Series(dtype="str"),
        "referral_date": pd.Series(dtype="datetime64[us]"),
    }
)
OBS, CUTOFF = pd.Timestamp("2020-01-01"), pd.Timestamp("2023-12-31")
T = pd.Timestamp


def spells(*rows) -> pd.DataFrame:
    """rows: (person, partner, record_key, start, end or None[, birth_year[, residence]])."""
    recs = []
    for r in rows:
        person, partner, key, start, end = r[:5]
        birth = r[5] if len(r) > 5 else 1980
        residence = r[6] if len(r) > 6 else "GM0518"
        recs.append(
            {
                "partner_code": partner,
                "record_key": key,
                "person_id": person,
                "person_id_kind": "bsn",
                "birth_year": birth,
                "residence_municipality_code": residence,
                "function_code": "VIG",
                "contract_type_code": "vast",
                "hours_per_week": 24.0,
                "is_apprenticeship": False,
                "start_date": T(start),
                "end_date": T(end) if end else pd.NaT,
                "leaving_reason_code": None,
                "programme_code": None,
                "delivery_id": "d",
                "delivery_period": "2023-12",
                "source_row_number": 2,
            }
        )
    df = pd.DataFrame(recs)
    return df.astype(
        {
            "partner_code": "str",
            "record_key": "str",
            "person_id": "str",
            "birth_year": "Int64",
            "residence_municipality_code": "str",
            "leaving_reason_code": "str",
            "programme_code": "str",
            "start_date": "datetime64[us]",
            "end_date": "datetime64[us]",
        }
    )


def run(sp, *, obs=OBS, cutoff=CUTOFF, trajectories=NO_TRAJECTORIES):
    return sector_events(sp, PARTNERS, REGIONS, trajectories, observation_start=obs, cutoff=cutoff)


def dates(frame, person=None) -> list[pd.Timestamp]:
    f = frame if person is None else frame[frame["person_id"] == person]
    return list(f["event_date"])


def test_switch_between_employers_is_mobility_not_inflow_or_outflow():
    ev = run(spells(("p", ZG, "1", "2021-01-01", "2021-06-30"), ("p", VPH, "9", "2021-07-01", None)))
    assert dates(ev.inflow) == [T("2021-01-01")]  # only the first start
    assert ev.outflow.empty  # 2021-06-30 is followed by employment the next day
    assert len(ev.mobility) == 1
    row = ev.mobility.iloc[0]
    assert (row["event_date"], row["from_partner_code"], row["to_partner_code"], row["record_key"]) == (
        T("2021-07-01"),
        ZG,
        VPH,
        "9",
    )


def test_switch_after_a_short_gap_is_still_mobility():
    # ZG ends 30 June, VPH starts 1 September: employed on 30 June, inside [2020-09-01, 2021-09-01).
    ev = run(spells(("p", ZG, "1", "2020-03-01", "2021-06-30"), ("p", VPH, "9", "2021-09-01", "2023-10-31")))
    assert dates(ev.inflow) == [T("2020-03-01")]
    assert dates(ev.mobility) == [T("2021-09-01")]
    assert ev.mobility["from_partner_code"].tolist() == [ZG]
    # the only outflow is the final end, provisional: 2024-10-31 > cutoff
    assert dates(ev.outflow) == [T("2023-10-31")]
    assert ev.outflow["is_provisional"].tolist() == [True]


def test_return_after_13_months_is_reentry_and_the_earlier_end_an_outflow():
    ev = run(spells(("p", ZG, "1", "2020-03-01", "2021-01-31"), ("p", ZG, "2", "2022-03-01", None)))
    # 2022-03-01 looks back to [2021-03-01, 2022-03-01): last employment 2021-01-31, outside.
    assert dates(ev.inflow) == [T("2020-03-01"), T("2022-03-01")]
    assert ev.inflow["inflow_kind"].tolist() == ["zij_instromer", "herintreder"]
    assert ev.inflow["lookback_complete"].tolist() == [False, True]  # 2019-03-01 < 2020-01-01
    # (2021-01-31, 2022-01-31] holds no employment; 2022-01-31 <= cutoff: final
    assert dates(ev.outflow) == [T("2021-01-31")]
    assert ev.outflow["is_provisional"].tolist() == [False]
    assert ev.mobility.empty  # same employer


def test_return_after_11_months_is_neither_inflow_nor_outflow():
    ev = run(spells(("p", ZG, "1", "2020-03-01", "2021-01-31"), ("p", ZG, "2", "2022-01-01", None)))
    # look-back of 2022-01-01 is [2021-01-01, 2022-01-01): holds January 2021
    assert dates(ev.inflow) == [T("2020-03-01")]
    # (2021-01-31, 2022-01-31] holds 2022-01-01
    assert ev.outflow.empty
    assert ev.mobility.empty


def test_first_spell_at_30_is_side_entrant_and_at_22_other():
    ev = run(spells(("a", ZG, "1", "2021-05-01", None, 1991), ("b", ZG, "2", "2021-05-01", None, 1999)))
    got = ev.inflow.set_index("person_id")
    assert (
        got.loc["a", "age"] == 30
        and got.loc["a", "inflow_kind"] == "zij_instromer"
        and got.loc["a", "age_band"] == "25-34"
    )
    assert got.loc["b", "age"] == 22 and got.loc["b", "inflow_kind"] == "overig" and got.loc["b", "age_band"] == "<25"


def test_age_25_in_the_year_of_the_start_is_side_entrant():
    ev = run(spells(("a", ZG, "1", "2021-01-01", None, 1996)))
    assert ev.inflow["inflow_kind"].tolist() == ["zij_instromer"]


def test_overlapping_spells_at_one_employer_count_once():
    ev = run(
        spells(
            ("p", ZG, "1", "2021-01-01", "2021-12-31"),
            ("p", ZG, "2", "2021-06-01", "2022-06-30"),  # overlaps the first
            ("p", ZG, "3", "2021-03-01", "2021-04-30"),  # inside the first
            ("p", ZG, "0", "2021-01-01", "2021-02-28"),  # same start as the first
        )
    )
    assert dates(ev.inflow) == [T("2021-01-01")]
    assert ev.inflow["record_key"].tolist() == ["0"]  # smallest (partner_code, record_key) starting that day
    assert dates(ev.outflow) == [T("2022-06-30")]
    assert ev.outflow["record_key"].tolist() == ["2"]
    assert ev.mobility.empty


def test_end_less_than_a_year_before_cutoff_is_provisional_and_end_after_cutoff_no_outflow():
    ev = run(
        spells(
            ("a", ZG, "1", "2021-01-01", "2023-03-31"),  # +1y = 2024-03-31 > cutoff: provisional
            ("b", ZG, "2", "2021-01-01", "2022-12-31"),  # +1y = 2023-12-31 = cutoff: final
            ("c", ZG, "3", "2021-01-01", "2024-02-29"),  # after the cutoff: still employed
        )
    )
    got = ev.outflow.set_index("person_id")["is_provisional"].to_dict()
    assert got == {"a": True, "b": False}


def test_start_on_29_february_looks_back_to_28_february():
    ev = run(
        spells(
            ("x", ZG, "1", "2022-01-01", "2023-02-28"),
            ("x", ZG, "2", "2024-02-29", None),
            ("y", ZG, "1", "2022-01-01", "2023-02-27"),
            ("y", ZG, "2", "2024-02-29", None),
        ),
        cutoff=T("2024-12-31"),
    )
    # x: look-back [2023-02-28, 2024-02-29) holds 2023-02-28: no inflow
    assert dates(ev.inflow, "x") == [T("2022-01-01")]
    # y: the last day, 2023-02-27, lies before 2023-02-28: re-entry
    assert dates(ev.inflow, "y") == [T("2022-01-01"), T("2024-02-29")]
    assert ev.inflow[ev.inflow["person_id"] == "y"]["inflow_kind"].tolist()[-1] == "herintreder"
    # outflow looks forward (E, E+1y]: 2023-02-28 + 1y = 2024-02-28, so x's end is an outflow as well
    assert dates(ev.outflow, "x") == [T("2023-02-28")]
    assert dates(ev.outflow, "y") == [T("2023-02-27")]
    assert ev.mobility.empty


def test_there_and_back_again_is_two_switches():
    ev = run(
        spells(
            ("p", ZG, "1", "2021-01-01", "2021-06-30"),
            ("p", VPH, "1", "2021-07-01", "2021-12-31"),
            ("p", ZG, "2", "2022-01-01", None),
        )
    )
    got = list(zip(ev.mobility["event_date"], ev.mobility["from_partner_code"], ev.mobility["to_partner_code"]))
    assert got == [(T("2021-07-01"), ZG, VPH), (T("2022-01-01"), VPH, ZG)]
    assert dates(ev.inflow) == [T("2021-01-01")]
    assert ev.outflow.empty


def test_new_contract_at_the_same_employer_is_no_switch_even_when_another_job_overlaps():
    ev = run(
        spells(
            ("p", ZG, "1", "2021-01-01", "2021-06-30"),
            ("p", ZG, "2", "2021-07-01", None),
            ("p", VPH, "1", "2021-03-01", "2021-04-30"),  # second job: a switch (start at another employer)
        )
    )
    assert list(zip(ev.mobility["event_date"], ev.mobility["from_partner_code"], ev.mobility["to_partner_code"])) == [
        (T("2021-03-01"), ZG, VPH)
    ]


def test_spell_started_before_observation_is_history_and_makes_a_later_start_a_reentry():
    obs = T("2021-01-01")
    ev = run(
        spells(
            ("h", ZG, "1", "2019-05-01", "2021-01-31"),  # history, ends inside the observation
            ("h", VPH, "1", "2022-06-01", None),  # look-back [2021-06-01, 2022-06-01) empty: re-entry
            ("o", ZG, "1", "2018-01-01", None),  # ongoing history: nothing
            ("s", ZG, "1", "2020-01-01", "2021-02-28"),  # history, then a switch
            ("s", TW, "1", "2021-03-01", None),
        ),
        obs=obs,
    )
    assert dates(ev.inflow) == [T("2022-06-01")]
    assert ev.inflow["inflow_kind"].tolist() == ["herintreder"]
    assert ev.inflow["lookback_complete"].tolist() == [True]
    assert dates(ev.outflow) == [T("2021-01-31")]
    assert list(zip(ev.mobility["person_id"], ev.mobility["from_partner_code"], ev.mobility["to_partner_code"])) == [
        ("s", ZG, TW)
    ]


def test_first_year_inflow_without_history_has_incomplete_lookback():
    ev = run(spells(("p", ZG, "1", "2020-12-31", None), ("q", ZG, "1", "2021-01-01", None)))
    assert ev.inflow.set_index("person_id")["lookback_complete"].to_dict() == {"p": False, "q": True}


def test_event_geography_falls_back_to_the_employer_location():
    ev = run(
        spells(
            ("r", VPH, "1", "2021-01-01", "2021-03-31", 1980, "GM0518"),
            ("n", VPH, "2", "2021-01-01", "2021-03-31", 1980, None),
            ("b", TW, "3", "2021-01-01", "2021-03-31", 1980, "BUITEN_REGIO"),
        )
    )
    for frame in (ev.inflow, ev.outflow):
        got = frame.set_index("person_id")[["municipality_code", "municipality_source", "region_code"]]
        assert got.loc["r"].tolist() == ["GM0518", "residence", "AMR_HAAGLANDEN"]
        assert got.loc["n"].tolist() == ["GM0503", "partner_location", "AMR_HAAGLANDEN"]
        assert got.loc["b"].tolist() == ["BUITEN_REGIO", "residence", "BUITEN_REGIO"]


def test_target_group_is_the_latest_referral_on_or_before_the_event():
    traj = pd.DataFrame(
        {
            "partner_code": ["gemeente_den_haag"] * 2,
            "record_key": ["t1", "t2"],
            "person_id": ["p", "p"],
            "target_group_code": ["bijstand", "statushouder"],
            "referral_date": [T("2020-06-01"), T("2021-07-01")],
        }
    ).astype({"referral_date": "datetime64[us]", "person_id": "str"})
    ev = run(
        spells(
            ("p", ZG, "1", "2020-05-01", "2021-06-30"),  # inflow before any referral
            ("p", VPH, "1", "2021-07-01", "2021-08-31"),  # switch on the referral day itself
            ("q", ZG, "1", "2021-01-01", None),
        ),
        trajectories=traj,
    )
    assert ev.inflow.set_index("person_id")["target_group_code"].isna().to_dict() == {"p": True, "q": True}
    assert ev.mobility["target_group_code"].tolist() == ["statushouder"]
    assert ev.outflow["target_group_code"].tolist() == ["statushouder"]  # 2021-08-31


def test_frames_have_the_spec_columns_and_dtypes():
    ev = run(spells(("p", ZG, "1", "2021-01-01", "2021-06-30"), ("p", VPH, "1", "2021-07-01", "2021-12-31")))
    assert list(ev.inflow.columns) == INFLOW_COLUMNS
    assert list(ev.outflow.columns) == OUTFLOW_COLUMNS
    assert list(ev.mobility.columns) == MOBILITY_COLUMNS
    assert INFLOW_COLUMNS[:7] == [
        "person_id",
        "event_date",
        "event_month",
        "event_quarter",
        "event_year",
        "inflow_kind",
        "lookback_complete",
    ]
    for frame in (ev.inflow, ev.outflow, ev.mobility):
        assert len(frame) == 1
        assert frame["event_date"].dtype == "datetime64[us]" and frame["event_month"].dtype == "datetime64[us]"
        assert frame["event_year"].dtype == "Int64" and frame["age"].dtype == "Int64"
        assert frame["person_id"].dtype == "str" and frame["target_group_code"].dtype == "str"
    assert ev.inflow["lookback_complete"].dtype == "boolean"
    assert ev.outflow["is_provisional"].dtype == "boolean"
    row = ev.outflow.iloc[0]
    assert (row["event_month"], row["event_quarter"], row["event_year"]) == (T("2021-12-01"), "2021-Q4", 2021)


def test_empty_input_gives_empty_frames():
    ev = run(spells(("p", ZG, "1", "2025-01-01", None)))  # starts after the cutoff: ignored
    assert ev.inflow.empty and ev.outflow.empty and ev.mobility.empty
    assert list(ev.inflow.columns) == INFLOW_COLUMNS


def test_care_spells_keeps_care_functions_only():
    sp = spells(("p", ZG, "1", "2021-01-01", None), ("p", ZG, "2", "2021-01-01", None))
    sp.loc[1, "function_code"] = "KANTOOR"
    functions = pd.DataFrame({"function_code": ["VIG", "KANTOOR"], "is_care_function": [True, False]}).astype(
        {"is_care_function": "boolean"}
    )
    assert care_spells(sp, functions)["record_key"].tolist() == ["1"]


@pytest.mark.parametrize(
    "gap_end,restart,inflow", [("2021-02-28", "2022-03-01", True), ("2021-03-01", "2022-03-01", False)]
)
def test_exact_one_year_boundary(gap_end, restart, inflow):
    # look-back of 2022-03-01 is [2021-03-01, 2022-03-01): an end on 2021-03-01 is inside it
    ev = run(spells(("p", ZG, "1", "2020-06-01", gap_end), ("p", ZG, "2", restart, None)))
    assert (T(restart) in dates(ev.inflow)) is inflow
    assert (T(gap_end) in dates(ev.outflow)) is inflow  # (E, E+1y] reaches 2022-02-28 / 2022-03-01


def test_same_day_ties_take_the_smallest_partner_and_record_key():
    ev = run(
        spells(
            ("p", ZG, "b", "2021-01-01", "2021-06-30"),
            ("p", ZG, "a", "2021-01-01", "2021-03-31"),
            ("q", ZG, "1", "2021-01-01", "2021-06-30"),
            ("q", VPH, "2", "2021-01-01", "2021-06-30"),
        )
    )
    assert ev.inflow.set_index("person_id")["record_key"].to_dict() == {"p": "a", "q": "2"}
    assert ev.inflow.set_index("person_id")["partner_code"].to_dict() == {"p": ZG, "q": VPH}
    # p ends on 2021-06-30 only through record b; q's two spells end together: vph_delfland < zorggroep
    assert ev.outflow.set_index("person_id")["record_key"].to_dict() == {"p": "b", "q": "2"}


def test_unknown_birth_year_is_other_not_side_entrant():
    sp = spells(("a", ZG, "1", "2021-05-01", None))
    sp["birth_year"] = pd.array([None], dtype="Int64")
    ev = run(sp)
    assert ev.inflow["inflow_kind"].tolist() == ["overig"]
    assert ev.inflow["age"].isna().all() and ev.inflow["age_band"].isna().all()
