"""fct_target_persons and fct_target_attainment on small hand-written frames.

Every expected number is worked out by hand in the test (never computed with the code under test).
The targets come from config/reference/targets.csv (via dim_target), so the criteria are exercised
as data.
"""

from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest
from frames import typed_frame

from ingest.reference import Reference
from transforms.dimensions import dim_function, dim_region, dim_target
from transforms.targets import ATTAINMENT_COLUMNS, PERSON_COLUMNS, target_attainment, target_persons

REF = Reference()
TARGETS = dim_target(REF)
REGIONS = dim_region(REF)
FUNCTIONS = pd.concat(
    [
        dim_function(REF),
        pd.DataFrame(
            {
                "function_code": ["SCHOON"],
                "function_name": ["Schoonmaak"],
                "mbo_level": pd.array([pd.NA], dtype="Int64"),
                "is_care_function": pd.array([False], dtype="boolean"),
            }
        ),
    ],
    ignore_index=True,
)
PARTNERS = pd.DataFrame(
    {
        "partner_code": ["zorg_a", "zorg_b", "zorg_leiden", "roc", "threewise", "gemeente"],
        "partner_name": ["Zorg A", "Zorg B", "Zorg Leiden", "ROC", "Threewise", "Gemeente Den Haag"],
        "partner_kind": ["care_employer"] * 3 + ["training_provider"] * 2 + ["municipality"],
        "feed": ["employment_spells"] * 3 + ["enrolments"] * 2 + ["municipal_participants"],
        # zorg_leiden lies in Leiden (GM0546), outside Haaglanden: not in dim_region
        "location_municipality_code": ["GM0518", "GM0503", "GM0546", "GM0518", "GM0518", "GM0518"],
        "delivery_cadence": ["monthly"] * 6,
    }
).astype("str")

CUTOFF = pd.Timestamp("2022-12-31")
D = pd.Timestamp


_frame = typed_frame


def spells(rows: list[dict]) -> pd.DataFrame:
    defaults = {
        "partner_code": "zorg_a",
        "record_key": None,
        "person_id": None,
        "person_id_kind": "bsn",
        "birth_year": 1980,
        "residence_municipality_code": "GM0518",
        "function_code": "HHU",
        "contract_type_code": "vast",
        "hours_per_week": None,
        "is_apprenticeship": False,
        "start_date": None,
        "end_date": None,
        "leaving_reason_code": None,
        "programme_code": None,
        "delivery_id": "d1",
        "delivery_period": "2022-12",
        "source_row_number": 1,
    }
    return _frame(
        rows, defaults, ("start_date", "end_date"), ("birth_year", "source_row_number"), ("is_apprenticeship",)
    )


def enrolments(rows: list[dict]) -> pd.DataFrame:
    defaults = {
        "partner_code": "roc",
        "record_key": None,
        "person_id": None,
        "person_id_kind": "bsn",
        "birth_year": 1990,
        "residence_municipality_code": "GM0518",
        "programme_code": None,
        "crebo_code": "25491",
        "mbo_level": 2,
        "learning_path_code": "BBL",
        "start_date": None,
        "planned_end_date": None,
        "actual_end_date": None,
        "enrolment_outcome_code": "lopend",
        "leaving_reason_code": None,
        "bbl_employer_name": None,
        "has_work_placement_agreement": None,
        "delivery_id": "d2",
        "delivery_period": "2022-12",
        "source_row_number": 1,
    }
    return _frame(
        rows,
        defaults,
        ("start_date", "planned_end_date", "actual_end_date"),
        ("birth_year", "mbo_level", "source_row_number"),
        ("has_work_placement_agreement",),
    )


