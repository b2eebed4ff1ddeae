"""The BI release: after the published tables and their blocking checks, their copy for BI tools."""

import dagster as dg

from pipelines.resources import WarehouseResource
from warehouse.bi_release import bi_tables, write_release

BI_TABLES = bi_tables()


@dg.asset(
    name="bi_release",
    group_name="published",
    deps=BI_TABLES,
    kinds={"duckdb"},
    description="What BI tools open: the published tables and the dimensions they join (not dim_person), "
    "written to a DuckDB file of their own (data/bi/zorgstroom.duckdb, ZORGSTROOM_BI_PATH) and swapped in whole "
    "with one rename after the tables and their blocking checks passed. A BI connection held open never blocks "
    "a run and sees the previous release until it reconnects; table release_info says which run it is. "
    "On PostgreSQL BI tools read the pub_* tables themselves (make grant-bi).",
)
def bi_release(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    path = warehouse.bi_release_path()
    if path is None:
        context.log.info("PostgreSQL warehouse: BI tools read the published tables in it; no copy written")
        return dg.MaterializeResult(metadata={"written": False, "tables": dg.MetadataValue.json(BI_TABLES)})
    counts = write_release(warehouse.engine(), path, context.run.run_id)
    context.log.info(f"BI release {path}: {len(counts)} tables, {sum(counts.values()):,} rows")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "written": True,
            "rows_per_table": dg.MetadataValue.json(counts),
            "run_id": context.run.run_id,
        }
    )
