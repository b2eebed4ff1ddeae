"""Skip rebuilding derived tables whose inputs did not change, and apply new deliveries on their own
where a table allows it (warehouse/build_state.py).

An asset asks `Build(...)` whether its tables are up to date. If they are, it reports them with
`unchanged()` (a materialization with the same data version and `rebuilt: false`, so the UI and
Dagster's staleness both say nothing changed) instead of rebuilding; otherwise it rebuilds, tags its
results with `versioned()` and calls `done()`. A table whose rows depend on known deliveries only (a
partner's current records, a person's residence history) asks `added()` first: the new deliveries
when they are the only change since it was built, which it then applies on its own
(`updated_from_new_deliveries` in the metadata), or None: rebuild whole. A run tagged
`zorgstroom/full-rebuild=true` (the UI's Launchpad) or a run process with ZORGSTROOM_FULL_REBUILD=1
(`ZORGSTROOM_FULL_REBUILD=1 make pipeline`) rebuilds everything whole.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable

import dagster as dg

from pipelines.metadata import delivery_files_metadata, warehouse_table_metadata
from pipelines.resources import IngestResource, WarehouseResource
from schemas.tables import TABLES
from warehouse.build_state import (
    base_fingerprint,
    combined_fingerprint,
    deliveries_added_since_built,
    loaded_deliveries,
    record_built,
    up_to_date,
)
from warehouse.db import row_count

UNCHANGED = (
    "Not rebuilt: no new deliveries for the feeds it depends on, and the same code and configuration, since it was "
    "built."
)
#: Run tag that makes every derived table rebuild, whatever its fingerprint (after repairing a table by hand, say).
FULL_REBUILD_TAG = "zorgstroom/full-rebuild"


def feed_partners(ingest: IngestResource, feeds: Iterable[str]) -> set[str]:
    feeds = set(feeds)
    return {code for code, feed in ingest.partner_feeds().items() if feed in feeds}


def full_rebuild_forced(
    context: dg.OpExecutionContext | dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> bool:
    return context.run.tags.get(FULL_REBUILD_TAG) == "true" or os.environ.get("ZORGSTROOM_FULL_REBUILD") == "1"


class Build:
    """Whether `tables` must be rebuilt in this run: built from the loaded deliveries of `partner_codes`
    (None: every partner; an empty set: configuration and code only)."""

    def __init__(
        self,
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        tables: list[str],
        partner_codes: Iterable[str] | None,
    ) -> None:
        self.context, self.engine, self.tables = context, warehouse.engine(), tables
        # the derived tables it reads, as they were built (staging tables are covered by the deliveries)
        upstream = [k.to_user_string() for k in context.assets_def.dependency_keys]
        self.base = base_fingerprint(self.engine, upstream=upstream)
        self.deliveries = loaded_deliveries(self.engine, partner_codes)
        self.fingerprint = combined_fingerprint(self.base, self.deliveries)
        self.forced = full_rebuild_forced(context)
        self.needed = self.forced or not up_to_date(self.engine, tables, self.fingerprint)
        self._covers = False
        if not self.needed:
            context.log.info(f"{', '.join(tables)}: up to date, not rebuilt (fingerprint {self.fingerprint[:12]})")

    def added(self) -> list[str] | None:
        """The deliveries to apply on their own (the only change since the tables were built), or None:
        rebuild whole. Either way `done()` then records the deliveries the tables cover."""
        self._covers = True
        if self.forced:
            return None
        found = [deliveries_added_since_built(self.engine, t, self.base, self.deliveries) for t in self.tables]
        if not found or not found[0] or any(f != found[0] for f in found):
            return None  # nothing new although the fingerprint differs (state lost, say): rebuild whole
        return found[0]

    def unchanged(self) -> list[dg.MaterializeResult]:
        """Materializations of the tables as they are: row count, column schema, grain and a preview,
        as after a rebuild (the UI's asset page shows the latest materialization's metadata)."""
        return [
            dg.MaterializeResult(
                asset_key=t,
                data_version=dg.DataVersion(self.fingerprint),
                metadata=warehouse_table_metadata(
                    self.engine,
                    TABLES[t],
                    row_count(self.engine, t),
                    rebuilt=False,
                    input_fingerprint=self.fingerprint[:12],
                    note=UNCHANGED,
                    # delivery ids are partner/file@sha256: the files behind the table, as after a rebuild
                    **(
                        delivery_files_metadata(d.rsplit("@", 1)[0] for d in self.deliveries) if self.deliveries else {}
                    ),
                ),
            )
            for t in self.tables
        ]

    def versioned(self, result: dg.MaterializeResult) -> dg.MaterializeResult:
        """The result of a rebuilt (or updated) table, with its data version and `rebuilt: true`."""
        return dg.MaterializeResult(
            asset_key=result.asset_key,
            data_version=dg.DataVersion(self.fingerprint),
            metadata={**(result.metadata or {}), "rebuilt": True, "input_fingerprint": self.fingerprint[:12]},
        )

    def done(self) -> None:
        covers = (self.base, self.deliveries) if self._covers else None
        record_built(self.engine, self.tables, self.fingerprint, self.context.run.run_id, covers=covers)


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
