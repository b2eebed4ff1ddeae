"""Byte-deterministic CSV and XLSX writers."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

FIXED_ZIP_TIME = (2019, 11, 14, 0, 0, 0)


def csv_bytes(
    header: list[str], rows: list[list], *, delimiter: str, encoding: str, lineterminator: str, trailing_empty: int = 0
) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    for _ in range(trailing_empty):
        buf.write(delimiter * (len(header) - 1) + lineterminator)
    return buf.getvalue().encode(encoding)


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps and attributes, so equal content gives equal bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            zi.create_system = 0
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def xlsx_bytes(
    rows: list[list],
    *,
    sheet_title: str,
    timestamp: datetime,
    creator: str = "export",
    notes_sheet: str | None = None,
) -> bytes:
    """rows: every spreadsheet row from row 1 on (title rows, empty rows, header, data); with `notes_sheet`
    a sheet of that name comes first, explaining the export (the data is on `sheet_title`)."""
    wb = Workbook(write_only=True)
    if notes_sheet:
        notes = wb.create_sheet(notes_sheet)
        notes.append([f"Toelichting bij de export ({creator})"])
        notes.append([f"De gegevens staan op het tabblad {sheet_title}."])
    ws = wb.create_sheet(sheet_title)
    for row in rows:
        ws.append(row)
    wb.properties.created = timestamp
    wb.properties.modified = timestamp
    wb.properties.creator = creator
    wb.properties.lastModifiedBy = creator
    buf = io.BytesIO()
    archive = zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()  # not wb.save(): that stamps "modified" with now()
    return _normalise_zip(buf.getvalue())
