"""Dutch number and date formats for the report (1.234 · 12,5% · 31-12-2024)."""

from __future__ import annotations

import math

import pandas as pd


def is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def number(value, decimals: int = 0, missing: str = "–") -> str:
    """1234.5 -> '1.234,5' (thousands with a dot, decimals with a comma)."""
    if is_missing(value):
        return missing
    value = float(value)
    if not math.isfinite(value):
        return missing
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent(share, decimals: int = 1, missing: str = "–") -> str:
    """A share 0.125 -> '12,5%'."""
    if is_missing(share):
        return missing
    return number(float(share) * 100, decimals) + "%"


def date(value, missing: str = "–") -> str:
    """2024-12-31 -> '31-12-2024'."""
    if is_missing(value):
        return missing
    return pd.Timestamp(value).strftime("%d-%m-%Y")


MONTHS = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]


def month(value) -> str:
    """2024-03-01 -> 'mrt 2024'."""
    ts = pd.Timestamp(value)
    return f"{MONTHS[ts.month - 1]} {ts.year}"
