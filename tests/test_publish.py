"""Published statistics (transforms.publish) on small hand-made fact frames, following docs/statistics_spec.md."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from transforms.publish import (
    PUB_PROGRAMME_FLOWS_COLUMNS,
    PUB_RETENTION_COLUMNS,
    PUB_SECTOR_FLOWS_COLUMNS,
    PUB_TARGET_ATTAINMENT_COLUMNS,
    publish_programme_flows,
    publish_retention,
    publish_sector_flows,
    publish_target_attainment,
)

DH, DELFT, RIJSWIJK, BR = "GM0518", "GM0503", "GM0603", "BUITEN_REGIO"
REGION = "AMR_HAAGLANDEN"
JAN, FEB = pd.Timestamp("2023-01-01"), pd.Timestamp("2023-02-01")

REGIONS = pd.DataFrame(
    {
        "municipality_code": [DH, DELFT, RIJSWIJK],
        "municipality_name": ["'s-Gravenhage", "Delft", "Rijswijk"],
        "labour_market_region_code": [REGION] * 3,
        "labour_market_region_name": ["Haaglanden"] * 3,
    }
).astype("str")
PARTNERS = pd.DataFrame(
    {
        "partner_code": ["zorg_a", "zorg_b", "zorg_c"],
        "partner_name": ["A", "B", "C"],
        "partner_kind": ["employer"] * 3,
        "location_municipality_code": [DH, DELFT, RIJSWIJK],
    }
).astype("str")

SPEC_COLUMNS = {  # copied from docs/statistics_spec.md, "Published statistics"
    "pub_sector_flows": "period_month, period_quarter, period_year, area_level, area_code, area_name, measure, "
    "breakdown, breakdown_value, persons, is_provisional, suppressed, suppression_reason",
    "pub_retention": "cohort_month, cohort_quarter, cohort_year, area_level, area_code, area_name, horizon_months, "
    "cohort_persons, retained_persons, retained_share, suppressed, suppression_reason",
    "pub_programme_flows": "period_month, period_quarter, period_year, area_level, area_code, area_name, "
    "programme_code, route_kind, event_type, outcome, persons, suppressed, suppression_reason",
    "pub_target_attainment": "target_code, target_name, as_of_date, is_latest, window_start, window_end, "
    "target_number, achieved, share_attained, expected_to_date, status, forecast, required_monthly_rate, "
    "suppressed, suppression_reason",
}

_EVENT_COLUMNS = ["person_id", "event_date", "event_month", "event_quarter", "event_year"]
_TAIL = [
    "function_code",
    "contract_type_code",
    "programme_code",
    "municipality_code",
    "municipality_source",
    "region_code",
    "age",
    "age_band",
    "target_group_code",
]
INFLOW_COLUMNS = [*_EVENT_COLUMNS, "inflow_kind", "lookback_complete", "partner_code", "record_key", *_TAIL]
OUTFLOW_COLUMNS = [
    *_EVENT_COLUMNS,
    "is_provisional",
    "partner_code",
    "record_key",
    "function_code",
    "contract_type_code",
    "leaving_reason_code",
    "programme_code",
    "municipality_code",
    "municipality_source",
    "region_code",
    "age",
    "age_band",
    "target_group_code",
]
MOBILITY_COLUMNS = [*_EVENT_COLUMNS, "from_partner_code", "to_partner_code", "record_key", *_TAIL]


def _events(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Fact rows with the spec's columns; unspecified attributes get plain defaults."""
    out = []
    for i, r in enumerate(rows):
        date = pd.Timestamp(r["date"])
        base = {
            "person_id": r["person"],
            "event_date": date,
            "event_month": date.to_period("M").start_time,
            "event_quarter": f"{date.year}-Q{date.quarter}",
            "event_year": date.year,
            "inflow_kind": "overig",
            "lookback_complete": True,
            "is_provisional": False,
            "partner_code": "zorg_a",
            "from_partner_code": "zorg_a",
            "to_partner_code": "zorg_b",
            "record_key": f"r{i:03d}",
            "function_code": "helpende",
            "contract_type_code": "vast",
            "leaving_reason_code": "eigen_verzoek",
            "programme_code": None,
            "municipality_code": r.get("muni", DH),
            "municipality_source": "residence",
            "region_code": None,
            "age": 30,
            "age_band": "25-34",
            "target_group_code": None,
        }
        base.update({k: v for k, v in r.items() if k not in {"person", "date", "muni"}})
        base["region_code"] = (
            REGION if base["municipality_code"] in {DH, DELFT, RIJSWIJK} else base["municipality_code"]
        )
        out.append(base)
    frame = pd.DataFrame(out, columns=columns)
    return frame.astype(
        {"event_date": "datetime64[us]", "event_month": "datetime64[us]", "event_year": "Int64", "age": "Int64"}
    )


