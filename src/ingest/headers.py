"""Map a file's headers onto canonical columns with the partner's layout for the delivery's period.

A column a statistic needs (feeds.py needed_by) that no header maps to rejects the file (saying
which, and which headers were found); so does a missing input of a derived field. A header neither
mapped nor listed as ignored is reported (delivery_log.unmapped_headers), never silently dropped.
Two headers mapping onto one column reject the file: no guessing (two headers of the same name are
refused before, by the reader). A header that looks like an identifier (a BSN typed into the header
row) is masked wherever headers are shown.
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
    frame: pd.DataFrame  # canonical input columns and the layout's inputs (strings) + ROW_NUMBER
    source_headers: dict[str, str]  # canonical column or input -> header in the file
    unmapped_headers: list[str]
    layout: str


def map_headers(raw: RawTable, partner: PartnerConfig, layout: Layout, spec: FeedSpec) -> MappedTable:
    by_norm: dict[str, list[str]] = {}
    for h in raw.headers:
        by_norm.setdefault(normalise_header(h), []).append(h)

    source: dict[str, str] = {}
    for column, aliases in layout.sources.items():  # canonical columns and the inputs of derived fields
        hits = [h for a in dict.fromkeys(normalise_header(a) for a in aliases) for h in by_norm.get(a, [])]
        if len(hits) > 1:
            raise DeliveryRejected(
                "FILE_AMBIGUOUS_HEADERS",
                f"Headers {hits} all hold column {column!r}. Remove the duplicate column from the export (or, if "
                "both belong in it, tell the pipeline team which one holds the value).",
            )
        if hits:
            source[column] = hits[0]

    # a column a statistic needs is missing from the file: reject (its values would silently be empty)
    missing = [c.name for c in spec.columns if c.needed and c.name not in source and c.name in layout.columns]
    missing += [name for name in layout.inputs if name not in source]
    if not any(p in source for p in spec.person_identifiers):
        missing += [p for p in spec.person_identifiers if p in layout.columns and p not in missing]
    if missing:
        wanted = {m: list(layout.sources.get(m, ())) for m in missing}
        raise DeliveryRejected(
            "FILE_MISSING_COLUMNS",
            f"Required columns are missing: {', '.join(f'{m} (header {wanted[m]})' for m in missing)}. "
            f"Headers found: {mask_identifiers(raw.headers)}. Add the columns to the export, or, if the export's "
            "layout changed, send the new header names to the pipeline team so the mapping can follow.",
        )

    ignored = {normalise_header(h) for h in (*partner.ignored_headers, *layout.ignored_headers)}
    mapped = set(source.values())
    unmapped = mask_identifiers([h for h in raw.headers if h not in mapped and normalise_header(h) not in ignored])

    n = len(raw.frame)
    columns = {}
    for name in [*spec.names, *layout.inputs]:
        columns[name] = (
            raw.frame[source[name]].str.strip()
            if name in source
            else pd.Series([""] * n, dtype="str", index=raw.frame.index)
        )
    frame = pd.DataFrame(columns, index=raw.frame.index)
    frame[ROW_NUMBER] = raw.frame[ROW_NUMBER]
    return MappedTable(frame, source, unmapped, layout.name)
