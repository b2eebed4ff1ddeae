"""`make archive`: move every delivery the warehouse has recorded out of the landing zone.

Files of every status are moved (loaded, superseded, duplicate, rejected): delivery_log keeps what
became of each. Files not yet processed stay, and so do links (never followed, so never moved: they
are reported) and hidden files (uploads in progress, logged as skipped). To rebuild the warehouse
from scratch later, move the archive's partner folders back into the landing folder first.
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.settings import load_settings
from ingest.archive import archive_loaded_files
from warehouse.db import make_engine, read_table, table_exists
from warehouse.ingest_feed import UNROUTED


def processed_paths(log) -> list[str]:
    """delivery_log rows as paths relative to the landing folder (hidden files, logged as skipped, left out)."""
    paths = []
    for partner, source, status in zip(log["partner_code"], log["source_file"], log["delivery_status"], strict=True):
        if status == "skipped":
            continue
        paths.append(source if not isinstance(partner, str) or partner == UNROUTED else f"{partner}/{source}")
    return paths


def split_links(landing_dir: Path, relative_paths: list[str]) -> tuple[list[str], list[str]]:
    """(regular files present, links) among the paths; a path under a linked folder counts as a link."""
    files, links = [], []
    for relative in relative_paths:
        parts = Path(relative).parts
        if any((landing_dir.joinpath(*parts[: i + 1])).is_symlink() for i in range(len(parts))):
            links.append(relative)
        elif (landing_dir / relative).is_file():
            files.append(relative)
    return files, links


def main() -> int:
    settings = load_settings()
    engine = make_engine(settings.warehouse_url)
    if not table_exists(engine, "delivery_log"):
        print("Nothing processed yet: no delivery_log in the warehouse.")
        return 0
    present, links = split_links(settings.landing_dir, processed_paths(read_table(engine, "delivery_log")))
    moved = archive_loaded_files(settings.landing_dir, settings.archive_dir, present)
    print(f"Archived {len(moved)} processed file(s) from {settings.landing_dir} to {settings.archive_dir}.")
    if links:
        print(
            f"Left {len(links)} link(s) in place (links are never followed or moved; delivery_log has them as "
            "rejected, FILE_LINK): " + ", ".join(sorted(links))
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