def _people(prefix: str, n: int, date: str, muni: str, **attrs) -> list[dict]:
    return [{"person": f"{prefix}{i}", "date": date, "muni": muni, **attrs} for i in range(n)]


@pytest.fixture(scope="module")
def flows() -> dict[str, pd.DataFrame]:
    # January: every area has 5 or more inflows, all with the same attributes (nothing to suppress):
    # Den Haag 7, Delft 6, Rijswijk 5, outside the region 5 -> Haaglanden 18, ALL 23.
    inflow = (
        _people("dh", 7, "2023-01-10", DH)
        + _people("de", 6, "2023-01-11", DELFT)
        + _people("rw", 5, "2023-01-12", RIJSWIJK)
        + _people("br", 5, "2023-01-13", BR)
    )
    # February: Den Haag 8 (one of them "zij_instromer"), Delft 3, Rijswijk 6.
    inflow += [
        *_people("fdh", 7, "2023-02-03", DH),
        {"person": "fdh7", "date": "2023-02-04", "muni": DH, "inflow_kind": "zij_instromer"},
        *_people("fde", 3, "2023-02-05", DELFT),
        *_people("frw", 6, "2023-02-06", RIJSWIJK),
    ]
    # Outflow in January: Den Haag 5, one of them provisional; the function is missing for all of them.
    outflow = [
        *_people("odh", 4, "2023-01-20", DH, function_code=None),
        {"person": "odh4", "date": "2023-01-21", "muni": DH, "function_code": None, "is_provisional": True},
    ]
    # Mobility in January: q0 switches to zorg_b (Delft) on the 5th and again to zorg_c (Den Haag) on the
    # 20th; q1..q5 switch to zorg_b in Delft, q6..q10 to zorg_c in Den Haag.
    mobility = (
        [
            {"person": "q0", "date": "2023-01-05", "muni": DELFT, "to_partner_code": "zorg_b"},
            {"person": "q0", "date": "2023-01-20", "muni": DH, "to_partner_code": "zorg_c"},
        ]
        + [{"person": f"q{i}", "date": "2023-01-08", "muni": DELFT, "to_partner_code": "zorg_b"} for i in range(1, 6)]
        + [{"person": f"q{i}", "date": "2023-01-09", "muni": DH, "to_partner_code": "zorg_c"} for i in range(6, 11)]
    )
    facts = {
        "inflow": _events(inflow, INFLOW_COLUMNS),
        "outflow": _events(outflow, OUTFLOW_COLUMNS),
        "internal_mobility": _events(mobility, MOBILITY_COLUMNS),
    }
    facts["pub"] = publish_sector_flows(
        facts["inflow"], facts["outflow"], facts["internal_mobility"], REGIONS, PARTNERS
    )
    return facts


def _cell(pub: pd.DataFrame, month, measure, area, breakdown="total", value="total") -> pd.Series:
    hit = pub[
        (pub["period_month"] == month)
        & (pub["measure"] == measure)
        & (pub["area_code"] == area)
        & (pub["breakdown"] == breakdown)
        & (pub["breakdown_value"] == value)
    ]
    assert len(hit) == 1, (month, measure, area, breakdown, value, len(hit))
    return hit.iloc[0]


# --- pub_sector_flows -------------------------------------------------------------------------------


def test_sector_flows_columns_exactly_as_the_spec_and_no_person_id(flows):
    pub = flows["pub"]
    assert list(pub.columns) == SPEC_COLUMNS["pub_sector_flows"].split(", ") == PUB_SECTOR_FLOWS_COLUMNS
    assert not any("person_id" in c for c in pub.columns)
    assert str(pub["persons"].dtype) == "Int64" and str(pub["suppressed"].dtype) == "boolean"
    assert str(pub["period_month"].dtype) == "datetime64[us]"
    assert pub["suppression_reason"].dropna().isin(["small_count", "secondary"]).all()


def test_sector_flow_totals_per_area_are_distinct_persons(flows):
    pub = flows["pub"]
    expected = {DH: 7, DELFT: 6, RIJSWIJK: 5, BR: 5, REGION: 18, "ALL": 23}
    for area, n in expected.items():
        cell = _cell(pub, JAN, "inflow", area)
        assert not cell["suppressed"] and cell["persons"] == n, area
    assert _cell(pub, JAN, "inflow", BR)["area_level"] == "region"
    assert _cell(pub, JAN, "inflow", DELFT)["area_name"] == "Delft"
    assert _cell(pub, JAN, "inflow", "ALL")["period_quarter"] == "2023-Q1"
    # Compared with the facts themselves: distinct persons per municipality and month.
    inflow = flows["inflow"]
    jan = inflow[inflow["event_month"] == JAN]
    for muni, n in jan.groupby("municipality_code")["person_id"].nunique().items():
        assert _cell(pub, JAN, "inflow", muni)["persons"] == n


