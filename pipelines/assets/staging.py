"""Staging assets: one per feed, loading every new delivery from the landing zone."""

import dagster as dg

from core.paths import as_path
from pipelines.mapping_checks import report_broken_mappings
from pipelines.metadata import definition_metadata, deliveries_behind, warehouse_table_metadata
from pipelines.resources import IngestResource, WarehouseResource
from schemas.tables import FEED_STAGING, TABLES
from warehouse.db import distinct_values, read_table, row_count
from warehouse.ingest_feed import ingest_feed, log_unrouted_files


def _staging_asset(feed: str) -> dg.AssetsDefinition:
    name = FEED_STAGING[feed]
    table = TABLES[name]

    @dg.asset(
        name=name,
        group_name="staging",
        kinds={"pandas", "csv", "excel"},
        description=f"{table.description} Grain: {table.grain}. Also writes delivery_log and quarantine_rows.",
        metadata=definition_metadata(table),
    )
    def _asset(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, ingest: IngestResource
    ) -> dg.MaterializeResult:
        engine = warehouse.engine()
        waiting = report_broken_mappings(context, ingest, feed)  # first, in plain words
        report = ingest_feed(
            engine,
            feed,
            ingest.partners(),
            as_path(ingest.landing_dir),
            ingest.reference,
            ingest.pseudonym_key(),
            log=context.log.info,
            max_file_bytes=ingest.max_file_bytes,
        )
        rows = row_count(engine, name)
        files = [r["source_file"] for r in report.log_rows]
        log = read_table(engine, "delivery_log")
        behind = deliveries_behind(log, distinct_values(engine, name, "partner_code"))
        feed_partners = {code for code, p in ingest.partners().items() if p.feed == feed}
        by_status = log.loc[log["partner_code"].isin(feed_partners), "delivery_status"].value_counts()
        rejected = {
            f"{r['partner_code']}/{r['source_file']}": f"{r['reason_code']}: {r['reason']}"
            for r in report.log_rows
            if r["delivery_status"] == "rejected"
        }
        context.log.info(
            f"{name}: {rows} rows in force; this run {report.count('loaded')} loaded, "
            f"{report.count('duplicate')} duplicate, {report.count('rejected')} rejected, "
            f"{report.rows_accepted} rows accepted, {report.rows_quarantined} quarantined; seconds per stage "
            f"{report.timer.rounded()}"
        )
        return dg.MaterializeResult(
            metadata=warehouse_table_metadata(
                engine,
                table,
                rows,
                deliveries_loaded=report.count("loaded"),
                deliveries_duplicate=report.count("duplicate"),
                deliveries_superseded_on_arrival=report.count("superseded"),
                deliveries_rejected=report.count("rejected"),
                hidden_entries_skipped=report.count("skipped"),
                rows_accepted=report.rows_accepted,
                rows_quarantined=report.rows_quarantined,
                files_this_run=dg.MetadataValue.json(files[:200]),
                **behind,
                deliveries_by_status=dg.MetadataValue.json({str(k): int(v) for k, v in by_status.items()}),
                rejected_files=dg.MetadataValue.json(rejected),
                seconds_per_stage=dg.MetadataValue.json(report.timer.rounded()),
                partners_waiting_for_a_valid_mapping=dg.MetadataValue.json(waiting),
            )
        )

    return _asset


@dg.asset(
    group_name="staging",
    kinds={"csv", "excel"},
    description="Files in the landing zone that belong to no configured partner (a folder without a mapping, "
    "or a file outside any partner folder): logged once in delivery_log as rejected (FILE_UNKNOWN_PARTNER); "
    "links outside the partner folders (FILE_LINK, never followed) and hidden names (skipped) likewise.",
)
def unrouted_deliveries(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, ingest: IngestResource
) -> dg.MaterializeResult:
    records = log_unrouted_files(
        warehouse.engine(), as_path(ingest.landing_dir), ingest.known_partner_codes(), ingest.max_file_bytes
    )
    for r in records:
        context.log.warning(f"{r['delivery_status']} {r['source_file']}: {r['reason']}")
    return dg.MaterializeResult(
        metadata={
            "files_rejected_this_run": len(records),
            "rejected_files": dg.MetadataValue.json({r["source_file"]: r["reason"] for r in records}),
        }
    )


staging_assets = [_staging_asset(feed) for feed in FEED_STAGING] + [unrouted_deliveries]
