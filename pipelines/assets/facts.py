"""Fact assets: the current state of each partner record, rebuilt from staging in one transaction."""

import dagster as dg

from pipelines.incremental import Build, feed_partners
from pipelines.metadata import definition_metadata, deliveries_behind, warehouse_table_metadata
from pipelines.resources import IngestResource, WarehouseResource
from schemas.tables import FEED_FACT, FEED_STAGING, TABLES
from transforms.current_records import added_records_sql, latest_records_sql
from warehouse.db import TOUCHED_KEYS, distinct_values, read_table, replace_rows, replace_table_from_select, row_count


def _current_records_asset(feed: str) -> dg.AssetsDefinition:
    name, source = FEED_FACT[feed], FEED_STAGING[feed]
    table = TABLES[name]

    @dg.asset(
        name=name,
        group_name="core",
        deps=[source],
        kinds={"sql"},
        description=f"{table.description} Grain: {table.grain}.",
        metadata=definition_metadata(table),
    )
    def _asset(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, ingest: IngestResource
    ) -> dg.MaterializeResult:
        build = Build(context, warehouse, [name], feed_partners(ingest, [feed]))
        if not build.needed:
            return build.unchanged()[0]
        engine = warehouse.engine()
        added = build.added()
        staging_rows = row_count(engine, source)
        if added is None:
            rows = replace_table_from_select(engine, name, latest_records_sql(TABLES[source], table))
            context.log.info(f"{name}: {rows} current records from {staging_rows} staging rows")
        else:  # only new deliveries since it was built: just their records
            keys, changed = added_records_sql(TABLES[source], table, TOUCHED_KEYS)
            written, rows = replace_rows(engine, name, ["partner_code", "record_key"], keys, changed, {"added": added})
            context.log.info(
                f"{name}: {written} current records updated from the new deliveries ({len(added)}); {rows} in all"
            )
        behind = deliveries_behind(read_table(engine, "delivery_log"), distinct_values(engine, source, "partner_code"))
        result = build.versioned(
            dg.MaterializeResult(
                asset_key=name,
                metadata=warehouse_table_metadata(
                    engine,
                    table,
                    rows,
                    staging_rows=staging_rows,
                    updated_from_new_deliveries=added is not None,
                    **behind,
                ),
            )
        )
        build.done()
        return result

    return _asset


fact_assets = [_current_records_asset(feed) for feed in FEED_FACT]
