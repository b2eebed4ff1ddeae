"""dim_period: one row per calendar month, for BI tools to join event_month / cohort_month on.

Covers every month from the month of `first` to the month of `last` inclusive (both dates may lie
anywhere in their month; when last is before first the frame is empty).
"""

from __future__ import annotations

import pandas as pd

COLUMNS = ["month_start", "month_end", "month_label", "quarter_label", "year", "month_of_year"]


def dim_period(first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """One row per month covering both dates: month_start, month_end, YYYY-MM, YYYY-Qn, year, month."""
    months = pd.period_range(pd.Timestamp(first).to_period("M"), pd.Timestamp(last).to_period("M"), freq="M")
    start = pd.Series(months.start_time, dtype="datetime64[us]")
    return pd.DataFrame(
        {
            "month_start": start,
            "month_end": (start + pd.offsets.MonthEnd(0)).astype("datetime64[us]"),
            "month_label": pd.Series(months.strftime("%Y-%m"), dtype="str"),
            "quarter_label": pd.Series([f"{p.year}-Q{p.quarter}" for p in months], dtype="str"),
            "year": pd.Series(months.year, dtype="Int64"),
            "month_of_year": pd.Series(months.month, dtype="Int64"),
        }
    )[COLUMNS]
