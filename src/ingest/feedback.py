"""Feedback reports for partners: which rows of a delivery were rejected or flagged, and why.

One report per delivery with quarantined rows, a rejected file or a held delivery, as xlsx and as CSV (`;`,
UTF-8 with BOM: opens in Dutch Excel), in `<feedback_dir>/<partner_code>/`. The workbook's first sheet sums
the delivery up (rows read, accepted, rejected, the top reasons, held or not); the next lists each problem
with its row number (a number), the partner's header, the masked value, the reason in Dutch
(config/reference/reason_texts.csv) with the English one beside it and what to do; for an unknown code a sheet
lists the agreed values. Reasons never name an internal path (feedback_text.partner_safe). Every cell is safe
against formula injection, and file names are sanitised so a delivery's name cannot make the pipeline write
outside the feedback folder. Per partner, an overview across its deliveries: partner_overview.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pandas as pd

from core.labels import label, reason_text
from core.sheets import neutralise_formula, set_widths, write_frame, write_pairs
from core.versions import code_version
from ingest.feedback_text import AgreedValues, dutch_reasons, field_label, partner_safe

__all__ = ["neutralise_formula", "report_frame", "reports_due", "write_feedback_reports", "write_report"]

#: Feedback on files that belong to no partner (for the data engineer, not a partner).
UNROUTED_FOLDER = "_unrouted"
#: The problem list's columns: (key in report_frame, header in the files).
REPORT_COLUMNS = {
    "row": "Rij (row)",
    "field": "Kolom (column)",
    "value": "Waarde (value, identifiers masked)",
    "reden": "Reden",
    "wat_te_doen": "Wat te doen",
    "reason_en": "Reason (English)",
    "what_to_do": "What to do (English)",
    "effect": "Gevolg (effect)",
    "code": "Code",
}
#: How many reasons the summary sheet names.
TOP_REASONS = 5
#: Statuses whose delivery always gets a report (a held delivery is not loaded until released).
ALWAYS_REPORTED = ("rejected", "held")


@dataclass
class FeedbackContext:
    """What the reports know beyond the warehouse rows: partner names, and per delivery the labels its
    partner agreed for each coded column (from the partner's mapping, the delivery's layout)."""

    partner_names: dict[str, str] = field(default_factory=dict)
    agreed_values: Callable[[dict], AgreedValues] | None = None

    def partner_name(self, code: object) -> str:
        if not isinstance(code, str):
            return "(geen partner / no partner)"
        return self.partner_names.get(code, code)


def safe_file_stem(source_file: str) -> str:
    """A delivery's file name reduced to a harmless stem: no folders, no '..', no odd characters."""
    name = re.split(r"[\\/]", source_file)[-1]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rsplit(".", 1)[0] if "." in name else name)
    stem = stem.lstrip(".") or "delivery"
    return stem[:120]


def _effect(severity: str) -> str:
    nl, en = label("severity", severity)
    return f"{nl} ({en})"


def report_frame(delivery: dict, rows: pd.DataFrame, agreed: AgreedValues | None = None) -> pd.DataFrame:
    """The problems of one delivery, one line each (or one line for a rejected file), columns REPORT_COLUMNS."""
    if delivery["delivery_status"] == "rejected":
        text = reason_text(delivery.get("reason_code"))
        frame = pd.DataFrame(
            [
                {
                    "row": None,
                    "field": "",
                    "value": "",
                    "reden": text.dutch(),
                    "wat_te_doen": text.action_nl,
                    "reason_en": partner_safe(delivery.get("reason")),
                    "what_to_do": text.action_en,
                    "effect": _effect("file_rejected"),
                    "code": str(delivery.get("reason_code") or ""),
                }
            ]
        )
    else:
        rows = rows.sort_values(["source_row_number", "reason_code"], kind="stable")
        words = dutch_reasons(rows, agreed)
        cols = rows["columns"] if "columns" in rows else pd.Series(None, index=rows.index)
        frame = pd.DataFrame(
            {
                "row": pd.to_numeric(rows["source_row_number"], errors="coerce").astype("Int64"),
                "field": [field_label(s, c) for s, c in zip(rows["source_columns"], cols, strict=True)],
                "value": rows["masked_value"].astype("object").where(rows["masked_value"].notna(), ""),
                **{k: words[k] for k in ("reden", "wat_te_doen", "reason_en", "what_to_do")},
                "effect": rows["severity"].map(_effect),
                "code": rows["reason_code"].astype("str"),
            }
        )
    return frame.rename(columns=REPORT_COLUMNS).reset_index(drop=True)


