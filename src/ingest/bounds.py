"""Bounds checked before a delivery file is materialised (limits in config/ingest_limits.yaml).

- CSV: the text is counted, not split: lines (rows), delimiters (cells) and the delimiters in each
  of the top lines (columns), all with C-speed counts, before a single row is parsed. Quoted
  delimiters and line breaks only make the counts larger, never smaller.
- xlsx: the archive's declared sizes (a zip bomb), then the data sheet's XML (the layout's named sheet, else
  the first) is streamed once: it is decompressed as the archive declares it (a member that unpacks to more,
  or to other bytes, than declared fails its CRC and is refused), and the cells that lie far out (a column
  beyond Z, a row beyond 9,999) are collected to give the rectangle from A1 to the last filled cell, which is
  what the xlsx reader allocates (32 bytes a cell). Every other filled cell lies within Z9999, so for a
  regular sheet (each cell's position its first attribute, as Excel, LibreOffice and openpyxl write them) the
  rectangle is bounded from above too: such a sheet that is small (`XlsxBound.small`) may be read in the run
  process, any other is read in an isolated worker (ingest/sandbox.py). Cells without a position, or with
  their position not first, are rare; such a sheet is bounded by the reader's own report (`check_sheet_shape`)
  and the worker's memory limit instead.
"""

from __future__ import annotations

import html
import re
import zipfile
from dataclasses import dataclass
from typing import IO
from xml.etree import ElementTree

from core.errors import DeliveryRejected
from ingest.limits import ReadLimits, over_limit

#: Guards against zip bombs: an xlsx may unpack to at most this many bytes, at most this ratio per member.
MAX_XLSX_UNPACKED_BYTES = 1 << 30
MAX_XLSX_RATIO = 200
#: Workbook parts read whole to find the first sheet: refused when larger (they are a few KB).
MAX_WORKBOOK_PART_BYTES = 16 << 20
_CHUNK = 1 << 20
#: A cell (its closing '/' captured: a self-closed cell holds no value) in column AA or beyond, or in row
#: 10,000 or beyond: every other cell lies within Z9999.
_FAR_CELL = re.compile(rb'<c r="(?:([A-Z]{2,3})([0-9]+)|([A-Z])([0-9]{5,}))"[^>]*?(/?)>')
NEAR_ROWS, NEAR_COLUMNS = 9_999, 26
#: A regular sheet of at most this many cells (64 MB in the reader), in an archive that unpacks to at most
#: this many bytes, is safe to read in the run process; any other xlsx is read in an isolated worker.
SMALL_SHEET_CELLS = 2_000_000
SMALL_ARCHIVE_BYTES = 64 << 20
#: Any cell whose position is not its first attribute: the sheet is scanned the slow, general way.
_ANY_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})([0-9]+)"[^>]*?(/?)>')
_CELL_OPEN = re.compile(rb"<c[\s/>]")


def column_number(letters: str | bytes) -> int:
    """A1-style column letters to their number (A = 1, XFD = 16,384)."""
    n = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        n = n * 26 + ord(ch) - 64
    return n


# --- CSV -------------------------------------------------------------------------------------------


def check_text_shape(text: str, delimiter: str, limits: ReadLimits, top_rows: int) -> None:
    """Rows, cells and the columns of the top rows of a CSV's text, counted before it is parsed."""
    lines = text.count("\n") + 1
    if lines > limits.max_rows:
        raise over_limit("max_rows", f"has {lines:,} lines", limits.max_rows, "Split the export by period.")
    cells = text.count(delimiter) + lines
    if cells > limits.max_cells:
        raise over_limit(
            "max_cells",
            f"holds up to {cells:,} values ({lines:,} lines)",
            limits.max_cells,
            "Split the export, or leave out columns that are not part of the agreed layout.",
        )
    start = 0
    for number in range(1, top_rows + 1):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        columns = text.count(delimiter, start, end) + 1
        if columns > limits.max_columns:
            raise over_limit(
                "max_columns",
                f"has {columns:,} columns in row {number}",
                limits.max_columns,
                "Export only the agreed columns.",
            )
        if end >= len(text):
            break
        start = end + 1


def check_header(header: list[str], limits: ReadLimits, row_number: int) -> None:
    """The header row found: not longer than max_header_chars, not wider than max_columns."""
    if len(header) > limits.max_columns:
        raise over_limit(
            "max_columns",
            f"has {len(header):,} columns in its header (row {row_number})",
            limits.max_columns,
            "Export only the agreed columns.",
        )
    chars = sum(len(h) for h in header) + max(len(header) - 1, 0)
    if chars > limits.max_header_chars:
        raise over_limit(
            "max_header_chars",
            f"has a header row (row {row_number}) of {chars:,} characters",
            limits.max_header_chars,
            "Check that row holds the column names only.",
        )


# --- xlsx ------------------------------------------------------------------------------------------


def _corrupt() -> DeliveryRejected:
    return DeliveryRejected(
        "FILE_CORRUPT",
        "The spreadsheet cannot be opened (not a valid xlsx archive). Save it again as .xlsx and resend.",
    )


