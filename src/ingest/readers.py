"""Read a delivery file (CSV or xlsx) into a frame of strings, one column per header.

Detected, not configured: the file type (by its bytes, not its name), the text encoding (UTF-8,
UTF-8 with BOM, UTF-16 with BOM, Windows-1252), the delimiter, and the header row (the first row
among the top rows that holds the most headers the partner mapping knows). Values stay strings:
parsing dates and numbers is ingest/parse.py's job. Every data row keeps its row number as a
spreadsheet user counts it. Anything that cannot be read raises DeliveryRejected with a message a
partner can act on.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine

from core.errors import DeliveryRejected
from ingest.bounds import (
    XlsxBound,
    check_header,
    check_ods_bounds,
    check_sheet_shape,
    check_text_shape,
    check_xlsx_bounds,
)
from ingest.deliveries import open_no_follow
from ingest.identifiers import mask_identifiers
from ingest.limits import ReadLimits, default_limits
from ingest.partner_config import normalise_header
from ingest.workbooks import choose_sheet, open_workbook, workbook_format

HEADER_SEARCH_ROWS = 30
MIN_HEADER_MATCHES = 2
DELIMITERS = ";,\t|"
ROW_NUMBER = "__row_number__"
#: The csv module's own limit per field is lifted: a long cell quarantines its row (max_cell_chars)
#: instead of rejecting the whole file without saying where.
csv.field_size_limit(2**31 - 1)


@dataclass
class RawTable:
    """The cells of a delivery below its header, as strings ('' for empty), with row numbers."""

    frame: pd.DataFrame  # columns: the file's headers (made unique) + ROW_NUMBER
    headers: list[str]
    header_row_number: int
    file_format: str  # csv or xlsx
    encoding: str | None = None
    delimiter: str | None = None
    #: rows that cannot be used at all: (row_number, reason_code, message, header of the column or '')
    row_issues: list[tuple[int, str, str, str]] = field(default_factory=list)


# --- detection -----------------------------------------------------------------------------------


def sniff_format(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole2"  # old .xls, or an encrypted (password-protected) xlsx
    return "text"


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes look like UTF-16 text that lost its byte-order mark
    (mostly ASCII: every other byte zero), else None."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even, odd = sample[0 : 2 * pairs : 2], sample[1 : 2 * pairs : 2]
    zero_even, zero_odd = even.count(0) / pairs, odd.count(0) / pairs
    if zero_odd > 0.6 and zero_even < 0.05:
        return "utf-16-le"
    if zero_even > 0.6 and zero_odd < 0.05:
        return "utf-16-be"
    return None


def decode_text(data: bytes) -> tuple[str, str]:
    """Text and the encoding it was read with."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    if b"\x00" in data[:8192]:
        guess = _utf16_without_bom(data[:8192])
        if guess is not None:
            try:
                return data.decode(guess), guess
            except UnicodeDecodeError:
                raise DeliveryRejected(
                    "FILE_NOT_TEXT",
                    "The file looks like UTF-16 text without a byte-order mark, but it cannot be read as UTF-16. "
                    "Save it again as 'CSV UTF-8' (or as .xlsx) and resend.",
                ) from None
        raise DeliveryRejected(
            "FILE_NOT_TEXT",
            "The file is neither a spreadsheet (xlsx) nor a text (CSV) file. Export it as .xlsx or as .csv.",
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_delimiter(sample_lines: list[str]) -> str:
    """The delimiter that splits the most of the top lines into the same, largest number of fields."""
    best, best_score = ",", (-1, -1)
    for delim in DELIMITERS:
        counts = [len(next(csv.reader([line], delimiter=delim))) for line in sample_lines if line.strip()]
        if not counts:
            continue
        widest = max(counts)
        score = (widest if widest > 1 else 0, sum(1 for c in counts if c == widest))
        if score > best_score:
            best, best_score = delim, score
    return best


def find_header_row(rows: list[list[str]], known_headers: set[str]) -> int:
    """Index of the header among the first rows: the row with most known headers."""
    best_idx, best_hits = -1, 0
    for idx, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        hits = sum(1 for cell in row if cell and normalise_header(cell) in known_headers)
        if hits > best_hits:
            best_idx, best_hits = idx, hits
    if best_hits < MIN_HEADER_MATCHES:
        raise DeliveryRejected(
            "FILE_NO_HEADER",
            f"No header row found: none of the first {HEADER_SEARCH_ROWS} rows holds the column names this "
            "partner's mapping expects. Check that the file is the agreed export and has its header row.",
        )
    return best_idx


def _unique_headers(headers: list[str]) -> list[str]:
    """Headers as column names: an empty header gets a name of its own. Two headers of the same name
    (compared as the partner mapping compares them) reject the file: which one holds the data is a guess."""
    out = [str(h).strip() or f"(column {i + 1} without header)" for i, h in enumerate(headers)]
    by_name: dict[str, list[str]] = {}
    for original, h in zip(headers, out, strict=True):
        if str(original).strip():
            by_name.setdefault(normalise_header(h), []).append(h)
    twice = [names for names in by_name.values() if len(names) > 1]
    if twice:
        shown = [mask_identifiers(names) for names in twice]
        raise DeliveryRejected(
            "FILE_DUPLICATE_HEADERS",
            "The header row names a column more than once: "
            + "; ".join(" and ".join(repr(n) for n in names) for names in shown)
            + ". Each column may appear once: remove or rename the duplicate column and resend.",
        )
    return out


def _too_long_cells(
    frame: pd.DataFrame, headers: list[str], max_chars: int
) -> tuple[pd.DataFrame, list[tuple[int, str, str, str]]]:
    """Rows with a cell longer than `max_chars`: taken out of the frame, one issue per cell."""
    issues: list[tuple[int, str, str, str]] = []
    drop = np.zeros(len(frame), dtype=bool)
    for h in headers:
        lengths = frame[h].str.len()
        if not len(frame) or not lengths.max() > max_chars:
            continue
        long = (lengths > max_chars).to_numpy(dtype=bool, na_value=False)
        for number, n in zip(frame.loc[long, ROW_NUMBER], lengths[long], strict=True):
            issues.append(
                (
                    int(number),
                    "ROW_VALUE_TOO_LONG",
                    f"{h}: the value has {int(n):,} characters; a cell may hold at most {max_chars:,} "
                    '(the read limit max_cell_chars). Check the value; in a CSV an unclosed quote (") '
                    "makes the rest of the file one value.",
                    h,
                )
            )
        drop |= long
    if drop.any():
        frame = frame[~drop].reset_index(drop=True)
    return frame, sorted(issues)


def _frame_from_rows(
    rows: list[list[str]], header_idx: int, first_row_number: int, limits: ReadLimits
) -> tuple[pd.DataFrame, list[str], list[tuple[int, str, str, str]]]:
    """Data rows below the header as a frame; ragged rows padded, or reported when they have extra values;
    rows with a cell longer than max_cell_chars reported."""
    check_header(rows[header_idx], limits, first_row_number + header_idx)
    headers = _unique_headers(rows[header_idx])
    width = len(headers)
    data, numbers, issues = [], [], []
    first = first_row_number + header_idx + 1
    body = rows[header_idx + 1 :]
    if all(len(row) == width for row in body):
        # the common case, without a Python step per row: empty rows are dropped below, vectorised
        data, numbers = body, list(range(first, first + len(body)))
    else:
        for number, row in enumerate(body, start=first):
            if not any(cell.strip() for cell in row):
                continue  # empty rows (often trailing) are not data
            if len(row) > width:
                if any(cell.strip() for cell in row[width:]):
                    issues.append(
                        (
                            number,
                            "ROW_TOO_MANY_VALUES",
                            f"Row has {len(row)} values but the header has {width} columns; check for an unquoted "
                            "delimiter in a value.",
                            "",
                        )
                    )
                    continue
                row = row[:width]
            elif len(row) < width:
                row = row + [""] * (width - len(row))
            data.append(row)
            numbers.append(number)
    frame = (
        pd.DataFrame(data, columns=headers, dtype="str")
        if data
        else pd.DataFrame({h: pd.Series([], dtype="str") for h in headers})
    )
    frame[ROW_NUMBER] = pd.array(numbers, dtype="int64")
    if len(frame):
        filled = np.zeros(len(frame), dtype=bool)
        for h in headers:
            filled |= (frame[h].str.strip() != "").to_numpy(dtype=bool, na_value=False)
        if not filled.all():  # empty rows (often trailing) are not data
            frame = frame[filled].reset_index(drop=True)
    frame, long_cells = _too_long_cells(frame, headers, limits.max_cell_chars)
    return frame, headers, sorted(issues + long_cells)


# --- CSV -------------------------------------------------------------------------------------------


def read_csv_bytes(data: bytes, known_headers: set[str], limits: ReadLimits | None = None) -> RawTable:
    """A CSV's text, its shape checked against the limits (counted, not split) before it is parsed."""
    limits = limits or default_limits()
    text, encoding = decode_text(data)
    if not text.strip():
        raise DeliveryRejected("FILE_EMPTY", "The file is empty. Send the export again with its rows.")
    head_lines = text[:65536].splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = sniff_delimiter(head_lines)
    check_text_shape(text, delimiter, limits, HEADER_SEARCH_ROWS)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        top = list(itertools.islice(reader, HEADER_SEARCH_ROWS))
        header_idx = find_header_row(top, known_headers)
        check_header(top[header_idx], limits, header_idx + 1)
        rows = top + list(reader)
    except csv.Error as exc:
        raise DeliveryRejected(
            "FILE_UNREADABLE", f"The CSV file cannot be read ({exc}). Export it again as CSV."
        ) from None
    frame, headers, issues = _frame_from_rows(rows, header_idx, 1, limits)
    return RawTable(frame, headers, header_idx + 1, "csv", encoding, delimiter, issues)


# --- xlsx ------------------------------------------------------------------------------------------


def cell_to_text(value: object) -> str:
    """An xlsx cell as the text the parsers expect: dates ISO, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value).strip()


def _sheet_rows(sheet) -> list[list[str]]:
    """The sheet's rows as text, without the empty rows after the last filled one."""
    rows: list[list[str]] = []
    last_filled = -1
    for row in sheet.iter_rows():
        texts = [cell_to_text(v) for v in row]
        if any(texts):
            last_filled = len(rows)
            rows.append(texts)
        else:
            rows.append([])  # an empty row: kept for the row numbers, trimmed at the end
    return rows[: last_filled + 1]


def _is_panic(exc: BaseException) -> bool:
    """A Rust panic inside the xlsx reader (pyo3's PanicException derives from BaseException)."""
    return type(exc).__name__ == "PanicException"


def xlsx_bound(path: Path, limits: ReadLimits | None = None, sheet_name: str | None = None) -> XlsxBound | None:
    """The bounds of a zipped workbook's data sheet, xlsx or ods (ingest/bounds.py; DeliveryRejected past a
    limit), None for an OLE2 file (an old .xls holds at most 65,536 x 256 cells)."""
    with path.open("rb") as fh:
        head = fh.read(8)
        if sniff_format(head) != "xlsx":
            return None
        fh.seek(0)
        if workbook_format(path, head) == "ods":
            return check_ods_bounds(fh, limits or default_limits(), sheet_name)
        return check_xlsx_bounds(fh, limits or default_limits(), sheet_name)


def read_xlsx_path(
    path: Path, known_headers: set[str], limits: ReadLimits | None = None, sheet_name: str | None = None
) -> RawTable:
    """A workbook (xlsx, xls, ods: ingest/workbooks.py), its data on the named sheet or the first."""
    limits = limits or default_limits()
    with path.open("rb") as fh:
        head = fh.read(8)
    file_format = workbook_format(path, head)
    xlsx_bound(path, limits, sheet_name)
    try:
        sheet = choose_sheet(open_workbook(path), sheet_name)
        check_sheet_shape(sheet.height, sheet.width, limits)  # before its rows become Python objects
        rows = _sheet_rows(sheet)
    except DeliveryRejected:
        raise
    except python_calamine.PasswordError:
        raise DeliveryRejected(
            "FILE_PASSWORD_PROTECTED",
            "The xlsx file is password-protected. Send it without a password (over the agreed secure channel).",
        ) from None
    except MemoryError:
        raise
    except BaseException as exc:  # calamine raises several types for corrupt files, and panics
        if not isinstance(exc, Exception) and not _is_panic(exc):
            raise
        raise DeliveryRejected(
            "FILE_CORRUPT",
            f"The spreadsheet cannot be opened ({type(exc).__name__}). Save it again as .xlsx and resend.",
        ) from None
    if not rows:
        where = f"sheet {sheet_name!r}" if sheet_name else "first sheet"
        raise DeliveryRejected("FILE_EMPTY", f"The spreadsheet's {where} is empty. Put the export on the {where}.")
    header_idx = find_header_row(rows, known_headers)
    frame, headers, issues = _frame_from_rows(rows, header_idx, 1, limits)
    return RawTable(frame, headers, header_idx + 1, file_format, None, None, issues)


#: Signatures of files that are certainly not a spreadsheet export.
NOT_SPREADSHEET_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".ods")