def summary_lines(delivery: dict, rows: pd.DataFrame, context: FeedbackContext) -> list[tuple[object, ...]]:
    """The first sheet: what was delivered and what became of it, the top reasons, what to do next.
    (Label, value) pairs; a new line (another status, a hold's reason) is one more pair."""
    status = str(delivery["delivery_status"])
    status_nl, status_en = label("delivery_status", status)
    flagged = int(rows.loc[rows["severity"] == "flagged", "source_row_number"].nunique()) if len(rows) else 0
    read, accepted, rejected = (int(delivery.get(k) or 0) for k in ("rows_read", "rows_accepted", "rows_quarantined"))
    lines: list[tuple[object, ...]] = [
        (f"Terugkoppeling levering / delivery feedback: {context.partner_name(delivery['partner_code'])}",),
        (),
        ("Partner", context.partner_name(delivery["partner_code"])),
        ("Bestand (file)", safe_file_stem(str(delivery["source_file"]))),
        ("Periode (period)", period if isinstance(period := delivery.get("delivery_period"), str) else "onbekend"),
        ("Status", f"{status_nl} ({status_en})"),
        ("Aangehouden (held)", "ja (yes)" if status == "held" else "nee (no)"),
        ("Rijen gelezen (rows read)", read),
        ("Geaccepteerd (accepted)", accepted),
        ("Afgewezen (rejected)", rejected),
        ("Geladen met opmerking (flagged)", flagged),
        ("Deel afgewezen (share rejected)", f"{rejected / read:.1%}".replace(".", ",") if read else "–"),
    ]
    if status == "rejected":
        text = reason_text(delivery.get("reason_code"))
        lines += [
            ("Reden (reason)", text.dutch()),
            ("Reason (English)", partner_safe(delivery.get("reason"))),
            ("Wat te doen (what to do)", f"{text.action_nl} / {text.action_en}"),
        ]
    elif len(rows):
        top = rows.groupby("reason_code")["source_row_number"].nunique().sort_values(ascending=False, kind="stable")
        lines += [(), ("Meest voorkomende redenen (top reasons)", "Rijen (rows)", "Reason (English)")]
        for code, n in top.head(TOP_REASONS).items():
            text = reason_text(code)
            lines.append((f"{text.label_nl}: {text.action_nl}", int(n), f"{text.label_en}: {text.action_en}"))
        lines += [
            (),
            (
                "Wat nu (what next)",
                "Corrigeer de rijen op het tabblad Rijen in uw systeem; ze worden geladen uit uw volgende levering. "
                "/ Correct the rows on the sheet Rijen in your system; they load from your next delivery.",
            ),
        ]
    return lines


def agreed_values_frame(rows: pd.DataFrame, agreed: AgreedValues | None) -> pd.DataFrame:
    """For each coded column with an unknown value: every label the partner agreed, and what it means."""
    if agreed is None or not len(rows):
        return pd.DataFrame()
    unknown = rows[rows["reason_code"] == "ROW_UNKNOWN_CODE"]
    out = []
    cols = unknown["columns"] if "columns" in unknown else pd.Series(dtype="str")
    for col, src in sorted(set(zip(cols.astype("str"), unknown["source_columns"].astype("str"), strict=True))):
        for lab, code in agreed(col).items():
            out.append({"Kolom (column)": field_label(src, col), "Waarde (value)": lab, "Betekenis (meaning)": code})
    return pd.DataFrame(out)


