"""fct_programme_flows on small hand-written frames; expected rows worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
from frames import typed_frame

from ingest.reference import Reference
from transforms.dimensions import dim_region
from transforms.programme_flows import COLUMNS, programme_flows

REGIONS = dim_region(Reference())
PARTNERS = pd.DataFrame(
    {
        "partner_code": ["zorg_a", "roc", "gemeente"],
        "partner_name": ["Zorg A", "ROC", "Gemeente"],
        "partner_kind": ["care_employer", "training_provider", "municipality"],
        "feed": ["employment_spells", "enrolments", "municipal_participants"],
        "location_municipality_code": ["GM0503", "GM0518", "GM0518"],
        "delivery_cadence": ["monthly"] * 3,
    }
).astype("str")
CUTOFF = pd.Timestamp("2022-12-31")
D = pd.Timestamp


_frame = typed_frame


def enrolments(rows):
    return _frame(
        rows,
        {
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
        },
        ("start_date", "planned_end_date", "actual_end_date"),
        ("birth_year", "mbo_level"),
    )


def trajectories(rows):
    return _frame(
        rows,
        {
            "partner_code": "gemeente",
            "record_key": None,
            "person_id": None,
            "person_id_kind": "bsn",
            "birth_year": 1985,
            "residence_municipality_code": "GM0518",
            "target_group_code": "bijstand",
            "benefit_type_code": "participatiewet",
            "programme_code": "wep_trein",
            "referral_date": None,
            "placement_date": None,
            "placement_kind_code": None,
            "placement_end_date": None,
            "placement_result_code": None,
        },
        ("referral_date", "placement_date", "placement_end_date"),
        ("birth_year",),
    )


def spells(rows):
    return _frame(
        rows,
        {
            "partner_code": "zorg_a",
            "record_key": None,
            "person_id": None,
            "person_id_kind": "bsn",
            "birth_year": 1980,
            "residence_municipality_code": "GM0518",
            "function_code": "HHU",
            "contract_type_code": "vast",
            "start_date": None,
            "end_date": None,
            "leaving_reason_code": None,
            "programme_code": None,
        },
        ("start_date", "end_date"),
        ("birth_year",),
    )


def flows(en=None, tr=None, sp=None, cutoff=CUTOFF):
    out = programme_flows(
        en if en is not None else enrolments([]),
        tr if tr is not None else trajectories([]),
        sp if sp is not None else spells([]),
        PARTNERS,
        REGIONS,
        cutoff=cutoff,
    )
    assert list(out.columns) == COLUMNS
    return out


def key(df):
    return sorted(zip(df["record_key"], df["event_type"], df["outcome"].fillna("-"), df["outcome_detail"].fillna("-")))


def test_enrolment_routes_map_outcomes_and_drop_events_after_the_cutoff():
    en = enrolments(
        [
            {
                "record_key": "e1",
                "person_id": "p1",
                "start_date": "2022-01-10",
                "actual_end_date": "2022-07-01",
                "enrolment_outcome_code": "diploma",
            },
            {
                "record_key": "e2",
                "person_id": "p2",
                "start_date": "2022-02-01",
                "actual_end_date": "2022-03-15",
                "enrolment_outcome_code": "uitval",
            },
            {
                "record_key": "e3",
                "person_id": "p3",
                "start_date": "2022-02-01",
                "actual_end_date": "2022-04-30",
                "enrolment_outcome_code": "overig",
            },
            {"record_key": "e4", "person_id": "p4", "start_date": "2022-05-01"},  # ongoing: a start only
            {
                "record_key": "e5",
                "person_id": "p5",
                "start_date": "2022-11-01",
                "actual_end_date": "2023-01-15",
                "enrolment_outcome_code": "diploma",
            },
            {"record_key": "e6", "person_id": "p6", "start_date": "2023-02-01"},  # after the cutoff: nothing
        ]
    )
    got = flows(en=en)
    assert key(got) == [
        ("e1", "end", "diploma", "diploma"),
        ("e1", "start", "-", "-"),
        ("e2", "end", "dropout", "uitval"),
        ("e2", "start", "-", "-"),
        ("e3", "end", "other", "overig"),
        ("e3", "start", "-", "-"),
        ("e4", "start", "-", "-"),
        ("e5", "start", "-", "-"),
    ]
    assert set(got["route_kind"]) == {"enrolment"} and set(got["source_feed"]) == {"enrolments"}
    assert got["event_date"].max() <= CUTOFF
    e1_end = got[(got["record_key"] == "e1") & (got["event_type"] == "end")].iloc[0]
    assert e1_end["event_date"] == D("2022-07-01")
    assert (
        e1_end["event_month"] == D("2022-07-01")
        and e1_end["event_quarter"] == "2022-Q3"
        and e1_end["event_year"] == 2022
    )


def test_placement_routes_map_werk_to_into_work_and_werkfit_to_other():
    base = {"referral_date": "2021-12-01", "placement_date": "2022-01-03"}
    tr = trajectories(
        [
            base
            | {
                "record_key": "t1",
                "person_id": "p1",
                "placement_kind_code": "wep",
                "placement_end_date": "2022-06-30",
                "placement_result_code": "werk",
            },
            base
            | {
                "record_key": "t2",
                "person_id": "p2",
                "placement_kind_code": "wep",
                "placement_end_date": "2022-06-30",
                "placement_result_code": "werkfit",
            },
            base
            | {
                "record_key": "t3",
                "person_id": "p3",
                "placement_kind_code": "baan",
                "placement_end_date": "2022-06-30",
                "placement_result_code": "uitval",
            },
            base
            | {
                "record_key": "t4",
                "person_id": "p4",
                "placement_kind_code": "opleiding",
                "placement_end_date": "2022-06-30",
                "placement_result_code": "overig",
            },
            {"record_key": "t5", "person_id": "p5", "referral_date": "2022-03-01"},  # no placement: no route
        ]
    )
    got = flows(tr=tr)
    assert key(got) == [
        ("t1", "end", "into_work", "werk"),
        ("t1", "start", "-", "-"),
        ("t2", "end", "other", "werkfit"),
        ("t2", "start", "-", "-"),
        ("t3", "end", "dropout", "uitval"),
        ("t3", "start", "-", "-"),
        ("t4", "end", "other", "overig"),
        ("t4", "start", "-", "-"),
    ]
    kinds = dict(zip(got["record_key"], got["route_kind"]))
    assert kinds == {"t1": "wep", "t2": "wep", "t3": "baan", "t4": "opleiding"}
    assert set(got["source_feed"]) == {"municipal_participants"}


def test_job_routes_are_spells_with_a_programme_and_end_as_other_with_the_leaving_reason():
    sp = spells(
        [
            {
                "record_key": "s1",
                "person_id": "p1",
                "programme_code": "werkoffensief_500",
                "start_date": "2022-02-01",
                "end_date": "2022-08-31",
                "leaving_reason_code": "einde_contract",
            },
            {
                "record_key": "s2",
                "person_id": "p2",
                "start_date": "2022-02-01",
                "end_date": "2022-08-31",
            },  # no programme
            {
                "record_key": "s3",
                "person_id": "p3",
                "programme_code": "brugbanen",
                "start_date": "2022-02-01",
                "end_date": "2023-03-31",
                "leaving_reason_code": "eigen_verzoek",
            },  # ends after the cutoff
        ]
    )
    got = flows(sp=sp)
    assert key(got) == [("s1", "end", "other", "einde_contract"), ("s1", "start", "-", "-"), ("s3", "start", "-", "-")]
    assert set(got["route_kind"]) == {"job"} and set(got["source_feed"]) == {"employment_spells"}
    assert dict(zip(got["record_key"], got["programme_code"])) == {"s1": "werkoffensief_500", "s3": "brugbanen"}


def test_geography_and_target_group_at_the_event_date():
    # p1 referred as bijstand on 2022-01-01 and as statushouder on 2022-06-01.
    tr = trajectories(
        [
            {"record_key": "t1", "person_id": "p1", "referral_date": "2022-01-01", "target_group_code": "bijstand"},
            {"record_key": "t2", "person_id": "p1", "referral_date": "2022-06-01", "target_group_code": "statushouder"},
        ]
    )
    sp = spells(
        [
            # start 2021-12-01: before any referral -> NaN; end 2022-03-01 -> bijstand
            {
                "record_key": "s1",
                "person_id": "p1",
                "programme_code": "sectordeal_zorg",
                "start_date": "2021-12-01",
                "end_date": "2022-03-01",
                "residence_municipality_code": None,
            },
            # start on the referral day 2022-06-01 -> statushouder; outside the region by residence
            {
                "record_key": "s2",
                "person_id": "p1",
                "programme_code": "sectordeal_zorg",
                "start_date": "2022-06-01",
                "residence_municipality_code": "BUITEN_REGIO",
            },
            # another person, never referred
            {
                "record_key": "s3",
                "person_id": "p9",
                "programme_code": "sectordeal_zorg",
                "start_date": "2022-07-01",
                "residence_municipality_code": "GM0637",
            },
        ]
    )
    got = flows(sp=sp, tr=tr).set_index(["record_key", "event_type"])
    assert pd.isna(got.loc[("s1", "start"), "target_group_code"])
    assert got.loc[("s1", "end"), "target_group_code"] == "bijstand"
    assert got.loc[("s2", "start"), "target_group_code"] == "statushouder"
    assert pd.isna(got.loc[("s3", "start"), "target_group_code"])
    # no residence: the employer's location (zorg_a in Delft)
    assert got.loc[("s1", "start"), ["municipality_code", "municipality_source", "region_code"]].tolist() == [
        "GM0503",
        "partner_location",
        "AMR_HAAGLANDEN",
    ]
    assert got.loc[("s2", "start"), ["municipality_code", "municipality_source", "region_code"]].tolist() == [
        "BUITEN_REGIO",
        "residence",
        "BUITEN_REGIO",
    ]
    assert got.loc[("s3", "start"), ["municipality_code", "region_code"]].tolist() == ["GM0637", "AMR_HAAGLANDEN"]


def test_dtypes_and_empty_inputs():
    empty = flows()
    assert empty.empty and list(empty.columns) == COLUMNS
    en = enrolments([{"record_key": "e1", "person_id": "p1", "start_date": "2022-01-10"}])
    got = flows(en=en)
    assert got["event_date"].dtype == np.dtype("datetime64[us]")
    assert got["event_month"].dtype == np.dtype("datetime64[us]")
    assert str(got["event_year"].dtype) == "Int64"
    assert got["person_id"].dtype == "str" and got["outcome"].dtype == "str"
    assert got["person_id_kind"].tolist() == ["bsn"]
