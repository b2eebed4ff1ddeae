"""Check a partner mapping, and a sample delivery against it, before any run.

    python -m ingest.check_partner                       # every mapping: valid or what is wrong
    python -m ingest.check_partner PARTNER               # one mapping, its layouts in short
    python -m ingest.check_partner PARTNER FILE [--rows N]  # and how FILE would load

(`make check-partner PARTNER=<code> [FILE=<delivery>]`.) With a file it shows which headers are
mapped, ignored or unmapped, the columns missing, every label the mapping does not know with the
valid codes and the reference file that lists them, the rows that would be quarantined by reason,
and how the first rows parse. Identifiers are never printed: BSNs and onderwijsnummers appear as
the kind of number they are, birth dates as a year, postcodes as a municipality. Nothing is written.
Exit code 0 when the mapping is valid (and the file would load), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from core.errors import ConfigError, DeliveryRejected
from core.settings import DEVELOPMENT_PSEUDONYM_KEY
from ingest.deliveries import describe_file, parse_period_and_version
from ingest.feeds import CODE, IDENTIFYING_KINDS, feed_spec
from ingest.headers import map_headers
from ingest.partner_config import (
    BrokenMapping,
    Layout,
    PartnerConfig,
    default_partners_dir,
    load_partner_mapping,
    load_partner_mappings,
    normalise_header,
    shown_path,
)
from ingest.process import ReadDelivery, validate_deliveries
from ingest.readers import read_delivery_file
from ingest.reference import Reference
from ingest.written_forms import rewrite

SHOWN_ROWS = 5


def _print(lines: list[str]) -> None:
    print("\n".join(lines))


def describe_layout(layout: Layout) -> list[str]:
    era = f"{layout.valid_from or 'the start'} to {layout.valid_to or 'now'}"
    lines = [f"  layout {layout.name!r} ({era})" + (f", sheet {layout.sheet!r}" if layout.sheet else "")]
    lines.append(f"    mapped: {', '.join(layout.columns)}")
    if layout.derived:
        lines.append(
            "    derived: "
            + "; ".join(
                f"{c} ({len(r)} rules over {', '.join(dict.fromkeys(n for x in r for n in x.names))})"
                for c, r in layout.derived.items()
            )
        )
    if layout.inputs:
        lines.append(f"    inputs: {', '.join(f'{n} <- {a[0]}' for n, a in layout.inputs.items())}")
    if layout.patterns:
        lines.append(f"    patterns: {', '.join(f'{c}: {p.pattern}' for c, p in layout.patterns.items())}")
    if layout.not_delivered:
        lines.append(f"    not delivered: {', '.join(sorted(layout.not_delivered))}")
    if layout.decimal_separator:
        lines.append(f"    decimal separator: {layout.decimal_separator!r}")
    return lines


def check_all(folder: Path, reference: Reference) -> int:
    mappings = load_partner_mappings(folder, reference)
    lines = [f"partner mappings in {shown_path(folder)}: {len(mappings.valid)} valid, {len(mappings.broken)} broken"]
    lines += [f"  BROKEN {code}: {b.error}" for code, b in sorted(mappings.broken.items())]
    lines += [f"  ok     {code} ({p.feed}, {len(p.layouts)} layout(s))" for code, p in sorted(mappings.valid.items())]
    _print(lines)
    return 1 if mappings.broken else 0


def _shown_cell(value: object, kind: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def check_file(partner: PartnerConfig, path: Path, reference: Reference, rows: int) -> int:
    spec = feed_spec(partner.feed)
    lines = [f"file {path.name}"]
    try:
        period, version = parse_period_and_version(path.name)
        layout = partner.layout_for(period.start_month)
        lines.append(f"  period {period.label}, version {version}: layout {layout.name!r}")
    except DeliveryRejected as exc:
        _print([*lines, f"  REJECTED ({exc.reason_code}): {exc.message}"])
        return 1
    except ConfigError as exc:
        _print([*lines, f"  NO LAYOUT: {exc}"])
        return 1
    try:
        raw = read_delivery_file(path, partner.known_headers, sheet=layout.sheet)
        mapped = map_headers(raw, partner, layout, spec)
    except DeliveryRejected as exc:
        _print([*lines, f"  REJECTED ({exc.reason_code}): {exc.message}"])
        return 1
    lines.append(f"  read as {raw.file_format}, header on row {raw.header_row_number}, {len(raw.frame)} data rows")
    by_header = {h: c for c, h in mapped.source_headers.items()}
    ignored = {normalise_header(h) for h in layout.ignored_headers}
    lines.append("  headers:")
    for h in raw.headers:
        if h in by_header:
            what = f"mapped to {by_header[h]}" if by_header[h] in spec.names else f"input {by_header[h]}"
        elif normalise_header(h) in ignored:
            what = "ignored (listed in ignored_headers; never read)"
        else:
            what = "UNMAPPED: neither mapped nor ignored (its values are not loaded)"
        lines.append(f"    {h!r}: {what}")
    absent = [c for c in layout.columns if c not in mapped.source_headers]
    if absent:
        lines.append(f"  mapped columns absent from the file (empty on every row): {', '.join(absent)}")

    unknown_total = 0
    for col in spec.columns:
        if col.kind != CODE or col.name not in mapped.source_headers:
            continue
        labels = layout.values.get(col.name, {})
        written = rewrite(mapped.frame[col.name], layout.patterns.get(col.name), None)
        counts = Counter(v for v in written if v and v.casefold() not in labels)
        if not counts:
            continue
        unknown_total += sum(counts.values())
        codes = sorted(reference.code_lists[col.code_list or ""])
        lines.append(
            f"  unknown labels in {mapped.source_headers[col.name]!r} ({col.name}): "
            + ", ".join(f"{v!r} x{n}" for v, n in counts.most_common(20))
        )
        lines.append(f"    labels the mapping knows: {', '.join(labels) or '(none)'}")
        lines.append(f"    valid codes (config/reference/{col.code_list}.csv): {', '.join(codes)}")

    delivery = describe_file(path, partner.partner_code, path.parent)
    item = ReadDelivery(delivery, period, version, mapped, raw.row_issues, raw.file_format)
    result = validate_deliveries([item], partner, reference, DEVELOPMENT_PSEUDONYM_KEY.encode())[delivery.delivery_id]
    lines.append(
        f"  would load {len(result.accepted)} of {result.rows_read} rows; {result.rows_quarantined} quarantined"
    )
    rejected = result.quarantine[result.quarantine["severity"] == "row_rejected"]
    for (code, columns), group in rejected.groupby(["reason_code", "columns"], sort=True):
        lines.append(
            f"    {code} in {columns}: {len(group)} row(s), e.g. row {group['source_row_number'].iloc[0]}: "
            f"{group['reason'].iloc[0]}"
        )
    flagged = result.quarantine[result.quarantine["severity"] == "flagged"]
    if len(flagged):
        lines.append(f"    flagged (loaded): {len(flagged)} value(s), e.g. {flagged['reason'].iloc[0]}")
    shown = result.accepted.head(rows)
    if len(shown):
        columns = ["source_row_number", "person_id_kind", "birth_year", "residence_municipality_code"] + [
            c.target for c in spec.columns if c.target and c.kind not in IDENTIFYING_KINDS
        ]
        lines.append(f"  the first {len(shown)} accepted rows as they would be staged (identifiers shown by kind):")
        for _, row in shown.iterrows():
            cells = ", ".join(f"{c}={_shown_cell(row[c], '')}" for c in columns if c in row and _shown_cell(row[c], ""))
            lines.append(f"    {cells}")
    _print(lines)
    return 1 if unknown_total or len(rejected) else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ingest.check_partner", description=__doc__.splitlines()[0])
    ap.add_argument("partner", nargs="?", help="partner code (the mapping file's name); none: every mapping")
    ap.add_argument("file", nargs="?", type=Path, help="a sample delivery to check against the mapping")
    ap.add_argument(
        "--partners-dir", type=Path, default=None, help="default: ZORGSTROOM_PARTNERS_DIR or config/partners"
    )
    ap.add_argument("--rows", type=int, default=SHOWN_ROWS, help="accepted rows to show (default 5)")
    args = ap.parse_args(argv)
    folder = args.partners_dir or default_partners_dir()
    reference = Reference()
    if not args.partner:
        return check_all(folder, reference)
    path = folder / f"{args.partner}.yaml"
    if not path.exists():
        _print(
            [
                f"no mapping {shown_path(path)}: onboarding {args.partner} starts with that file (README, "
                "'Onboarding a partner'; every key in docs/mapping_reference.md)"
            ]
        )
        return 1
    loaded = load_partner_mapping(path, reference)
    if isinstance(loaded, BrokenMapping):
        _print([f"mapping {shown_path(path)} is BROKEN:", f"  {loaded.error}"])
        return 1
    _print(
        [f"mapping {shown_path(path)} is valid: {loaded.partner_name} ({loaded.feed})"]
        + [line for layout in loaded.layouts for line in describe_layout(layout)]
    )
    if args.file is None:
        return 0
    if not args.file.is_file():
        _print([f"no file {args.file}"])
        return 1
    return check_file(loaded, args.file, reference, args.rows)


if __name__ == "__main__":
    sys.exit(main())