def check_zip_sizes(members: list[zipfile.ZipInfo]) -> None:
    """Refuse an xlsx whose parts declare an unreasonable unpacked size (a zip bomb)."""
    total = sum(m.file_size for m in members)
    worst = max((m.file_size / max(m.compress_size, 1) for m in members), default=0)
    if total > MAX_XLSX_UNPACKED_BYTES or worst > MAX_XLSX_RATIO:
        raise DeliveryRejected(
            "FILE_SUSPICIOUS_ARCHIVE",
            f"The xlsx file would unpack to {total:,} bytes (compression ratio up to {worst:.0f}x); the limit is "
            f"{MAX_XLSX_UNPACKED_BYTES:,} bytes and {MAX_XLSX_RATIO}x. "
            "Remove empty formatted rows and columns, or send CSV.",
        )


def _small_part(zf: zipfile.ZipFile, name: str) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > MAX_WORKBOOK_PART_BYTES:
        raise _corrupt()
    return zf.read(name)


def sheet_member(zf: zipfile.ZipFile, sheet_name: str | None = None) -> str | None:
    """The archive member of the sheet the reader reads (the one named `sheet_name`, trimmed and
    case-insensitive, else the first), as workbook.xml and its relationships name it; None when they do
    not (the reader then refuses the file itself, or says the named sheet is missing)."""
    names = set(zf.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return None
    rel_id = None
    for element in re.finditer(rb"<(?:\w+:)?sheet\b[^>]*>", _small_part(zf, "xl/workbook.xml")):
        found = re.search(rb"\b(?:\w+:)?id=\"([^\"]+)\"", element.group(0))
        if found is None:
            continue
        if sheet_name is None:
            rel_id = found.group(1)
            break
        label = re.search(rb"\bname=\"([^\"]*)\"", element.group(0))
        text = html.unescape(label.group(1).decode("utf-8", "replace")) if label else ""
        if text.strip().casefold() == sheet_name.strip().casefold():
            rel_id = found.group(1)
            break
    if rel_id is None:
        return None
    rels = _small_part(zf, "xl/_rels/workbook.xml.rels")
    for rel in re.finditer(rb"<Relationship\b[^>]*>", rels):
        if re.search(rb'\bId="' + re.escape(rel_id) + rb'"', rel.group(0)):
            target = re.search(rb'\bTarget="([^"]+)"', rel.group(0))
            if target is None:
                return None
            path = target.group(1).decode("utf-8", "replace")
            path = path.lstrip("/") if path.startswith("/") else f"xl/{path}"
            return path if path in names else None
    return None


class SheetExtent:
    """The far cells of a sheet's XML, fed chunk by chunk."""

    def __init__(self) -> None:
        self.rows = 0  # last filled row among the far cells (0: none beyond row 9,999)
        self.columns = 0  # last filled column among the far cells (0: none beyond Z)
        self.irregular = False  # cells whose position is not their first attribute, or missing

    def feed(self, xml: bytes) -> None:
        opened = len(_CELL_OPEN.findall(xml))
        positioned = xml.count(b'<c r="')
        if opened != positioned:
            self.irregular = True
        cells = _ANY_CELL.findall(xml) if self.irregular else _FAR_CELL.findall(xml)
        for match in cells:
            if self.irregular:
                letters, row, closed = match
            else:
                wide, wide_row, narrow, narrow_row, closed = match
                letters, row = (wide, wide_row) if wide else (narrow, narrow_row)
            if closed:  # <c r="M5" s="1"/>: formatted but empty, the reader skips it
                continue
            self.rows = max(self.rows, int(row))
            self.columns = max(self.columns, column_number(letters))

    def check(self, limits: ReadLimits) -> None:
        # cells nearer than the far ones lie within row 9,999 and column Z: a lower bound is checked here
        rows, columns = max(self.rows, 1), max(self.columns, 1)
        if rows > limits.max_rows + 1:  # + 1: the header row
            raise over_limit(
                "max_rows",
                f"has a filled cell in row {rows:,} of its data sheet",
                limits.max_rows,
                "Delete the rows below the data (select them, right-click, Delete) or send CSV.",
            )
        if columns > limits.max_columns:
            raise over_limit(
                "max_columns",
                f"has a filled cell in column {columns:,} of its data sheet",
                limits.max_columns,
                "Delete the columns right of the data, or send CSV.",
            )
        if rows * columns > limits.max_cells:
            raise over_limit(
                "max_cells",
                f"spans {rows:,} rows by {columns:,} columns on its data sheet ({rows * columns:,} cells)",
                limits.max_cells,
                "Delete the rows and columns outside the data (a stray value far away makes the sheet that big), "
                "or send CSV.",
            )


def _stream_member(zf: zipfile.ZipFile, name: str, extent: SheetExtent | None) -> None:
    """Decompress one member as declared (CRC checked at its end), scanning it when `extent` is given."""
    try:
        _scan_member(zf, name, extent)
    except zipfile.BadZipFile:
        raise DeliveryRejected(
            "FILE_CORRUPT",
            f"The spreadsheet is damaged or forged: its part {name!r} does not unpack to the size and checksum "
            "the archive declares. Save it again as .xlsx and resend.",
        ) from None


def _scan_member(zf: zipfile.ZipFile, name: str, extent: SheetExtent | None) -> None:
    tail = b""
    with zf.open(name) as fh:
        while chunk := fh.read(_CHUNK):
            if extent is not None:
                data = tail + chunk
                cut = data.rfind(b">") + 1  # whole tags only; the rest waits for the next chunk
                if cut == 0 and len(data) > _CHUNK * 4:
                    raise _corrupt()
                extent.feed(data[:cut])
                tail = data[cut:]


@dataclass(frozen=True)
class XlsxBound:
    """What the checks found out about an xlsx: the most cells its first sheet can make the reader allocate
    (None: not known, an irregular sheet or none found) and the bytes its archive unpacks to."""

    cells_at_most: int | None
    unpacked_bytes: int

    @property
    def small(self) -> bool:
        """Certainly cheap to read: may be read in the run process."""
        return (
            self.cells_at_most is not None
            and self.cells_at_most <= SMALL_SHEET_CELLS
            and self.unpacked_bytes <= SMALL_ARCHIVE_BYTES
        )


def check_xlsx_bounds(fh: IO[bytes], limits: ReadLimits, sheet_name: str | None = None) -> XlsxBound:
    """Refuse an xlsx whose archive lies about its sizes, or whose data sheet (the named one, else the
    first) is past the limits."""
    bound = None
    try:
        with zipfile.ZipFile(fh) as zf:
            members = zf.infolist()
            check_zip_sizes(members)
            sheet = sheet_member(zf, sheet_name)
            for member in members:
                if member.is_dir():
                    continue
                extent = SheetExtent() if member.filename == sheet else None
                _stream_member(zf, member.filename, extent)
                if extent is not None:
                    extent.check(limits)
                    if not extent.irregular:
                        bound = max(extent.rows, NEAR_ROWS) * max(extent.columns, NEAR_COLUMNS)
            return XlsxBound(bound, sum(m.file_size for m in members))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, ValueError):
        raise _corrupt() from None
    except RuntimeError:  # an encrypted member
        raise DeliveryRejected(
            "FILE_PASSWORD_PROTECTED",
            "The xlsx file is password-protected. Send it without a password (over the agreed secure channel).",
        ) from None


