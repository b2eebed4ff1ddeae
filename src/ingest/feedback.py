"""Feedback reports for partners: which rows of a delivery were rejected or flagged, and why.

One report per delivery with quarantined rows or a rejected file, as xlsx and as CSV (`;`, UTF-8
with BOM: opens in Dutch Excel), in `<feedback_dir>/<partner_code>/`. Values are the masked ones
from quarantine_rows. Every cell is safe against formula injection, and file names are sanitised
so a delivery's name cannot make the pipeline write outside the feedback folder.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.styles import Font

from core.versions import code_version

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
SEVERITY_TEXT = {
    "row_rejected": "row not loaded",
    "flagged": "row loaded, please check",
    "file_rejected": "file not loaded",
}


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
        return pd.DataFrame(
            [
                {
                    "Rij (row)": "",
                    "Veld (field)": "",
                    "Waarde (value, identifiers masked)": "",
                    "Reden (reason)": f"{delivery['reason_code']}: {delivery['reason']}",
                    "Gevolg (effect)": SEVERITY_TEXT["file_rejected"],
                }
            ]
        )
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
    ws.append(
        [
            f"Feedback on delivery {safe_file_stem(delivery['source_file'])} of {partner} "
            f"(period {delivery.get('delivery_period') or '?'})"
        ]
    )
    ws.append(
        [
            f"Rows read: {delivery['rows_read']}, loaded: {delivery['rows_accepted']}, not loaded: "
            f"{delivery['rows_quarantined']}. "
            "Correct the rows below in your system; they will be loaded from your next delivery."
        ]
    )
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


#: Written reports and the fingerprint of what each was written from (feedback_dir/.reports.json).
MANIFEST_NAME = ".reports.json"
#: Bump when the report's layout changes: every report is then written again.
REPORT_FORMAT_VERSION = 1
_FINGERPRINT_FIELDS = (
    "partner_code",
    "source_file",
    "content_hash",
    "delivery_period",
    "delivery_status",
    "reason_code",
    "reason",
    "rows_read",
    "rows_accepted",
    "rows_quarantined",
)


def needs_report(delivery: dict, quarantine_rows: int) -> bool:
    """A rejected file, or a delivery with rows in quarantine (rejected or flagged); never a duplicate."""
    return delivery["delivery_status"] != "duplicate" and (
        delivery["delivery_status"] == "rejected" or quarantine_rows > 0
    )


def report_fingerprint(delivery: dict, quarantine_rows: int) -> str:
    """What a report is written from: its delivery's log record and the number of its quarantine rows
    (both only change when the delivery's status changes, e.g. when it is superseded), and the code
    that masks values and words reasons (core.versions: any change to it writes every report again)."""
    fields = {f: None if pd.isna(delivery.get(f)) else str(delivery.get(f)) for f in _FINGERPRINT_FIELDS}
    text = json.dumps(
        {"v": REPORT_FORMAT_VERSION, "code": code_version(), "quarantine_rows": quarantine_rows, **fields},
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _manifest(feedback_dir: Path) -> dict[str, dict]:
    path = feedback_dir / MANIFEST_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no manifest (or a damaged one): every report is written again


def reports_due(log: pd.DataFrame, quarantine_counts: dict[str, int], feedback_dir: Path) -> tuple[list[dict], int]:
    """The deliveries whose report must be (re)written, and how many reports are already up to date.

    A report is due when the delivery needs one and its files are missing or were written from
    another state of the delivery (the fingerprint in the manifest differs). A nightly run with one
    new delivery therefore writes one report, not all of them again.
    """
    manifest = _manifest(feedback_dir)
    due, current = [], 0
    for delivery in log.to_dict("records"):
        n = int(quarantine_counts.get(delivery["delivery_id"], 0))
        if not needs_report(delivery, n):
            continue
        seen = manifest.get(delivery["delivery_id"], {})
        files_there = all((feedback_dir / f).is_file() for f in seen.get("files", [])) and seen.get("files")
        if seen.get("fingerprint") == report_fingerprint(delivery, n) and files_there:
            current += 1
        else:
            due.append(delivery)
    return due, current


def write_feedback_reports(log: pd.DataFrame, quarantine: pd.DataFrame, feedback_dir: Path) -> list[Path]:
    """A report for every delivery in `log` that was rejected or has quarantined rows (`quarantine` holds
    at least their rows); the manifest records each. Returns the xlsx paths."""
    written = []
    by_delivery = dict(tuple(quarantine.groupby("delivery_id"))) if len(quarantine) else {}
    manifest = _manifest(feedback_dir)
    for delivery in log.to_dict("records"):
        rows = by_delivery.get(delivery["delivery_id"])
        n = 0 if rows is None else len(rows)
        if not needs_report(delivery, n):
            continue
        xlsx, csv_path = write_report(
            report_frame(delivery, rows if rows is not None else quarantine.head(0)), delivery, feedback_dir
        )
        root = feedback_dir.resolve()
        manifest[delivery["delivery_id"]] = {
            "fingerprint": report_fingerprint(delivery, n),
            "files": [str(p.relative_to(root)) for p in (xlsx, csv_path)],
        }
        written.append(xlsx)
    if written:
        feedback_dir.mkdir(parents=True, exist_ok=True)
        tmp = feedback_dir / (MANIFEST_NAME + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(feedback_dir / MANIFEST_NAME)
    return written
