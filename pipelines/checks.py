"""Asset checks: every table conforms to its schema rules (blocking), rows are accounted for, no small counts are
published, and the quality rules of config/checks.yaml hold."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg

from core.versions import code_version
from pipelines.faults import raise_if_infrastructure
from pipelines.incremental import full_rebuild_forced
from pipelines.resources import IngestResource, WarehouseResource
from schemas.tables import FEED_FACT, FEED_STAGING, TABLES
from warehouse.build_state import (
    DELIVERIES_TABLE,
    built_from,
    covered_deliveries,
    fingerprint_of,
    record_built_many,
    record_covered,
)
from warehouse.db import distinct_values, read_table
from warehouse.quality import (
    late_deliveries_sql,
    load_quality_config,
    offending_rows,
    quarantine_shares,
    schema_conformance_in_warehouse,
)
from warehouse.reconcile import reconcile_feed

IDENTIFIER_COLUMNS = {"person_id"}
SAMPLE_SIZE = 10


@dataclass(frozen=True)
class CheckDef:
    """One check: its spec (name, asset, blocking), the function that evaluates it, and the derived
    tables it reads (`reads`: while all of them are unchanged since it passed, it is not run again)."""

    spec: dg.AssetCheckSpec
    run: Callable[[WarehouseResource, IngestResource], dg.AssetCheckResult]
    reads: tuple[str, ...] = ()


def tables_in_sql(sql: str) -> tuple[str, ...]:
    """The warehouse tables a rule's SQL reads; none when its answer depends on the day it runs."""
    if re.search(r"current_date|current_timestamp|now\s*\(", sql, re.IGNORECASE):
        return ()
    return tuple(sorted(t for t in TABLES if re.search(rf"\b{t}\b", sql)))


def schema_conformance(
    table_name: str, engine, code_lists, where: str = "", params: dict | None = None, **metadata: Any
) -> dg.AssetCheckResult:
    """Run a table's schema rules in the warehouse (over the rows a SQL `where` selects, default all);
    failures counted per column and check, with a masked sample."""
    found = schema_conformance_in_warehouse(
        engine, TABLES[table_name], code_lists, SAMPLE_SIZE, frozenset(IDENTIFIER_COLUMNS), where=where, params=params
    )
    if not found.passed:
        worst = sorted(found.failures.items(), key=lambda kv: -kv[1])[:3]
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"{sum(found.failures.values()):,} failures of the schema rules in {table_name}: "
            + ", ".join(f"{c} {k} ({n:,})" for (c, k), n in worst),
            metadata={
                "rows_checked": found.rows,
                "failures": sum(found.failures.values()),
                "failures_by_column_and_check": dg.MetadataValue.json(
                    {f"{c} / {k}": n for (c, k), n in found.failures.items()}
                ),
                "sample": dg.MetadataValue.json(found.sample),
                **metadata,
            },
        )
    return dg.AssetCheckResult(passed=True, metadata={"rows_checked": found.rows, **metadata})


def _schema_check(table_name: str) -> CheckDef:
    def run(warehouse: WarehouseResource, ingest: IngestResource) -> dg.AssetCheckResult:
        partners = ingest.known_partner_codes()  # broken mappings too: their earlier rows stay theirs
        return schema_conformance(table_name, warehouse.engine(), ingest.reference.code_lists | {"partners": partners})

    return CheckDef(
        dg.AssetCheckSpec(
            f"{table_name}_conforms_to_schema",
            asset=table_name,
            blocking=True,
            description=f"Every row of {table_name} passes its schema rules (generated from schemas/tables.py, "
            "the same rules as its Pandera schema, run as SQL in the warehouse: schemas/sql_checks.py).",
        ),
        run,
        reads=(table_name,),
    )


