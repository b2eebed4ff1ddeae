"""The regional report: one self-contained HTML file (inline SVG charts) from the published statistics.

Reads only the published tables, fct_delivery_completeness and a per-partner count of quarantined rows
(no identifiers); writes to data/report/ (ZORGSTROOM_REPORT_DIR overrides)."""

import dagster as dg

from core.settings import load_settings
from pipelines.assets.statistics import Inputs
from pipelines.resources import WarehouseResource
from report.data import quarantine_summary
from report.render import render_report

REPORT_INPUTS = ["pub_target_attainment", "pub_sector_flows", "pub_retention", "fct_delivery_completeness"]


@dg.asset(
    name="regional_report",
    group_name="report",
    deps=REPORT_INPUTS,
    kinds={"html"},
    description="Regional report (one HTML file, charts inline, no external references) of target attainment, "
    "sector flows, retention, delivery completeness and quarantine counts, for people who'd rather look than read.",
)
def regional_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    data = Inputs(warehouse)
    _, cutoff = data.window()
    tables = {name: data[name] for name in REPORT_INPUTS}
    tables["quarantine_summary"] = quarantine_summary(data["quarantine_rows"], data["delivery_log"])
    path = render_report(tables, cutoff=cutoff, run_id=context.run.run_id, out_dir=load_settings().report_dir)
    context.log.info(f"regional report: {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "url": dg.MetadataValue.url(path.as_uri()),
            "cutoff": str(cutoff.date()),
            "bytes": path.stat().st_size,
            "charts_png": dg.MetadataValue.path(str(path.parent / "charts")),
        }
    )