def test_sector_flow_municipalities_sum_to_the_region_where_nothing_is_suppressed(flows):
    pub = flows["pub"]
    keys = ["period_month", "measure", "breakdown", "breakdown_value"]
    checked = 0
    for key, group in pub.groupby(keys):
        munis = group[group["area_level"] == "municipality"]
        region = group[(group["area_level"] == "region") & (group["area_code"] == REGION)]
        allrow = group[group["area_level"] == "all"]
        if len(region) and not region["suppressed"].any() and not munis["suppressed"].any():
            assert munis["persons"].sum() == region["persons"].item(), key
            checked += 1
        regions = group[group["area_level"] == "region"]
        if len(allrow) and not allrow["suppressed"].any() and not regions["suppressed"].any():
            assert regions["persons"].sum() == allrow["persons"].item(), key
    assert checked >= 10


def test_sector_flow_breakdowns_sum_to_the_total_row_where_nothing_is_suppressed(flows):
    pub = flows["pub"]
    checked = 0
    for key, group in pub.groupby(["period_month", "measure", "area_code"]):
        total = group[group["breakdown"] == "total"]
        for breakdown, values in group[group["breakdown"] != "total"].groupby("breakdown"):
            if not values["suppressed"].any() and not total["suppressed"].any():
                assert values["persons"].sum() == total["persons"].item(), (key, breakdown)
                checked += 1
    assert checked >= 40
    # Breakdowns per measure: inflow_kind only for inflow.
    assert set(pub.loc[pub["measure"] == "inflow", "breakdown"]) == {
        "total",
        "inflow_kind",
        "function",
        "contract_type",
        "age_band",
        "target_group",
        "programme",
        "employer",
    }
    assert "inflow_kind" not in set(pub.loc[pub["measure"] != "inflow", "breakdown"])


def test_sector_flow_published_totals_equal_the_facts_wherever_nothing_is_suppressed(flows):
    pub = flows["pub"]
    totals = pub[(pub["breakdown"] == "total") & ~pub["suppressed"]]
    assert len(totals) >= 12
    for row in totals.itertuples():
        fact = flows[row.measure]
        fact = fact[fact["event_month"] == row.period_month]
        if row.area_level == "all":
            assert row.persons == fact["person_id"].nunique(), row
            continue
        # A person with events in two areas in one month counts where their first event is.
        first = fact.sort_values(["event_date", "record_key"]).groupby("person_id").head(1)
        column = "municipality_code" if row.area_level == "municipality" else "region_code"
        assert row.persons == (first[column] == row.area_code).sum(), row
        assert row.persons <= fact.loc[fact[column] == row.area_code, "person_id"].nunique()


def test_sector_flow_small_counts_are_suppressed_with_their_secondary(flows):
    pub = flows["pub"]
    # February: Delft 3 is a small count. Den Haag 8 and Rijswijk 6 remain in the region's relation; the
    # smallest, Rijswijk (6), goes as well, so the region (17) cannot give Delft back.
    delft = _cell(pub, FEB, "inflow", DELFT)
    assert delft["suppressed"] and pd.isna(delft["persons"]) and delft["suppression_reason"] == "small_count"
    rijswijk = _cell(pub, FEB, "inflow", RIJSWIJK)
    assert rijswijk["suppressed"] and rijswijk["suppression_reason"] == "secondary"
    assert _cell(pub, FEB, "inflow", DH)["persons"] == 8 and _cell(pub, FEB, "inflow", REGION)["persons"] == 17
    # Delft's February total is small, so its breakdown rows are not published at all.
    feb_delft = pub[(pub["period_month"] == FEB) & (pub["area_code"] == DELFT)]
    assert feb_delft["breakdown"].tolist() == ["total"]
    # Den Haag: 7 "overig" and 1 "zij_instromer": the 1 and, with it, the 7 are suppressed. The region's
    # and ALL's "zij_instromer" are that same 1, a small total: the rows under ALL's are left out, so
    # only ALL shows it (suppressed); a reader cannot tell Den Haag's 0..4 apart.
    kinds = pub[(pub["period_month"] == FEB) & (pub["area_code"] == DH) & (pub["breakdown"] == "inflow_kind")]
    assert kinds.set_index("breakdown_value")["suppression_reason"].to_dict() == {"overig": "secondary"}
    zij = pub[(pub["period_month"] == FEB) & (pub["breakdown_value"] == "zij_instromer")]
    assert zij["area_code"].tolist() == ["ALL"] and zij["suppression_reason"].tolist() == ["small_count"]
    shown = pub["persons"].dropna()
    assert ((shown == 0) | (shown >= 5)).all()