def _staging_schema_check(feed: str) -> CheckDef:
    """The schema check of a staging table, over the rows of deliveries it has not passed yet.

    Staging rows never change once loaded (a re-sent file retires the old delivery's rows), so rows of
    deliveries that passed under the same code and configuration need no second look: the check records
    the deliveries it passed (build_deliveries) and looks at every other row, every run, until they
    pass; after any change of code or configuration it looks at all rows again."""
    table_name = FEED_STAGING[feed]
    name = f"{table_name}_conforms_to_schema"

    def run(warehouse: WarehouseResource, ingest: IngestResource) -> dg.AssetCheckResult:
        engine = warehouse.engine()
        base = code_version()
        passed = covered_deliveries(engine, name, base)
        # a subquery, not a list of ids: NOT IN a long literal list costs DuckDB seconds over millions of rows
        not_passed = (
            (
                "delivery_id IS NULL OR delivery_id NOT IN (SELECT delivery_id FROM " + DELIVERIES_TABLE + " "
                "WHERE asset_name = :check AND base_fingerprint = :base)"
            )
            if passed
            else ""
        )
        result = schema_conformance(
            table_name,
            engine,
            ingest.reference.code_lists | {"partners": ingest.known_partner_codes()},
            not_passed,
            {"check": name, "base": base},
            deliveries_passed_before=len(passed),
        )
        if result.passed:
            record_covered(engine, name, base, distinct_values(engine, table_name, "delivery_id"))
        return result

    return CheckDef(
        dg.AssetCheckSpec(
            name,
            asset=table_name,
            blocking=True,
            description=f"Every row of {table_name} passes its schema rules (generated from schemas/tables.py, "
            "the same rules as its Pandera schema, run as SQL in the warehouse: schemas/sql_checks.py). Rows of "
            "deliveries that passed before under the same code and configuration are not checked again (staging "
            "rows never change).",
        ),
        run,
    )


STATISTICS_TABLES = [
    "fct_delivery_completeness",
    "fct_sector_inflow",
    "fct_sector_outflow",
    "fct_internal_mobility",
    "fct_retention",
    "fct_programme_flows",
    "fct_target_attainment",
    "pub_sector_flows",
    "pub_retention",
    "pub_programme_flows",
    "pub_target_attainment",
]
schema_checks = [
    *[_staging_schema_check(feed) for feed in FEED_STAGING],
    *[_schema_check(t) for t in [*FEED_FACT.values(), *STATISTICS_TABLES]],
]


def _reconciliation_check(feed: str) -> CheckDef:
    table_name = FEED_STAGING[feed]

    def run(warehouse: WarehouseResource, ingest: IngestResource) -> dg.AssetCheckResult:
        problems = reconcile_feed(warehouse.engine(), feed)
        return dg.AssetCheckResult(
            passed=problems.empty,
            description=None
            if problems.empty
            else f"{len(problems)} deliveries whose rows read are not all in staging or quarantine, exactly once",
            metadata={
                "deliveries_with_problems": len(problems),
                "problems": dg.MetadataValue.json(problems.head(20).to_dict("records")),
            },
        )

    return CheckDef(
        dg.AssetCheckSpec(
            f"{table_name}_rows_accounted_for",
            asset=table_name,
            blocking=True,
            description="Every delivery's rows are accounted for: read = accepted + quarantined, and the staging and "
            "quarantine tables hold exactly those rows (nothing lost, nothing twice).",
        ),
        run,
    )


reconciliation_checks = [_reconciliation_check(feed) for feed in FEED_STAGING]

#: Count columns of the published tables (and pairs whose difference is a count too).
PUBLISHED_COUNTS = {
    "pub_sector_flows": (["persons"], []),
    "pub_retention": (["cohort_persons", "retained_persons"], [("cohort_persons", "retained_persons")]),
    "pub_programme_flows": (["persons"], []),
    "pub_target_attainment": (["achieved"], []),
}


