"""Fact assets: the current state of each partner record, rebuilt from staging in one transaction."""


import dagster as dg

from pipelines.metadata import deliveries_behind, table_metadata
from pipelines.resources import WarehouseResource
from schemas.tables import FEED_FACT, FEED_STAGING, TABLES
from transforms.current_records import latest_records
from warehouse.db import read_table, replace_table


def _current_records_asset(feed: str) -> dg.AssetsDefinition:
    name, source = FEED_FACT[feed], FEED_STAGING[feed]
    table = TABLES[name]

    @dg.asset(name=name, group_name="core", deps=[source], kinds={"pandas", "sql"},
              description=f"{table.description} Grain: {table.grain}.")
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        engine = warehouse.engine()
        staging = read_table(engine, source)
        df = latest_records(staging, table)
        replace_table(engine, name, df)
        context.log.info(f"{name}: {len(df)} current records from {len(staging)} staging rows")
        behind = deliveries_behind(read_table(engine, "delivery_log"), set(staging["partner_code"]))
        return dg.MaterializeResult(metadata=table_metadata(table, df, staging_rows=len(staging), **behind))

    return _asset


fact_assets = [_current_records_asset(feed) for feed in FEED_FACT]
