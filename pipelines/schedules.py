"""The nightly schedule: every night at 02:00 Amsterdam time, whatever arrived during the day."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from pipelines.sensors import WRITES_WAREHOUSE_TAG

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

    JobLike = dg.JobDefinition | UnresolvedAssetJobDefinition

NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_TIMEZONE = "Europe/Amsterdam"


def build_nightly_schedule(
    job: JobLike,
    *,
    name: str = "nightly_schedule",
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dg.ScheduleDefinition:
    """A run of `job` at 02:00 Europe/Amsterdam every day (DST-aware: 02:00 local, winter and summer).

    The nightly run catches whatever the landing sensor did not trigger (a sensor that was off,
    a failed run) and rebuilds the derived tables; its runs carry the warehouse-writer tag, so the
    production instance never runs it alongside a sensor run.
    """
    return dg.ScheduleDefinition(
        name=name,
        job=job,
        cron_schedule=NIGHTLY_CRON,
        execution_timezone=NIGHTLY_TIMEZONE,
        default_status=default_status,
        tags={WRITES_WAREHOUSE_TAG: "true"},
        description="Every night at 02:00 Europe/Amsterdam: ingest what arrived and rebuild the derived tables.",
    )