def small_counts(
    df, counts: list[str], differences: list[tuple[str, str]], low: int = 1, high: int = 4
) -> dict[str, int]:
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
        return dg.AssetCheckResult(
            passed=not found and not unexplained,
            description=None
            if not found and not unexplained
            else f"{sum(found.values())} cells show a count of 1 to 4 ({', '.join(found)}); "
            f"{unexplained} suppressed cells without a reason",
            metadata={
                "cells": len(df),
                "cells_suppressed": int(df["suppressed"].sum()),
                "small_counts_shown": dg.MetadataValue.json(found),
                "suppressed_without_reason": unexplained,
            },
        )

    return CheckDef(
        dg.AssetCheckSpec(
            f"{table_name}_no_small_counts",
            asset=table_name,
            blocking=True,
            description="No published cell shows a count of 1 to 4 persons, and every suppressed cell says why.",
        ),
        run,
        reads=(table_name,),
    )


privacy_checks = [_privacy_check(t) for t in PUBLISHED_COUNTS]

QUALITY = load_quality_config()


def _quarantine_share_check(feed: str) -> CheckDef:
    table_name = FEED_STAGING[feed]

    def run(warehouse: WarehouseResource, ingest: IngestResource) -> dg.AssetCheckResult:
        partners = {c for c, p in ingest.partners().items() if p.feed == feed}
        over = quarantine_shares(read_table(warehouse.engine(), "delivery_log"), partners, QUALITY.quarantine_share_max)
        listed = ", ".join(
            f"{d} ({q:,} of {r:,} rows, {share:.0%})"
            for d, q, r, share in zip(
                over["delivery_id"].str.split("@").str[0].head(5),
                over["rows_quarantined"].head(5),
                over["rows_read"].head(5),
                over["quarantined_share"].head(5),
                strict=True,
            )
        )
        return dg.AssetCheckResult(
            passed=over.empty,
            description=None
            if over.empty
            else f"{len(over)} deliveries with more than {QUALITY.quarantine_share_max:.0%} of their rows "
            f"quarantined: {listed}" + (" ..." if len(over) > 5 else ""),
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "threshold": QUALITY.quarantine_share_max,
                "deliveries_over": len(over),
                "deliveries": dg.MetadataValue.json(over.head(20).astype(str).to_dict("records")),
            },
        )

    return CheckDef(
        dg.AssetCheckSpec(
            f"{table_name}_quarantine_share",
            asset=table_name,
            description=f"No delivery has more than {QUALITY.quarantine_share_max:.0%} of its rows quarantined "
            "(config/checks.yaml, quarantine_share_max).",
        ),
        run,
    )


def _sql_rule_check(
    asset: str, name: str, description: str, sql: str, severity: dg.AssetCheckSeverity, blocking: bool
) -> CheckDef:
    def run(warehouse: WarehouseResource, ingest: IngestResource) -> dg.AssetCheckResult:
        n, sample = offending_rows(warehouse.engine(), sql)
        sample = sample.drop(columns=[c for c in sample.columns if c in IDENTIFIER_COLUMNS])
        example = "; ".join(
            " ".join(f"{k}={v}" for k, v in row.items()) for row in sample.head(2).astype(str).to_dict("records")
        )
        return dg.AssetCheckResult(
            passed=n == 0,
            severity=severity,
            description=None
            if n == 0
            else f"{n:,} row{'s' if n != 1 else ''} break{'s' if n == 1 else ''} the rule ({_rule_text(description)})"
            + (f"; e.g. {example}" if example else ""),
            metadata={
                "offending_rows": n,
                "sample": dg.MetadataValue.json(sample.astype(str).to_dict("records")),
                "sql": dg.MetadataValue.md(f"```sql\n{sql}\n```"),
            },
        )

    return CheckDef(
        dg.AssetCheckSpec(name, asset=asset, description=description, blocking=blocking), run, reads=tables_in_sql(sql)
    )


def _rule_text(description: str) -> str:
    """A check's description without its prefix and the file it comes from, for one line."""
    text = re.sub(r"\s*\(config/[^)]*\)", "", description.removeprefix("Plausibility: "))
    return text.rstrip(". ")


