"""Asset checks: every table conforms to its schema rules (blocking), rows are accounted for, no small counts are
published, and the quality rules of config/checks.yaml hold."""

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from core.versions import code_version
from pipelines.resources import IngestResource, WarehouseResource
from schemas.tables import FEED_FACT, FEED_STAGING, TABLES
from warehouse.build_state import deliveries_added_since_built, loaded_deliveries, record_covered
from warehouse.db import read_table
from warehouse.quality import (late_deliveries_sql, load_quality_config, offending_rows, quarantine_shares,
                               schema_conformance_in_warehouse)
from warehouse.reconcile import reconcile_feed

IDENTIFIER_COLUMNS = {"person_id"}
SAMPLE_SIZE = 10


@dataclass(frozen=True)
class CheckDef:
    """One check: its spec (name, asset, blocking) and the function that evaluates it."""

    spec: dg.AssetCheckSpec
    run: Callable[[WarehouseResource, IngestResource], dg.AssetCheckResult]


def schema_conformance(table_name: str, engine, code_lists, deliveries: list[str] | None = None,
                       **metadata: object) -> dg.AssetCheckResult:
    """Run a table's schema rules in the warehouse (over the rows of `deliveries` only, if given);
    failures counted per column and check, with a masked sample."""
    only = {"where": "delivery_id IN :ids", "params": {"ids": deliveries}} if deliveries is not None else {}
    found = schema_conformance_in_warehouse(engine, TABLES[table_name], code_lists, SAMPLE_SIZE, frozenset(IDENTIFIER_COLUMNS), **only)
    if not found.passed:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "rows_checked": found.rows,
                "failures": sum(found.failures.values()),
                "failures_by_column_and_check": dg.MetadataValue.json({f"{c} / {k}": n for (c, k), n in found.failures.items()}),
                "sample": dg.MetadataValue.json(found.sample),
                **metadata,
            },
        )
    return dg.AssetCheckResult(passed=True, metadata={"rows_checked": found.rows, **metadata})


def _schema_check(table_name: str) -> CheckDef:
    def run(warehouse: WarehouseResource, ingest: IngestResource) -> dg.AssetCheckResult:
        partners = frozenset(ingest.partners())
        return schema_conformance(table_name, warehouse.engine(), ingest.reference.code_lists | {"partners": partners})

    return CheckDef(dg.AssetCheckSpec(
        f"{table_name}_conforms_to_schema", asset=table_name, blocking=True,
        description=f"Every row of {table_name} passes its schema rules (generated from schemas/tables.py, the same "
        "rules as its Pandera schema, run as SQL in the warehouse: schemas/sql_checks.py)."), run)


def _staging_schema_check(feed: str) -> CheckDef:
    """The schema check of a staging table, over the rows of deliveries it has not passed yet.

    Staging rows never change once loaded (a re-sent file retires the old delivery's rows), so rows of
    deliveries that passed under the same code and configuration need no second look: the check records
    what it passed (build_deliveries) and checks everything again after any change of code, of
    configuration, or when a delivery it passed was retired."""
    table_name = FEED_STAGING[feed]
    name = f"{table_name}_conforms_to_schema"

    def run(warehouse: WarehouseResource, ingest: IngestResource) -> dg.AssetCheckResult:
        engine, partners = warehouse.engine(), ingest.partners()
        in_force = loaded_deliveries(engine, {c for c, p in partners.items() if p.feed == feed})
        base = code_version()
        new = deliveries_added_since_built(engine, name, base, in_force)
        checked = in_force if new is None else new
        result = schema_conformance(table_name, engine, ingest.reference.code_lists | {"partners": frozenset(partners)},
                                    deliveries=checked, deliveries_checked=len(checked),
                                    deliveries_passed_before=len(in_force) - len(checked))
        if result.passed:
            record_covered(engine, name, base, in_force)
        return result

    return CheckDef(dg.AssetCheckSpec(
        name, asset=table_name, blocking=True,
        description=f"Every row of {table_name} passes its schema rules (generated from schemas/tables.py, the same "
        "rules as its Pandera schema, run as SQL in the warehouse: schemas/sql_checks.py). Rows of deliveries that "
        "passed before under the same code and configuration are not checked again (staging rows never change)."), run)


