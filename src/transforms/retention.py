"""Retention (behoud) of inflow cohorts: who is still in care employment k months after flowing in.

Definitions and frames (fct_retention_members, fct_retention): docs/statistics_spec.md.

- Cohort members: every inflow (fct_sector_inflow row); cohort_month = the month of the inflow date.
- Check date at +k months: the inflow date plus k months, the same day of the month clipped to the
  month's last day (common.add_months: 31 August + 6 months = 28/29 February).
- Retained at +k: some care spell of the person covers the check date (start <= check <= end, or no
  end). A point-in-time check: someone who left and came back by the check date is retained.
  NaN while the check date lies after the cutoff.
- fct_retention: per cohort month x municipality x horizon, cohort_persons (distinct persons) and
  retained_persons (distinct retained persons), retained_share = retained / cohort. A cohort month is
  reportable at +k only when the check dates of all its members, over all municipalities, are on or
  before the cutoff; otherwise retained_persons and retained_share are NaN (cohort_persons stays).

Choices where the rules leave room:
- `spells` are the care spells (transforms.sector_flows.care_spells); any spell passed counts.
- A spell starting after the cutoff never covers a check date (check dates after the cutoff are not
  evaluated anyway).
- Members with an unknown municipality form their own group (municipality_code NaN), so that the
  municipalities of a cohort month add up to the whole cohort.
- The horizons of fct_retention are those of the members frame (its check_date_{k}m columns).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from transforms.common import month_start, period_columns
from transforms.sector_flows import (
    FAR,
    cummax_by,
    day,
    first_flags,
    from_days,
    latest_on_or_before,
    ranks,
    shift_months,
    to_days,
)

HORIZONS = (6, 12, 24, 36)
COHORT_COLUMNS = [
    "cohort_month",
    "cohort_quarter",
    "cohort_year",
    "municipality_code",
    "region_code",
    "horizon_months",
    "cohort_persons",
    "retained_persons",
    "retained_share",
]


def member_columns(horizons=HORIZONS) -> list[str]:
    cols = ["person_id", "inflow_date", "cohort_month", "municipality_code", "region_code", "inflow_kind"]
    for k in horizons:
        cols += [f"check_date_{k}m", f"retained_{k}m"]
    return cols


def retention_members(
    inflow: pd.DataFrame, spells: pd.DataFrame, *, cutoff: pd.Timestamp, horizons=HORIZONS
) -> pd.DataFrame:
    """fct_retention_members: one row per inflow with its check dates and whether it was retained."""
    cut = day(cutoff)
    inflow_date = pd.to_datetime(inflow["event_date"]).astype("datetime64[us]").reset_index(drop=True)
    out = pd.DataFrame(
        {
            "person_id": inflow["person_id"].astype("str").reset_index(drop=True),
            "inflow_date": inflow_date,
            "cohort_month": month_start(inflow_date),
            "municipality_code": inflow["municipality_code"].astype("str").reset_index(drop=True),
            "region_code": inflow["region_code"].astype("str").reset_index(drop=True),
            "inflow_kind": inflow["inflow_kind"].astype("str").reset_index(drop=True),
        }
    )
    covered = _coverage(spells, cut, out["person_id"])
    inflow_days, _ = to_days(inflow_date)
    for k in horizons:
        check = shift_months(inflow_days, k)
        retained = pd.array(covered(check), dtype="boolean")
        retained[check > cut] = pd.NA
        out[f"check_date_{k}m"] = pd.Series(from_days(check), dtype="datetime64[us]")
        out[f"retained_{k}m"] = retained
    out = out[member_columns(horizons)]
    return out.sort_values(["inflow_date", "person_id"], kind="stable").reset_index(drop=True)


def retention_cohorts(members: pd.DataFrame, *, cutoff: pd.Timestamp) -> pd.DataFrame:
    """fct_retention: long over horizon_months, one row per cohort month, municipality and horizon."""
    cutoff = pd.Timestamp(cutoff)
    horizons = sorted(int(m.group(1)) for c in members.columns if (m := re.fullmatch(r"check_date_(\d+)m", c)))
    keys = ["cohort_month", "municipality_code", "region_code"]
    frames = []
    for k in horizons:
        m = members[[*keys, "person_id", f"check_date_{k}m", f"retained_{k}m"]].copy()
        reportable = (m[f"check_date_{k}m"] <= cutoff).groupby(m["cohort_month"]).all()
        m["_retained_person"] = m["person_id"].where(m[f"retained_{k}m"].fillna(False).astype(bool))
        g = (
            m.groupby(keys, dropna=False, sort=True)
            .agg(
                cohort_persons=("person_id", "nunique"),
                retained_persons=("_retained_person", "nunique"),
            )
            .reset_index()
        )
        ok = g["cohort_month"].map(reportable)
        g["horizon_months"] = k
        g["retained_persons"] = g["retained_persons"].astype("Int64").where(ok.astype(bool), pd.NA)
        frames.append(g)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _COHORT_DTYPES.items()})[COHORT_COLUMNS]
    out = pd.concat(frames, ignore_index=True)
    out["cohort_month"] = out["cohort_month"].astype("datetime64[us]")
    out = pd.concat([out, period_columns(out["cohort_month"], "cohort").drop(columns="cohort_month")], axis=1)
    out["retained_share"] = out["retained_persons"].astype("float64") / out["cohort_persons"].astype("float64")
    out = out[COHORT_COLUMNS].astype(_COHORT_DTYPES)
    return out.sort_values(
        ["cohort_month", "municipality_code", "horizon_months"], kind="stable", na_position="last"
    ).reset_index(drop=True)


_COHORT_DTYPES = {
    "cohort_month": "datetime64[us]",
    "cohort_quarter": "str",
    "cohort_year": "Int64",
    "municipality_code": "str",
    "region_code": "str",
    "horizon_months": "Int64",
    "cohort_persons": "Int64",
    "retained_persons": "Int64",
    "retained_share": "float64",
}


def _coverage(spells: pd.DataFrame, cut, persons: pd.Series):
    """A function (check days) -> bool array: does some spell of each of `persons` cover its check day?

    Spells are sorted by person and start with the running maximum end (an open end is far in the
    future): a day d is covered iff the person's last spell starting on or before d has a running
    maximum end >= d. Spells starting after the cutoff are left out."""
    start, start_nat = to_days(spells["start_date"])
    end, end_nat = to_days(spells["end_date"])
    end = np.where(end_nat, FAR, end)
    person_ids, person = ranks(spells["person_id"])
    keep = ~start_nat & (start <= cut) & (person >= 0)
    o = np.flatnonzero(keep)
    o = o[np.lexsort((start[o], person[o]))]
    p, s, e = person[o], start[o], end[o]
    running_end = cummax_by(first_flags(p), e)
    codes = pd.Index(person_ids).get_indexer(persons.astype("str"))

    def covered(check: np.ndarray) -> np.ndarray:
        idx = latest_on_or_before(codes, check, p, s)
        hit = np.zeros(len(check), dtype=bool)
        found = (idx >= 0) & (codes >= 0)
        hit[found] = running_end[idx[found]] >= check[found]
        return hit

    return covered
