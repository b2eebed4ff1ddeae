"""One xlsx workbook of the published tables, for people who work in Excel: a sheet per `pub_*` table (its
columns in the order of its definition, numbers as numbers, dates as dates, widths from the content) and a
first sheet, Toelichting, explaining every column from the same definitions as docs/data_dictionary.md.

Generated from schemas/tables.py, so it follows whatever columns the published tables have.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

from core.sheets import write_frame, write_pairs
from schemas.tables import TABLES, Table

WORKBOOK_NAME = "zorgstroom_gepubliceerde_tabellen.xlsx"
#: Excel's rows per sheet, less the header: a longer table continues on a sheet "<name> (2)".
MAX_SHEET_ROWS = 1_048_575


def published_tables() -> list[Table]:
    return [t for t in TABLES.values() if t.layer == "published"]


def dictionary_frame(tables: list[Table]) -> pd.DataFrame:
    """Per column of each table: what it is (the data dictionary's words), type, required, code list, unit."""
    rows = []
    for t in tables:
        for c in t.columns:
            f = c.field
            rows.append(
                {
                    "tabel (table)": t.name,
                    "kolom (column)": c.name,
                    "type": f.type,
                    "verplicht (required)": "ja (yes)" if c.required else "nee (no)",
                    "sleutel (key)": "ja (yes)" if c.name in t.primary_key else "",
                    "omschrijving (description)": f.description,
                    "codes / eenheid (codes / unit)": "; ".join(
                        x for x in (f.code_list and f"codes: {f.code_list}", f.unit and f"unit: {f.unit}") if x
                    ),
                }
            )
    return pd.DataFrame(rows)


def _ordered(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """The definition's columns in its order (a column the frame lacks stays empty), typed per its field."""
    out = pd.DataFrame(index=frame.index)
    for c in table.columns:
        values = frame[c.name] if c.name in frame.columns else pd.Series(None, index=frame.index, dtype="object")
        if c.field.type in ("date", "timestamp"):
            values = pd.to_datetime(values, errors="coerce")
        elif c.field.type == "int":
            values = pd.to_numeric(values, errors="coerce").astype("Int64")
        elif c.field.type == "float":
            values = pd.to_numeric(values, errors="coerce")
        out[c.name] = values
    sort = [k for k in table.primary_key if k in out.columns]
    return out.sort_values(sort, kind="stable").reset_index(drop=True) if sort else out


def write_published_workbook(tables: dict[str, pd.DataFrame], path: Path, *, cutoff, run_id: str) -> Path:
    """Write the workbook to `path` (atomically) and return it. `tables`: every published table by name."""
    defs = [t for t in published_tables() if t.name in tables]
    wb = openpyxl.Workbook()
    intro = wb.active
    intro.title = "Toelichting"
    write_pairs(
        intro,
        [
            ("Gepubliceerde tabellen zorgstroom / published tables",),
            ("Peildatum (data cut-off)", pd.Timestamp(cutoff)),
            ("Dagster-run", run_id),
            (
                "Kleine aantallen (1 t/m 4 personen) zijn onderdrukt: leeg, met suppressed = TRUE en de reden.",
                "Small counts (1 to 4 persons) are suppressed: empty, with suppressed = TRUE and the reason.",
            ),
            *[(f"Tabblad {t.name}", f"{t.description} Grain: {t.grain}.") for t in defs],
            (),
        ],
    )
    write_frame(intro, dictionary_frame(defs))
    for t in defs:
        frame = _ordered(tables[t.name], t)
        for part, start in enumerate(range(0, max(len(frame), 1), MAX_SHEET_ROWS)):
            ws = wb.create_sheet(t.name if part == 0 else f"{t.name} ({part + 1})"[:31])
            write_frame(ws, frame.iloc[start : start + MAX_SHEET_ROWS])
    wb.properties.creator = "zorgstroom"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path
