"""Reference assets: dimensions loaded from config/reference and config/partners."""

from pathlib import Path

import dagster as dg

from pipelines.incremental import Build
from pipelines.metadata import definition_metadata, table_metadata
from pipelines.resources import IngestResource, WarehouseResource
from schemas.pandera_schemas import pandera_schema
from schemas.tables import TABLES
from transforms.dimensions import DIMENSIONS
from warehouse.db import replace_table
from warehouse.partner_mappings import dim_partner_of


def _dimension_asset(name: str) -> dg.AssetsDefinition:
    table = TABLES[name]

    @dg.asset(
        name=name,
        group_name="reference",
        kinds={"pandas", "sql"},
        description=table.description,
        metadata=definition_metadata(table),
    )
    def _asset(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, ingest: IngestResource
    ) -> dg.MaterializeResult:
        build = Build(context, warehouse, [name], partner_codes=())  # from code and configuration only
        if not build.needed:
            return build.unchanged()[0]
        ref = ingest.reference
        df = (
            dim_partner_of(ingest.partner_mappings(), warehouse.engine())
            if name == "dim_partner"
            else DIMENSIONS[name](ref)
        )
        codes = ref.code_lists | {"partners": frozenset(df["partner_code"]) if name == "dim_partner" else frozenset()}
        df = pandera_schema(table, codes).validate(df)
        replace_table(warehouse.engine(), name, df)
        context.log.info(f"{name}: {len(df)} rows")
        source = ingest.partners_folder if name == "dim_partner" else Path(ingest.reference_dir)
        result = build.versioned(
            dg.MaterializeResult(
                asset_key=name, metadata=table_metadata(table, df, source_files=dg.MetadataValue.path(str(source)))
            )
        )
        build.done()
        return result

    return _asset


reference_assets = [_dimension_asset(name) for name in [*DIMENSIONS, "dim_partner"]]