def trajectories(rows: list[dict]) -> pd.DataFrame:
    defaults = {
        "partner_code": "gemeente",
        "record_key": None,
        "person_id": None,
        "person_id_kind": "bsn",
        "birth_year": 1985,
        "residence_municipality_code": "GM0518",
        "target_group_code": "bijstand",
        "benefit_type_code": "participatiewet",
        "programme_code": None,
        "referral_date": "2021-06-01",
        "placement_date": None,
        "placement_kind_code": None,
        "placement_end_date": None,
        "placement_result_code": None,
        "benefit_end_date": None,
        "benefit_end_reason_code": None,
        "civic_integration_required": None,
        "delivery_id": "d3",
        "delivery_period": "2022-12",
        "source_row_number": 1,
    }
    return _frame(
        rows,
        defaults,
        ("referral_date", "placement_date", "placement_end_date", "benefit_end_date"),
        ("birth_year", "source_row_number"),
        ("civic_integration_required",),
    )


EMPTY_SPELLS, EMPTY_ENROLMENTS, EMPTY_TRAJECTORIES = spells([]), enrolments([]), trajectories([])


def persons_of(
    code: str, *, sp=EMPTY_SPELLS, en=EMPTY_ENROLMENTS, tr=EMPTY_TRAJECTORIES, targets=TARGETS, cutoff=CUTOFF
):
    out = target_persons(targets, sp, en, tr, PARTNERS, REGIONS, FUNCTIONS, cutoff=cutoff)
    assert list(out.columns) == PERSON_COLUMNS
    return out[out["target_code"] == code].reset_index(drop=True)


def target(code: str, **changes) -> pd.DataFrame:
    """One dim_target row from targets.csv, with changes (dates as strings)."""
    row = TARGETS[TARGETS["target_code"] == code].reset_index(drop=True).copy()
    for k, v in changes.items():
        if k in ("window_start", "window_end"):
            v = pd.Timestamp(v)
        row[k] = pd.Series([v], dtype=row[k].dtype)
    return row


def persons_frame(code: str, dates: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "target_code": code,
            "person_id": [f"p{i}" for i in range(len(dates))],
            "first_qualifying_date": pd.to_datetime(dates).astype("datetime64[us]"),
            "qualifying_feed": "enrolments",
            "partner_code": "roc",
            "record_key": [f"e{i}" for i in range(len(dates))],
        }
    ).astype(
        {"target_code": "str", "person_id": "str", "qualifying_feed": "str", "partner_code": "str", "record_key": "str"}
    )


def latest(att: pd.DataFrame, code: str) -> pd.Series:
    rows = att[(att["target_code"] == code) & att["is_latest"]]
    assert len(rows) == 1
    return rows.iloc[0]


# --------------------------------------------------------------------------------------------------
# fct_target_persons
# --------------------------------------------------------------------------------------------------


def test_person_in_two_records_and_deliveries_counts_once_with_first_event():
    # p1 is a Voortraject participant on two municipal records (two trajectories) and starts two BBL
    # enrolments in the window: counts once, on the earlier start (2022-02-01, record e2).
    tr = trajectories(
        [
            {"record_key": "t1", "person_id": "p1", "programme_code": "voortraject", "delivery_period": "2022-03"},
            {"record_key": "t2", "person_id": "p1", "programme_code": "voortraject", "delivery_period": "2022-09"},
        ]
    )
    en = enrolments(
        [
            {"record_key": "e1", "person_id": "p1", "start_date": "2022-03-01"},
            {"record_key": "e2", "person_id": "p1", "start_date": "2022-02-01"},
        ]
    )
    got = persons_of("voortraject", en=en, tr=tr)
    assert got["person_id"].tolist() == ["p1"]
    assert got.loc[0, "first_qualifying_date"] == D("2022-02-01")
    assert got.loc[0, ["qualifying_feed", "partner_code", "record_key"]].tolist() == ["enrolments", "roc", "e2"]
    att = target_attainment(target("voortraject"), got, cutoff=CUTOFF)
    assert latest(att, "voortraject")["achieved"] == 1


