"""Workbooks as partners send them: .xlsx/.xlsm, old .xls and OpenDocument .ods, the data on a named sheet.

python-calamine reads all three (by content, not by the file's name). The sheet is the one the
partner's layout names (`sheet:`, compared trimmed and case-insensitively), else the first. The
sheet is bounded before its cells become Python values by the read limits (ingest/bounds.py,
config/ingest_limits.yaml).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import python_calamine

from core.errors import DeliveryRejected

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def workbook_format(path: Path, head: bytes) -> str:
    """xlsx, ods or xls, from the file's bytes."""
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    try:
        with path.open("rb") as fh, zipfile.ZipFile(fh) as zf:
            if "mimetype" in zf.namelist() and zf.read("mimetype").strip() == ODS_MIMETYPE:
                return "ods"
    except (zipfile.BadZipFile, OSError, KeyError):
        pass
    return "xlsx"


def open_workbook(path: Path) -> python_calamine.CalamineWorkbook:
    if isinstance(path, Path):
        if path.is_symlink():  # the reader opens by name: refuse an entry swapped for a link since it was listed
            raise DeliveryRejected(
                "FILE_LINK", "The entry became a link after it was listed; links are never followed. Send the file."
            )
        return python_calamine.CalamineWorkbook.from_path(str(path))
    return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))  # object store


def choose_sheet(workbook: python_calamine.CalamineWorkbook, sheet: str | None):
    """The named sheet (trimmed, case-insensitive), else the first; DeliveryRejected when the name is not there."""
    names = list(workbook.sheet_names)
    if sheet is None:
        if not names:
            raise DeliveryRejected("FILE_EMPTY", "The workbook has no sheets. Send the export with its data.")
        return workbook.get_sheet_by_index(0)
    wanted = sheet.strip().casefold()
    for name in names:
        if name.strip().casefold() == wanted:
            return workbook.get_sheet_by_name(name)
    raise DeliveryRejected(
        "FILE_NO_SHEET",
        f"The workbook has no sheet named {sheet!r} (its sheets: {', '.join(repr(n) for n in names)}). Put the "
        f"export on a sheet named {sheet!r}, or tell the pipeline team the sheet's new name.",
    )
