"""`make demo`'s and `make summary`'s warehouse summary: rows per table, deliveries by status,
rejections and why, target attainment, where feedback and the report went.

Reads the warehouse only (never the raw files), so it cannot print an identity; read-only, so it
never blocks a run. Each part is a section function in SECTIONS. The outcome of the last run
(checks, tables rebuilt) follows it on the screen: pipelines/outcome.py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from core.settings import load_settings
from report.render import REPORT_NAME
from schemas.tables import TABLES
from warehouse.db import make_engine
from warehouse.faults import classify, exception_chain

#: One section of the summary: lines from a connection to the warehouse and the tables it holds.
Section = Callable[[sa.Connection, set[str]], list[str]]


def rows_per_table(conn: sa.Connection, present: set[str]) -> list[str]:
    lines = ["", "Rows per table:"]
    for name, table in TABLES.items():
        if name in present:
            n = conn.execute(sa.text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
            lines.append(f"  {table.layer:<10} {name:<32} {n:>10,}")
    return lines


def deliveries_by_partner(conn: sa.Connection, present: set[str]) -> list[str]:
    if "delivery_log" not in present:
        return ["", "No deliveries processed yet."]
    lines = ["", "Deliveries by partner and status:"]
    rows = conn.execute(
        sa.text(
            "SELECT COALESCE(partner_code, '(no partner)'), delivery_status, COUNT(*), SUM(rows_read), "
            "SUM(rows_accepted), SUM(rows_quarantined) FROM delivery_log GROUP BY 1, 2 ORDER BY 1, 2"
        )
    )
    lines.append(
        f"  {'partner':<24} {'status':<11} {'files':>6} {'rows read':>10} {'accepted':>10} {'quarantined':>11}"
    )
    for p, s, n, read, acc, quar in rows:
        lines.append(f"  {p or '?':<24} {s:<11} {n:>6} {read or 0:>10,} {acc or 0:>10,} {quar or 0:>11,}")
    return lines


def quarantine_by_reason(conn: sa.Connection, present: set[str]) -> list[str]:
    if "quarantine_rows" not in present:
        return []
    lines = ["", "Quarantined rows by reason:"]
    for code, n in conn.execute(
        sa.text(
            "SELECT reason_code, COUNT(DISTINCT delivery_id || '#' || CAST(source_row_number AS VARCHAR)) "
            "FROM quarantine_rows WHERE severity = 'row_rejected' GROUP BY reason_code ORDER BY 2 DESC"
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
    return lines


def target_attainment(conn: sa.Connection, present: set[str]) -> list[str]:
    if "pub_target_attainment" not in present:
        return []
    lines = [
        "",
        "Target attainment as of the cut-off (pub_target_attainment; '-' = suppressed small count or no number):",
        f"  {'target':<20} {'achieved':>9} {'target':>7} {'expected':>9} {'status':<20} {'forecast':>9}",
    ]

    def show(v, fmt="{:,.0f}"):
        return "-" if v is None else fmt.format(v)

    for code, achieved, target, expected, status, forecast in conn.execute(
        sa.text(
            "SELECT target_code, achieved, target_number, expected_to_date, status, forecast "
            "FROM pub_target_attainment WHERE is_latest ORDER BY target_code"
        )
    ):
        lines.append(
            f"  {code:<20} {show(achieved):>9} {show(target):>7} {show(expected):>9} {status or '-':<20} "
            f"{show(forecast):>9}"
        )
    return lines


def files_not_loaded(conn: sa.Connection, present: set[str]) -> list[str]:
    if "delivery_log" not in present:
        return []
    special = conn.execute(
        sa.text(
            "SELECT COALESCE(partner_code, '(no partner)'), source_file, delivery_status, COALESCE(reason, '') "
            "FROM delivery_log WHERE delivery_status IN ('rejected', 'duplicate', 'superseded') "
            "ORDER BY delivery_status, partner_code, source_file"
        )
    ).all()
    if not special:
        return []
    return ["", "Files not loaded (or no longer in force):"] + [
        f"  [{s}] {p}/{f}: {reason}" for p, f, s, reason in special
    ]


#: The sections, in order. A new one is one function and one entry here.
SECTIONS: list[Section] = [
    rows_per_table,
    deliveries_by_partner,
    quarantine_by_reason,
    target_attainment,
    files_not_loaded,
]


def summary_lines(engine: sa.Engine, sections: list[Section] | None = None) -> list[str]:
    lines = ["", "Warehouse: " + engine.url.render_as_string(hide_password=True)]
    present = set(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        for section in SECTIONS if sections is None else sections:
            lines += section(conn, present)
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


def read_only_engine(url: str) -> sa.Engine:
    """An engine that only reads: on DuckDB a read-only connection (it never takes the writer's lock)."""
    if sa.engine.make_url(url).get_backend_name() == "duckdb":
        return sa.create_engine(url, connect_args={"read_only": True})
    return make_engine(url)


def main() -> int:
    settings = load_settings()
    engine = read_only_engine(settings.warehouse_url)
    try:
        lines = summary_lines(engine)
    except sa.exc.SQLAlchemyError as exc:
        cause = classify(exception_chain(exc))
        if not cause.transient:
            raise
        lines = ["", f"Warehouse summary skipped: {cause.text}"]
    finally:
        engine.dispose()
    print("\n".join(lines + feedback_lines(settings.feedback_dir) + report_lines(settings.report_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
