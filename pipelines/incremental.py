"""Skip rebuilding derived tables whose inputs did not change (warehouse/build_state.py).

An asset asks `Build(...)` whether its tables are up to date. If they are, it reports them with
`unchanged()` (a materialization with the same data version and `rebuilt: false`, so the UI and
Dagster's staleness both say nothing changed) instead of rebuilding; otherwise it rebuilds, tags its
results with `versioned()` and calls `done()`. A run tagged `zorgstroom/full-rebuild=true` (the UI's
Launchpad) or a run process with ZORGSTROOM_FULL_REBUILD=1 (`ZORGSTROOM_FULL_REBUILD=1 make pipeline`) rebuilds
everything.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable

import dagster as dg

from pipelines.resources import IngestResource, WarehouseResource
from warehouse.build_state import input_fingerprint, record_built, up_to_date
from warehouse.db import row_count

UNCHANGED = "Not rebuilt: no new deliveries for the feeds it depends on, and the same code and configuration, since it was built."
#: Run tag that makes every derived table rebuild, whatever its fingerprint (after repairing a table by hand, say).
FULL_REBUILD_TAG = "zorgstroom/full-rebuild"


def feed_partners(ingest: IngestResource, feeds: Iterable[str]) -> set[str]:
    feeds = set(feeds)
    return {code for code, p in ingest.partners().items() if p.feed in feeds}


class Build:
    """Whether `tables` must be rebuilt in this run: built from the loaded deliveries of `partner_codes`
    (None: every partner; an empty set: configuration and code only)."""

    def __init__(self, context: dg.AssetExecutionContext, warehouse: WarehouseResource, tables: list[str],
                 partner_codes: Iterable[str] | None) -> None:
        self.context, self.engine, self.tables = context, warehouse.engine(), tables
        # the derived tables it reads, as they were built (staging tables are covered by the deliveries)
        upstream = [k.to_user_string() for k in context.assets_def.dependency_keys]
        self.fingerprint = input_fingerprint(self.engine, partner_codes, upstream=upstream)
        forced = context.run.tags.get(FULL_REBUILD_TAG) == "true" or os.environ.get("ZORGSTROOM_FULL_REBUILD") == "1"
        self.needed = forced or not up_to_date(self.engine, tables, self.fingerprint)
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


def incrementally(tables: list[str]):
    """Wrap a statistics asset body (a generator of results for `tables`): skipped as a whole when no
    delivery was loaded, and code and configuration are the same, since the tables were built."""
    def wrap(body):
        @functools.wraps(body)
        def run(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
            build = Build(context, warehouse, tables, None)
            if not build.needed:
                yield from build.unchanged()
                return
            results = [build.versioned(r) for r in body(context, warehouse)]
            build.done()  # only after every table of the asset was written
            yield from results
        return run
    return wrap