quality_checks = [
    *[_quarantine_share_check(feed) for feed in FEED_STAGING],
    *[
        _sql_rule_check(
            r.table,
            r.id,
            f"Every {r.column} of {r.table} exists in {r.dimension}.{r.key} (referential integrity).",
            r.sql(),
            dg.AssetCheckSeverity.ERROR,
            blocking=True,
        )
        for r in QUALITY.integrity
    ],
    *[
        _sql_rule_check(
            r.table, r.id, f"Plausibility: {r.description}", r.sql, dg.AssetCheckSeverity.WARN, blocking=False
        )
        for r in QUALITY.plausibility
    ],
    _sql_rule_check(
        "fct_delivery_completeness",
        "partners_deliver_on_time",
        f"No partner's delivery is more than {QUALITY.late_warning_days} days past its due date, or missing past it "
        "(config/checks.yaml, late_warning_days).",
        late_deliveries_sql(QUALITY.late_warning_days),
        dg.AssetCheckSeverity.WARN,
        blocking=False,
    ),
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
    @dg.multi_asset_check(
        specs=[c.spec for c in checks], can_subset=True, name=f"{asset.to_python_identifier()}_checks"
    )
    def _run(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, ingest: IngestResource):
        selected = [c for c in checks if c.spec.key in context.selected_asset_check_keys]
        engine = warehouse.engine()
        # what each check last passed on, and the tables it reads as built: one query for the step
        state = built_from(engine, {n for c in selected for n in (c.spec.name, *c.reads)})
        forced = full_rebuild_forced(context)
        passed: dict[str, str] = {}
        for check in selected:
            inputs = _inputs_fingerprint(state, check)
            if inputs is not None and state.get(check.spec.name) == inputs and not forced:
                yield dg.AssetCheckResult(
                    asset_key=asset,
                    check_name=check.spec.name,
                    passed=True,
                    metadata={
                        "rechecked": False,
                        "input_fingerprint": inputs[:12],
                        "note": f"Not run again: {', '.join(check.reads)} unchanged (same code and configuration) "
                        "since it passed.",
                    },
                )
                continue
            try:
                r = check.run(warehouse, ingest)
            except Exception as exc:  # one broken check must not hide (or, if it only warns, block like) the others
                # ... but a lock or a lost connection is no verdict on the data: the step fails, the run retries
                raise_if_infrastructure(exc, f"check {check.spec.name}")
                context.log.error(f"check {check.spec.name} could not run: {type(exc).__name__}: {exc}")
                yield dg.AssetCheckResult(
                    asset_key=asset,
                    check_name=check.spec.name,
                    passed=False,
                    severity=dg.AssetCheckSeverity.ERROR if check.spec.blocking else dg.AssetCheckSeverity.WARN,
                    description=f"the check itself failed (a bug, not the data): {type(exc).__name__}: "
                    + str(exc)[:200],
                    metadata={"error": f"{type(exc).__name__}: {str(exc)[:500]}"},
                )
                continue
            if inputs is not None and r.passed:
                passed[check.spec.name] = inputs
            yield dg.AssetCheckResult(
                asset_key=asset,
                check_name=check.spec.name,
                passed=r.passed,
                severity=r.severity,
                description=r.description,
                metadata=r.metadata,
            )
        if passed:  # one transaction for the step
            record_built_many(engine, passed, context.run.run_id)

    return _run


def _inputs_fingerprint(state: dict[str, str], check: CheckDef) -> str | None:
    """What a check's answer depends on: the code and configuration, and each table it reads as it was
    built (`state`: build_state's fingerprints); None when it reads a table not recorded that way."""
    if not check.reads or any(t not in state for t in check.reads):
        return None
    return fingerprint_of(f"{code_version()}\0{check.spec.name}", state, check.reads)


all_checks = grouped_per_asset([*schema_checks, *reconciliation_checks, *privacy_checks, *quality_checks])
