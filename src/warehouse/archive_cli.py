"""`make archive`: move every delivery the warehouse has recorded out of the landing zone.

Files of every status are moved (loaded, superseded, duplicate, rejected): delivery_log keeps what
became of each. Files not yet processed stay. To rebuild the warehouse from scratch later, move the
archive's partner folders back into the landing folder first.
"""

from __future__ import annotations

import sys

from core.settings import load_settings
from ingest.archive import archive_loaded_files
from warehouse.db import make_engine, read_table, table_exists
from warehouse.ingest_feed import UNROUTED


def processed_paths(log) -> list[str]:
    """delivery_log rows as paths relative to the landing folder."""
    paths = []
    for partner, source in zip(log["partner_code"], log["source_file"]):
        paths.append(source if not isinstance(partner, str) or partner == UNROUTED else f"{partner}/{source}")
    return paths


def main() -> int:
    settings = load_settings()
    engine = make_engine(settings.warehouse_url)
    if not table_exists(engine, "delivery_log"):
        print("Nothing processed yet: no delivery_log in the warehouse.")
        return 0
    present = [p for p in processed_paths(read_table(engine, "delivery_log")) if (settings.landing_dir / p).is_file()]
    moved = archive_loaded_files(settings.landing_dir, settings.archive_dir, present)
    print(f"Archived {len(moved)} processed file(s) from {settings.landing_dir} to {settings.archive_dir}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
