"""Operations assets: reporting completeness and timeliness per partner and period."""

from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from pipelines.assets.statistics import Inputs
from pipelines.metadata import definition_metadata, deliveries_behind, markdown_preview, table_metadata
from pipelines.resources import WarehouseResource
from schemas.tables import TABLES
from transforms.completeness import delivery_completeness
from warehouse.db import replace_table
from warehouse.quality import load_quality_config

TABLE = TABLES["fct_delivery_completeness"]


@dg.asset(
    name="fct_delivery_completeness",
    group_name="operations",
    kinds={"pandas", "sql"},
    deps=["stg_employment_spells", "stg_enrolments", "stg_municipal_participants", "dim_partner"],
    description=f"{TABLE.description} Grain: {TABLE.grain}.",
    metadata=definition_metadata(TABLE),
)
def fct_delivery_completeness(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    data = Inputs(warehouse)
    _, cutoff = data.window()
    config = load_quality_config()
    as_of = pd.Timestamp(datetime.now(UTC).date())
    df = delivery_completeness(
        data["dim_partner"], data["delivery_log"], cutoff=cutoff, as_of=as_of, due_days=config.delivery_due_days
    )
    replace_table(data.engine, TABLE.name, df)
    summary = df.groupby(["partner_code", "completeness_status"]).size().unstack(fill_value=0).reset_index()
    context.log.info(
        f"{TABLE.name}: {len(df)} expected deliveries; "
        + ", ".join(f"{k} {v}" for k, v in df["completeness_status"].value_counts().items())
    )
    return dg.MaterializeResult(
        metadata=table_metadata(
            TABLE,
            df,
            per_partner=dg.MetadataValue.md(markdown_preview(summary, rows=50)),
            **deliveries_behind(data["delivery_log"]),
        )
    )