def test_same_day_events_tie_break_on_feed_partner_and_record_key():
    # Sectordeal: a care enrolment and a care spell on the same day. Feeds sort
    # "employment_spells" < "enrolments"; among spells zorg_a < zorg_b; then record_key.
    tr = trajectories([{"record_key": "t1", "person_id": "p1", "programme_code": "zorg_werkt_academie"}])
    sp = spells(
        [
            {"partner_code": "zorg_b", "record_key": "s0", "person_id": "p1", "start_date": "2021-05-03"},
            {"partner_code": "zorg_a", "record_key": "s9", "person_id": "p1", "start_date": "2021-05-03"},
            {"partner_code": "zorg_a", "record_key": "s2", "person_id": "p1", "start_date": "2021-05-03"},
        ]
    )
    en = enrolments([{"partner_code": "roc", "record_key": "e0", "person_id": "p1", "start_date": "2021-05-03"}])
    got = persons_of("sectordeal_zorg", sp=sp, en=en, tr=tr)
    assert got.loc[0, ["qualifying_feed", "partner_code", "record_key"]].tolist() == [
        "employment_spells",
        "zorg_a",
        "s2",
    ]
    assert len(got) == 1


def test_persons_outside_the_region_do_not_count():
    # Werkoffensief: bijstand record and a care spell start in the window.
    tr = trajectories(
        [{"record_key": f"t{i}", "person_id": p} for i, p in enumerate(["in", "out", "nopc_in", "nopc_out", "delft"])]
    )
    sp = spells(
        [
            {"record_key": "s1", "person_id": "in", "start_date": "2022-03-01"},
            {
                "record_key": "s2",
                "person_id": "out",
                "start_date": "2022-03-01",
                "residence_municipality_code": "BUITEN_REGIO",
            },
            # no residence: the employer's location decides (zorg_a in Den Haag -> counts)
            {
                "record_key": "s3",
                "person_id": "nopc_in",
                "start_date": "2022-03-01",
                "residence_municipality_code": None,
            },
            # no residence, employer in Leiden (outside Haaglanden) -> does not count
            {
                "partner_code": "zorg_leiden",
                "record_key": "s4",
                "person_id": "nopc_out",
                "start_date": "2022-03-01",
                "residence_municipality_code": None,
            },
            # lives in Delft, employer in Leiden: residence decides -> counts
            {
                "partner_code": "zorg_leiden",
                "record_key": "s5",
                "person_id": "delft",
                "start_date": "2022-03-01",
                "residence_municipality_code": "GM0503",
            },
        ]
    )
    got = persons_of("werkoffensief_500", sp=sp, tr=tr)
    assert sorted(got["person_id"]) == ["delft", "in", "nopc_in"]


def test_werkoffensief_needs_bijstand_a_care_function_and_a_start_in_the_window():
    tr = trajectories(
        [
            {"record_key": "t1", "person_id": "ok"},
            {"record_key": "t2", "person_id": "ww", "benefit_type_code": "ww"},
            {"record_key": "t3", "person_id": "noncare"},
            {"record_key": "t4", "person_id": "early"},
            {"record_key": "t5", "person_id": "late"},
            {"record_key": "t6", "person_id": "edge"},
        ]
    )
    sp = spells(
        [
            {"record_key": "s1", "person_id": "ok", "start_date": "2022-01-01"},  # first day of window
            {"record_key": "s2", "person_id": "ww", "start_date": "2022-03-01"},  # WW, not bijstand
            {"record_key": "s3", "person_id": "noncare", "start_date": "2022-03-01", "function_code": "SCHOON"},
            {"record_key": "s4", "person_id": "early", "start_date": "2021-12-31"},  # before the window
            {"record_key": "s5", "person_id": "late", "start_date": "2023-01-01"},  # after the cutoff
            {"record_key": "s6", "person_id": "edge", "start_date": "2022-12-31"},  # on the cutoff
            {"record_key": "s7", "person_id": "nomun", "start_date": "2022-03-01"},  # no municipal record
        ]
    )
    got = persons_of("werkoffensief_500", sp=sp, tr=tr)
    assert sorted(got["person_id"]) == ["edge", "ok"]