STATISTICS_TABLES = ["fct_delivery_completeness", "fct_sector_inflow", "fct_sector_outflow", "fct_internal_mobility", "fct_retention", "fct_programme_flows",
                     "fct_target_attainment", "pub_sector_flows", "pub_retention", "pub_programme_flows", "pub_target_attainment"]
schema_checks = [*[_staging_schema_check(feed) for feed in FEED_STAGING],
                 *[_schema_check(t) for t in [*FEED_FACT.values(), *STATISTICS_TABLES]]]


def _reconciliation_check(feed: str) -> CheckDef:
    table_name = FEED_STAGING[feed]

    def run(warehouse: WarehouseResource, ingest: IngestResource) -> dg.AssetCheckResult:
        problems = reconcile_feed(warehouse.engine(), feed)
        return dg.AssetCheckResult(
            passed=problems.empty,
            metadata={"deliveries_with_problems": len(problems),
                      "problems": dg.MetadataValue.json(problems.head(20).to_dict("records"))},
        )

    return CheckDef(dg.AssetCheckSpec(
        f"{table_name}_rows_accounted_for", asset=table_name, blocking=True,
        description="Every delivery's rows are accounted for: read = accepted + quarantined, and the staging and "
        "quarantine tables hold exactly those rows (nothing lost, nothing twice)."), run)


reconciliation_checks = [_reconciliation_check(feed) for feed in FEED_STAGING]

#: Count columns of the published tables (and pairs whose difference is a count too).
PUBLISHED_COUNTS = {
    "pub_sector_flows": (["persons"], []),
    "pub_retention": (["cohort_persons", "retained_persons"], [("cohort_persons", "retained_persons")]),
    "pub_programme_flows": (["persons"], []),
    "pub_target_attainment": (["achieved"], []),
}


def small_counts(df, counts: list[str], differences: list[tuple[str, str]], low: int = 1, high: int = 4) -> dict[str, int]:
    """Published cells that show (or let one subtract) a count of 1 to 4 persons, per column."""
    found = {c: int(df[c].between(low, high).sum()) for c in counts}
    for a, b in differences:
        found[f"{a} - {b}"] = int((df[a] - df[b]).between(low, high).sum())
    return {k: v for k, v in found.items() if v}


def _privacy_check(table_name: str) -> CheckDef:
    counts, differences = PUBLISHED_COUNTS[table_name]

    def run(warehouse: WarehouseResource, ingest: IngestResource) -> dg.AssetCheckResult:
        df = read_table(warehouse.engine(), table_name)
        found = small_counts(df, counts, differences)
        unexplained = int((df["suppressed"] & df["suppression_reason"].isna()).sum())
        return dg.AssetCheckResult(passed=not found and not unexplained,
                                   metadata={"cells": len(df), "cells_suppressed": int(df["suppressed"].sum()),
                                             "small_counts_shown": dg.MetadataValue.json(found),
                                             "suppressed_without_reason": unexplained})

    return CheckDef(dg.AssetCheckSpec(
        f"{table_name}_no_small_counts", asset=table_name, blocking=True,
        description="No published cell shows a count of 1 to 4 persons, and every suppressed cell says why."), run)


privacy_checks = [_privacy_check(t) for t in PUBLISHED_COUNTS]

QUALITY = load_quality_config()


def _quarantine_share_check(feed: str) -> CheckDef:
    table_name = FEED_STAGING[feed]

    def run(warehouse: WarehouseResource, ingest: IngestResource) -> dg.AssetCheckResult:
        partners = {c for c, p in ingest.partners().items() if p.feed == feed}
        over = quarantine_shares(read_table(warehouse.engine(), "delivery_log"), partners, QUALITY.quarantine_share_max)
        return dg.AssetCheckResult(passed=over.empty, severity=dg.AssetCheckSeverity.WARN,
                                   metadata={"threshold": QUALITY.quarantine_share_max, "deliveries_over": len(over),
                                             "deliveries": dg.MetadataValue.json(over.head(20).astype(str).to_dict("records"))})

    return CheckDef(dg.AssetCheckSpec(
        f"{table_name}_quarantine_share", asset=table_name,
        description=f"No delivery has more than {QUALITY.quarantine_share_max:.0%} of its rows quarantined "
        "(config/checks.yaml, quarantine_share_max)."), run)


