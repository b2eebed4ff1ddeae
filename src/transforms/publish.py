"""Published statistics (`pub_*`, what BI tools read): aggregates only, always suppressed.

Each builder takes the internal facts (which hold person_id) and returns a frame with exactly the
columns of docs/statistics_spec.md, in that order, with small counts already suppressed by
`transforms.suppression` (threshold 5: no count of 1 to 4 persons; secondary suppression over every
additive relation of the table, `suppress`, or over the months of a cumulative series,
`suppress_cumulative`). No builder has a switch that skips it, and no published frame has a person_id
column.

Choices
-------
- Areas. Every event (or fact row) counts in: its municipality, when that is a municipality of
  `regions` (dim_region); its region: the municipality's labour-market region, `BUITEN_REGIO` for
  `BUITEN_REGIO` and for a municipality code that is in no region of dim_region (e.g. a partner
  located outside Haaglanden), `ONBEKEND` when the municipality is unknown; and `ALL`. BUITEN_REGIO
  and ONBEKEND are areas of level `region` without municipalities under them (ONBEKEND only appears
  when some event has no municipality). So municipalities sum to their region, and the region-level
  areas sum to ALL. Names: dim_region's names, "Buiten de regio", "Onbekend", "Alle gebieden".
- Cells. Only cells with at least one person are rows (a missing row is 0). The suppression leaves
  out the rows under a suppressed small total (see transforms.suppression, rule 4): e.g. no breakdown
  rows for a municipality-month whose total is 1 to 4, and no municipality rows for a breakdown value
  whose region total is 1 to 4 (the region or ALL row shows it, suppressed).
- pub_sector_flows. Per measure, each person counts with their FIRST event of the month (earliest
  event_date, then employer, then record_key): a person with two employer switches in one month,
  to different employers or municipalities, is one person in the month's total and in exactly one
  value of each breakdown and one area, so breakdown values add up to the total row and
  municipalities to their region. (Inflow and outflow are at most one per person and month anyway,
  by their one-year rules; the choice matters for internal mobility.) The breakdown values of that
  first event are used; a missing value is `onbekend`. Employer: partner_code for inflow and outflow,
  to_partner_code for internal mobility; a code not in dim_partner (`partners`) is `onbekend`.
  is_provisional: some counted outflow in the cell is provisional; False for inflow and mobility.
- pub_retention. From fct_retention rows with retained_persons present (reportable cohort months);
  cohort_persons and retained_persons summed over the areas, retained_share = retained / cohort.
  Cohort, retained and not retained (cohort - retained) are all additive and all checked: any of them
  1 to 4 suppresses the cell (cohort, retained and share together). A cohort month and area is one
  cohort at every horizon, so its rows are suppressed together at all horizons (`linked`), else a
  cohort hidden at +6 months would be read from the +12 row. Where any of the three counts of a region
  or ALL is 1 to 4 (e.g. 4 not retained out of 15), the rows under it at that horizon are left out
  (suppression rule 4), or counting the small rows under it would pin each of them. Cohorts that
  pub_sector_flows hides (`hidden_cohorts`, its suppressed inflow totals) are hidden here too.
- pub_programme_flows. Like sector flows: per (programme, route kind, event type) a person counts with
  their first event of the month. Starts have one row (`outcome` = `total`); ends have a `total` row and
  one row per outcome, which sum to it (a missing outcome is `onbekend`); no programme is `geen`.
- pub_target_attainment. Achieved is a cumulative count, so the difference of two published months is
  a count of persons too: it goes through `suppress_cumulative` (per target, in date order, a value is
  published only when it and its rise over the last published value are 0 or at least 5; else
  `small_count` when achieved is 1 to 4, `secondary` when only its rise is). With a suppressed achieved
  go share_attained, forecast and required_monthly_rate (each gives it back). The forecast also goes
  when the run-rate base (achieved at the end of the month six months earlier) is suppressed, since
  forecast - achieved gives the run rate and so that earlier value. status and expected_to_date stay,
  except that status is hidden where it would, with the published neighbours and the label, pin a
  suppressed achieved to one value (e.g. expected 2.1 and "off_track" leave a small count only 1). A row
  with anything hidden has suppressed = True (reason `secondary` when achieved itself is shown).
  run_rate, elapsed_share and remaining_months are not published (they are not in the spec's columns).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from transforms.common import OUTSIDE_REGION, period_columns
from transforms.suppression import (
    PARENT_PREFIX,
    SECONDARY,
    SMALL_COUNT,
    SMALL_COUNT_THRESHOLD,
    Hierarchy,
    suppress,
    suppress_cumulative,
)

AREA_ALL = "ALL"
AREA_UNKNOWN = "ONBEKEND"
AREA_NAMES = {AREA_ALL: "Alle gebieden", OUTSIDE_REGION: "Buiten de regio", AREA_UNKNOWN: "Onbekend"}
AREA_LEVELS = ["all", "region", "municipality"]
TOTAL = "total"
UNKNOWN_VALUE = "onbekend"
NO_PROGRAMME = "geen"
MEASURES = ["inflow", "outflow", "internal_mobility"]
BREAKDOWNS = ["total", "inflow_kind", "function", "contract_type", "age_band", "target_group", "programme", "employer"]
#: breakdown -> fact column, per measure (inflow_kind only for inflow)
_BREAKDOWN_SOURCE = {
    "inflow": {
        "inflow_kind": "inflow_kind",
        "function": "function_code",
        "contract_type": "contract_type_code",
        "age_band": "age_band",
        "target_group": "target_group_code",
        "programme": "programme_code",
        "employer": "partner_code",
    },
    "outflow": {
        "function": "function_code",
        "contract_type": "contract_type_code",
        "age_band": "age_band",
        "target_group": "target_group_code",
        "programme": "programme_code",
        "employer": "partner_code",
    },
    "internal_mobility": {
        "function": "function_code",
        "contract_type": "contract_type_code",
        "age_band": "age_band",
        "target_group": "target_group_code",
        "programme": "programme_code",
        "employer": "to_partner_code",
    },
}
OUTCOMES = ["total", "diploma", "dropout", "into_work", "other", UNKNOWN_VALUE]

PUB_SECTOR_FLOWS_COLUMNS = [
    "period_month",
    "period_quarter",
    "period_year",
    "area_level",
    "area_code",
    "area_name",
    "measure",
    "breakdown",
    "breakdown_value",
    "persons",
    "is_provisional",
    "suppressed",
    "suppression_reason",
]
PUB_RETENTION_COLUMNS = [
    "cohort_month",
    "cohort_quarter",
    "cohort_year",
    "area_level",
    "area_code",
    "area_name",
    "horizon_months",
    "cohort_persons",
    "retained_persons",
    "retained_share",
    "suppressed",
    "suppression_reason",
]
PUB_PROGRAMME_FLOWS_COLUMNS = [
    "period_month",
    "period_quarter",
    "period_year",
    "area_level",
    "area_code",
    "area_name",
    "programme_code",
    "route_kind",
    "event_type",
    "outcome",
    "persons",
    "suppressed",
    "suppression_reason",
]
PUB_TARGET_ATTAINMENT_COLUMNS = [
    "target_code",
    "target_name",
    "as_of_date",
    "is_latest",
    "window_start",
    "window_end",
    "target_number",
    "achieved",
    "share_attained",
    "expected_to_date",
    "status",
    "forecast",
    "required_monthly_rate",
    "suppressed",
    "suppression_reason",
]


# --- areas -----------------------------------------------------------------------------------------


def _region_map(regions: pd.DataFrame) -> dict[str, str]:
    return dict(zip(regions["municipality_code"], regions["labour_market_region_code"]))


def _area_rows(municipality: pd.Series, regions: pd.DataFrame) -> pd.DataFrame:
    """For each row of `municipality` (by position `_row`), the areas it counts in: _row, area_level, area_code."""
    muni = municipality.reset_index(drop=True).astype("str")
    to_region = _region_map(regions)
    region = muni.map(to_region)
    region = region.where(region.notna(), np.where(muni.isna(), AREA_UNKNOWN, OUTSIDE_REGION)).astype("str")
    rows = np.arange(len(muni))
    in_dim = muni.isin(list(to_region)).to_numpy()
    parts = [
        pd.DataFrame({"_row": rows[in_dim], "area_level": "municipality", "area_code": muni[in_dim].to_numpy()}),
        pd.DataFrame({"_row": rows, "area_level": "region", "area_code": region.to_numpy()}),
        pd.DataFrame({"_row": rows, "area_level": "all", "area_code": AREA_ALL}),
    ]
    return pd.concat(parts, ignore_index=True).astype({"area_level": "str", "area_code": "str"})


def _area_hierarchy(regions: pd.DataFrame) -> Hierarchy:
    to_region = _region_map(regions)
    region_codes = sorted(set(to_region.values()) | {OUTSIDE_REGION, AREA_UNKNOWN})
    links = pd.DataFrame(
        [("municipality", m, "region", r) for m, r in to_region.items()]
        + [("region", r, "all", AREA_ALL) for r in region_codes],
        columns=["area_level", "area_code", PARENT_PREFIX + "area_level", PARENT_PREFIX + "area_code"],
    ).astype("str")
    return Hierarchy(("area_level", "area_code"), links, "area")


def _area_names(level: pd.Series, code: pd.Series, regions: pd.DataFrame) -> pd.Series:
    muni_names = dict(zip(regions["municipality_code"], regions["municipality_name"]))
    region_names = dict(zip(regions["labour_market_region_code"], regions["labour_market_region_name"]))
    names = np.where(level == "municipality", code.map(muni_names), code.map(region_names | AREA_NAMES))
    return pd.Series(names, index=code.index, dtype="str")


def _roll_up(
    base: pd.DataFrame, by: list[str], counts: list[str], regions: pd.DataFrame, extra: dict[str, str] | None = None
) -> pd.DataFrame:
    """Counts per municipality (`base`, additive) summed to every area they count in."""
    areas = _area_rows(base["municipality_code"], regions)
    joined = areas.merge(
        base.drop(columns="municipality_code").reset_index(drop=True), left_on="_row", right_index=True
    )
    agg = dict.fromkeys(counts, "sum") | (extra or {})
    return joined.groupby([*by, "area_level", "area_code"], sort=False).agg(agg).reset_index()


def _order(values: pd.Series, order: Sequence[str]) -> pd.Series:
    rank = {v: i for i, v in enumerate(order)}
    return values.map(rank).fillna(len(order))


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{name}: missing columns {missing}")


def _first_per(frame: pd.DataFrame, key: list[str], order: list[str]) -> pd.DataFrame:
    """The first row per `key` by `order` (stable)."""
    return frame.sort_values(key + order, kind="stable", na_position="last").drop_duplicates(key, keep="first")


# --- pub_sector_flows -------------------------------------------------------------------------------


def _flow_events(fact: pd.DataFrame, measure: str, employers: set[str]) -> pd.DataFrame:
    source = _BREAKDOWN_SOURCE[measure]
    employer_col = source["employer"]
    needed = ["person_id", "event_date", "event_month", "municipality_code", "record_key", *source.values()]
    if measure == "outflow":
        needed.append("is_provisional")
    _require(fact, needed, f"{measure} facts")
    first = _first_per(fact, ["person_id", "event_month"], ["event_date", employer_col, "record_key"])
    ev = pd.DataFrame(
        {
            "event_month": first["event_month"].to_numpy(),
            "measure": measure,
            "municipality_code": first["municipality_code"].astype("str").to_numpy(),
            "is_provisional": (
                first["is_provisional"].fillna(False).astype(bool).to_numpy()
                if measure == "outflow"
                else np.zeros(len(first), dtype=bool)
            ),
        }
    )
    for breakdown, column in source.items():
        values = first[column].astype("str").reset_index(drop=True)
        if breakdown == "employer":
            values = values.where(values.isin(list(employers)))
        ev[breakdown] = values.fillna(UNKNOWN_VALUE).to_numpy()
    return ev


def publish_sector_flows(
    inflow: pd.DataFrame, outflow: pd.DataFrame, mobility: pd.DataFrame, regions: pd.DataFrame, partners: pd.DataFrame
) -> pd.DataFrame:
    """pub_sector_flows: distinct persons per month x area x measure x breakdown value, suppressed."""
    employers = set(partners["partner_code"].dropna().astype("str"))
    cells = []
    for measure, fact in zip(MEASURES, [inflow, outflow, mobility]):
        ev = _flow_events(fact, measure, employers)
        breakdowns = list(_BREAKDOWN_SOURCE[measure])
        long = ev.assign(total=TOTAL).melt(
            id_vars=["event_month", "measure", "municipality_code", "is_provisional"],
            value_vars=["total", *breakdowns],
            var_name="breakdown",
            value_name="breakdown_value",
        )
        # One event per person, month and measure: counts add up, so count per municipality and roll up.
        base = (
            long.groupby(
                ["event_month", "measure", "municipality_code", "breakdown", "breakdown_value"],
                sort=False,
                dropna=False,
            )
            .agg(persons=("is_provisional", "size"), is_provisional=("is_provisional", "max"))
            .reset_index()
        )
        cells.append(
            _roll_up(
                base,
                ["event_month", "measure", "breakdown", "breakdown_value"],
                ["persons"],
                regions,
                extra={"is_provisional": "max"},
            )
        )
    table = pd.concat(cells, ignore_index=True).rename(columns={"event_month": "period_month"})
    table = table.astype(
        {"measure": "str", "area_level": "str", "area_code": "str", "breakdown": "str", "breakdown_value": "str"}
    )
    table["period_month"] = table["period_month"].astype("datetime64[us]")
    keys = ["period_month", "measure", "area_level", "area_code", "breakdown", "breakdown_value"]
    out = suppress(
        table,
        keys=keys,
        counts="persons",
        hierarchies=[_area_hierarchy(regions), Hierarchy.breakdown("breakdown", "breakdown_value", table)],
    )
    out = pd.concat(
        [out.reset_index(drop=True), period_columns(out["period_month"], prefix="period").drop(columns="period_month")],
        axis=1,
    )
    out["area_name"] = _area_names(out["area_level"], out["area_code"], regions)
    out["is_provisional"] = out["is_provisional"].astype("boolean")
    out = out.assign(
        _m=_order(out["measure"], MEASURES),
        _l=_order(out["area_level"], AREA_LEVELS),
        _b=_order(out["breakdown"], BREAKDOWNS),
    )
    out = out.sort_values(["period_month", "_m", "_l", "area_code", "_b", "breakdown_value"], kind="stable")
    return _finish(out, PUB_SECTOR_FLOWS_COLUMNS)


# --- pub_retention ----------------------------------------------------------------------------------


def publish_retention(
    retention: pd.DataFrame, regions: pd.DataFrame, hidden_cohorts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """pub_retention: cohort month x area x horizon, reportable horizons only, suppressed.

    `hidden_cohorts` (cohort_month, area_code): cohorts whose size another published table hides
    (the inflow totals of pub_sector_flows are the same numbers); they are hidden here too, and the
    secondary suppression of this table is built on top of them.
    """
    _require(
        retention,
        ["cohort_month", "municipality_code", "horizon_months", "cohort_persons", "retained_persons"],
        "retention facts",
    )
    rows = retention.loc[
        retention["retained_persons"].notna(),
        ["cohort_month", "horizon_months", "municipality_code", "cohort_persons", "retained_persons"],
    ]
    table = _roll_up(
        rows.reset_index(drop=True), ["cohort_month", "horizon_months"], ["cohort_persons", "retained_persons"], regions
    )
    table = table.astype(
        {
            "cohort_persons": "int64",
            "retained_persons": "int64",
            "horizon_months": "Int64",
            "area_level": "str",
            "area_code": "str",
        }
    )
    table["cohort_month"] = table["cohort_month"].astype("datetime64[us]")
    table["_not_retained"] = table["cohort_persons"] - table["retained_persons"]
    forced = None
    if hidden_cohorts is not None and len(hidden_cohorts):
        hidden = set(zip(pd.to_datetime(hidden_cohorts["cohort_month"]), hidden_cohorts["area_code"]))
        forced = np.array([(m, a) in hidden for m, a in zip(table["cohort_month"], table["area_code"])], dtype=bool)
    out = suppress(
        table,
        keys=["cohort_month", "area_level", "area_code", "horizon_months"],
        counts=["cohort_persons", "retained_persons", "_not_retained"],
        hierarchies=[_area_hierarchy(regions)],
        linked=["cohort_month", "area_level", "area_code"],
        forced=forced,
    )
    out["retained_share"] = (
        out["retained_persons"].astype("Float64") / out["cohort_persons"].astype("Float64")
    ).astype("float64")
    out = pd.concat(
        [out.reset_index(drop=True), period_columns(out["cohort_month"], prefix="cohort").drop(columns="cohort_month")],
        axis=1,
    )
    out["area_name"] = _area_names(out["area_level"], out["area_code"], regions)
    out = out.assign(_l=_order(out["area_level"], AREA_LEVELS))
    out = out.sort_values(["cohort_month", "horizon_months", "_l", "area_code"], kind="stable")
    return _finish(out, PUB_RETENTION_COLUMNS)


# --- pub_programme_flows ----------------------------------------------------------------------------


def publish_programme_flows(flows: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """pub_programme_flows: month x area x programme x route kind x event (x outcome for ends), suppressed."""
    _require(
        flows,
        [
            "person_id",
            "event_date",
            "event_month",
            "route_kind",
            "programme_code",
            "event_type",
            "outcome",
            "municipality_code",
            "record_key",
        ],
        "programme flow facts",
    )
    ev = flows.assign(
        programme_code=flows["programme_code"].astype("str").fillna(NO_PROGRAMME),
        outcome=flows["outcome"].astype("str"),
    )
    order = ["event_date"] + [c for c in ["source_feed", "partner_code"] if c in ev.columns] + ["record_key"]
    ev = _first_per(ev, ["person_id", "event_month", "programme_code", "route_kind", "event_type"], order).reset_index(
        drop=True
    )
    is_end = ev["event_type"].eq("end").to_numpy()
    ev["outcome"] = np.where(is_end, ev["outcome"].fillna(UNKNOWN_VALUE), TOTAL)
    long = pd.concat([ev, ev[is_end].assign(outcome=TOTAL)], ignore_index=True).rename(
        columns={"event_month": "period_month"}
    )
    by = ["period_month", "programme_code", "route_kind", "event_type", "outcome"]
    base = long.groupby([*by, "municipality_code"], sort=False, dropna=False).size().rename("persons").reset_index()
    table = _roll_up(base, by, ["persons"], regions)
    keys = ["period_month", "area_level", "area_code", "programme_code", "route_kind", "event_type", "outcome"]
    table = table.astype({k: "str" for k in keys if k != "period_month"})
    table["period_month"] = table["period_month"].astype("datetime64[us]")
    out = suppress(
        table,
        keys=keys,
        counts="persons",
        hierarchies=[
            _area_hierarchy(regions),
            Hierarchy.breakdown("event_type", "outcome", table[table["event_type"].eq("end")], total=("end", TOTAL)),
        ],
    )
    out = pd.concat(
        [out.reset_index(drop=True), period_columns(out["period_month"], prefix="period").drop(columns="period_month")],
        axis=1,
    )
    out["area_name"] = _area_names(out["area_level"], out["area_code"], regions)
    out = out.assign(
        _l=_order(out["area_level"], AREA_LEVELS),
        _e=_order(out["event_type"], ["start", "end"]),
        _o=_order(out["outcome"], OUTCOMES),
    )
    out = out.sort_values(
        ["period_month", "_l", "area_code", "programme_code", "route_kind", "_e", "_o"], kind="stable"
    )
    return _finish(out, PUB_PROGRAMME_FLOWS_COLUMNS)


# --- pub_target_attainment --------------------------------------------------------------------------


def publish_target_attainment(attainment: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """pub_target_attainment: the attainment rows with small counts (and small increases) suppressed."""
    _require(
        attainment,
        [
            "target_code",
            "as_of_date",
            "is_latest",
            "window_start",
            "window_end",
            "target_number",
            "achieved",
            "share_attained",
            "expected_to_date",
            "status",
            "forecast",
            "required_monthly_rate",
        ],
        "target attainment facts",
    )
    t = SMALL_COUNT_THRESHOLD
    out = attainment.sort_values(["target_code", "as_of_date"], kind="stable").reset_index(drop=True).copy()
    out["target_name"] = out["target_code"].map(dict(zip(targets["target_code"], targets["target_name"]))).astype("str")
    masked = suppress_cumulative(out, by=["target_code"], order="as_of_date", count="achieved", threshold=t)
    hide = masked["suppressed"].to_numpy(dtype=bool)
    reason = masked["suppression_reason"].astype("object").where(masked["suppression_reason"].notna(), None).to_numpy()
    achieved = out["achieved"].astype("Int64").to_numpy(dtype=np.int64)
    hide_forecast = np.zeros(len(out), dtype=bool)
    hide_status = np.zeros(len(out), dtype=bool)
    for idx in out.groupby("target_code", sort=False).indices.values():
        idx = np.asarray(idx)
        hidden, a, rows = hide[idx], achieved[idx], out.iloc[idx]
        # the last published achieved before each row (0 before the first)
        shown = pd.Series(np.where(hidden, np.nan, a.astype(float)))
        last_pub = shown.shift(1).ffill().fillna(0.0).to_numpy()
        as_of = pd.to_datetime(rows["as_of_date"]).reset_index(drop=True)
        base_date = (as_of.dt.to_period("M") - 6).dt.end_time.dt.normalize()
        by_date = {d: i for i, d in enumerate(as_of.dt.normalize())}
        remaining = rows["remaining_months"].fillna(0).to_numpy() if "remaining_months" in rows else np.ones(len(idx))
        for i in range(len(idx)):
            j = by_date.get(base_date[i])
            # a base before the first row lies before the window: 0, public
            base_hidden = hidden[j] if j is not None else base_date[i] >= as_of.iloc[0].normalize()
            hide_forecast[idx[i]] = hidden[i] or (remaining[i] > 0 and base_hidden)
        hide_status[idx] = _status_guard(a, hidden, reason[idx], last_pub, rows, t)
    out["achieved"] = masked["achieved"]
    for col in ["share_attained", "required_monthly_rate"]:
        out[col] = out[col].astype("float64").mask(hide)
    out["forecast"] = out["forecast"].astype("float64").mask(hide_forecast)
    out["status"] = out["status"].astype("str").mask(hide_status)
    out["target_number"] = out["target_number"].astype("Float64").astype("Int64")
    out["is_latest"] = out["is_latest"].astype("boolean")
    out["suppressed"] = pd.array(hide | hide_forecast | hide_status, dtype="boolean")
    why_all = np.where(hide, reason, np.where(hide_forecast | hide_status, SECONDARY, None))  # type: ignore[call-overload]
    out["suppression_reason"] = pd.Series(why_all, dtype="str")
    return _finish(out, PUB_TARGET_ATTAINMENT_COLUMNS)


def _status_interval(status: object, target: float, expected: float) -> tuple[float, float]:
    """What a status says of achieved (integer bounds), given the target number and expected_to_date."""
    if not isinstance(status, str) or target is None or (isinstance(target, float) and math.isnan(target)):
        return -math.inf, math.inf
    below = math.ceil(target) - 1
    if status == "achieved":
        return math.ceil(target), math.inf
    if status == "on_track":
        return math.ceil(0.95 * expected - 1e-9), below
    if status == "needs_acceleration":
        return math.ceil(0.60 * expected - 1e-9), min(below, math.ceil(0.95 * expected - 1e-9) - 1)
    if status == "off_track":
        return -math.inf, min(below, math.ceil(0.60 * expected - 1e-9) - 1)
    return -math.inf, math.inf


def _status_guard(
    a: np.ndarray, hidden: np.ndarray, why: np.ndarray, last_pub: np.ndarray, rows: pd.DataFrame, t: int
) -> np.ndarray:
    """Statuses to hide: where visible statuses and published values pin a hidden achieved to one value."""
    n = len(a)
    status = rows["status"].astype("object").where(rows["status"].notna(), None).to_numpy()
    target = rows["target_number"].astype("Float64").astype("float64").to_numpy()
    expected = rows["expected_to_date"].astype("float64").fillna(0.0).to_numpy()
    hide_status = np.zeros(n, dtype=bool)
    if not hidden.any():
        return hide_status
    while True:
        lo = np.where(hidden, np.where(why == SMALL_COUNT, 1.0, np.maximum(t, last_pub + 1.0)), a.astype(float))
        hi = np.where(hidden, np.where(why == SMALL_COUNT, t - 1.0, last_pub + t - 1.0), a.astype(float))
        for i in range(n):
            if hidden[i] and not hide_status[i]:
                s_lo, s_hi = _status_interval(status[i], target[i], expected[i])
                lo[i], hi[i] = max(lo[i], s_lo), min(hi[i], s_hi)
        for _ in range(n):  # the series never decreases
            lo2 = np.maximum.accumulate(lo)
            hi2 = np.minimum.accumulate(hi[::-1])[::-1]
            if (lo2 == lo).all() and (hi2 == hi).all():
                break
            lo, hi = lo2, hi2
        pinned = hidden & (lo >= hi)
        todo = pinned & ~hide_status
        if not todo.any():
            # A pin that hiding its own status cannot lift comes from its hidden neighbours' statuses.
            spread = np.zeros(n, dtype=bool)
            for pin in np.flatnonzero(pinned):
                j = int(pin)
                while j > 0 and hidden[j - 1]:
                    j -= 1
                k = int(pin)
                while k < n - 1 and hidden[k + 1]:
                    k += 1
                spread[j : k + 1] = True
            todo = spread & hidden & ~hide_status
            if not todo.any():
                return hide_status
        hide_status |= todo


# --- shared -----------------------------------------------------------------------------------------


_DATE_COLUMNS = {"period_month", "cohort_month", "as_of_date", "window_start", "window_end"}


def _finish(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame[columns].reset_index(drop=True)
    out["suppressed"] = out["suppressed"].astype("boolean")
    out["suppression_reason"] = out["suppression_reason"].astype("str")
    for c in _DATE_COLUMNS & set(out.columns):
        out[c] = out[c].astype("datetime64[us]")
    return out