def test_onderwijsnummer_student_cannot_meet_a_municipal_record_criterion():
    # Taakbrigades participant "x" (bsn). An enrolment at level 1 carries the pseudonym "x" but was
    # made from an onderwijsnummer: it cannot be linked, so it does not count, while the same
    # enrolment with a bsn pseudonym does.
    tr = trajectories(
        [
            {"record_key": "t1", "person_id": "x", "programme_code": "taakbrigades"},
            {"record_key": "t2", "person_id": "y", "programme_code": "taakbrigades"},
        ]
    )
    en = enrolments(
        [
            {
                "record_key": "e1",
                "person_id": "x",
                "person_id_kind": "onderwijsnummer",
                "mbo_level": 1,
                "start_date": "2022-04-01",
            },
            {"record_key": "e2", "person_id": "y", "person_id_kind": "bsn", "mbo_level": 1, "start_date": "2022-04-01"},
            {
                "record_key": "e3",
                "person_id": "z",
                "person_id_kind": "onderwijsnummer",
                "mbo_level": 2,
                "start_date": "2022-04-01",
            },
        ]
    )
    got = persons_of("taakbrigades", en=en, tr=tr)
    assert got["person_id"].tolist() == ["y"]


def test_taakbrigades_levels_and_voortraject_learning_path():
    tr = trajectories(
        [
            {"record_key": "t1", "person_id": "a", "programme_code": "taakbrigades"},
            {"record_key": "t2", "person_id": "b", "programme_code": "taakbrigades"},
            {"record_key": "t3", "person_id": "c", "programme_code": "voortraject"},
            {"record_key": "t4", "person_id": "d", "programme_code": "voortraject"},
        ]
    )
    en = enrolments(
        [
            {
                "record_key": "e1",
                "person_id": "a",
                "mbo_level": 2,
                "learning_path_code": "BOL",
                "start_date": "2022-05-01",
            },
            {"record_key": "e2", "person_id": "b", "mbo_level": 3, "start_date": "2022-05-01"},
            {
                "record_key": "e3",
                "person_id": "c",
                "mbo_level": 3,
                "learning_path_code": "BBL",
                "start_date": "2022-05-01",
            },
            {
                "record_key": "e4",
                "person_id": "d",
                "mbo_level": 3,
                "learning_path_code": "BOL",
                "start_date": "2022-05-01",
            },
        ]
    )
    assert persons_of("taakbrigades", en=en, tr=tr)["person_id"].tolist() == ["a"]
    assert persons_of("voortraject", en=en, tr=tr)["person_id"].tolist() == ["c"]


def test_wep_trein_counts_werkfit_or_werk_ends_of_a_wep_placement_only():
    wep = {"programme_code": "wep_trein", "placement_kind_code": "wep", "placement_date": "2021-10-01"}
    tr = trajectories(
        [
            wep
            | {
                "record_key": "t1",
                "person_id": "werkfit",
                "placement_end_date": "2022-04-30",
                "placement_result_code": "werkfit",
            },
            wep
            | {
                "record_key": "t2",
                "person_id": "werk",
                "placement_end_date": "2022-06-15",
                "placement_result_code": "werk",
            },
            wep
            | {
                "record_key": "t3",
                "person_id": "uitval",
                "placement_end_date": "2022-04-30",
                "placement_result_code": "uitval",
            },
            wep
            | {
                "record_key": "t4",
                "person_id": "overig",
                "placement_end_date": "2022-04-30",
                "placement_result_code": "overig",
            },
            wep
            | {
                "record_key": "t5",
                "person_id": "baan",
                "placement_kind_code": "baan",
                "placement_end_date": "2022-04-30",
                "placement_result_code": "werk",
            },
            wep | {"record_key": "t6", "person_id": "open", "placement_result_code": None},
            wep
            | {
                "record_key": "t7",
                "person_id": "after",
                "placement_end_date": "2023-01-31",
                "placement_result_code": "werk",
            },
            wep
            | {
                "record_key": "t8",
                "person_id": "before",
                "placement_end_date": "2021-12-31",
                "placement_result_code": "werk",
            },
            # a wep ended werkfit on a Werkoffensief record; the person's WEP-trein record has no placement:
            # the filters apply to the placement record itself, so this does not count
            wep
            | {
                "record_key": "t9",
                "person_id": "other",
                "programme_code": "werkoffensief_500",
                "placement_end_date": "2022-04-30",
                "placement_result_code": "werkfit",
            },
            {"record_key": "t10", "person_id": "other", "programme_code": "wep_trein"},
        ]
    )
    got = persons_of("wep_trein", tr=tr)
    assert sorted(got["person_id"]) == ["werk", "werkfit"]
    werkfit = got[got["person_id"] == "werkfit"].iloc[0]
    assert werkfit["first_qualifying_date"] == D("2022-04-30")  # the placement end, not its start
    assert werkfit["qualifying_feed"] == "municipal_participants" and werkfit["record_key"] == "t1"


