"""Feedback reports for partners: which rows of a delivery were rejected or flagged, and why.

One report per delivery with quarantined rows or a rejected file, as xlsx and as CSV (`;`, UTF-8
with BOM: opens in Dutch Excel), in `<feedback_dir>/<partner_code>/`. Values are the masked ones
from quarantine_rows. Every cell is safe against formula injection, and file names are sanitised
so a delivery's name cannot make the pipeline write outside the feedback folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.styles import Font

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Feedback on files that belong to no partner (for the data engineer, not a partner).
UNROUTED_FOLDER = "_unrouted"
REPORT_COLUMNS = {
    "source_row_number": "Rij (row)",
    "source_columns": "Veld (field)",
    "masked_value": "Waarde (value, identifiers masked)",
    "reason": "Reden (reason)",
    "severity": "Gevolg (effect)",
}
SEVERITY_TEXT = {"row_rejected": "row not loaded", "flagged": "row loaded, please check", "file_rejected": "file not loaded"}


def neutralise_formula(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_file_stem(source_file: str) -> str:
    """A delivery's file name reduced to a harmless stem: no folders, no '..', no odd characters."""
    name = re.split(r"[\\/]", source_file)[-1]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rsplit(".", 1)[0] if "." in name else name)
    stem = stem.lstrip(".") or "delivery"
    return stem[:120]


def report_frame(delivery: dict, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of one delivery's report: one line per problem, or one line for a rejected file."""
    if delivery["delivery_status"] == "rejected":
        return pd.DataFrame([{
            "Rij (row)": "", "Veld (field)": "", "Waarde (value, identifiers masked)": "",
            "Reden (reason)": f"{delivery['reason_code']}: {delivery['reason']}", "Gevolg (effect)": SEVERITY_TEXT["file_rejected"],
        }])
    out = rows.sort_values(["source_row_number", "reason_code"], kind="stable")[list(REPORT_COLUMNS)].copy()
    out["severity"] = out["severity"].map(SEVERITY_TEXT)
    out["source_row_number"] = out["source_row_number"].astype("Int64").astype("str")
    return out.rename(columns=REPORT_COLUMNS).fillna("")


def write_report(frame: pd.DataFrame, delivery: dict, feedback_dir: Path) -> tuple[Path, Path]:
    """Write the report as xlsx and csv; returns both paths (inside feedback_dir/partner_code)."""
    root = feedback_dir.resolve()
    partner = delivery["partner_code"] if isinstance(delivery["partner_code"], str) else UNROUTED_FOLDER
    folder = (root / safe_file_stem(partner)).resolve()
    if root not in folder.parents:
        raise ValueError(f"refusing to write outside {root}")
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{safe_file_stem(delivery['source_file'])}_{delivery['content_hash'][:8]}_feedback"
    safe = frame.map(neutralise_formula)
    csv_path, xlsx_path = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
    safe.to_csv(csv_path, sep=";", index=False, encoding="utf-8-sig")

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Feedback"
    ws.append([f"Feedback on delivery {safe_file_stem(delivery['source_file'])} of {partner} "
               f"(period {delivery.get('delivery_period') or '?'})"])
    ws.append([f"Rows read: {delivery['rows_read']}, loaded: {delivery['rows_accepted']}, not loaded: {delivery['rows_quarantined']}. "
               "Correct the rows below in your system; they will be loaded from your next delivery."])
    ws.append([])
    ws.append(list(safe.columns))
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for row in safe.itertuples(index=False):
        ws.append(list(row))
    for row in ws.iter_rows(min_row=5):
        for cell in row:
            cell.data_type = "s"  # text, never a formula
    wb.properties.creator = "zorgstroom"
    wb.save(xlsx_path)
    return xlsx_path, csv_path


def write_feedback_reports(log: pd.DataFrame, quarantine: pd.DataFrame, feedback_dir: Path) -> list[Path]:
    """A report for every delivery that was rejected or has quarantined rows. Returns the xlsx paths."""
    written = []
    by_delivery = dict(tuple(quarantine.groupby("delivery_id"))) if len(quarantine) else {}
    for delivery in log.to_dict("records"):
        rows = by_delivery.get(delivery["delivery_id"])
        if delivery["delivery_status"] != "rejected" and rows is None:
            continue
        if delivery["delivery_status"] in ("duplicate",):
            continue
        xlsx, _ = write_report(report_frame(delivery, rows if rows is not None else quarantine.head(0)), delivery, feedback_dir)
        written.append(xlsx)
    return written