def write_report(
    frame: pd.DataFrame,
    delivery: dict,
    feedback_dir: Path,
    rows: pd.DataFrame | None = None,
    context: FeedbackContext | None = None,
    agreed: AgreedValues | None = None,
) -> tuple[Path, Path]:
    """Write the report as xlsx (summary, rows, agreed values) and csv (the rows); returns both paths."""
    context = context or FeedbackContext()
    rows = rows if rows is not None else pd.DataFrame(columns=["reason_code", "severity", "source_row_number"])
    root = feedback_dir.resolve()
    partner = delivery["partner_code"] if isinstance(delivery["partner_code"], str) else UNROUTED_FOLDER
    folder = (root / safe_file_stem(partner)).resolve()
    if root not in folder.parents:
        raise ValueError(f"refusing to write outside {root}")
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{safe_file_stem(delivery['source_file'])}_{delivery['content_hash'][:8]}_feedback"
    csv_path, xlsx_path = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
    frame.map(neutralise_formula).to_csv(csv_path, sep=";", index=False, encoding="utf-8-sig")

    wb = openpyxl.Workbook()
    summary = wb.active
    summary.title = "Samenvatting"
    lines = summary_lines(delivery, rows, context)
    write_pairs(summary, lines)
    set_widths(summary, lines[2:])
    write_frame(wb.create_sheet("Rijen"), frame)
    agreed_frame = agreed_values_frame(rows, agreed)
    if len(agreed_frame):
        write_frame(wb.create_sheet("Afgesproken waarden"), agreed_frame)
    wb.properties.creator = "zorgstroom"
    wb.save(xlsx_path)
    return xlsx_path, csv_path


#: Written reports and the fingerprint of what each was written from (feedback_dir/.reports.json).
MANIFEST_NAME = ".reports.json"
#: Bump when the report's layout changes: every report is then written again.
REPORT_FORMAT_VERSION = 2
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
    """A rejected or held file, or a delivery with rows in quarantine (rejected or flagged); never a duplicate."""
    return delivery["delivery_status"] != "duplicate" and (
        delivery["delivery_status"] in ALWAYS_REPORTED or quarantine_rows > 0
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


def load_manifest(feedback_dir: Path) -> dict[str, dict]:
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
    manifest = load_manifest(feedback_dir)
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


def write_feedback_reports(
    log: pd.DataFrame, quarantine: pd.DataFrame, feedback_dir: Path, context: FeedbackContext | None = None
) -> list[Path]:
    """A report for every delivery in `log` that was rejected or held or has quarantined rows (`quarantine`
    holds at least their rows); the manifest records each. Returns the xlsx paths."""
    context = context or FeedbackContext()
    written = []
    by_delivery = dict(tuple(quarantine.groupby("delivery_id"))) if len(quarantine) else {}
    manifest = load_manifest(feedback_dir)
    for delivery in log.to_dict("records"):
        rows = by_delivery.get(delivery["delivery_id"])
        n = 0 if rows is None else len(rows)
        if not needs_report(delivery, n):
            continue
        rows = rows if rows is not None else quarantine.head(0)
        agreed = context.agreed_values(delivery) if context.agreed_values is not None else None
        xlsx, csv_path = write_report(
            report_frame(delivery, rows, agreed), delivery, feedback_dir, rows=rows, context=context, agreed=agreed
        )
        root = feedback_dir.resolve()
        manifest[delivery["delivery_id"]] = {
            "fingerprint": report_fingerprint(delivery, n),
            "files": [str(p.relative_to(root)) for p in (xlsx, csv_path)],
        }
        written.append(xlsx)
    if written:
        save_manifest(feedback_dir, manifest)
    return written


def save_manifest(feedback_dir: Path, manifest: dict[str, dict]) -> None:
    feedback_dir.mkdir(parents=True, exist_ok=True)
    tmp = feedback_dir / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(feedback_dir / MANIFEST_NAME)
