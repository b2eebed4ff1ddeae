"""`make demo`'s closing summary: rows per table, deliveries by status, rejections and why.

Reads the warehouse only (never the raw files), so it cannot print an identity.
"""

from __future__ import annotations

import sys
from pathlib import Path

import sqlalchemy as sa

from core.settings import load_settings
from report.render import REPORT_NAME
from schemas.tables import TABLES
from warehouse.db import make_engine


def summary_lines(engine: sa.Engine) -> list[str]:
    inspector = sa.inspect(engine)
    lines = ["", "Warehouse: " + engine.url.render_as_string(hide_password=True), "", "Rows per table:"]
    with engine.connect() as conn:
        for name, table in TABLES.items():
            if inspector.has_table(name):
                n = conn.execute(sa.text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
                lines.append(f"  {table.layer:<10} {name:<32} {n:>10,}")
        if not inspector.has_table("delivery_log"):
            return [*lines, "", "No deliveries processed yet."]
        lines += ["", "Deliveries by partner and status:"]
        rows = conn.execute(
            sa.text(
                "SELECT COALESCE(partner_code, '(no partner)'), delivery_status, COUNT(*), SUM(rows_read), "
                "SUM(rows_accepted), "
                "SUM(rows_quarantined) FROM delivery_log GROUP BY 1, 2 ORDER BY 1, 2"
            )
        )
        lines.append(
            f"  {'partner':<24} {'status':<11} {'files':>6} {'rows read':>10} {'accepted':>10} {'quarantined':>11}"
        )
        for p, s, n, read, acc, quar in rows:
            lines.append(f"  {p or '?':<24} {s:<11} {n:>6} {read or 0:>10,} {acc or 0:>10,} {quar or 0:>11,}")
        lines += ["", "Quarantined rows by reason:"]
        for code, n in conn.execute(
            sa.text(
                "SELECT reason_code, COUNT(DISTINCT delivery_id || '#' || CAST(source_row_number AS VARCHAR)) "
                "FROM quarantine_rows "
                "WHERE severity = 'row_rejected' GROUP BY reason_code ORDER BY 2 DESC"
            )
        ):
            lines.append(f"  {code:<28} {n:>8,} rows")
        examples = conn.execute(
            sa.text(
                "SELECT partner_code, source_file, source_row_number, reason FROM quarantine_rows "
                "WHERE severity = 'row_rejected' ORDER BY partner_code, source_file, source_row_number LIMIT 5"
            )
        ).all()
        if examples:
            lines += ["", "Examples:"]
            lines += [f"  {p}/{f} row {r}: {reason}" for p, f, r, reason in examples]
        if inspector.has_table("pub_target_attainment"):
            lines += [
                "",
                "Target attainment as of the cut-off (pub_target_attainment; '-' = suppressed small count or no "
                "number):",
            ]
            lines.append(
                f"  {'target':<20} {'achieved':>9} {'target':>7} {'expected':>9} {'status':<20} {'forecast':>9}"
            )
            for code, achieved, target, expected, status, forecast in conn.execute(
                sa.text(
                    "SELECT target_code, achieved, target_number, expected_to_date, status, forecast "
                    "FROM pub_target_attainment WHERE is_latest ORDER BY target_code"
                )
            ):

                def show(v, fmt="{:,.0f}"):
                    return "-" if v is None else fmt.format(v)

                lines.append(
                    f"  {code:<20} {show(achieved):>9} {show(target):>7} {show(expected):>9} {status or '-':<20} {show(forecast):>9}"
                )
        special = conn.execute(
            sa.text(
                "SELECT COALESCE(partner_code, '(no partner)'), source_file, delivery_status, COALESCE(reason, "
                "'') FROM delivery_log "
                "WHERE delivery_status IN ('rejected', 'duplicate', 'superseded') ORDER BY delivery_status, "
                "partner_code, source_file"
            )
        ).all()
        if special:
            lines += ["", "Files not loaded (or no longer in force):"]
            lines += [f"  [{s}] {p}/{f}: {reason}" for p, f, s, reason in special]
    return lines


def feedback_lines(feedback_dir: Path) -> list[str]:
    reports = sorted(feedback_dir.rglob("*_feedback.xlsx")) if feedback_dir.is_dir() else []
    return [
        "",
        f"Feedback reports for partners (xlsx and csv, one per delivery with rejected rows or a rejected file): "
        f"{len(reports)} in {feedback_dir}",
    ]


def report_lines(report_dir: Path) -> list[str]:
    path = report_dir / REPORT_NAME
    if not path.is_file():
        return []
    charts = path.parent / "charts"
    pngs = len(list(charts.glob("*.png"))) if charts.is_dir() else 0
    return [
        "",
        f"Regional report (open in a browser, works offline): {path}",
        f"  and {pngs} charts as PNG in {charts}",
    ]


def main() -> int:
    settings = load_settings()
    print(
        "\n".join(
            summary_lines(make_engine(settings.warehouse_url))
            + feedback_lines(settings.feedback_dir)
            + report_lines(settings.report_dir)
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
