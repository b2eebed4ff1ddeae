"""Small date helpers and delivery periods."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

EXCEL_EPOCH = date(1899, 12, 30)
EXPORT_LAG_DAYS = 7  # a delivery is exported this many days after its period ends


def add_days(d: date, n: int) -> date:
    return d + timedelta(days=n)


def add_months(d: date, n: int) -> date:
    """Same day n months later, clipped to the month's last day."""
    month0 = d.month - 1 + n
    year = d.year + month0 // 12
    month = month0 % 12 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def add_years(d: date, n: int) -> date:
    """Same calendar date n years later (29 February becomes 28 February)."""
    try:
        return d.replace(year=d.year + n)
    except ValueError:
        return d.replace(year=d.year + n, day=28)


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_month(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"expected YYYY-MM, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def excel_serial(d: date) -> int:
    return (d - EXCEL_EPOCH).days


@dataclass(frozen=True)
class Period:
    label: str  # "2022-01" or "2022-Q1"
    start: date
    end: date
    layout_month: str  # "YYYY-MM" used to pick the partner's layout (first month)

    @property
    def export_date(self) -> date:
        return self.end + timedelta(days=EXPORT_LAG_DAYS)

    @property
    def compact(self) -> str:
        """ "202201" for a month."""
        return self.label.replace("-", "")


def month_periods(first: str, last: str) -> list[Period]:
    y, m = parse_month(first)
    y2, m2 = parse_month(last)
    if (y, m) > (y2, m2):
        raise ValueError(f"first period {first} is after last period {last}")
    out = []
    while (y, m) <= (y2, m2):
        out.append(Period(f"{y:04d}-{m:02d}", date(y, m, 1), month_end(y, m), f"{y:04d}-{m:02d}"))
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def quarter_periods(first: str, last: str) -> list[Period]:
    """Quarters overlapping the month range."""
    out: list[Period] = []
    seen: list[tuple[int, int]] = []
    for p in month_periods(first, last):
        q = (p.start.year, (p.start.month - 1) // 3 + 1)
        if q in seen:
            continue
        seen.append(q)
        year, quarter = q
        m1 = 3 * (quarter - 1) + 1
        out.append(Period(f"{year:04d}-Q{quarter}", date(year, m1, 1), month_end(year, m1 + 2), f"{year:04d}-{m1:02d}"))
    return out
