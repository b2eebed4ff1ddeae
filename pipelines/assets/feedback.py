"""Feedback for partners: a report per delivery with rejected rows, a rejected or held file; an overview per partner."""

from pathlib import Path

import dagster as dg
import pandas as pd

from ingest.feedback import FeedbackContext, reports_due, write_feedback_reports
from ingest.partner_config import PartnerConfig
from ingest.partner_overview import write_partner_overviews
from pipelines.assets.staging import staging_assets
from pipelines.resources import IngestResource, WarehouseResource
from warehouse.db import read_table, rows_of_deliveries
from warehouse.quality import quarantine_counts, quarantine_reason_counts


def feedback_context(partners: dict[str, PartnerConfig], names: pd.DataFrame) -> FeedbackContext:
    """Partner names (dim_partner, else the mappings) and, per delivery, the labels of its layout."""
    partner_names = {code: p.partner_name for code, p in partners.items()}
    if len(names):
        partner_names |= dict(zip(names["partner_code"].astype(str), names["partner_name"].astype(str), strict=True))

    def agreed_values(delivery: dict):
        partner = partners.get(str(delivery.get("partner_code")))
        layout_name = delivery.get("layout")
        if partner is None or not isinstance(layout_name, str):
            return lambda column: {}
        try:
            layout = partner.layout_named(layout_name)
        except StopIteration:
            return lambda column: {}
        return lambda column: dict(layout.values.get(column, {}))

    return FeedbackContext(partner_names=partner_names, agreed_values=agreed_values)


@dg.asset(
    group_name="feedback",
    deps=[*staging_assets, "dim_partner", "fct_delivery_completeness"],
    kinds={"excel", "csv"},
    description="Per delivery with quarantined rows, a rejected or a held file, a report the partner can open in a "
    "spreadsheet (xlsx: a summary sheet, the rows, the agreed values; and csv): row number, column, value "
    "(identifiers masked), reason in Dutch and English, what to do. Per partner an overview across its deliveries "
    "(completeness, quality over time). Written to <feedback_dir>/<partner_code>/ (ZORGSTROOM_FEEDBACK_DIR).",
)
def partner_feedback(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, ingest: IngestResource
) -> dg.MaterializeResult:
    engine = warehouse.engine()
    log = read_table(engine, "delivery_log")
    folder = Path(ingest.feedback_dir)
    words = feedback_context(ingest.partners(), read_table(engine, "dim_partner"))
    due, current = reports_due(log, quarantine_counts(engine), folder)
    quarantine = rows_of_deliveries(engine, "quarantine_rows", [d["delivery_id"] for d in due])
    written = write_feedback_reports(pd.DataFrame(due, columns=log.columns), quarantine, folder, words)
    context.log.info(f"{len(written)} feedback report(s) written to {folder}; {current} already up to date")
    overviews, overviews_current = write_partner_overviews(
        log, quarantine_reason_counts(engine), read_table(engine, "fct_delivery_completeness"), folder, words
    )
    context.log.info(f"{len(overviews)} partner overview(s) written; {overviews_current} already up to date")
    per_partner: dict[str, int] = {}
    for path in written:
        per_partner[path.parent.name] = per_partner.get(path.parent.name, 0) + 1
    return dg.MaterializeResult(
        metadata={
            "feedback_folder": dg.MetadataValue.path(str(folder.resolve())),
            "reports": len(written) + current,
            "reports_written_this_run": len(written),
            "reports_per_partner": dg.MetadataValue.json(per_partner),
            "partner_overviews": len(overviews) + overviews_current,
            "partner_overviews_written_this_run": len(overviews),
        }
    )
