"""The code location `zorgstroom`: `dg dev -w workspace.yaml` (`make dev`) and the daemon load it."""

from __future__ import annotations

import os

import dagster as dg

from pipelines.assets.bi import bi_release
from pipelines.assets.facts import fact_assets
from pipelines.assets.feedback import partner_feedback
from pipelines.assets.operations import fct_delivery_completeness
from pipelines.assets.reference import reference_assets
from pipelines.assets.report import regional_report
from pipelines.assets.staging import staging_assets
from pipelines.assets.statistics import statistics_assets
from pipelines.checks import all_checks
from pipelines.faults import retry_only_infrastructure_faults
from pipelines.mapping_checks import announce_broken_mappings, mapping_checks
from pipelines.resources import build_resources
from pipelines.schedules import build_nightly_schedule
from pipelines.sensors import WRITES_WAREHOUSE_TAG, build_landing_sensor

all_assets = [
    *reference_assets,
    *staging_assets,
    *fact_assets,
    partner_feedback,
    *statistics_assets,
    fct_delivery_completeness,
    regional_report,
    bi_release,
]

#: Every job writes the warehouse: the tag lets the run queue allow one such run at a time
#: (config/dagster/*.yaml), so overlapping sensor and schedule runs never meet on the DuckDB file.
WRITES = {WRITES_WAREHOUSE_TAG: "true"}
#: A failed step tags its run with whether a retry can help (pipelines/faults.py).
HOOKS = {retry_only_infrastructure_faults}

#: Everything, for the nightly schedule, the landing sensor and manual runs; one job per layer for targeted runs.
everything_job = dg.define_asset_job("everything", selection=dg.AssetSelection.all(), tags=WRITES, hooks=HOOKS)
reference_job = dg.define_asset_job(
    "reference_layer", selection=dg.AssetSelection.groups("reference"), tags=WRITES, hooks=HOOKS
)
ingest_job = dg.define_asset_job(
    "staging_layer", selection=dg.AssetSelection.groups("staging"), tags=WRITES, hooks=HOOKS
)
core_job = dg.define_asset_job("core_layer", selection=dg.AssetSelection.groups("core"), tags=WRITES, hooks=HOOKS)
feedback_job = dg.define_asset_job(
    "feedback_layer", selection=dg.AssetSelection.groups("feedback"), tags=WRITES, hooks=HOOKS
)
statistics_job = dg.define_asset_job(
    "statistics_layer",
    selection=dg.AssetSelection.groups("statistics", "published", "operations"),
    tags=WRITES,
    hooks=HOOKS,
)

report_job = dg.define_asset_job("report_layer", selection=dg.AssetSelection.groups("report"), tags=WRITES, hooks=HOOKS)

#: ZORGSTROOM_SENSOR_INTERVAL_SECONDS: how often the daemon looks at the landing folder (default every minute).
landing_sensor = build_landing_sensor(
    everything_job, minimum_interval_seconds=int(os.environ.get("ZORGSTROOM_SENSOR_INTERVAL_SECONDS") or 60)
)
nightly_schedule = build_nightly_schedule(everything_job)


def build_definitions() -> dg.Definitions:
    announce_broken_mappings()  # first, in plain words: a broken mapping stops only its own partner
    return dg.Definitions(
        assets=all_assets,
        asset_checks=[*all_checks, *mapping_checks],
        jobs=[everything_job, reference_job, ingest_job, core_job, feedback_job, statistics_job, report_job],
        sensors=[landing_sensor],
        schedules=[nightly_schedule],
        resources=build_resources(),
        # One process per run: the embedded DuckDB file allows a single writer process, and a
        # process per step would cost seconds of start-up each.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
