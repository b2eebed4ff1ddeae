"""Per partner, one overview across all its deliveries: `<feedback_dir>/<partner>/<partner>_overzicht.xlsx`.

Sheets: Overzicht (totals: deliveries by status, periods on time / late / missing, rows and the share
rejected), Per periode (completeness and quality over time: one line per expected period, with the file in
force, its rows and the share rejected, its main reason) and Leveringen (every file and what became of it).
Written again only when something of the partner changed (a fingerprint in the feedback manifest).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
import pandas as pd

from core.labels import label, reason_text
from core.sheets import set_widths, write_frame, write_pairs
from core.versions import code_version
from ingest.feedback import REPORT_FORMAT_VERSION, FeedbackContext, load_manifest, safe_file_stem, save_manifest
from ingest.feedback_text import partner_safe

OVERVIEW_SUFFIX = "_overzicht.xlsx"
REASON_COUNT_COLUMNS = ["delivery_id", "reason_code", "severity", "rows"]


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (part / whole.where(whole > 0)).round(4)


def deliveries_frame(log: pd.DataFrame, reasons: pd.DataFrame) -> pd.DataFrame:
    """Every file of the partner, oldest period first: what became of it and its main reason."""
    top = (
        reasons.sort_values(["delivery_id", "rows", "reason_code"], ascending=[True, False, True])
        .drop_duplicates("delivery_id")
        .set_index("delivery_id")["reason_code"]
        if len(reasons)
        else pd.Series(dtype="str")
    )
    df = log.sort_values(["delivery_period", "delivery_version", "received_at"], na_position="last", kind="stable")
    code = df["reason_code"].where(df["delivery_status"] == "rejected", df["delivery_id"].map(top))
    return pd.DataFrame(
        {
            "Periode (period)": df["delivery_period"].fillna(""),
            "Versie (version)": pd.to_numeric(df["delivery_version"], errors="coerce").astype("Int64"),
            "Bestand (file)": df["source_file"].map(lambda f: safe_file_stem(str(f))),
            "Ontvangen (received)": pd.to_datetime(df["received_at"], errors="coerce"),
            "Status": df["delivery_status"].map(lambda s: "{} ({})".format(*label("delivery_status", s))),
            "Rijen gelezen (rows read)": pd.to_numeric(df["rows_read"], errors="coerce").astype("Int64"),
            "Geaccepteerd (accepted)": pd.to_numeric(df["rows_accepted"], errors="coerce").astype("Int64"),
            "Afgewezen (rejected)": pd.to_numeric(df["rows_quarantined"], errors="coerce").astype("Int64"),
            "Deel afgewezen (share rejected)": _share(
                pd.to_numeric(df["rows_quarantined"], errors="coerce"), pd.to_numeric(df["rows_read"], errors="coerce")
            ),
            "Belangrijkste reden (main reason)": code.map(
                lambda c: "" if pd.isna(c) else f"{reason_text(c).label_nl} ({reason_text(c).label_en})"
            ),
            "Toelichting (English)": df["reason"].map(partner_safe).where(df["delivery_status"] == "rejected", ""),
        }
    ).reset_index(drop=True)


def periods_frame(log: pd.DataFrame, reasons: pd.DataFrame, completeness: pd.DataFrame) -> pd.DataFrame:
    """One line per expected period: was it delivered on time, and how good was the file in force."""
    in_force = log[log["delivery_status"] == "loaded"]
    per_period = in_force.groupby("delivery_period").agg(
        rows_read=("rows_read", "sum"),
        rows_accepted=("rows_accepted", "sum"),
        rows_rejected=("rows_quarantined", "sum"),
    )
    files = log.groupby("delivery_period").size().rename("files")
    main = pd.Series(dtype="str")
    if len(reasons):
        r = reasons.merge(in_force[["delivery_id", "delivery_period"]], on="delivery_id")
        if len(r):
            by = r.groupby(["delivery_period", "reason_code"])["rows"].sum().reset_index()
            by = by.sort_values(["delivery_period", "rows", "reason_code"], ascending=[True, False, True])
            main = by.drop_duplicates("delivery_period").set_index("delivery_period")["reason_code"]
    if len(completeness):
        base = completeness.sort_values("period_start")[["delivery_period", "completeness_status", "days_late"]]
    else:
        base = pd.DataFrame({"delivery_period": sorted(set(log["delivery_period"].dropna()))})
        base["completeness_status"], base["days_late"] = None, None
    df = base.merge(per_period, left_on="delivery_period", right_index=True, how="left")
    df = df.merge(files, left_on="delivery_period", right_index=True, how="left")
    read = pd.to_numeric(df["rows_read"], errors="coerce")
    return pd.DataFrame(
        {
            "Periode (period)": df["delivery_period"].astype("str"),
            "Volledigheid (completeness)": df["completeness_status"].map(
                lambda s: "" if pd.isna(s) else "{} ({})".format(*label("completeness_status", s))
            ),
            "Dagen te laat (days late)": pd.to_numeric(df["days_late"], errors="coerce").astype("Int64"),
            "Bestanden (files)": pd.to_numeric(df["files"], errors="coerce").fillna(0).astype("Int64"),
            "Rijen gelezen (rows read)": read.astype("Int64"),
            "Geaccepteerd (accepted)": pd.to_numeric(df["rows_accepted"], errors="coerce").astype("Int64"),
            "Afgewezen (rejected)": pd.to_numeric(df["rows_rejected"], errors="coerce").astype("Int64"),
            "Deel afgewezen (share rejected)": _share(pd.to_numeric(df["rows_rejected"], errors="coerce"), read),
            "Belangrijkste reden (main reason)": df["delivery_period"]
            .map(main)
            .map(lambda c: "" if pd.isna(c) else reason_text(c).label_nl),
        }
    ).reset_index(drop=True)


def overview_lines(partner: str, log: pd.DataFrame, completeness: pd.DataFrame, name: str) -> list[tuple]:
    statuses = log["delivery_status"].value_counts()
    in_force = log[log["delivery_status"] == "loaded"]
    read = int(pd.to_numeric(in_force["rows_read"], errors="coerce").sum())
    rejected = int(pd.to_numeric(in_force["rows_quarantined"], errors="coerce").sum())
    lines: list[tuple] = [
        (f"Overzicht leveringen / deliveries overview: {name}",),
        (),
        ("Partner", f"{name} ({partner})"),
        ("Leveringen (files)", len(log)),
    ]
    for status, n in statuses.items():
        nl, en = label("delivery_status", status)
        lines.append((f"  {nl} ({en})", int(n)))
    if len(completeness):
        counts = completeness["completeness_status"].value_counts()
        lines.append(("Perioden verwacht (periods expected)", len(completeness)))
        for status in ("on_time", "late", "missing", "empty", "not_yet_due"):
            if status in counts:
                nl, en = label("completeness_status", status)
                lines.append((f"  {nl} ({en})", int(counts[status])))
    lines += [
        ("Rijen gelezen, geldende bestanden (rows read, files in force)", read),
        ("Afgewezen (rejected)", rejected),
        ("Deel afgewezen (share rejected)", round(rejected / read, 4) if read else None),
        (),
        ("Per periode: volledigheid en kwaliteit door de tijd. Leveringen: elk bestand en wat ermee gebeurde.",),
        ("Per periode: completeness and quality over time. Leveringen: every file and what became of it.",),
    ]
    return lines


def _fingerprint(*frames: pd.DataFrame) -> str:
    parts = [f.sort_index(axis=1).astype("str").to_csv(index=False) for f in frames]
    text = json.dumps({"v": REPORT_FORMAT_VERSION, "code": code_version(), "frames": parts})
    return hashlib.sha256(text.encode()).hexdigest()


def write_partner_overviews(
    log: pd.DataFrame,
    reasons: pd.DataFrame,
    completeness: pd.DataFrame,
    feedback_dir: Path,
    context: FeedbackContext | None = None,
) -> tuple[list[Path], int]:
    """An overview per partner with deliveries; returns the files written and how many were up to date."""
    context = context or FeedbackContext()
    root = feedback_dir.resolve()
    manifest = load_manifest(feedback_dir)
    written, current = [], 0
    log = log[log["partner_code"].notna()]
    for partner, own in log.groupby("partner_code", sort=True):
        partner = str(partner)
        own_reasons = reasons[reasons["delivery_id"].isin(own["delivery_id"])]
        own_completeness = completeness[completeness["partner_code"] == partner] if len(completeness) else completeness
        key = f"overview:{partner}"
        fingerprint = _fingerprint(own, own_reasons, own_completeness)
        folder = (root / safe_file_stem(partner)).resolve()
        if root not in folder.parents:
            raise ValueError(f"refusing to write outside {root}")
        path = folder / f"{safe_file_stem(partner)}{OVERVIEW_SUFFIX}"
        if manifest.get(key, {}).get("fingerprint") == fingerprint and path.is_file():
            current += 1
            continue
        folder.mkdir(parents=True, exist_ok=True)
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Overzicht"
        lines = overview_lines(partner, own, own_completeness, context.partner_name(partner))
        write_pairs(ws, lines)
        set_widths(ws, lines[2:-2])
        for row in ws.iter_rows():
            for cell in row:
                if cell.row > 2 and isinstance(cell.value, float):
                    cell.number_format = "0.0%"
        periods = periods_frame(own, own_reasons, own_completeness)
        write_frame(wb.create_sheet("Per periode"), periods)
        deliveries = deliveries_frame(own, own_reasons)
        write_frame(wb.create_sheet("Leveringen"), deliveries)
        for sheet, frame in ((wb["Per periode"], periods), (wb["Leveringen"], deliveries)):
            col = list(frame.columns).index("Deel afgewezen (share rejected)") + 1
            for (cell,) in sheet.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.number_format = "0.0%"
        wb.properties.creator = "zorgstroom"
        tmp = path.with_suffix(".tmp")
        wb.save(tmp)
        tmp.replace(path)
        manifest[key] = {"fingerprint": fingerprint, "files": [str(path.relative_to(root))]}
        written.append(path)
    if written:
        save_manifest(feedback_dir, manifest)
    return written, current
