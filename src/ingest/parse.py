"""Explicit, vectorised parsers for Dutch partner values. Each returns (values, invalid mask).

Empty cells parse to missing, never to an error: whether a value is required is the schema's
call. A value that is present but cannot be parsed is marked invalid; the caller turns that into a
row error with a reason. Nothing is guessed: a date is read only in the formats listed here, so
day and month are never swapped silently (pandera's `coerce=True` on dd-mm-yyyy strings can swap them with
only a warning).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: Date formats accepted in text, tried in this order. Day-first only: Dutch partners. A time part
#: (exports from HR and student systems often carry one) is accepted and dropped: the fields are dates.
DATE_FORMATS = (
    "%Y-%m-%d",
    "%d-%m-%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%d-%m-%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)
#: Excel serial day numbers accepted as dates: 1954-10-13 to 2119-06-19 (a fraction is the time of day).
EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX = 20000, 80000
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
YES = frozenset({"ja", "j", "yes", "y", "true", "waar", "1", "x"})
NO = frozenset({"nee", "n", "no", "false", "onwaar", "0"})


def _empty(values: pd.Series) -> pd.Series:
    return values.isna() | (values.str.strip() == "")


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates in the accepted formats or as Excel serial numbers; invalid where present but not a date."""
    text = values.fillna("").str.strip()
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    todo = text != ""
    for fmt in DATE_FORMATS:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        ok = parsed.notna()
        if ok.any():
            result.loc[ok[ok].index] = parsed[ok].astype("datetime64[us]")
            todo.loc[ok[ok].index] = False
    if todo.any():
        serial = pd.to_numeric(text[todo], errors="coerce")
        ok = serial.notna() & serial.between(EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX)
        if ok.any():
            days = np.floor(serial[ok]).astype("int64")
            result.loc[days.index] = (EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).astype("datetime64[us]")
            todo.loc[days.index] = False
    return result.dt.normalize(), todo


#: A number with a declared decimal separator: thousands in groups of three, set off by the other separator.
_GROUPED = {
    ",": re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?"),
    ".": re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?"),
}


def parse_decimal(values: pd.Series, decimal: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Numbers with a decimal comma or point ('32,5', '32.5', '1.234,5', '1,234.5').

    Without a declared `decimal` separator a number holding both takes the last one as the decimal
    separator and the other as thousands; one separator alone is the decimal one ('1.234' is 1.234).
    With `decimal` declared (a layout's decimal_separator) the other one may only group thousands:
    '1.234' is 1234 under ',', and '32.5' is refused rather than read as 325.
    """
    text = values.fillna("").str.strip().str.replace(" ", "", regex=False)
    invalid_form = pd.Series(False, index=values.index)
    if decimal in _GROUPED:
        thousands = "." if decimal == "," else ","
        present = text != ""
        invalid_form = present & ~text.str.fullmatch(_GROUPED[decimal].pattern).fillna(False).astype(bool)
        text = text.str.replace(thousands, "", regex=False)
    else:
        both = text.str.contains(",", regex=False) & text.str.contains(".", regex=False)
        comma_last = text.str.rfind(",") > text.str.rfind(".")
        text = text.where(~(both & comma_last), text.str.replace(".", "", regex=False))
        text = text.where(~(both & ~comma_last), text.str.replace(",", "", regex=False))
    text = text.str.replace(",", ".", regex=False)
    number = pd.to_numeric(text.replace("", np.nan), errors="coerce").astype("float64")
    invalid = (number.isna() & (text != "")) | invalid_form
    invalid |= ~np.isfinite(number.fillna(0))
    return number.where(~invalid), invalid


def parse_integer(values: pd.Series, decimal: str | None = None) -> tuple[pd.Series, pd.Series]:
    number, invalid = parse_decimal(values, decimal)
    fractional = number.notna() & (number != number.round())
    invalid = invalid | fractional
    return number.where(~invalid).round().astype("Int64"), invalid


def parse_yes_no(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = values.fillna("").str.strip().str.casefold()
    result = pd.Series(pd.NA, index=values.index, dtype="boolean")
    result[text.isin(YES)] = True
    result[text.isin(NO)] = False
    invalid = result.isna() & (text != "")
    return result, invalid


def map_codes(values: pd.Series, mapping: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Partner labels to canonical codes; `mapping` keys are trimmed, case-folded labels."""
    text = values.fillna("").str.strip()
    codes = text.str.casefold().map(mapping)
    invalid = codes.isna() & (text != "")
    return codes.astype("str").where(codes.notna(), None).astype("str"), invalid


def parse_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = values.fillna("").str.strip()
    return text.where(text != "", None).astype("str"), pd.Series(False, index=values.index)


def on_unique(parser, values: pd.Series, *args) -> tuple[pd.Series, pd.Series]:
    """Run a (values, invalid) parser once per distinct value and spread the result over the rows.

    Monthly deliveries repeat the same people, postcodes, dates and codes month after month, so a
    column has far fewer distinct values than rows: parsing those alone is the cheap part of ingest.
    Missing values are parsed too (as one more distinct value), so the result is the parser's own.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) >= len(values):
        return parser(values, *args)
    distinct = pd.Series(pd.array([*list(uniques), None], dtype=values.dtype))
    codes = np.where(codes < 0, len(uniques), codes)
    parsed, invalid = parser(distinct, *args)
    return (
        pd.Series(
            parsed.to_numpy()[codes]
            if not isinstance(parsed.dtype, pd.api.extensions.ExtensionDtype)
            else parsed.array.take(codes),
            index=values.index,
            dtype=parsed.dtype,
        ),
        pd.Series(invalid.to_numpy(dtype=bool)[codes], index=values.index),
    )