def test_sector_flow_person_counts_once_per_month_with_the_first_event(flows):
    pub = flows["pub"]
    # q0 switched twice in January; with the first switch (zorg_b, Delft) only: Delft 6, Den Haag 5, ALL 11.
    assert _cell(pub, JAN, "internal_mobility", DELFT)["persons"] == 6
    assert _cell(pub, JAN, "internal_mobility", DH)["persons"] == 5
    assert _cell(pub, JAN, "internal_mobility", "ALL")["persons"] == 11
    employers = {v: _cell(pub, JAN, "internal_mobility", "ALL", "employer", v)["persons"] for v in ["zorg_b", "zorg_c"]}
    assert employers == {"zorg_b": 6, "zorg_c": 5}  # 6 + 5 = 11: the breakdown adds up to the total


def test_sector_flow_missing_values_are_onbekend_and_provisional_is_flagged(flows):
    pub = flows["pub"]
    cell = _cell(pub, JAN, "outflow", DH, "function", "onbekend")
    assert cell["persons"] == 5 and bool(cell["is_provisional"])
    assert bool(_cell(pub, JAN, "outflow", "ALL")["is_provisional"])
    assert not _cell(pub, JAN, "inflow", "ALL")["is_provisional"]
    assert _cell(pub, JAN, "inflow", "ALL", "programme", "onbekend")["persons"] == 23


# --- pub_retention ----------------------------------------------------------------------------------


def _retention_rows(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["cohort_month", "municipality_code", "horizon_months", "cohort_persons", "retained_persons"]
    )
    frame["cohort_month"] = pd.to_datetime(frame["cohort_month"]).astype("datetime64[us]")
    frame["cohort_quarter"] = "2023-Q1"
    frame["cohort_year"] = 2023
    frame["region_code"] = np.where(frame["municipality_code"] == BR, BR, REGION)
    frame["retained_share"] = frame["retained_persons"] / frame["cohort_persons"]
    return frame.astype({"horizon_months": "Int64", "cohort_persons": "Int64", "retained_persons": "Int64"})


def test_retention_suppresses_small_retained_or_not_retained_with_its_secondary_at_every_horizon():
    facts = _retention_rows(
        [
            # January cohort, +6 months: Delft has 2 retained (and 4 not retained): small.
            ("2023-01-01", DH, 6, 20, 10),
            ("2023-01-01", DELFT, 6, 6, 2),
            ("2023-01-01", RIJSWIJK, 6, 12, 7),
            ("2023-01-01", BR, 6, 5, 5),
            # the same cohort at +12 months: nothing small in itself
            ("2023-01-01", DH, 12, 20, 9),
            ("2023-01-01", DELFT, 12, 6, 6),
            ("2023-01-01", RIJSWIJK, 12, 12, 6),
            ("2023-01-01", BR, 12, 5, 5),
            # February cohort: +12 not reportable yet (retained NaN): left out
            ("2023-02-01", DH, 6, 9, 7),
            ("2023-02-01", DH, 12, 9, None),
        ]
    )
    pub = publish_retention(facts, REGIONS)
    assert list(pub.columns) == SPEC_COLUMNS["pub_retention"].split(", ") == PUB_RETENTION_COLUMNS
    assert not any("person" in c and "persons" not in c for c in pub.columns)
    got = {(r.cohort_month.month, r.area_code, r.horizon_months): r for r in pub.itertuples()}
    # February: +12 is left out (not reportable); +6 has 2 not retained (of 9) everywhere, so ALL shows it as
    # small_count and the rows under that small total (region, Den Haag) are left out.
    assert not [k for k in got if k[0] == 2 and k[2] == 12]
    assert [k for k in got if k[0] == 2] == [(2, "ALL", 6)] and got[2, "ALL", 6].suppression_reason == "small_count"
    # +6: Delft small; in the region's relation (cohort 38 published) the smallest other municipality,
    # Rijswijk (12 < 20), goes as well. Cohort, retained and share go together.
    delft6 = got[1, DELFT, 6]
    assert delft6.suppression_reason == "small_count"
    assert pd.isna(delft6.cohort_persons) and pd.isna(delft6.retained_persons) and np.isnan(delft6.retained_share)
    assert got[1, RIJSWIJK, 6].suppression_reason == "secondary"
    # +12: the same cohort (6 persons in Delft) would be read from this row: suppressed with it.
    assert got[1, DELFT, 12].suppression_reason == "secondary" and pd.isna(got[1, DELFT, 12].cohort_persons)
    assert got[1, RIJSWIJK, 12].suppressed
    # Published rows: Den Haag, the region and ALL.
    dh = got[1, DH, 6]
    assert (dh.cohort_persons, dh.retained_persons, dh.retained_share, dh.suppressed) == (20, 10, 0.5, False)
    region = got[1, REGION, 6]
    assert (region.cohort_persons, region.retained_persons) == (38, 19) and region.area_level == "region"
    assert (got[1, "ALL", 6].cohort_persons, got[1, "ALL", 6].retained_persons) == (43, 24)
    assert (got[1, BR, 6].cohort_persons, got[1, BR, 6].suppressed) == (5, False)  # 5 retained, 0 not retained
    shown = pub[~pub["suppressed"]]
    for col in ["cohort_persons", "retained_persons"]:
        assert ((shown[col] == 0) | (shown[col] >= 5)).all()
    not_retained = shown["cohort_persons"] - shown["retained_persons"]
    assert ((not_retained == 0) | (not_retained >= 5)).all()