def _sql_rule_check(asset: str, name: str, description: str, sql: str, severity: dg.AssetCheckSeverity,
                    blocking: bool) -> CheckDef:
    def run(warehouse: WarehouseResource, ingest: IngestResource) -> dg.AssetCheckResult:
        n, sample = offending_rows(warehouse.engine(), sql)
        sample = sample.drop(columns=[c for c in sample.columns if c in IDENTIFIER_COLUMNS])
        return dg.AssetCheckResult(passed=n == 0, severity=severity,
                                   metadata={"offending_rows": n, "sample": dg.MetadataValue.json(sample.astype(str).to_dict("records")),
                                             "sql": dg.MetadataValue.md(f"```sql\n{sql}\n```")})

    return CheckDef(dg.AssetCheckSpec(name, asset=asset, description=description, blocking=blocking), run)


quality_checks = [
    *[_quarantine_share_check(feed) for feed in FEED_STAGING],
    *[_sql_rule_check(r.table, r.id, f"Every {r.column} of {r.table} exists in {r.dimension}.{r.key} (referential integrity).",
                      r.sql(), dg.AssetCheckSeverity.ERROR, blocking=True) for r in QUALITY.integrity],
    *[_sql_rule_check(r.table, r.id, f"Plausibility: {r.description}", r.sql, dg.AssetCheckSeverity.WARN, blocking=False)
      for r in QUALITY.plausibility],
    _sql_rule_check("fct_delivery_completeness", "partners_deliver_on_time",
                    f"No partner's delivery is more than {QUALITY.late_warning_days} days past its due date, or missing past it "
                    "(config/checks.yaml, late_warning_days).",
                    late_deliveries_sql(QUALITY.late_warning_days),
                    dg.AssetCheckSeverity.WARN, blocking=False),
]


def grouped_per_asset(checks: list[CheckDef]) -> list[dg.AssetChecksDefinition]:
    """One step per asset for all of its checks (a step costs Dagster tens of milliseconds of events
    whatever it does, and these checks are single SQL queries); each check keeps its own name,
    severity and blocking flag, and can still be run alone."""
    by_asset: dict[dg.AssetKey, list[CheckDef]] = {}
    for check in checks:
        by_asset.setdefault(check.spec.asset_key, []).append(check)
    return [_asset_checks(asset, group) for asset, group in by_asset.items()]


def _asset_checks(asset: dg.AssetKey, checks: list[CheckDef]) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(specs=[c.spec for c in checks], can_subset=True, name=f"{asset.to_python_identifier()}_checks")
    def _run(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, ingest: IngestResource):
        for check in checks:
            if check.spec.key not in context.selected_asset_check_keys:
                continue
            try:
                r = check.run(warehouse, ingest)
            except Exception as exc:  # one broken check must not hide (or, if it only warns, block like) the others
                context.log.error(f"check {check.spec.name} could not run: {type(exc).__name__}: {exc}")
                yield dg.AssetCheckResult(
                    asset_key=asset, check_name=check.spec.name, passed=False,
                    severity=dg.AssetCheckSeverity.ERROR if check.spec.blocking else dg.AssetCheckSeverity.WARN,
                    metadata={"error": f"{type(exc).__name__}: {str(exc)[:500]}"})
                continue
            yield dg.AssetCheckResult(asset_key=asset, check_name=check.spec.name, passed=r.passed, severity=r.severity,
                                      metadata=r.metadata)

    return _run


all_checks = grouped_per_asset([*schema_checks, *reconciliation_checks, *privacy_checks, *quality_checks])