def test_brugbanen_filters_on_one_record_and_has_no_number():
    tr = trajectories(
        [
            {
                "record_key": "t1",
                "person_id": "yes",
                "programme_code": "brugbanen",
                "target_group_code": "pro_vso_jongere",
            },
            {
                "record_key": "t2",
                "person_id": "wronggroup",
                "programme_code": "brugbanen",
                "target_group_code": "bijstand",
            },
            # programme and target group on two different records: not both on one record -> no
            {"record_key": "t3", "person_id": "split", "programme_code": "brugbanen", "target_group_code": "bijstand"},
            {
                "record_key": "t4",
                "person_id": "split",
                "programme_code": "werkoffensief_500",
                "target_group_code": "pro_vso_jongere",
            },
        ]
    )
    sp = spells(
        [
            {"record_key": f"s{i}", "person_id": p, "start_date": "2022-09-01"}
            for i, p in enumerate(["yes", "wronggroup", "split"])
        ]
    )
    got = persons_of("brugbanen", sp=sp, tr=tr)
    assert got["person_id"].tolist() == ["yes"]

    att = target_attainment(target("brugbanen"), got, cutoff=CUTOFF)
    row = latest(att, "brugbanen")
    # count only: achieved 1; run rate = 1 person in Jul-Dec 2022 / 6; window 2022-01-01..2023-12-31,
    # as of 2022-12-31: remaining = (2023*12+12) - (2022*12+12) = 12 months; forecast = 1 + 12/6 = 3
    assert pd.isna(row["target_number"])
    assert row["achieved"] == 1
    assert pd.isna(row["status"]) and pd.isna(row["share_attained"]) and pd.isna(row["expected_to_date"])
    assert pd.isna(row["required_monthly_rate"])
    assert row["remaining_months"] == 12
    assert row["forecast"] == pytest.approx(3.0)
    assert att["status"].isna().all()


