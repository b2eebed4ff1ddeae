"""Limits on one delivery file (config/ingest_limits.yaml), checked before the file is materialised.

A file past a limit is rejected whole (`over_limit`): its reason names the limit and where to raise
it, so an operator who trusts the partner's export can. The limits bound what reading one file may
cost: a far-away cell in a spreadsheet, a header of a million columns or a file of empty lines
cannot make the reader allocate more than `max_cells` cells. What cannot be bounded up front (the
xlsx reader's own allocations, time) is bounded by reading in a worker process with a memory and
time limit (ingest/sandbox.py).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

import yaml

from core.errors import ConfigError, DeliveryRejected
from core.paths import CONFIG_DIR

LIMITS_FILE = CONFIG_DIR / "ingest_limits.yaml"


@dataclass(frozen=True)
class ReadLimits:
    max_rows: int = 2_000_000
    max_columns: int = 1_000
    max_cells: int = 30_000_000
    max_header_chars: int = 65_536
    max_cell_chars: int = 32_767
    worker_memory_mib: int = 4_096
    worker_seconds: int = 600

    @property
    def worker_memory_bytes(self) -> int:
        return self.worker_memory_mib * 2**20


def load_read_limits(path: Path = LIMITS_FILE) -> ReadLimits:
    """The limits from the YAML file: every key known, every value a positive whole number."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path.name}: cannot be read ({exc})") from None
    known = {f.name for f in fields(ReadLimits)}
    if not isinstance(raw, dict) or set(raw) - known:
        raise ConfigError(f"{path.name}: unknown keys {sorted(set(raw) - known) if isinstance(raw, dict) else raw}")
    bad = {k: v for k, v in raw.items() if not isinstance(v, int) or isinstance(v, bool) or v <= 0}
    if bad:
        raise ConfigError(f"{path.name}: limits must be positive whole numbers, not {bad}")
    return ReadLimits(**raw)


@cache
def default_limits() -> ReadLimits:
    """The limits of config/ingest_limits.yaml, read once per process."""
    return load_read_limits()


#: Reason code per limit of a whole file.
REASON_CODES = {
    "max_rows": "FILE_TOO_MANY_ROWS",
    "max_columns": "FILE_TOO_MANY_COLUMNS",
    "max_cells": "FILE_TOO_MANY_CELLS",
    "max_header_chars": "FILE_HEADER_TOO_LONG",
}


def over_limit(limit: str, found: str, value: int, hint: str) -> DeliveryRejected:
    """The rejection of a file past `limit` (a ReadLimits field): what was found, the limit, what to do."""
    return DeliveryRejected(
        REASON_CODES[limit],
        f"The file {found}; the read limit is {limit} = {value:,}. {hint} "
        "If the export is right as it is, ask the pipeline team to raise the limit.",
    )