def read_delivery_file(
    path: Path, known_headers: set[str], limits: ReadLimits | None = None, sheet: str | None = None
) -> RawTable:
    """Read any supported delivery file. `known_headers` are normalised header names (for the header search);
    `sheet` the worksheet of a workbook the partner's layout names (None: the first).

    A reader that runs out of memory rejects the file (FILE_UNREADABLE) rather than the run."""
    try:
        return _read_delivery_file(path, known_headers, limits or default_limits(), sheet)
    except MemoryError:
        raise DeliveryRejected(
            "FILE_UNREADABLE",
            "Reading the file needs more memory than is available for one file. Split the export, or send CSV.",
        ) from None


def _read_delivery_file(path: Path, known_headers: set[str], limits: ReadLimits, sheet: str | None) -> RawTable:
    try:  # never through a link: a file swapped for one after it was listed is refused here
        with open_no_follow(path) as fh:
            head = fh.read(8)
            if sniff_format(head) == "text":
                return _read_text(path, head + fh.read(), known_headers, limits)
    except OSError as exc:
        if not _is_link(path):
            raise
        raise DeliveryRejected(
            "FILE_LINK", "The entry became a link after it was listed; links are never followed. Send the file itself."
        ) from exc
    return _read_workbook(path, head, known_headers, limits, sheet)