def test_a_new_target_is_a_new_row_in_targets_csv(tmp_path):
    # Copy targets.csv and add a row: Voortraject at mbo level 1 or 2 on the BOL path. No code change.
    shutil.copy(REF.folder / "targets.csv", tmp_path / "targets.csv")
    with open(tmp_path / "targets.csv", "a", encoding="utf-8") as f:
        f.write(
            "voortraject_bol_12,Voortraject BOL 1-2,voortraject,2022-01-01,2023-12-31,4,AMR_HAAGLANDEN,"
            "enrolments,start,true,voortraject,,,1|2,BOL,,,true,Copy of Voortraject at level 1-2 BOL\n"
        )
    targets = dim_target(Reference(folder=tmp_path))
    assert "voortraject_bol_12" in set(targets["target_code"])
    tr = trajectories(
        [
            {"record_key": f"t{i}", "person_id": p, "programme_code": "voortraject"}
            for i, p in enumerate(["l2bol", "l1bol", "l3bol", "l1bbl"])
        ]
    )
    en = enrolments(
        [
            {
                "record_key": "e1",
                "person_id": "l2bol",
                "mbo_level": 2,
                "learning_path_code": "BOL",
                "start_date": "2022-02-01",
            },
            {
                "record_key": "e2",
                "person_id": "l1bol",
                "mbo_level": 1,
                "learning_path_code": "BOL",
                "start_date": "2022-03-01",
            },
            {
                "record_key": "e3",
                "person_id": "l3bol",
                "mbo_level": 3,
                "learning_path_code": "BOL",
                "start_date": "2022-02-01",
            },
            {
                "record_key": "e4",
                "person_id": "l1bbl",
                "mbo_level": 1,
                "learning_path_code": "BBL",
                "start_date": "2022-02-01",
            },
            {
                "record_key": "e5",
                "person_id": "notpart",
                "mbo_level": 1,
                "learning_path_code": "BOL",
                "start_date": "2022-02-01",
            },
        ]
    )
    got = persons_of("voortraject_bol_12", en=en, tr=tr, targets=targets)
    assert sorted(got["person_id"]) == ["l1bol", "l2bol"]
    # the original Voortraject (BBL, any level) is unaffected
    assert persons_of("voortraject", en=en, tr=tr, targets=targets)["person_id"].tolist() == ["l1bbl"]
    att = target_attainment(
        targets,
        target_persons(targets, EMPTY_SPELLS, en, tr, PARTNERS, REGIONS, FUNCTIONS, cutoff=CUTOFF),
        cutoff=CUTOFF,
    )
    row = latest(att, "voortraject_bol_12")
    # achieved 2 of 4; elapsed 365 of 730 days -> expected 2; 2 >= 0.95 * 2 -> on_track
    assert (row["achieved"], row["target_number"], row["status"]) == (2, 4, "on_track")
    assert row["elapsed_share"] == pytest.approx(0.5)
    assert row["required_monthly_rate"] == pytest.approx(2 / 12)


def test_undefined_criterion_raises_instead_of_counting_nobody():
    bad = target("voortraject", criterion_event="placement_end")
    with pytest.raises(ValueError, match="voortraject"):
        target_persons(
            bad, EMPTY_SPELLS, EMPTY_ENROLMENTS, EMPTY_TRAJECTORIES, PARTNERS, REGIONS, FUNCTIONS, cutoff=CUTOFF
        )


# --------------------------------------------------------------------------------------------------
# fct_target_attainment
# --------------------------------------------------------------------------------------------------


