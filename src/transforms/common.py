"""Small shared pieces of the statistics: calendar arithmetic, period columns, event geography, age bands.

All functions are vectorised over pandas Series of dtype datetime64 (dates at midnight).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OUTSIDE_REGION = "BUITEN_REGIO"
#: Age bands at the event (age = year of the event minus birth year), AZW-style.
AGE_BANDS = [(0, 24, "<25"), (25, 34, "25-34"), (35, 44, "35-44"), (45, 54, "45-54"), (55, 200, "55+")]


def add_months(dates: pd.Series, months: int) -> pd.Series:
    """Same day of the month `months` later (negative: earlier), clipped to the month's last day.

    So 29 February plus or minus 12 months is 28 February, and 31 August plus 6 months is 28/29 February.
    """
    d = pd.to_datetime(dates)
    total = d.dt.year * 12 + (d.dt.month - 1) + months
    year, month = total // 12, total % 12 + 1
    first = pd.to_datetime({"year": year, "month": month, "day": 1}, errors="coerce")
    last_day = (first + pd.offsets.MonthEnd(0)).dt.day
    day = np.minimum(d.dt.day, last_day)
    out = first + pd.to_timedelta(day - 1, unit="D")
    return out.where(d.notna()).astype("datetime64[us]")


def add_years(dates: pd.Series, years: int) -> pd.Series:
    """The same calendar date `years` later or earlier; 29 February becomes 28 February."""
    return add_months(dates, 12 * years)


def month_start(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.to_period("M").dt.start_time.astype("datetime64[us]")


def period_columns(dates: pd.Series, prefix: str = "event") -> pd.DataFrame:
    """Month (first day, a date), quarter label (2023-Q1) and year of each date, for BI without extra work."""
    d = pd.to_datetime(dates)
    return pd.DataFrame(
        {
            f"{prefix}_month": month_start(d),
            f"{prefix}_quarter": (
                d.dt.year.astype("Int64").astype("str") + "-Q" + d.dt.quarter.astype("Int64").astype("str")
            )
            .where(d.notna())
            .astype("str"),
            f"{prefix}_year": d.dt.year.astype("Int64"),
        },
        index=dates.index,
    )


def age_band(age: pd.Series) -> pd.Series:
    out = pd.Series(None, index=age.index, dtype="str")
    for low, high, label in AGE_BANDS:
        inside = age.between(low, high).fillna(False).astype(bool)
        out = out.where(~inside, label)
    return out


def event_municipality(residence: pd.Series, employer_location: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(municipality code, source): the residence where known (BUITEN_REGIO included), else the
    location of the partner whose record the event is on."""
    known = residence.notna()
    code = residence.where(known, employer_location).astype("str")
    source = pd.Series(np.where(known, "residence", "partner_location"), index=residence.index, dtype="str")
    source = source.where(code.notna(), None).astype("str")
    return code, source


def region_of(municipality: pd.Series, municipality_region: dict[str, str]) -> pd.Series:
    """Labour-market region of each municipality code; BUITEN_REGIO stays BUITEN_REGIO."""
    mapping = dict(municipality_region) | {OUTSIDE_REGION: OUTSIDE_REGION}
    return municipality.map(mapping).astype("str")
