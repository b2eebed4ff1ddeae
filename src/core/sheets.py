"""Writing frames to xlsx sheets people open in Excel: typed cells (numbers as numbers, dates as dates),
a bold frozen header with a filter, column widths from the content, and text that can never run as a formula.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

import pandas as pd
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_WIDTH = 80
DATE_FORMAT = "dd-mm-yyyy"
DATETIME_FORMAT = "dd-mm-yyyy hh:mm"


def neutralise_formula(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def cell_value(value: object) -> object:
    """A Python value openpyxl writes with its type: None for missing, int/float, date/datetime, bool, text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        ts = value.tz_convert("Europe/Amsterdam").tz_localize(None) if value.tzinfo is not None else value
        return ts.date() if ts == ts.normalize() else ts.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return cell_value(value.item())
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, (bool, int, float, dt.date)):
        return value
    return neutralise_formula(str(value))


def _width(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    if isinstance(value, float):
        return len(f"{value:,.2f}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def set_widths(ws: Worksheet, rows: Iterable[Iterable[object]], minimum: int = 6) -> None:
    """Each column as wide as its longest value (capped; long text wraps)."""
    widths: dict[int, int] = {}
    for row in rows:
        for i, v in enumerate(row, start=1):
            widths[i] = max(widths.get(i, minimum), _width(v) + 2)
    for i, w in widths.items():
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(min(w, MAX_WIDTH), ws.column_dimensions[letter].width or 0)


def write_frame(ws: Worksheet, frame: pd.DataFrame, *, header: list[str] | None = None) -> None:
    """The frame as a table below what the sheet holds: bold header (frozen, with a filter), typed cells, widths."""
    names = header or [str(c) for c in frame.columns]
    ws.append(names)
    head = ws.max_row
    for cell in ws[head]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    values = [[cell_value(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    for row in values:
        ws.append(row)
    for row in ws.iter_rows(min_row=head + 1, max_row=head + len(values)):
        for cell in row:
            _format_cell(cell)
    if head <= 6:  # a table at the top of its sheet keeps its header in view
        ws.freeze_panes = ws.cell(row=head + 1, column=1)
    if values and names:
        ws.auto_filter.ref = f"A{head}:{get_column_letter(len(names))}{head + len(values)}"
    set_widths(ws, [names, *values])


def write_pairs(ws: Worksheet, pairs: list[tuple[object, ...]], *, bold_first: bool = True) -> None:
    """Label/value lines (a summary sheet): typed values, the labels bold, widths from the content."""
    for pair in pairs:
        ws.append([cell_value(v) for v in pair])
        row = ws[ws.max_row]
        if bold_first and row and pair:
            row[0].font = Font(bold=True)
        for cell in row:
            _format_cell(cell)


def _format_cell(cell) -> None:
    """Text stays text (never a formula) and wraps when long; dates and times get their number format."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if len(cell.value) > MAX_WIDTH:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    elif isinstance(cell.value, dt.datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(cell.value, dt.date):
        cell.number_format = DATE_FORMAT
