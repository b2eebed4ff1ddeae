"""The report's chart data, built from the published tables only (pure: frames in, JSON-able dicts out).

Every value is the published value: a suppressed cell is `None` (a gap in the chart), never imputed.
A cell the published table has no row for holds no persons (the tables publish no zero rows) and is 0.
"""

from __future__ import annotations

import pandas as pd

from report.fmt import is_missing

INFLOW_KINDS = ["herintreder", "zij_instromer", "overig", "onbekend"]
RETENTION_HORIZONS = [6, 12, 24]
COMPLETENESS_STATUSES = ["on_time", "late", "missing", "empty", "not_yet_due"]


def _num(value):
    """A JSON number (int when whole) or None for a missing value."""
    if is_missing(value):
        return None
    value = float(value)
    return int(value) if value.is_integer() else value


def _iso(value):
    return None if is_missing(value) else pd.Timestamp(value).date().isoformat()


def _str(value):
    return None if is_missing(value) else str(value)


def _suppressed(row) -> bool:
    return bool(row["suppressed"]) if not is_missing(row["suppressed"]) else False


def target_charts(attainment: pd.DataFrame) -> list[dict]:
    """One chart per target: achieved (None when suppressed) and expected to date per as_of_date."""
    charts = []
    for code, rows in attainment.sort_values(["target_code", "as_of_date"]).groupby("target_code", sort=True):
        latest = rows[rows["is_latest"].astype(bool)]
        last = latest.iloc[-1] if len(latest) else rows.iloc[-1]
        hidden = _suppressed(last)
        charts.append(
            {
                "target_code": str(code),
                "target_name": _str(last["target_name"]) or str(code),
                "target_number": _num(last["target_number"]),
                "window_start": _iso(last["window_start"]),
                "window_end": _iso(last["window_end"]),
                "as_of_date": _iso(last["as_of_date"]),
                "status": _str(last["status"]),
                "achieved": None if hidden else _num(last["achieved"]),
                "share_attained": None if hidden else _num(last["share_attained"]),
                "forecast": None if hidden else _num(last["forecast"]),
                "required_monthly_rate": None if hidden else _num(last["required_monthly_rate"]),
                "suppressed": hidden,
                "points": [
                    {
                        "as_of_date": _iso(r["as_of_date"]),
                        "achieved": None if _suppressed(r) else _num(r["achieved"]),
                        "expected_to_date": _num(r["expected_to_date"]),
                        "suppressed": _suppressed(r),
                    }
                    for _, r in rows.iterrows()
                ],
            }
        )
    return charts


def sector_flow_charts(flows: pd.DataFrame) -> list[dict]:
    """Per municipality and month: inflow per inflow kind (stacked) and outflow (the total row)."""
    muni = flows[flows["area_level"] == "municipality"]
    months = sorted(pd.to_datetime(flows["period_month"]).dropna().unique())
    month_keys = [_iso(m) for m in months]
    kinds_present = set(
        muni.loc[(muni["measure"] == "inflow") & (muni["breakdown"] == "inflow_kind"), "breakdown_value"].astype(str)
    )
    kinds = [k for k in INFLOW_KINDS if k in kinds_present] + sorted(kinds_present - set(INFLOW_KINDS))
    charts = []
    areas = muni[["area_code", "area_name"]].drop_duplicates("area_code").sort_values("area_name", na_position="last")
    for area in areas.itertuples():
        own = muni[muni["area_code"] == area.area_code]

        def series(measure: str, breakdown: str, value: str, own: pd.DataFrame = own):
            cells = own[
                (own["measure"] == measure) & (own["breakdown"] == breakdown) & (own["breakdown_value"] == value)
            ]
            by_month = {_iso(r["period_month"]): r for _, r in cells.iterrows()}
            out, provisional = [], []
            for m in month_keys:
                r = by_month.get(m)
                out.append(0 if r is None else (None if _suppressed(r) else _num(r["persons"])))
                provisional.append(
                    False if r is None else bool(not is_missing(r["is_provisional"]) and r["is_provisional"])
                )
            return out, provisional

        inflow = {k: series("inflow", "inflow_kind", k)[0] for k in kinds}
        outflow, provisional = series("outflow", "total", "total")
        charts.append(
            {
                "area_code": str(area.area_code),
                "area_name": _str(area.area_name) or str(area.area_code),
                "months": month_keys,
                "inflow": inflow,
                "inflow_total": series("inflow", "total", "total")[0],
                "outflow": outflow,
                "outflow_provisional": provisional,
            }
        )
    return charts


