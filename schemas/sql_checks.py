"""Schema conformance as SQL, generated from the same table definitions as the Pandera schemas.

Pandera validates every row at ingest, while the rows are in pandas anyway. The asset checks ask
the same questions of the tables once they are in the warehouse, where a table may hold millions
of rows: reading them back into pandas to validate them cost more time and memory than building
them (bench/RESULTS.md). So the checks are one scan per table in the warehouse instead, with the
rules of `schemas/pandera_schemas.py` translated one for one (tests/test_sql_checks.py holds the two
equal on failing data, on DuckDB and on PostgreSQL):

- required column  -> not null      (Pandera: nullable=False)
- code list        -> value in list (Check.isin; nulls pass, as in Pandera)
- min / max        -> range         (Check.in_range / ge / le, inclusive)
- pattern          -> full match    (Check.str_matches on ^(?:pattern)$; the SQL engines are a little
                                     stricter: no trailing newline before $, ASCII digits for \\d)
- primary key      -> unique        (DataFrameSchema(unique=...))

Column names and types are the DDL's (`schemas/ddl.py`, enforced by `warehouse.db.ensure_table`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from schemas.pandera_schemas import FIXED_CODE_LISTS
from schemas.tables import Table


@dataclass(frozen=True)
class Rule:
    column: str  # a column, or the primary key columns joined with '+'
    check: str  # not_nullable | code_list | range | pattern | unique
    failing: str  # SQL predicate that is true for a failing row (per-row rules)


def _literal(value: object) -> str:
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _full_match(column: str, pattern: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"{column} ~ {_literal(f'^(?:{pattern})$')}"
    return f"regexp_full_match({column}, {_literal(f'(?:{pattern})')})"


def row_rules(table: Table, code_lists: Mapping[str, frozenset[str]], dialect: str) -> list[Rule]:
    """The per-row rules of a table, each with the SQL predicate of a failing row."""
    rules = []
    for col in table.columns:
        f, c = col.field, f'"{col.name}"'
        if col.required:
            rules.append(Rule(col.name, "not_nullable", f"{c} IS NULL"))
        if f.code_list is not None:
            codes = code_lists.get(f.code_list, FIXED_CODE_LISTS.get(f.code_list))
            if codes is None:
                raise KeyError(f"field {f.name}: code list {f.code_list!r} was not provided")
            if codes:
                listed = ", ".join(_literal(v) for v in sorted(codes))
                rules.append(Rule(col.name, "code_list", f"{c} IS NOT NULL AND {c} NOT IN ({listed})"))
            else:  # an empty list admits nothing (NOT IN of an empty list cannot be written; NOT IN (NULL) admits all)
                rules.append(Rule(col.name, "code_list", f"{c} IS NOT NULL"))
        if f.min is not None or f.max is not None:
            bounds = [f"{c} < {_literal(f.min)}"] if f.min is not None else []
            bounds += [f"{c} > {_literal(f.max)}"] if f.max is not None else []
            rules.append(Rule(col.name, "range", f"{c} IS NOT NULL AND ({' OR '.join(bounds)})"))
        if f.pattern is not None:
            rules.append(Rule(col.name, "pattern", f"{c} IS NOT NULL AND NOT ({_full_match(c, f.pattern, dialect)})"))
    return rules


def _where(where: str) -> str:
    return f" WHERE {where}" if where else ""


def failure_counts_sql(table: Table, rules: list[Rule], where: str = "") -> str:
    """One scan (of the rows `where` selects): the row count, then per rule the number of failing rows."""
    parts = ["COUNT(*)"] + [f"SUM(CASE WHEN {r.failing} THEN 1 ELSE 0 END)" for r in rules]
    return f'SELECT {", ".join(parts)} FROM "{table.name}"{_where(where)}'


def duplicate_keys_sql(table: Table, where: str = "") -> str | None:
    """Rows whose primary key occurs more than once (Pandera's unique check counts every such row)."""
    if not table.primary_key:
        return None
    key = ", ".join(f'"{k}"' for k in table.primary_key)
    return (
        f'SELECT COALESCE(SUM(n), 0) FROM (SELECT COUNT(*) AS n FROM "{table.name}"{_where(where)} GROUP BY {key} '
        f"HAVING COUNT(*) > 1) AS dup"
    )


def failing_values_sql(table: Table, rule: Rule, limit: int, where: str = "") -> str:
    also = f" AND ({where})" if where else ""
    return f'SELECT "{rule.column}" FROM "{table.name}" WHERE {rule.failing}{also} LIMIT {int(limit)}'