def _read_text(path: Path, data: bytes, known_headers: set[str], limits: ReadLimits) -> RawTable:
    if data.startswith(NOT_SPREADSHEET_MAGIC) or (path.suffix.lower() not in SUPPORTED_SUFFIXES and data[:8]):
        raise DeliveryRejected(
            "FILE_NOT_SPREADSHEET",
            f"The file {path.name!r} is not a spreadsheet export ({path.suffix or 'no extension'}). Send the agreed "
            "export as .xlsx or .csv.",
        )
    return read_csv_bytes(data, known_headers, limits)


def _is_link(path: Path) -> bool:
    try:
        return isinstance(path, Path) and path.is_symlink()
    except OSError:
        return False


def _read_workbook(path: Path, head: bytes, known_headers: set[str], limits: ReadLimits, sheet: str | None) -> RawTable:
    kind = sniff_format(head)
    if kind == "xlsx":
        return read_xlsx_path(path, known_headers, limits, sheet)
    if kind == "ole2":  # an old .xls, or a password-protected (encrypted) xlsx
        try:
            return read_xlsx_path(path, known_headers, limits, sheet)
        except DeliveryRejected as exc:
            if exc.reason_code not in ("FILE_CORRUPT", "FILE_PASSWORD_PROTECTED"):
                raise
            raise DeliveryRejected(
                "FILE_PASSWORD_PROTECTED" if exc.reason_code == "FILE_PASSWORD_PROTECTED" else "FILE_OLD_OR_ENCRYPTED",
                "The workbook cannot be opened: it is password-protected or damaged. Save it as .xlsx without a "
                "password and resend.",
            ) from None
    raise AssertionError(kind)  # pragma: no cover - text is read by _read_delivery_file