def retention_chart(retention: pd.DataFrame) -> dict:
    """Area ALL: the published shares per cohort month, and their plain yearly average per horizon
    (over the cohort months whose share is published; suppressed months are left out, not imputed)."""
    rows = retention[(retention["area_level"] == "all") & retention["horizon_months"].isin(RETENTION_HORIZONS)]
    rows = rows.sort_values(["cohort_month", "horizon_months"])
    cells = [
        {
            "cohort_month": _iso(r["cohort_month"]),
            "cohort_year": int(r["cohort_year"]),
            "horizon_months": int(r["horizon_months"]),
            "cohort_persons": None if _suppressed(r) else _num(r["cohort_persons"]),
            "retained_share": None if _suppressed(r) else _num(r["retained_share"]),
            "suppressed": _suppressed(r),
        }
        for _, r in rows.iterrows()
    ]
    years = sorted({c["cohort_year"] for c in cells})
    curves = []
    for year in years:
        points = []
        for h in RETENTION_HORIZONS:
            shares = [
                c["retained_share"]
                for c in cells
                if c["cohort_year"] == year and c["horizon_months"] == h and c["retained_share"] is not None
            ]
            points.append(
                {
                    "horizon_months": h,
                    "share": (sum(shares) / len(shares)) if shares else None,
                    "cohort_months": len(shares),
                }
            )
        curves.append({"cohort_year": year, "points": points})
    return {"area_code": "ALL", "horizons": RETENTION_HORIZONS, "curves": curves, "cells": cells}


def completeness_chart(completeness: pd.DataFrame) -> dict:
    rows = completeness.sort_values(["partner_code", "period_start"])
    return {
        "partners": sorted(rows["partner_code"].astype(str).unique()),
        "cells": [
            {
                "partner_code": str(r["partner_code"]),
                "delivery_period": str(r["delivery_period"]),
                "period_start": _iso(r["period_start"]),
                "period_end": _iso(r["period_end"]),
                "completeness_status": str(r["completeness_status"]),
                "days_late": _num(r["days_late"]),
            }
            for _, r in rows.iterrows()
        ],
    }


def quarantine_summary(quarantine_rows: pd.DataFrame, delivery_log: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows per partner and reason in each partner's latest delivered period: counts only,
    no identifiers, no values (partner_code, delivery_period, reason_code, rows)."""
    cols = ["partner_code", "delivery_period", "reason_code", "rows"]
    log = delivery_log[delivery_log["delivery_period"].notna() & delivery_log["partner_code"].notna()]
    if log.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    # Period labels are YYYY-MM or YYYY-Qn per partner (one cadence each): the largest label is the latest.
    latest = log.groupby("partner_code")["delivery_period"].max().rename("latest").reset_index()
    log = log.merge(latest, on="partner_code")
    log = log[log["delivery_period"] == log["latest"]]
    q = quarantine_rows[["delivery_id", "reason_code"]].merge(
        log[["delivery_id", "partner_code", "delivery_period"]], on="delivery_id"
    )
    out = q.groupby(["partner_code", "delivery_period", "reason_code"]).size().rename("rows").reset_index()
    return out[cols].sort_values(["partner_code", "reason_code"]).reset_index(drop=True)


def quarantine_table(summary: pd.DataFrame) -> dict:
    return {
        "rows": [
            {
                "partner_code": str(r["partner_code"]),
                "delivery_period": str(r["delivery_period"]),
                "reason_code": str(r["reason_code"]),
                "rows": int(r["rows"]),
            }
            for _, r in summary.iterrows()
        ]
    }
