"""Feedback for partners: a report per delivery with rejected rows or a rejected file."""

from pathlib import Path

import dagster as dg
import pandas as pd

from ingest.feedback import reports_due, write_feedback_reports
from pipelines.assets.staging import staging_assets
from pipelines.resources import IngestResource, WarehouseResource
from warehouse.db import read_table, rows_of_deliveries
from warehouse.quality import quarantine_counts


@dg.asset(
    group_name="feedback",
    deps=staging_assets,
    kinds={"excel", "csv"},
    description="Per delivery with quarantined rows or a rejected file, a report the partner can open in a "
    "spreadsheet (xlsx and csv): row number, field, value (identifiers masked), reason. Written to "
    "<feedback_dir>/<partner_code>/ (ZORGSTROOM_FEEDBACK_DIR).",
)
def partner_feedback(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, ingest: IngestResource
) -> dg.MaterializeResult:
    engine = warehouse.engine()
    log = read_table(engine, "delivery_log")
    folder = Path(ingest.feedback_dir)
    due, current = reports_due(log, quarantine_counts(engine), folder)
    quarantine = rows_of_deliveries(engine, "quarantine_rows", [d["delivery_id"] for d in due])
    written = write_feedback_reports(pd.DataFrame(due, columns=log.columns), quarantine, folder)
    context.log.info(f"{len(written)} feedback report(s) written to {folder}; {current} already up to date")
    per_partner: dict[str, int] = {}
    for path in written:
        per_partner[path.parent.name] = per_partner.get(path.parent.name, 0) + 1
    return dg.MaterializeResult(
        metadata={
            "feedback_folder": dg.MetadataValue.path(str(folder.resolve())),
            "reports": len(written) + current,
            "reports_written_this_run": len(written),
            "reports_per_partner": dg.MetadataValue.json(per_partner),
        }
    )
