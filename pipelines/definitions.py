"""The code location: `dagster dev -m pipelines.definitions` (or `make dev`)."""

from __future__ import annotations

import dagster as dg

from pipelines.assets.facts import fact_assets
from pipelines.assets.feedback import partner_feedback
from pipelines.assets.operations import fct_delivery_completeness
from pipelines.assets.reference import reference_assets
from pipelines.assets.staging import staging_assets
from pipelines.assets.statistics import statistics_assets
from pipelines.checks import all_checks
from pipelines.resources import build_resources

all_assets = [*reference_assets, *staging_assets, *fact_assets, partner_feedback, *statistics_assets, fct_delivery_completeness]

#: Everything, for manual and demo runs; one job per layer for targeted runs.
everything_job = dg.define_asset_job("everything", selection=dg.AssetSelection.all())
reference_job = dg.define_asset_job("reference_layer", selection=dg.AssetSelection.groups("reference"))
ingest_job = dg.define_asset_job("staging_layer", selection=dg.AssetSelection.groups("staging"))
core_job = dg.define_asset_job("core_layer", selection=dg.AssetSelection.groups("core"))
feedback_job = dg.define_asset_job("feedback_layer", selection=dg.AssetSelection.groups("feedback"))
statistics_job = dg.define_asset_job("statistics_layer", selection=dg.AssetSelection.groups("statistics", "published"))


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=all_assets,
        asset_checks=all_checks,
        jobs=[everything_job, reference_job, ingest_job, core_job, feedback_job, statistics_job],
        resources=build_resources(),
        # One process per run: the embedded DuckDB file allows a single writer process, and a
        # process per step would cost seconds of start-up each (see STACK.md).
        executor=dg.in_process_executor,
    )


defs = build_definitions()
