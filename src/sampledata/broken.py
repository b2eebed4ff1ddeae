"""Deliveries that cannot be loaded as a whole, as partners really send them now and then.

Each is rejected by the pipeline with a reason the partner can act on; `make demo` shows them.
Written for the last period of the range so they never hide real data.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

UNKNOWN_PARTNER = "zorgcentrum_nieuw"


def _truncated_xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in (("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<workbook/>" * 50)):
            zf.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), text)  # fixed time: deterministic bytes
    return buf.getvalue()[:-40]  # cut off: the central directory is damaged


def write_broken_deliveries(landing: Path, last_period: str) -> list[dict]:
    """Write the broken files; returns their manifest entries (path, folder, expected reason code)."""
    year, month = last_period.split("-")
    quarter = (int(month) - 1) // 3 + 1
    files = [
        # an empty corrected re-send: rejected, so the original stays in force
        ("vph_delfland", f"vph_delfland_{year}-{month}_v2.csv", b"", "FILE_EMPTY"),
        # a report sent instead of the export
        (
            "threewise",
            f"threewise_{year}-{month} overzicht.pdf",
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
            "FILE_NOT_SPREADSHEET",
        ),
        # a re-send whose export lost its end-date columns (the programme flows need them)
        (
            "roc_zuidwest",
            f"roc_zuidwest_{year}-Q{quarter}_v2.csv",
            "inschrijving_id;bsn;geboortedatum;niveau;leerweg;datum_inschrijving;uitstroomresultaat\n"
            "4599999;;01-01-2000;2;bbl;01-09-2024;actief\n".encode("cp1252"),
            "FILE_MISSING_COLUMNS",
        ),
        # no period in the name
        ("gemeente_den_haag", "aanlevering_gemeente_laatste.csv", b"Trajectnummer,BSN\n", "FILE_NO_PERIOD"),
        # a partner nobody onboarded yet
        (
            UNKNOWN_PARTNER,
            f"{UNKNOWN_PARTNER}_{year}-{month}.csv",
            b"Personeelsnummer;BSN\n1;123\n",
            "FILE_UNKNOWN_PARTNER",
        ),
        # a damaged workbook
        ("thuiszorg_westland", f"thuiszorg_westland_{year}{month}_v2.xlsx", _truncated_xlsx(), "FILE_CORRUPT"),
    ]
    entries = []
    for folder, name, data, reason in files:
        path = landing / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entries.append({"path": f"landing/{folder}/{name}", "folder": folder, "expected_reason_code": reason})
    return entries