def _retention_truth(facts: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """The table pub_retention suppresses, written out by hand: per cohort month, horizon and area (its
    municipalities, their region or BUITEN_REGIO, ALL) the cohort, retained and not retained."""
    to_region = dict(zip(regions["municipality_code"], regions["labour_market_region_code"]))
    rows = []
    for r in facts[facts["retained_persons"].notna()].itertuples():
        areas = ([r.municipality_code] if r.municipality_code in to_region else []) + [
            to_region.get(r.municipality_code, BR),
            "ALL",
        ]
        rows += [(r.cohort_month, r.horizon_months, a, r.cohort_persons, r.retained_persons) for a in areas]
    truth = pd.DataFrame(rows, columns=["cohort_month", "horizon", "area", "cohort", "retained"])
    truth = truth.groupby(["cohort_month", "horizon", "area"], as_index=False).sum()
    truth["not_retained"] = truth["cohort"] - truth["retained"]
    return truth.astype({"cohort": "int64", "retained": "int64", "not_retained": "int64"})


def _retention_exposures(pub: pd.DataFrame, truth: pd.DataFrame, regions: pd.DataFrame) -> list[str]:
    """What a reader of `pub` could work out of the counts it hides (see test_suppression._multi_column_exposures)."""
    from test_suppression import _multi_column_exposures

    shown = pub.set_index(["cohort_month", "horizon_months", "area_code"])
    at = [(r.cohort_month, r.horizon, r.area) for r in truth.itertuples()]
    pattern = pd.DataFrame(
        {
            "suppressed": [bool(shown.loc[k, "suppressed"]) if k in shown.index else True for k in at],
            "dropped": [k not in shown.index for k in at],
        }
    )
    to_region = dict(zip(regions["municipality_code"], regions["labour_market_region_code"]))
    parent = {**to_region, **dict.fromkeys([*to_region.values(), BR], "ALL")}
    pos = {k: i for i, k in enumerate(at)}
    relations: dict[int, list[int]] = {}
    for (month, horizon, area), i in pos.items():
        if area in parent:
            relations.setdefault(pos[month, horizon, parent[area]], []).append(i)
    same_cohort = truth.groupby(["cohort_month", "area"]).ngroup().to_numpy()
    return _multi_column_exposures(
        truth, pattern, ["cohort", "retained", "not_retained"], list(relations.items()), same_cohort
    )


def test_retention_hides_the_cohorts_another_table_hides_with_their_own_protection():
    # Retention cohorts are the inflow totals of pub_sector_flows: cohorts hidden there are hidden here.
    regions = pd.concat(
        [
            REGIONS,
            pd.DataFrame(
                {
                    "municipality_code": ["GM1783", "GM1916", "GM1926"],
                    "municipality_name": ["Westland", "Leidschendam-Voorburg", "Pijnacker-Nootdorp"],
                    "labour_market_region_code": [REGION] * 3,
                    "labour_market_region_name": ["Haaglanden"] * 3,
                }
            ),
        ],
        ignore_index=True,
    )
    rows = [
        # January: nothing small anywhere, so on its own everything would be published.
        ("2023-01-01", DH, 6, 20, 10),
        ("2023-01-01", DELFT, 6, 6, 6),
        ("2023-01-01", RIJSWIJK, 6, 12, 5),
        ("2023-01-01", BR, 6, 5, 5),
        ("2023-01-01", DH, 12, 20, 12),
        ("2023-01-01", DELFT, 12, 6, 0),
        ("2023-01-01", RIJSWIJK, 12, 12, 7),
        ("2023-01-01", BR, 12, 5, 0),
        # February: the shape of real data that the suppression once refused. At +24 the region has 4 not
        # retained (of 15), 1 each in four municipalities; at +12 nobody has left.
        *[
            ("2023-02-01", m, 12, c, c)
            for m, c in [(DELFT, 2), (DH, 10), ("GM1783", 1), ("GM1916", 1), ("GM1926", 1), (BR, 12)]
        ],
        *[
            ("2023-02-01", m, 24, c, r)
            for m, c, r in [
                (DELFT, 2, 2),
                (DH, 10, 9),
                ("GM1783", 1, 0),
                ("GM1916", 1, 0),
                ("GM1926", 1, 0),
                (BR, 12, 6),
            ]
        ],
    ]
    facts = _retention_rows(rows)
    alone = publish_retention(facts, regions)
    assert not alone[alone["cohort_month"] == JAN]["suppressed"].any()
    hidden = pd.DataFrame({"cohort_month": [JAN, FEB], "area_code": [DELFT, DH]})
    pub = publish_retention(facts, regions, hidden)
    got = {
        (r.cohort_month.month, r.area_code, r.horizon_months): r.suppression_reason if r.suppressed else "shown"
        for r in pub.itertuples()
    }
    assert got == {
        # January: Delft is hidden at both horizons ("secondary"), and with it the smallest other municipality,
        # Rijswijk (cohort 12 < 20), or the region's row would give Delft back.
        **{
            (1, a, h): v
            for h in [6, 12]
            for a, v in [
                (DELFT, "secondary"),
                (RIJSWIJK, "secondary"),
                (DH, "shown"),
                (REGION, "shown"),
                (BR, "shown"),
                ("ALL", "shown"),
            ]
        },
        # February +12: cohorts of 1 and 2 are small; Den Haag (hidden elsewhere, and small at +24), the region
        # and BR go with their +24 rows (linked).
        (2, DELFT, 12): "small_count",
        (2, DH, 12): "secondary",
        (2, "GM1783", 12): "small_count",
        (2, "GM1916", 12): "small_count",
        (2, "GM1926", 12): "small_count",
        (2, REGION, 12): "secondary",
        (2, BR, 12): "secondary",
        (2, "ALL", 12): "shown",
        # February +24: the region's 4 not retained is a small count; the rows under it are left out; BR goes,
        # or ALL - BR would give the region back.
        (2, REGION, 24): "small_count",
        (2, BR, 24): "secondary",
        (2, "ALL", 24): "shown",
    }
    jan12 = pub[(pub["cohort_month"] == JAN) & (pub["horizon_months"] == 12)].set_index("area_code")
    assert pd.isna(jan12.loc[DELFT, "cohort_persons"]) and np.isnan(jan12.loc[DELFT, "retained_share"])
    assert (jan12.loc[REGION, "cohort_persons"], jan12.loc[DH, "cohort_persons"]) == (38, 20)  # Delft + Rijswijk = 18
    # Nothing hidden can be worked out: not by one relation with what the labels say, not by all of them
    # together, not across horizons (one cohort), in any of cohort, retained and not retained.
    assert _retention_exposures(pub, _retention_truth(facts, regions), regions) == []


# --- pub_programme_flows ----------------------------------------------------------------------------


def _programme_rows(rows: list[dict]) -> pd.DataFrame:
    out = []
    for i, r in enumerate(rows):
        date = pd.Timestamp(r["date"])
        out.append(
            {
                "person_id": r["person"],
                "person_id_kind": "bsn",
                "route_kind": r.get("route_kind", "wep"),
                "source_feed": "municipal_participants",
                "partner_code": "gemeente_den_haag",
                "record_key": f"t{i:03d}",
                "programme_code": r.get("programme_code", "wep_trein"),
                "event_type": r["event_type"],
                "event_date": date,
                "event_month": date.to_period("M").start_time,
                "event_quarter": f"{date.year}-Q{date.quarter}",
                "event_year": date.year,
                "outcome": r.get("outcome"),
                "outcome_detail": None,
                "municipality_code": r.get("muni", DH),
                "municipality_source": "residence",
                "region_code": REGION,
                "target_group_code": "bijstand",
            }
        )
    frame = pd.DataFrame(out)
    return frame.astype({"event_date": "datetime64[us]", "event_month": "datetime64[us]"})


def test_programme_flows_outcomes_add_up_and_small_counts_are_suppressed():
    rows = (
        [{"person": f"s{i}", "date": "2023-03-02", "event_type": "start"} for i in range(9)]
        + [
            {
                "person": f"n{i}",
                "date": "2023-03-02",
                "event_type": "start",
                "programme_code": None,
                "route_kind": "job",
            }
            for i in range(6)
        ]
        # Den Haag, ends in March: 6 into work, 2 dropout; e0 ends twice (into work, then other): counted once
        + [{"person": f"e{i}", "date": "2023-03-10", "event_type": "end", "outcome": "into_work"} for i in range(6)]
        + [{"person": "e0", "date": "2023-03-20", "event_type": "end", "outcome": "other"}]
        + [{"person": f"d{i}", "date": "2023-03-15", "event_type": "end", "outcome": "dropout"} for i in range(2)]
        # Delft: 5 dropout, 6 into work, one end without outcome
        + [
            {"person": f"x{i}", "date": "2023-03-15", "event_type": "end", "outcome": "dropout", "muni": DELFT}
            for i in range(5)
        ]
        + [
            {"person": f"y{i}", "date": "2023-03-15", "event_type": "end", "outcome": "into_work", "muni": DELFT}
            for i in range(6)
        ]
        + [{"person": "z0", "date": "2023-03-16", "event_type": "end", "outcome": None, "muni": DELFT}]
    )
    facts = _programme_rows(rows)
    pub = publish_programme_flows(facts, REGIONS)
    assert list(pub.columns) == SPEC_COLUMNS["pub_programme_flows"].split(", ") == PUB_PROGRAMME_FLOWS_COLUMNS
    assert "person_id" not in pub.columns
    at = pub.set_index(["area_code", "programme_code", "route_kind", "event_type", "outcome"])
    assert at.loc[(DH, "wep_trein", "wep", "start", "total"), "persons"] == 9
    assert at.loc[(DH, "geen", "job", "start", "total"), "persons"] == 6  # no programme: "geen"
    # Den Haag's ends: total 8 (e0 once, with its first end), into_work 6, dropout 2: the 2 is small, and
    # the 6 goes with it (else 8 - 6 gives it back). No "other" row: e0's second end is not counted.
    assert at.loc[(DH, "wep_trein", "wep", "end", "total"), "persons"] == 8
    assert at.loc[(DH, "wep_trein", "wep", "end", "dropout"), "suppression_reason"] == "small_count"
    assert at.loc[(DH, "wep_trein", "wep", "end", "into_work"), "suppression_reason"] == "secondary"
    assert (DH, "wep_trein", "wep", "end", "other") not in at.index
    # Delft: its dropout 5 is the secondary of Den Haag's 2 in the region. Delft's end without outcome is
    # "onbekend": 1 person, which is also the region's and ALL's only one, so it shows at ALL only.
    assert at.loc[(DELFT, "wep_trein", "wep", "end", "dropout"), "suppression_reason"] == "secondary"
    assert at.loc[("ALL", "wep_trein", "wep", "end", "onbekend"), "suppression_reason"] == "small_count"
    assert (DELFT, "wep_trein", "wep", "end", "onbekend") not in at.index
    # ALL's outcomes: onbekend 1, dropout 7, into_work 12 of 20: the 7 goes with the 1 (12 is larger).
    assert at.loc[("ALL", "wep_trein", "wep", "end", "dropout"), "suppression_reason"] == "secondary"
    assert at.loc[("ALL", "wep_trein", "wep", "end", "into_work"), "persons"] == 12
    assert at.loc[(REGION, "wep_trein", "wep", "end", "total"), "persons"] == 8 + 12
    # Where an end's total and all its outcomes are published, they add up.
    for _key, group in pub[pub["event_type"] == "end"].groupby(["area_code", "programme_code", "route_kind"]):
        if not group["suppressed"].any():
            assert (
                group.loc[group["outcome"] != "total", "persons"].sum()
                == group.loc[group["outcome"] == "total", "persons"].item()
            )
    shown = pub["persons"].dropna()
    assert ((shown == 0) | (shown >= 5)).all()


# --- pub_target_attainment --------------------------------------------------------------------------

TARGETS = pd.DataFrame(
    {
        "target_code": ["werkoffensief_500", "taakbrigades"],
        "target_name": ["Werkoffensief +500", "Taakbrigades niveau 1-2"],
    }
).astype("str")


def _attainment(
    target: str,
    number: float,
    achieved: list[int],
    status: list[str],
    expected: list[float],
    start: str = "2022-01-01",
    end: str = "2023-12-31",
) -> pd.DataFrame:
    n = len(achieved)
    as_of = pd.date_range(start, periods=n, freq="ME")
    remaining = [24 - i for i in range(n)]
    frame = pd.DataFrame(
        {
            "target_code": target,
            "as_of_date": as_of,
            "is_latest": [i == n - 1 for i in range(n)],
            "window_start": pd.Timestamp(start),
            "window_end": pd.Timestamp(end),
            "target_number": number,
            "achieved": achieved,
            "share_attained": [a / number for a in achieved],
            "elapsed_share": 0.1,
            "expected_to_date": expected,
            "status": status,
            "run_rate": 1.0,
            "remaining_months": remaining,
            "forecast": [a + 1.0 * r for a, r in zip(achieved, remaining)],
            "required_monthly_rate": [(number - a) / r for a, r in zip(achieved, remaining)],
        }
    )
    return frame.astype(
        {
            "as_of_date": "datetime64[us]",
            "window_start": "datetime64[us]",
            "window_end": "datetime64[us]",
            "target_number": "Int64",
            "achieved": "Int64",
            "is_latest": "boolean",
            "remaining_months": "Int64",
            "status": "str",
        }
    )


def test_target_attainment_hides_a_small_achieved_with_share_forecast_and_rate_but_keeps_status():
    facts = _attainment(
        "werkoffensief_500",
        500,
        [3, 12, 14, 20],
        ["off_track", "off_track", "off_track", "off_track"],
        [20.5, 41.1, 61.6, 82.2],
    )
    pub = publish_target_attainment(facts, TARGETS)
    assert list(pub.columns) == SPEC_COLUMNS["pub_target_attainment"].split(", ") == PUB_TARGET_ATTAINMENT_COLUMNS
    assert "run_rate" not in pub.columns and "person_id" not in pub.columns
    first = pub.iloc[0]
    assert first["suppressed"] and first["suppression_reason"] == "small_count"
    for col in ["achieved", "share_attained", "forecast", "required_monthly_rate"]:
        assert pd.isna(first[col]), col
    assert first["status"] == "off_track" and first["expected_to_date"] == 20.5
    assert first["target_name"] == "Werkoffensief +500" and first["target_number"] == 500
    # 12 is published; 14 only rose by 2 from the published 12, which would show 2 persons: suppressed too.
    assert pub["achieved"].iloc[1] == 12 and pd.isna(pub["achieved"].iloc[2]) and pub["achieved"].iloc[3] == 20
    assert pub["suppression_reason"].iloc[2] == "secondary" and pd.isna(pub["forecast"].iloc[2])
    assert not pub["suppressed"].iloc[1] and pub["forecast"].iloc[1] == 12 + 23
    assert pub["share_attained"].iloc[3] == 20 / 500


def test_target_attainment_hides_the_forecast_whose_run_rate_base_is_hidden():
    # Seven months: the first (3) is hidden. In month 7 the run rate covers months 2-7, so
    # forecast - achieved would give achieved at the end of month 1 back: the forecast goes.
    achieved = [3, 10, 16, 22, 30, 36, 42]
    facts = _attainment("werkoffensief_500", 500, achieved, ["off_track"] * 7, [20.0 * (i + 1) for i in range(7)])
    pub = publish_target_attainment(facts, TARGETS)
    assert pd.isna(pub["forecast"].iloc[6]) and pub["achieved"].iloc[6] == 42
    assert pub["suppressed"].iloc[6] and pub["suppression_reason"].iloc[6] == "secondary"
    assert pub["forecast"].iloc[5] == 36 + 19  # its base lies before the window: 0, public


def test_target_attainment_hides_status_where_it_would_pin_a_small_achieved():
    # Taakbrigades, target 10: expected 2.1. "off_track" means achieved < 0.6 x 2.1 = 1.26, so with a
    # small count (1..4) it can only be 1: the status goes too. "on_track" (>= 1.995) leaves 2..4: it stays.
    pinned = publish_target_attainment(_attainment("taakbrigades", 10, [1], ["off_track"], [2.1]), TARGETS)
    assert pinned["suppressed"].item() and pd.isna(pinned["status"].item()) and pinned["expected_to_date"].item() == 2.1
    kept = publish_target_attainment(_attainment("taakbrigades", 10, [3], ["on_track"], [2.1]), TARGETS)
    assert kept["suppressed"].item() and kept["status"].item() == "on_track" and pd.isna(kept["achieved"].item())
