"""Skip rebuilding derived tables whose inputs did not change (warehouse/build_state.py).

An asset asks `Build(...)` whether its tables are up to date. If they are, it reports them with
`unchanged()` (a materialization with the same data version and `rebuilt: false`, so the UI and
Dagster's staleness both say nothing changed) instead of rebuilding; otherwise it rebuilds, tags its
results with `versioned()` and calls `done()`.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from pipelines.resources import IngestResource, WarehouseResource
from warehouse.build_state import input_fingerprint, record_built, up_to_date
from warehouse.db import row_count

UNCHANGED = "Not rebuilt: no new deliveries for the feeds it depends on, and the same code and configuration, since it was built."


def feed_partners(ingest: IngestResource, feeds: Iterable[str]) -> set[str]:
    feeds = set(feeds)
    return {code for code, p in ingest.partners().items() if p.feed in feeds}


class Build:
    """Whether `tables` must be rebuilt in this run: built from the loaded deliveries of `partner_codes`
    (None: every partner; an empty set: configuration and code only)."""

    def __init__(self, context: dg.AssetExecutionContext, warehouse: WarehouseResource, tables: list[str],
                 partner_codes: Iterable[str] | None) -> None:
        self.context, self.engine, self.tables = context, warehouse.engine(), tables
        self.fingerprint = input_fingerprint(self.engine, partner_codes)
        self.needed = not up_to_date(self.engine, tables, self.fingerprint)
        if not self.needed:
            context.log.info(f"{', '.join(tables)}: up to date, not rebuilt (fingerprint {self.fingerprint[:12]})")

    def unchanged(self) -> list[dg.MaterializeResult]:
        return [dg.MaterializeResult(asset_key=t, data_version=dg.DataVersion(self.fingerprint),
                                     metadata={"dagster/row_count": row_count(self.engine, t), "rebuilt": False,
                                               "input_fingerprint": self.fingerprint[:12], "note": UNCHANGED})
                for t in self.tables]

    def versioned(self, result: dg.MaterializeResult) -> dg.MaterializeResult:
        """The result of a rebuilt table, with its data version and `rebuilt: true`."""
        return dg.MaterializeResult(asset_key=result.asset_key, data_version=dg.DataVersion(self.fingerprint),
                                    metadata={**(result.metadata or {}), "rebuilt": True,
                                              "input_fingerprint": self.fingerprint[:12]})

    def done(self) -> None:
        record_built(self.engine, self.tables, self.fingerprint, self.context.run.run_id)