def check_sheet_shape(height: int, width: int, limits: ReadLimits) -> None:
    """What the xlsx reader reports once the sheet is loaded, before its rows become Python objects."""
    extent = SheetExtent()
    extent.rows, extent.columns = height, width
    extent.check(limits)


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def check_ods_bounds(fh: IO[bytes], limits: ReadLimits, sheet_name: str | None = None) -> XlsxBound:
    """Refuse an OpenDocument spreadsheet whose archive lies about its sizes, or whose data sheet (the named
    one, else the first) reaches past the limits. An .ods writes runs of equal rows and cells once with a
    repeat count, so a file of a few KB can describe a million rows; the reader expands them. The sheet's
    XML is streamed and the repeats added up to the last filled cell, as the reader would lay them out."""
    try:
        with zipfile.ZipFile(fh) as zf:
            members = zf.infolist()
            check_zip_sizes(members)
            if "content.xml" not in zf.namelist():
                raise _corrupt()
            extent = SheetExtent()
            with zf.open("content.xml") as content:
                _ods_extent(content, sheet_name, extent)
            extent.check(limits)
            return XlsxBound(None, sum(m.file_size for m in members))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        NotImplementedError,
        ValueError,
        ElementTree.ParseError,
    ):
        raise _corrupt() from None


def _ods_extent(content: IO[bytes], sheet_name: str | None, extent: SheetExtent) -> None:
    wanted = None if sheet_name is None else sheet_name.strip().casefold()
    in_sheet = done = False
    rows_before = 0  # rows above the current one, filled or not
    row_columns = row_last_filled = 0
    row_filled = False
    for event, element in ElementTree.iterparse(content, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == _ODS_TABLE + "table" and not done:
                name = (element.get(_ODS_TABLE + "name") or "").strip().casefold()
                in_sheet = wanted is None or name == wanted
                rows_before = 0
            elif tag == _ODS_TABLE + "table-row" and in_sheet:
                row_columns = row_last_filled = 0
                row_filled = False
            continue
        if in_sheet and tag in (_ODS_TABLE + "table-cell", _ODS_TABLE + "covered-table-cell"):
            repeat = int(element.get(_ODS_TABLE + "number-columns-repeated") or 1)
            row_columns += repeat
            if element.get(_ODS_OFFICE + "value-type") is not None or len(element) or (element.text or "").strip():
                row_filled = True
                row_last_filled = row_columns
        elif in_sheet and tag == _ODS_TABLE + "table-row":
            repeat = int(element.get(_ODS_TABLE + "number-rows-repeated") or 1)
            rows_before += repeat
            if row_filled:
                extent.rows = max(extent.rows, rows_before)
                extent.columns = max(extent.columns, row_last_filled)
            element.clear()
        elif in_sheet and tag == _ODS_TABLE + "table":
            in_sheet, done = False, True
        if tag == _ODS_TABLE + "table":
            element.clear()
