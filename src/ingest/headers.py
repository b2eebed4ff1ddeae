"""Map a file's headers onto canonical columns with the partner's layout for the delivery's period.

A required column that no header maps to rejects the file (saying which, and which headers were
found). A header neither mapped nor listed as ignored is reported (delivery_log.unmapped_headers),
never silently dropped. Two headers mapping onto one column reject the file: no guessing (two headers
of the same name are refused before, by the reader). A header that looks like an identifier (a BSN
typed into the header row) is masked wherever headers are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.errors import DeliveryRejected
from ingest.feeds import FeedSpec
from ingest.identifiers import mask_identifiers
from ingest.partner_config import Layout, PartnerConfig, normalise_header
from ingest.readers import ROW_NUMBER, RawTable


@dataclass
class MappedTable:
    frame: pd.DataFrame  # canonical input columns (strings) + ROW_NUMBER
    source_headers: dict[str, str]  # canonical column -> header in the file
    unmapped_headers: list[str]
    layout: str


def map_headers(raw: RawTable, partner: PartnerConfig, layout: Layout, spec: FeedSpec) -> MappedTable:
    by_norm: dict[str, list[str]] = {}
    for h in raw.headers:
        by_norm.setdefault(normalise_header(h), []).append(h)

    source: dict[str, str] = {}
    for column, aliases in layout.columns.items():
        hits = [h for a in dict.fromkeys(normalise_header(a) for a in aliases) for h in by_norm.get(a, [])]
        if len(hits) > 1:
            raise DeliveryRejected(
                "FILE_AMBIGUOUS_HEADERS",
                f"Headers {hits} all map to column {column!r} (layout {layout.name} of {partner.partner_code}). "
                "Remove the duplicate column, or fix the mapping file.",
            )
        if hits:
            source[column] = hits[0]

    missing = [c.name for c in spec.columns if c.required and c.name not in source and c.name in layout.columns]
    if not any(p in source for p in spec.person_identifiers):
        missing += [p for p in spec.person_identifiers if p in layout.columns and p not in missing]
    if missing:
        wanted = {m: list(layout.columns.get(m, ())) for m in missing}
        raise DeliveryRejected(
            "FILE_MISSING_COLUMNS",
            f"Required columns are missing: {', '.join(f'{m} (header {wanted[m]})' for m in missing)}. "
            f"Headers found: {mask_identifiers(raw.headers)}. Add the columns to the export, or, if the layout changed, "
            f"send the new header names so the mapping ({partner.partner_code}.yaml, layout {layout.name}) can be updated.",
        )

    ignored = {normalise_header(h) for h in partner.ignored_headers}
    mapped = set(source.values())
    unmapped = mask_identifiers([h for h in raw.headers if h not in mapped and normalise_header(h) not in ignored])

    n = len(raw.frame)
    columns = {}
    for c in spec.columns:
        columns[c.name] = (
            raw.frame[source[c.name]].str.strip()
            if c.name in source
            else pd.Series([""] * n, dtype="str", index=raw.frame.index)
        )
    frame = pd.DataFrame(columns, index=raw.frame.index)
    frame[ROW_NUMBER] = raw.frame[ROW_NUMBER]
    return MappedTable(frame, source, unmapped, layout.name)
