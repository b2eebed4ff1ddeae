"""Delivery snapshots: which records a partner exports for a period, with which values; bad rows;
rendering to the partner's cells."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from .config import (
    BOOL_COLUMNS,
    DATE_COLUMNS,
    END_START,
    FEED_COLUMNS,
    IDENTIFIER_COLUMNS,
    REQUIRED,
    UNKNOWN_CODE_COLUMN,
    Layout,
    PartnerConfig,
)
from .dates import Period, excel_serial
from .identifiers import dotted, invalidate_bsn, is_valid_bsn, is_valid_onderwijsnummer
from .partners_style import Style, ignored_value
from .world import Record

BAD_RATE = 0.01
BAD_KIND_WEIGHTS = {
    "invalid_bsn": 0.25,
    "end_before_start": 0.2,
    "impossible_date": 0.2,
    "unknown_code": 0.2,
    "missing_required": 0.15,
}
IMPOSSIBLE_DAYS = [(30, 2), (31, 2), (31, 4), (31, 6), (31, 9), (31, 11)]
CODE_COLUMNS = {
    "function",
    "contract_type",
    "leaving_reason",
    "programme",
    "learning_path",
    "outcome",
    "target_group",
    "benefit_type",
    "placement_kind",
    "placement_result",
    "benefit_end_reason",
    "trajectory_result",
}


@dataclass
class Row:
    record: Record
    values: dict  # canonical values as written (after any fault)
    valid_values: dict  # canonical values of the valid row
    overrides: dict = field(default_factory=dict)  # column -> raw cell text
    bad: tuple[str, str] | None = None  # (kind, canonical column)

    def make_valid(self) -> Row:
        return Row(self.record, dict(self.valid_values), dict(self.valid_values))


@dataclass
class Delivery:
    partner: PartnerConfig
    style: Style
    period: Period
    layout: Layout
    rows: list[Row]
    version: int = 1
    filename: str = ""
    data: bytes = b""
    data_row_numbers: list[int] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"landing/{self.partner.code}/{self.filename}"


# ---------------------------------------------------------------------------- canonical rows
def canonical_values(rec: Record, export: date, layout: Layout) -> dict:
    values = rec.values_at(export)
    p = rec.person
    values["bsn"] = p.bsn
    values["birth_date"] = p.birth_date
    values["postcode"] = p.postcode
    if rec.feed == "enrolments":
        values["onderwijsnummer"] = p.onderwijsnummer
    out = {}
    for column in FEED_COLUMNS[rec.feed]:
        out[column] = values.get(column) if column in layout.columns else None
    return out


def check_valid(feed: str, values: dict, cfg: PartnerConfig) -> list[str]:
    """The problems a pipeline would find in a canonical row (empty list: valid)."""
    problems = []
    for column in REQUIRED[feed]:
        if values.get(column) in (None, ""):
            problems.append(f"missing {column}")
    if feed == "enrolments":
        if not values.get("bsn") and not values.get("onderwijsnummer"):
            problems.append("missing bsn and onderwijsnummer")
        if values.get("onderwijsnummer") and not is_valid_onderwijsnummer(values["onderwijsnummer"]):
            problems.append("invalid onderwijsnummer")
        crebo = values.get("crebo_code")
        if crebo is not None and not (len(str(crebo)) == 5 and str(crebo).isdigit()):
            problems.append("crebo")
        if values.get("mbo_level") is not None and values["mbo_level"] not in (1, 2, 3, 4):
            problems.append("mbo_level")
    if values.get("bsn") and not is_valid_bsn(values["bsn"]):
        problems.append("invalid bsn")
    for end_col, start_col in END_START[feed]:
        e, s = values.get(end_col), values.get(start_col)
        if e is not None and s is not None and e < s:
            problems.append(f"{end_col} before {start_col}")
        if e is not None and s is None and feed == "municipal_participants":
            problems.append(f"{end_col} without {start_col}")
    h = values.get("hours_per_week")
    if h is not None and not (0 < h <= 60):
        problems.append("hours")
    for column in CODE_COLUMNS:
        v = values.get(column)
        if v is not None and cfg.label(column, v) is None:
            problems.append(f"code {column}={v} has no label")
    return problems


def snapshot(cfg: PartnerConfig, records: list[Record], period: Period) -> tuple[Layout, list[Row]]:
    layout = cfg.layout_for(period.layout_month)
    export = period.export_date
    rows = []
    for rec in records:
        if rec.active(period.start, period.end, export):
            values = canonical_values(rec, export, layout)
            problems = check_valid(rec.feed, values, cfg)
            if problems:
                raise AssertionError(f"generator bug: {cfg.code} {period.label} {rec.key}: {problems}")
            rows.append(Row(rec, values, dict(values)))
    return layout, rows


# ---------------------------------------------------------------------------- bad rows
def impossible_date_text(d: date, style: Style, rng: random.Random) -> str:
    day, month = rng.choice(IMPOSSIBLE_DAYS)
    if style.date_style == "iso":
        return f"{d.year:04d}-{month:02d}-{day:02d}"
    return f"{day:02d}-{month:02d}-{d.year:04d}"


def unknown_label(cfg: PartnerConfig, style: Style, column: str, rng: random.Random) -> str:
    known = {label.casefold() for label in cfg.known_labels(column)}
    known |= {code.casefold() for code in cfg.codes(column)}
    options = [u for u in style.unknown_labels if u.casefold() not in known]
    return rng.choice(options) if options else "Onbekende code XQ"


def applicable_kinds(row: Row, feed: str, layout: Layout) -> list[str]:
    v = row.values
    cols = layout.columns
    kinds = []
    if v.get("bsn") and "bsn" in cols:
        kinds.append("invalid_bsn")
    for end_col, start_col in END_START[feed]:
        if end_col in cols and start_col in cols and v.get(start_col) is not None:
            kinds.append("end_before_start")
    if any(c in cols and c != "birth_date" and v.get(c) is not None for c in DATE_COLUMNS):
        kinds.append("impossible_date")
    if UNKNOWN_CODE_COLUMN[feed] in cols:
        kinds.append("unknown_code")
    if any(c in cols and c not in IDENTIFIER_COLUMNS and v.get(c) is not None for c in REQUIRED[feed]):
        kinds.append("missing_required")
    return kinds


def make_bad(
    row: Row, feed: str, cfg: PartnerConfig, style: Style, layout: Layout, rng: random.Random, kind: str | None = None
) -> bool:
    kinds = applicable_kinds(row, feed, layout)
    if not kinds:
        return False
    if kind is None or kind not in kinds:
        kind = rng.choices(kinds, [BAD_KIND_WEIGHTS[k] for k in kinds])[0]
    v = row.values
    cols = layout.columns
    if kind == "invalid_bsn":
        v["bsn"] = invalidate_bsn(v["bsn"], rng)
        column = "bsn"
    elif kind == "end_before_start":
        end_col, start_col = next(  # the first pair of this row that has its start (applicable_kinds)
            (e, s) for e, s in END_START[feed] if e in cols and s in cols and v.get(s) is not None
        )
        v[end_col] = v[start_col] - timedelta(days=rng.randint(1, 90))
        column = end_col
    elif kind == "impossible_date":
        start_col = END_START[feed][0][1] if feed != "municipal_participants" else "referral_date"
        candidates = [
            c
            for c in FEED_COLUMNS[feed]
            if c in DATE_COLUMNS and c != "birth_date" and c in cols and v.get(c) is not None
        ]
        column = start_col if start_col in candidates and rng.random() < 0.6 else rng.choice(candidates)
        row.overrides[column] = impossible_date_text(v[column], style, rng)
        v[column] = None
    elif kind == "unknown_code":
        column = UNKNOWN_CODE_COLUMN[feed]
        row.overrides[column] = unknown_label(cfg, style, column, rng)
        v[column] = None
    else:  # missing_required
        candidates = [c for c in REQUIRED[feed] if c in cols and c not in IDENTIFIER_COLUMNS and v.get(c) is not None]
        column = rng.choice(candidates)
        v[column] = None
    row.bad = (kind, column)
    return True


def inject_bad_rows(
    rows: list[Row], feed: str, cfg: PartnerConfig, style: Style, layout: Layout, rng: random.Random
) -> None:
    for row in rows:
        if rng.random() < BAD_RATE:
            make_bad(row, feed, cfg, style, layout, rng)


# ---------------------------------------------------------------------------- rendering
def column_order(cfg: PartnerConfig, style: Style, layout: Layout) -> list[str]:
    preferred = style.order.get(layout.name) or style.order.get("*") or []
    wanted = set(layout.columns) | set(cfg.ignored_headers)
    order = [c for c in preferred if c in wanted]
    order += [c for c in layout.columns if c not in order]
    order += [h for h in cfg.ignored_headers if h not in order]
    return order


def header_for(order: list[str], layout: Layout) -> list[str]:
    return [layout.columns[c][0] if c in layout.columns else c for c in order]


def _number_text(x, decimal: str) -> str:
    text = str(int(x)) if float(x).is_integer() else f"{x:g}"
    return text.replace(".", decimal)


def render_cell(column: str, value, *, rec: Record, cfg: PartnerConfig, style: Style, period: Period):
    xlsx = style.fmt == "xlsx"
    if value is None:
        return None if xlsx else ""
    if column in DATE_COLUMNS:
        if style.date_style == "excel":
            return excel_serial(value) if style.excel_dates_as_serial(period) else value
        if style.date_style == "iso":
            return value.isoformat()
        return f"{value.day:02d}-{value.month:02d}-{value.year:04d}"
    if column in BOOL_COLUMNS:
        return style.bool_labels[0] if value else style.bool_labels[1]
    if column in CODE_COLUMNS:
        return cfg.label(column, value)
    if column == "hours_per_week":
        if xlsx:
            return int(value) if float(value).is_integer() else float(value)
        return _number_text(value, style.decimal)
    if column == "mbo_level" and style.level_format != "{}":
        return style.level_format.format(value)
    if column in ("mbo_level", "employment_number"):
        return int(value) if xlsx else str(value)
    if column == "crebo_code":
        return int(value) if xlsx else str(value)
    if column == "postcode":
        return value if style.postcode_space else value.replace(" ", "")
    if column == "bsn":
        if style.dotted_bsn and rec.flags.get("dotted"):
            return dotted(value)
        return value
    return value


def render_rows(delivery: Delivery, order: list[str]) -> list[list]:
    cfg, style, period = delivery.partner, delivery.style, delivery.period
    out = []
    for row in delivery.rows:
        cells = []
        for column in order:
            if column in row.overrides:
                cells.append(row.overrides[column])
            elif column in delivery.layout.columns:
                cells.append(
                    render_cell(column, row.values.get(column), rec=row.record, cfg=cfg, style=style, period=period)
                )
            else:
                text = ignored_value(cfg.code, column, row.record, row.values)
                cells.append(text if (text or style.fmt == "csv") else None)
        out.append(cells)
    return out


# ---------------------------------------------------------------------------- truth rendering
def truth_value(column: str, value) -> str:
    if value is None:
        return ""
    if column in BOOL_COLUMNS:
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if column == "hours_per_week":
        return _number_text(value, ".")
    return str(value)
