"""Reporting completeness and timeliness per partner and period, as DHIS2 reports it.

Each partner is expected to deliver every period of its cadence, from its first delivered period to
the period of the data's cut-off. A delivery is due `due_days` after its period ends; it counts as
received on the arrival of its first readable delivery (a loaded or superseded file; a rejected or
duplicate file does not count). Missing deliveries count their lateness up to `as_of`. A period for
which only empty files arrived (no bytes, or a header without data rows: rejected as FILE_EMPTY) is
not received either; its status says `empty` instead of `missing` or `not_yet_due`.
"""

from __future__ import annotations

import pandas as pd

from transforms.current_records import period_start
from transforms.data_window import period_end

COLUMNS = [
    "partner_code",
    "delivery_period",
    "period_start",
    "period_end",
    "due_date",
    "received",
    "first_received_at",
    "days_late",
    "completeness_status",
    "as_of_date",
]


def expected_periods(first: pd.Timestamp, last: pd.Timestamp, cadence: str) -> list[str]:
    """Period labels from the one containing `first` to the one containing `last`."""
    if cadence == "quarterly":
        quarters = pd.period_range(first, last, freq="Q")
        return [f"{q.year}-Q{q.quarter}" for q in quarters]
    return [str(m) for m in pd.period_range(first, last, freq="M")]


def delivery_completeness(
    partners: pd.DataFrame, log: pd.DataFrame, *, cutoff: pd.Timestamp, as_of: pd.Timestamp, due_days: int
) -> pd.DataFrame:
    readable = log[log["delivery_status"].isin(["loaded", "superseded"]) & log["delivery_period"].notna()]
    received = readable.groupby(["partner_code", "delivery_period"])["received_at"].min()
    reason = log["reason_code"] if "reason_code" in log else pd.Series(None, index=log.index, dtype="str")
    empty_files = log[(log["delivery_status"] == "rejected") & (reason == "FILE_EMPTY")]
    empty = set(zip(empty_files["partner_code"], empty_files["delivery_period"], strict=True))
    rows = []
    for p in partners.itertuples():
        own = readable[readable["partner_code"] == p.partner_code]
        if own.empty:
            continue
        first = period_start(own["delivery_period"]).min()
        for label in expected_periods(first, cutoff, p.delivery_cadence):
            rows.append((p.partner_code, label, received.get((p.partner_code, label))))
    df = pd.DataFrame(rows, columns=["partner_code", "delivery_period", "first_received_at"])
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    labels = df["delivery_period"].astype("str")
    df["period_start"] = period_start(labels).astype("datetime64[us]")
    df["period_end"] = period_end(labels).astype("datetime64[us]")
    df["due_date"] = (df["period_end"] + pd.Timedelta(days=due_days)).astype("datetime64[us]")
    df["first_received_at"] = pd.to_datetime(df["first_received_at"]).astype("datetime64[us]")
    df["received"] = df["first_received_at"].notna().astype("boolean")
    as_of = pd.Timestamp(as_of).normalize()
    arrived = df["first_received_at"].dt.normalize()
    late_days = (arrived - df["due_date"]).dt.days.where(df["received"], (as_of - df["due_date"]).dt.days)
    df["days_late"] = late_days.clip(lower=0).astype("Int64")
    status = pd.Series("on_time", index=df.index, dtype="str")
    status[df["received"].astype(bool) & (df["days_late"] > 0)] = "late"
    status[~df["received"].astype(bool) & (as_of > df["due_date"])] = "missing"
    status[~df["received"].astype(bool) & (as_of <= df["due_date"])] = "not_yet_due"
    only_empty = pd.Series(
        [(p, d) in empty for p, d in zip(df["partner_code"], labels, strict=True)], index=df.index, dtype=bool
    )
    status[~df["received"].astype(bool) & only_empty] = "empty"
    df["completeness_status"] = status
    df["as_of_date"] = pd.Series(as_of, index=df.index).astype("datetime64[us]")
    df["partner_code"] = df["partner_code"].astype("str")
    df["delivery_period"] = labels
    return df[COLUMNS].sort_values(["partner_code", "period_start"]).reset_index(drop=True)