def _status_case(code: str, n_persons: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    t = target("voortraject", target_code=code, target_number=50, window_start="2022-01-01", window_end="2022-04-10")
    return t, persons_frame(code, ["2022-01-15"] * n_persons)


def test_status_exactly_at_95_and_60_percent_of_expected():
    # Window 2022-01-01..2022-04-10 = 31 + 28 + 31 + 10 = 100 days; cutoff 2022-03-21 -> elapsed
    # 31 + 28 + 21 = 80 days -> share 0.8; target 50 -> expected 50 * 0.8 = 40.
    # 95% of 40 = 38 (on_track), 37 below; 60% of 40 = 24 (needs_acceleration), 23 below (off_track).
    cases = {"t38": 38, "t37": 37, "t24": 24, "t23": 23}
    frames = [_status_case(code, n) for code, n in cases.items()]
    targets = pd.concat([f[0] for f in frames], ignore_index=True)
    persons = pd.concat([f[1] for f in frames], ignore_index=True)
    att = target_attainment(targets, persons, cutoff=D("2022-03-21"))
    assert list(att.columns) == ATTAINMENT_COLUMNS
    expected_status = {"t38": "on_track", "t37": "needs_acceleration", "t24": "needs_acceleration", "t23": "off_track"}
    for code, status in expected_status.items():
        row = latest(att, code)
        assert row["as_of_date"] == D("2022-03-21")
        assert row["elapsed_share"] == pytest.approx(0.8)
        assert row["expected_to_date"] == pytest.approx(40.0)
        assert row["status"] == status, code
    # t38: run rate = 38 starts in Oct 2021..Mar 2022 / 6; remaining = April - March = 1 month;
    # forecast = 38 + 38/6; required = (50 - 38) / 1 = 12
    row = latest(att, "t38")
    assert row["run_rate"] == pytest.approx(38 / 6)
    assert row["remaining_months"] == 1
    assert row["forecast"] == pytest.approx(38 + 38 / 6)
    assert row["required_monthly_rate"] == pytest.approx(12.0)
    assert row["share_attained"] == pytest.approx(38 / 50)


def test_run_rate_forecast_and_required_rate_by_hand():
    # Window 2022-01-01..2023-12-31 (730 days), target 30, cutoff 2022-09-20.
    t = target("voortraject", target_code="hand", target_number=30)
    persons = persons_frame("hand", ["2022-02-10", "2022-03-05", "2022-04-01", "2022-06-15", "2022-09-20"])
    att = target_attainment(t, persons, cutoff=D("2022-09-20"))
    row = latest(att, "hand")
    # achieved 5; six months ending September = April..September: 2022-04-01, 06-15, 09-20 -> 3 / 6 = 0.5
    # remaining = (2023*12+12) - (2022*12+9) = 15; forecast = 5 + 0.5 * 15 = 12.5
    # required = (30 - 5) / 15 = 5/3
    # elapsed = 31+28+31+30+31+30+31+31+20 = 263 days of 730; expected = 30 * 263 / 730 = 10.808...
    # 60% of expected = 6.48 > 5 -> off_track
    assert row["achieved"] == 5
    assert row["run_rate"] == pytest.approx(0.5)
    assert row["remaining_months"] == 15
    assert row["forecast"] == pytest.approx(12.5)
    assert row["required_monthly_rate"] == pytest.approx(25 / 15)
    assert row["elapsed_share"] == pytest.approx(263 / 730)
    assert row["expected_to_date"] == pytest.approx(30 * 263 / 730)
    assert row["status"] == "off_track"


def test_monthly_rows_are_cumulative_and_latest_row_is_the_cutoff_computation():
    t = target("voortraject", target_code="m", target_number=30)
    dates = ["2022-02-10", "2022-03-05", "2022-04-01", "2022-06-15", "2022-09-20"]
    att = target_attainment(t, persons_frame("m", dates), cutoff=D("2022-09-20"))
    assert att["as_of_date"].tolist() == [
        D(x)
        for x in [
            "2022-01-31",
            "2022-02-28",
            "2022-03-31",
            "2022-04-30",
            "2022-05-31",
            "2022-06-30",
            "2022-07-31",
            "2022-08-31",
            "2022-09-20",
        ]
    ]
    assert att["is_latest"].tolist() == [False] * 8 + [True]
    assert att["achieved"].tolist() == [0, 1, 2, 3, 3, 4, 4, 4, 5]
    # June row by hand: run window Jan..Jun holds 4 persons -> 4/6; remaining = 24 - 6 = 18
    june = att[att["as_of_date"] == D("2022-06-30")].iloc[0]
    assert june["run_rate"] == pytest.approx(4 / 6)
    assert june["remaining_months"] == 18
    assert june["forecast"] == pytest.approx(4 + 18 * 4 / 6)
    assert june["elapsed_share"] == pytest.approx(181 / 730)  # 31+28+31+30+31+30
    # the June row is what a run with cutoff 2022-06-30 gives as its latest row
    earlier = persons_frame("m", dates[:4])
    june_run = target_attainment(t, earlier, cutoff=D("2022-06-30"))
    assert len(june_run) == 6
    cols = [c for c in ATTAINMENT_COLUMNS if c != "is_latest"]
    pd.testing.assert_series_equal(june_run.iloc[-1][cols], june[cols], check_names=False)
    assert bool(june_run.iloc[-1]["is_latest"])


def test_required_rate_zero_once_achieved():
    t = target("voortraject", target_code="done", target_number=2)
    att = target_attainment(
        t, persons_frame("done", ["2022-02-01", "2022-03-01", "2022-04-01"]), cutoff=D("2022-06-30")
    )
    row = latest(att, "done")
    assert row["status"] == "achieved"
    assert row["required_monthly_rate"] == 0.0
    assert row["share_attained"] == pytest.approx(1.5)
    # the February row had 1 of 2: not yet achieved, required (2 - 1) / (24 - 2) months
    feb = att[att["as_of_date"] == D("2022-02-28")].iloc[0]
    assert feb["status"] != "achieved"
    assert feb["required_monthly_rate"] == pytest.approx(1 / 22)


def test_window_after_the_cutoff_is_not_started_with_one_row():
    t = target(
        "voortraject", target_code="future", target_number=36, window_start="2023-01-01", window_end="2023-12-31"
    )
    att = target_attainment(t, persons_frame("future", []), cutoff=D("2022-06-30"))
    assert len(att) == 1
    row = att.iloc[0]
    assert bool(row["is_latest"]) and row["as_of_date"] == D("2022-06-30")
    assert row["status"] == "not_started"
    assert row["achieved"] == 0
    assert row["elapsed_share"] == 0.0 and row["expected_to_date"] == 0.0
    # remaining = (2023*12+12) - (2022*12+6) = 18; required = 36 / 18 = 2; forecast = 0
    assert row["remaining_months"] == 18
    assert row["required_monthly_rate"] == pytest.approx(2.0)
    assert row["forecast"] == 0.0


def test_window_before_the_data_is_off_track_and_closed_short():
    # Window 2020 entirely before the events (2022): target_persons finds nobody, the window closed.
    t = target("werkoffensief_500", target_code="past", window_start="2020-01-01", window_end="2020-12-31")
    tr = trajectories([{"record_key": "t1", "person_id": "p1"}])
    sp = spells([{"record_key": "s1", "person_id": "p1", "start_date": "2022-03-01"}])
    persons = target_persons(t, sp, EMPTY_ENROLMENTS, tr, PARTNERS, REGIONS, FUNCTIONS, cutoff=CUTOFF)
    assert persons.empty and list(persons.columns) == PERSON_COLUMNS
    att = target_attainment(t, persons, cutoff=CUTOFF)
    assert len(att) == 12  # Jan..Dec 2020, the last one as of the window end
    row = latest(att, "past")
    assert row["as_of_date"] == D("2020-12-31")
    assert row["achieved"] == 0
    assert row["elapsed_share"] == 1.0 and row["expected_to_date"] == 500.0
    assert row["status"] == "off_track"
    assert row["remaining_months"] == 0
    assert math.isnan(row["required_monthly_rate"])
    assert row["forecast"] == 0.0


def test_attainment_dtypes():
    t = pd.concat([target("voortraject"), target("brugbanen")], ignore_index=True)
    att = target_attainment(t, persons_frame("voortraject", ["2022-03-01"]), cutoff=CUTOFF)
    assert att["as_of_date"].dtype == np.dtype("datetime64[us]")
    assert att["window_start"].dtype == np.dtype("datetime64[us]")
    assert str(att["is_latest"].dtype) == "boolean"
    assert str(att["target_number"].dtype) == "Int64"
    assert str(att["achieved"].dtype) == "Int64"
    assert str(att["remaining_months"].dtype) == "Int64"
    assert att["status"].dtype == "str"
    assert att.groupby("target_code")["is_latest"].sum().tolist() == [1, 1]
    assert len(att) == 24  # 12 month rows per target in 2022
