"""Broken partner mappings, reported first and in plain words: when the definitions load (the command
line and the UI's code location), at the top of each staging step's log, in its metadata, and by a check.

A broken mapping stops only its own partner's deliveries: its files wait in the landing folder (they
are not logged as delivered or rejected) and load on the first run after the mapping is fixed.
"""

from __future__ import annotations

import logging
import sys

import dagster as dg

from core.paths import as_path
from ingest.partner_config import load_partner_mappings
from pipelines.resources import IngestResource
from warehouse.partner_mappings import broken_mapping_lines, waiting_files

LOG = logging.getLogger("zorgstroom.mappings")


def announce_broken_mappings() -> list[str]:
    """When the definitions load: each broken mapping on stderr, before anything else runs."""
    try:
        lines = broken_mapping_lines(load_partner_mappings())
    except Exception as exc:  # a missing folder or reference file: the run will say so in full
        lines = [f"partner mappings could not be read: {exc}"]
    for line in lines:
        print(f"zorgstroom: {line}", file=sys.stderr)
    return lines


def report_broken_mappings(context, ingest: IngestResource, feed: str) -> dict[str, dict]:
    """At the top of a staging step: an error line per broken mapping of this feed (or of unknown feed),
    with the files that wait; returns them for the step's metadata."""
    mappings = ingest.partner_mappings()
    landing = as_path(ingest.landing_dir)
    waiting = {}
    for code, b in sorted(mappings.broken.items()):
        if b.identity is not None and b.identity.feed != feed:
            continue
        files = waiting_files(landing, code)
        waiting[code] = {"files_waiting": len(files), "mapping": str(b.source.name), "error": b.error}
        context.log.error(
            f"partner {code}: mapping broken, {len(files)} file(s) wait for a valid mapping; the other partners' "
            f"deliveries load as usual. Fix it and check it with `make check-partner PARTNER={code}`. {b.error}"
        )
    return waiting


@dg.asset_check(
    asset="dim_partner",
    name="partner_mappings_are_valid",
    blocking=False,
    description="Every partner mapping (config/partners/*.yaml) validates. A broken one stops only its own "
    "partner's deliveries, which wait in the landing folder until the mapping is fixed (`make check-partner`).",
)
def partner_mappings_are_valid(ingest: IngestResource) -> dg.AssetCheckResult:
    mappings = ingest.partner_mappings()
    landing = as_path(ingest.landing_dir)
    waiting = {code: len(waiting_files(landing, code)) for code in sorted(mappings.broken)}
    broken = {code: {"error": b.error, "files_waiting": waiting[code]} for code, b in sorted(mappings.broken.items())}
    return dg.AssetCheckResult(
        passed=not broken,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "valid_mappings": len(mappings.valid),
            "broken_mappings": len(broken),
            "broken": dg.MetadataValue.json(broken),
            "files_waiting": sum(waiting.values()),
        },
    )


mapping_checks = [partner_mappings_are_valid]
