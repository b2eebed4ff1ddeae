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
                "suppression_reason": _str(last.get("suppression_reason")) if hidden else None,
                "trend": pace_trend(rows),
                "points": [
                    {
                        "as_of_date": _iso(r["as_of_date"]),
                        "achieved": None if _suppressed(r) else _num(r["achieved"]),
                        "expected_to_date": _num(r["expected_to_date"]),
                        "suppressed": _suppressed(r),
                        "suppression_reason": _str(r.get("suppression_reason")) if _suppressed(r) else None,
                    }
                    for _, r in rows.iterrows()
                ],
            }
        )
    return charts


def pace_trend(rows: pd.DataFrame, months: int = 3) -> str | None:
    """Is the target being reached faster or slower: the persons gained over the last `months` published
    points against the `months` before (up / flat / down); None with too few published points."""
    published = rows[~rows["suppressed"].fillna(False).astype(bool) & rows["achieved"].notna()]
    values = [float(v) for v in published.sort_values("as_of_date")["achieved"]]
    if len(values) < 2 * months + 1:
        return None
    recent = values[-1] - values[-1 - months]
    before = values[-1 - months] - values[-1 - 2 * months]
    if abs(recent - before) <= max(1.0, 0.1 * abs(before)):
        return "flat"
    return "up" if recent > before else "down"


GRAINS = ("month", "quarter", "year")
#: The period column that keys each grain's rows.
GRAIN_PERIOD = {"month": "period_month", "quarter": "period_quarter", "year": "period_year"}


def _grain_rows(frame: pd.DataFrame, grain: str) -> pd.DataFrame:
    """The rows of one grain: a `grain` column where the table has one (month, quarter, year), else all rows
    are months."""
    if "grain" not in frame.columns:
        return frame if grain == "month" else frame.iloc[0:0]
    return frame[frame["grain"].astype("str") == grain]


def _period_key(value, grain: str):
    if grain == "month":
        return _iso(value)
    if grain == "year":
        return None if is_missing(value) else str(int(value))
    return _str(value)


def _publishable(series: list) -> bool:
    return any(v for v in series if v is not None)


def sector_flow_charts(flows: pd.DataFrame) -> list[dict]:
    """Per municipality: inflow per inflow kind (stacked) and outflow (the total row), per period of the finest
    grain that has something publishable: months, else quarters, else years (where the table publishes those
    grains). A municipality with nothing publishable at any grain gets `empty: True` and no series."""
    kinds_present = set(
        flows.loc[(flows["measure"] == "inflow") & (flows["breakdown"] == "inflow_kind"), "breakdown_value"].astype(str)
    )
    kinds = [k for k in INFLOW_KINDS if k in kinds_present] + sorted(kinds_present - set(INFLOW_KINDS))
    muni_all = flows[flows["area_level"] == "municipality"]
    areas = muni_all[["area_code", "area_name"]].drop_duplicates("area_code")
    areas = areas.sort_values("area_name", na_position="last")
    charts = []
    for area in areas.itertuples():
        chart = None
        for grain in GRAINS:
            rows = _grain_rows(flows, grain)
            if rows.empty:
                continue
            chart = _flow_chart(rows, grain, kinds, str(area.area_code))
            if not chart["empty"]:
                break
        assert chart is not None  # the area came from these rows
        charts.append(
            {"area_code": str(area.area_code), "area_name": _str(area.area_name) or str(area.area_code)} | chart
        )
    return charts


def _flow_chart(rows: pd.DataFrame, grain: str, kinds: list[str], area_code: str) -> dict:
    column = GRAIN_PERIOD[grain]
    periods = sorted({k for k in (_period_key(v, grain) for v in rows[column].dropna().unique()) if k is not None})
    own = rows[(rows["area_level"] == "municipality") & (rows["area_code"] == area_code)]

    def series(measure: str, breakdown: str, value: str):
        cells = own[(own["measure"] == measure) & (own["breakdown"] == breakdown) & (own["breakdown_value"] == value)]
        by_period = {_period_key(r[column], grain): r for _, r in cells.iterrows()}
        out, provisional, reasons = [], [], []
        for p in periods:
            r = by_period.get(p)
            out.append(0 if r is None else (None if _suppressed(r) else _num(r["persons"])))
            provisional.append(
                False if r is None else bool(not is_missing(r["is_provisional"]) and r["is_provisional"])
            )
            reasons.append(None if r is None or not _suppressed(r) else _str(r.get("suppression_reason")))
        return out, provisional, reasons

    inflow = {k: series("inflow", "inflow_kind", k)[0] for k in kinds}
    outflow, provisional, _ = series("outflow", "total", "total")
    total = series("inflow", "total", "total")[0]
    # the part of a published total whose kinds are hidden: total minus the published kinds (no new disclosure:
    # both are published), drawn as its own grey segment so a published total never shows as an empty month
    hidden = [None if t is None else max(t - sum(v[i] or 0 for v in inflow.values()), 0) for i, t in enumerate(total)]
    empty = not (_publishable(outflow) or _publishable(total) or any(_publishable(v) for v in inflow.values()))
    return {
        "grain": grain,
        "periods": periods,
        "months": periods if grain == "month" else [],
        "inflow": inflow,
        "inflow_total": total,
        "inflow_kind_hidden": hidden,
        "outflow": outflow,
        "outflow_provisional": provisional,
        "empty": empty,
    }


def retention_chart(retention: pd.DataFrame) -> dict:
    """Area ALL: the published shares per cohort month, and their plain yearly average per horizon
    (over the cohort months whose share is published; suppressed months are left out, not imputed)."""
    months = _grain_rows(retention, "month")
    rows = months[(months["area_level"] == "all") & months["horizon_months"].isin(RETENTION_HORIZONS)]
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
    quarters = _quarter_curves(retention)
    return {
        "area_code": "ALL",
        "horizons": RETENTION_HORIZONS,
        "cohorts": "quarter" if quarters else "year",
        "curves": quarters or curves,
        "cells": cells,
    }


def _quarter_curves(retention: pd.DataFrame, last: int = 8) -> list[dict]:
    """The published shares of quarter cohorts (rows of grain `quarter`, area ALL), the latest `last` quarters
    that have a published share; [] when the table publishes no quarter grain."""
    rows = _grain_rows(retention, "quarter") if "grain" in retention.columns else retention.iloc[0:0]
    rows = rows[(rows["area_level"] == "all") & rows["horizon_months"].isin(RETENTION_HORIZONS)]
    if rows.empty:
        return []
    curves = []
    for quarter, own in rows.groupby(rows["cohort_quarter"].astype("str"), sort=True):
        points = []
        for h in RETENTION_HORIZONS:
            cell = own[own["horizon_months"] == h]
            share = None
            if len(cell) and not _suppressed(cell.iloc[0]):
                share = _num(cell.iloc[0]["retained_share"])
            points.append({"horizon_months": h, "share": share, "cohort_months": 3 if share is not None else 0})
        if any(p["share"] is not None for p in points):
            curves.append({"cohort_year": quarter, "points": points})
    return curves[-last:]


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
