"""The regional report: one self-contained HTML file (inline SVG charts) from the published statistics.

Reads only the published tables, fct_delivery_completeness and a per-partner count of quarantined rows
(no identifiers); writes to data/report/ (ZORGSTROOM_REPORT_DIR overrides)."""

import dagster as dg

from core.settings import load_settings
from pipelines.assets.statistics import Inputs
from pipelines.resources import WarehouseResource
from report.data import quarantine_summary
from report.render import render_report
from report.workbook import WORKBOOK_NAME, published_tables, write_published_workbook

REPORT_INPUTS = ["pub_target_attainment", "pub_sector_flows", "pub_retention", "fct_delivery_completeness"]
PUBLISHED = [t.name for t in published_tables()]


@dg.asset(
    name="regional_report",
    group_name="report",
    deps=list(dict.fromkeys([*REPORT_INPUTS, *PUBLISHED, "dim_partner"])),
    kinds={"html"},
    description="Regional report (one HTML file, charts inline, no external references) of target attainment, "
    "sector flows, retention, delivery completeness and quarantine counts, for people who'd rather look than read; "
    "beside it every chart as a 1600x900 PNG with its data as CSV (charts/), and one xlsx workbook of the published "
    "tables with a sheet explaining their columns.",
)
def regional_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    data = Inputs(warehouse)
    _, cutoff = data.window()
    tables = {name: data[name] for name in REPORT_INPUTS}
    tables["quarantine_summary"] = quarantine_summary(data["quarantine_rows"], data["delivery_log"])
    tables["dim_partner"] = data["dim_partner"]
    out_dir = load_settings().report_dir
    run_id = context.run.run_id
    workbook = write_published_workbook(
        {name: data[name] for name in PUBLISHED}, out_dir / WORKBOOK_NAME, cutoff=cutoff, run_id=run_id
    )
    path = render_report(tables, cutoff=cutoff, run_id=run_id, out_dir=out_dir, workbook=workbook.name)
    context.log.info(f"regional report: {path}; published tables as xlsx: {workbook}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "url": dg.MetadataValue.url(path.as_uri()),
            "cutoff": str(cutoff.date()),
            "bytes": path.stat().st_size,
            "charts_png": dg.MetadataValue.path(str(path.parent / "charts")),
            "workbook": dg.MetadataValue.path(str(workbook)),
        }
    )
