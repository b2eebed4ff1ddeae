"""Generate seeded, messy partner deliveries plus the truth needed to test the pipeline.

See docs/sample_data_spec.md for the contract.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from .broken import UNKNOWN_PARTNER, write_broken_deliveries
from .config import FEED_COLUMNS, PartnerConfig, load_partners, load_reference, reference_dir_for
from .dates import Period, month_end, month_periods, parse_month, quarter_periods
from .deliveries import (
    Delivery,
    column_order,
    header_for,
    inject_bad_rows,
    make_bad,
    render_rows,
    snapshot,
    truth_value,
)
from .partners_style import STYLES
from .world import World
from .writers import csv_bytes, xlsx_bytes

DUPLICATE_PARTNER = "thuiszorg_westland"
DUPLICATE_FROM = "2020-06"
V2_PARTNER = "gemeente_den_haag"
TRUTH_FILES = ["manifest.json", "people.csv", "bad_rows.csv"] + [f"valid_{feed}.csv" for feed in FEED_COLUMNS]


def generate_sample_deliveries(
    out_dir,
    *,
    seed: int = 20191114,
    scale: float = 1.0,
    first_period: str = "2019-01",
    last_period: str = "2024-12",
    partners_dir=None,
    broken_files: bool = True,
) -> dict:
    """Write landing/<partner>/<files> and truth/ under out_dir; return the manifest."""
    out_dir = Path(out_dir)
    parse_month(first_period)
    y, m = parse_month(last_period)
    if first_period > last_period:
        raise ValueError(f"first_period {first_period} is after last_period {last_period}")
    if scale <= 0:
        raise ValueError("scale must be positive")
    partners = {c: p for c, p in load_partners(partners_dir).items() if c in STYLES}
    reference = load_reference(reference_dir_for(partners_dir))

    _clean_previous(out_dir, partners)
    world_end = max(month_end(y, m), date(2024, 12, 31))
    world = World(seed, scale, partners, reference, world_end)
    world.build()
    for code in world.records:
        world.records[code].sort(key=lambda r: r.sort_key)

    deliveries: list[Delivery] = []
    entries: list[dict] = []
    for code, cfg in partners.items():
        style = STYLES[code]
        periods = (quarter_periods if cfg.cadence == "quarterly" else month_periods)(first_period, last_period)
        v2_index = _v2_period_index(cfg, world, periods) if code == V2_PARTNER else None
        dup_index = _duplicate_index(periods) if code == DUPLICATE_PARTNER else None
        for i, period in enumerate(periods):
            layout, rows = snapshot(cfg, world.records[code], period)
            rng = random.Random(f"{seed}|bad|{code}|{period.label}")
            v2_rows = None
            if i == v2_index:
                v2_rows = _prepare_v2(cfg, style, layout, rows, rng)
            else:
                inject_bad_rows(rows, cfg.feed, cfg, style, layout, rng)
            original = Delivery(cfg, style, period, layout, rows, version=1)
            _write(original, out_dir, seed)
            deliveries.append(original)
            entry = _entry(original, "load")
            entries.append(entry)
            if v2_rows is not None:
                v2 = Delivery(cfg, style, period, layout, v2_rows, version=2)
                _write(v2, out_dir, seed)
                deliveries.append(v2)
                entry["status"] = "superseded"
                entry["superseded_by"] = v2.path
                entries.append(_entry(v2, "load"))
            if i == dup_index:
                stem, _dot, ext = original.filename.rpartition(".")
                copy = Delivery(
                    cfg,
                    style,
                    period,
                    layout,
                    rows,
                    version=1,
                    filename=f"{stem} (kopie).{ext}",
                    data=original.data,
                    data_row_numbers=original.data_row_numbers,
                )
                (out_dir / copy.path).write_bytes(copy.data)
                deliveries.append(copy)
                dup_entry = _entry(copy, "duplicate")
                dup_entry["duplicate_of"] = original.path
                entries.append(dup_entry)

    _set_arrival_times(out_dir, deliveries, entries, seed)
    rejected = write_broken_deliveries(out_dir / "landing", last_period) if broken_files else []
    for entry in rejected:
        _touch(out_dir / entry["path"], datetime.combine(month_end(y, m), time(9, 0)) + timedelta(days=6))
    manifest = _write_truth(
        out_dir,
        world,
        deliveries,
        entries,
        seed=seed,
        scale=scale,
        first_period=first_period,
        last_period=last_period,
        rejected_files=rejected,
    )
    return manifest


def _touch(path: Path, when: datetime) -> None:
    stamp = when.replace(tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))


def _set_arrival_times(out_dir: Path, deliveries: list[Delivery], entries: list[dict], seed: int) -> None:
    """File times as partners' arrivals: mostly 3-14 days after the period, now and then weeks late;
    a corrected re-send and a duplicate arrive some weeks after the original (completeness reads these)."""
    status = {e["path"]: e["status"] for e in entries}
    for d in deliveries:
        rng = random.Random(f"{seed}|arrival|{d.path}")
        days = rng.randint(3, 14) if rng.random() < 0.9 else rng.randint(20, 45)
        if d.version > 1 or status.get(d.path) == "duplicate":
            days += 21
        _touch(
            out_dir / d.path,
            datetime.combine(d.period.end, time(8, 0)) + timedelta(days=days, minutes=rng.randint(0, 600)),
        )


def _clean_previous(out_dir: Path, partners: dict[str, PartnerConfig]) -> None:
    """Remove files an earlier run wrote (only ours: <partner>_* in landing/<partner>, truth files)."""
    for code in [*partners, UNKNOWN_PARTNER]:
        folder = out_dir / "landing" / code
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and (path.name.startswith(f"{code}_") or path.name.startswith("aanlevering_")):
                    path.unlink()
    for name in TRUTH_FILES:
        path = out_dir / "truth" / name
        if path.is_file():
            path.unlink()


# ---------------------------------------------------------------------------- special files
def _duplicate_index(periods: list[Period]) -> int | None:
    if not periods:
        return None
    for i, p in enumerate(periods):
        if p.layout_month >= DUPLICATE_FROM:
            return i
    return 1 if len(periods) > 1 else 0


def _v2_period_index(cfg: PartnerConfig, world: World, periods: list[Period]) -> int | None:
    """The middle period, or the nearest one with enough rows and a placement result."""
    if not periods:
        return None
    mid = len(periods) // 2
    order = sorted(range(len(periods)), key=lambda i: (abs(i - mid), i))
    for i in order:
        _, rows = snapshot(cfg, world.records[cfg.code], periods[i])
        if len(rows) >= 5 and any(r.values.get("placement_result") for r in rows):
            return i
    return mid


def _prepare_v2(cfg, style, layout, rows, rng) -> list:
    """Make the original have >= 2 bad rows; return the rows of the corrected re-send."""
    changed = next((r for r in rows if r.values.get("placement_result")), None)
    inject_bad_rows([r for r in rows if r is not changed], cfg.feed, cfg, style, layout, rng)
    others = [r for r in rows if r is not changed and r.bad is None]
    rng.shuffle(others)
    while sum(r.bad is not None for r in rows) < 2 and others:
        make_bad(others.pop(), cfg.feed, cfg, style, layout, rng)
    bad = [r for r in rows if r.bad is not None]
    corrected = bad[:2]
    removable = [r for r in rows if r.bad is None and r is not changed]
    removed = rng.choice(removable) if removable else None
    v2 = []
    for r in rows:
        if r is removed:
            continue
        if any(r is c for c in corrected):
            v2.append(r.make_valid())
        elif changed is not None and r is changed:
            new = r.make_valid()
            codes = [c for c in cfg.codes("placement_result") if c != r.values["placement_result"]]
            new.values["placement_result"] = new.valid_values["placement_result"] = rng.choice(codes)
            v2.append(new)
        else:
            v2.append(r)
    return v2


# ---------------------------------------------------------------------------- writing
def _write(delivery: Delivery, out_dir: Path, seed: int) -> None:
    cfg, style, period = delivery.partner, delivery.style, delivery.period
    name = style.filename(period)
    if delivery.version > 1:
        stem, _, ext = name.rpartition(".")
        name = f"{stem}_v{delivery.version}.{ext}"
    delivery.filename = name
    order = column_order(cfg, style, delivery.layout)
    header = header_for(order, delivery.layout)
    body = render_rows(delivery, order)
    first = style.first_data_row
    delivery.data_row_numbers = list(range(first, first + len(body)))
    if style.fmt == "csv":
        trailing = 0
        if style.trailing_empty_rows:
            lo, hi = style.trailing_empty_rows
            trailing = random.Random(f"{seed}|trail|{cfg.code}|{period.label}|{delivery.version}").randint(lo, hi)
        data = csv_bytes(
            header,
            body,
            delimiter=style.delimiter,
            encoding=style.encoding,
            lineterminator=style.lineterminator,
            trailing_empty=trailing,
        )
    else:
        sheet_rows: list[list] = []
        if style.title:
            sheet_rows.append([style.title(period)])
        while len(sheet_rows) < style.header_row - 1:
            sheet_rows.append([])
        sheet_rows.append(header)
        sheet_rows.extend(body)
        stamp = datetime.combine(period.export_date, time(6, 0))
        data = xlsx_bytes(
            sheet_rows,
            sheet_title=style.sheet_title,
            timestamp=stamp,
            creator=style.creator,
            notes_sheet=style.notes_sheet,
        )
    delivery.data = data
    path = out_dir / delivery.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _entry(d: Delivery, status: str) -> dict:
    bad = sum(r.bad is not None for r in d.rows)
    return {
        "path": d.path,
        "partner_code": d.partner.code,
        "feed": d.partner.feed,
        "period": d.period.label,
        "version": d.version,
        "status": status,
        "duplicate_of": None,
        "superseded_by": None,
        "data_rows": len(d.rows),
        "valid_rows": len(d.rows) - bad,
        "bad_rows": bad,
    }


def _csv_text(header: list[str], rows: list[list]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _write_truth(out_dir: Path, world: World, deliveries: list[Delivery], entries: list[dict], **meta) -> dict:
    truth = out_dir / "truth"
    truth.mkdir(parents=True, exist_ok=True)
    status = {e["path"]: e["status"] for e in entries}

    valid: dict[str, list[list]] = {feed: [] for feed in FEED_COLUMNS}
    bad_rows: list[list] = []
    for d in deliveries:
        feed = d.partner.feed
        for row, number in zip(d.rows, d.data_row_numbers):
            if row.bad is not None:
                bad_rows.append([d.path, number, row.bad[0], row.bad[1]])
            elif status[d.path] == "load":
                valid[feed].append(
                    [d.path, number, row.record.key] + [truth_value(c, row.values.get(c)) for c in FEED_COLUMNS[feed]]
                )
    for feed, rows in valid.items():
        (truth / f"valid_{feed}.csv").write_bytes(
            _csv_text(["path", "row_number", "record_key"] + FEED_COLUMNS[feed], rows)
        )
    (truth / "bad_rows.csv").write_bytes(_csv_text(["path", "row_number", "kind", "column"], bad_rows))

    people = []
    for p in sorted(world.persons, key=lambda p: p.idx):
        people.append(
            [
                p.idx,
                p.bsn or "",
                p.onderwijsnummer or "",
                p.first_name,
                p.last_name,
                p.birth_date.isoformat(),
                p.postcode or "",
                p.municipality_code,
                p.postcode_area,
                p.role,
                p.counts["spells"],
                p.counts["enrolments"],
                p.counts["trajectories"],
            ]
        )
    (truth / "people.csv").write_bytes(
        _csv_text(
            [
                "person_index",
                "bsn",
                "onderwijsnummer",
                "first_name",
                "last_name",
                "birth_date",
                "postcode",
                "municipality_code",
                "postcode_area",
                "primary_role",
                "n_employment_spells",
                "n_enrolments",
                "n_trajectories",
            ],
            people,
        )
    )

    expected = dict.fromkeys(FEED_COLUMNS, 0)
    for e in entries:
        if e["status"] == "load":
            expected[e["feed"]] += e["valid_rows"]
    manifest = {
        "seed": meta["seed"],
        "scale": meta["scale"],
        "first_period": meta["first_period"],
        "last_period": meta["last_period"],
        "files": entries,
        "expected_staging_rows": expected,
        "persons": len(world.persons),
        "rejected_files": meta["rejected_files"],
    }
    (truth / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest
