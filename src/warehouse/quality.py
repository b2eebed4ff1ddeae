"""Data-quality rules from config/checks.yaml, run as SQL against the warehouse.

Rules are data: referential integrity (every code of a fact exists in its dimension) and
plausibility rules (a SQL query returning the offending rows). The pipeline's asset checks
(pipelines/checks.py) are generated from this file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
import yaml

from core.errors import ConfigError
from core.paths import CONFIG_DIR
from schemas import sql_checks
from schemas.tables import Table
from warehouse.db import in_list_text

CHECKS_FILE = CONFIG_DIR / "checks.yaml"


@dataclass(frozen=True)
class IntegrityRule:
    table: str
    column: str
    dimension: str
    key: str
    also_allowed: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.table}_{self.column}_in_{self.dimension}"

    def sql(self) -> str:
        allowed = (
            ' AND f."{c}" NOT IN ({v})'.format(c=self.column, v=", ".join(f"'{a}'" for a in self.also_allowed))
            if self.also_allowed
            else ""
        )
        return (
            f'SELECT DISTINCT f."{self.column}" AS missing_code FROM "{self.table}" f '
            f'LEFT JOIN "{self.dimension}" d ON d."{self.key}" = f."{self.column}" '
            f'WHERE f."{self.column}" IS NOT NULL AND d."{self.key}" IS NULL{allowed}'
        )


@dataclass(frozen=True)
class PlausibilityRule:
    id: str
    table: str
    description: str
    sql: str


@dataclass(frozen=True)
class QualityConfig:
    quarantine_share_max: float
    delivery_due_days: int
    late_warning_days: int
    integrity: tuple[IntegrityRule, ...] = field(default_factory=tuple)
    plausibility: tuple[PlausibilityRule, ...] = field(default_factory=tuple)


def load_quality_config(path: Path = CHECKS_FILE) -> QualityConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return QualityConfig(
            quarantine_share_max=float(raw["quarantine_share_max"]),
            delivery_due_days=int(raw["delivery_due_days"]),
            late_warning_days=int(raw["late_warning_days"]),
            integrity=tuple(
                IntegrityRule(r["table"], r["column"], r["dimension"], r["key"], tuple(r.get("also_allowed", ())))
                for r in raw.get("referential_integrity", [])
            ),
            plausibility=tuple(
                PlausibilityRule(r["id"], r["table"], r["description"], r["sql"]) for r in raw.get("plausibility", [])
            ),
        )
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc!r}; see the comments in the file for its format") from None


def late_deliveries_sql(late_warning_days: int) -> str:
    """Expected deliveries that are late or missing by more than the warning threshold."""
    return (
        "SELECT partner_code, delivery_period, completeness_status, days_late FROM fct_delivery_completeness "
        f"WHERE completeness_status IN ('late', 'missing') AND days_late > {int(late_warning_days)}"
    )


def offending_rows(engine: sa.Engine, sql: str, limit: int = 20) -> tuple[int, pd.DataFrame]:
    """(number of offending rows, a sample of them) for a rule's SQL."""
    with engine.connect() as conn:
        n = conn.execute(sa.text(f"SELECT COUNT(*) FROM ({sql}) AS offending")).scalar_one()
        sample = pd.read_sql(sa.text(f"SELECT * FROM ({sql}) AS offending LIMIT {int(limit)}"), conn)
    return int(n), sample


def quarantine_shares(log: pd.DataFrame, partner_codes: set[str], share_max: float) -> pd.DataFrame:
    """Loaded deliveries of the given partners whose quarantined share of rows is above share_max."""
    loaded = log[
        (log["delivery_status"] == "loaded") & log["partner_code"].isin(partner_codes) & (log["rows_read"] > 0)
    ]
    share = loaded["rows_quarantined"] / loaded["rows_read"]
    out = loaded.assign(quarantined_share=share.round(4))[share > share_max]
    return out[["delivery_id", "rows_read", "rows_quarantined", "quarantined_share"]]


def quarantine_counts(engine: sa.Engine) -> dict[str, int]:
    """Quarantine rows per delivery_id (rejected and flagged), counted in the warehouse."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text('SELECT delivery_id, COUNT(*) FROM "quarantine_rows" GROUP BY delivery_id'))
        return {d: int(n) for d, n in rows}


@dataclass
class Conformance:
    """What a table's schema check found: rows scanned, failing rows per (column, check), sample values."""

    rows: int
    failures: dict[tuple[str, str], int]
    sample: list[dict[str, str]]

    @property
    def passed(self) -> bool:
        return not self.failures


def schema_conformance_in_warehouse(
    engine: sa.Engine,
    table: Table,
    code_lists,
    sample_size: int = 10,
    identifier_columns: frozenset[str] = frozenset({"person_id"}),
    where: str = "",
    params: dict | None = None,
) -> Conformance:
    """Run a table's schema rules (schemas/sql_checks.py) in the warehouse, over the rows a SQL `where`
    selects (list-valued params bind as `IN :name`; default all): one scan, nothing read back but counts
    and a few failing values (identifiers masked)."""
    rules = sql_checks.row_rules(table, code_lists, engine.dialect.name)
    params = params or {}
    with engine.connect() as conn:
        counts = conn.execute(in_list_text(sql_checks.failure_counts_sql(table, rules, where), params), params).one()
        failures = {(r.column, r.check): int(n or 0) for r, n in zip(rules, counts[1:]) if n}
        dup_sql = sql_checks.duplicate_keys_sql(table, where)
        if dup_sql:
            dups = int(conn.execute(in_list_text(dup_sql, params), params).scalar_one() or 0)
            if dups:
                failures["+".join(table.primary_key), "unique"] = dups
        sample: list[dict[str, str]] = []
        for rule in rules:
            if (rule.column, rule.check) not in failures or len(sample) >= sample_size:
                continue
            for (value,) in conn.execute(
                in_list_text(sql_checks.failing_values_sql(table, rule, sample_size - len(sample), where), params),
                params,
            ):
                shown = "***" if rule.column in identifier_columns else str(value)[:40]
                sample.append({"column": rule.column, "check": rule.check, "failure_case": shown})
    return Conformance(int(counts[0]), failures, sample)


def quarantine_reason_counts(engine: sa.Engine) -> pd.DataFrame:
    """Quarantine rows per delivery, reason code and severity (delivery_id, reason_code, severity, rows)."""
    sql = (
        'SELECT delivery_id, reason_code, severity, COUNT(*) AS "rows" FROM "quarantine_rows" '
        "GROUP BY delivery_id, reason_code, severity"
    )
    with engine.connect() as conn:
        df = pd.read_sql(sa.text(sql), conn)
    df["rows"] = df["rows"].astype("int64")
    return df
