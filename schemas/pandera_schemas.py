"""Pandera schemas generated from the table definitions.

Checks come from the field definitions: required (not nullable), code lists (isin), ranges,
patterns, and a unique primary key. Code lists that live in config/reference are passed in, so a
new programme or function needs a data change only.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandera.pandas as pa

from schemas.fields import PANDAS_DTYPES, Field
from schemas.tables import Table

#: Code lists fixed by the pipeline itself (the others come from config/reference).
FIXED_CODE_LISTS: dict[str, frozenset[str]] = {
    "person_id_kinds": frozenset({"bsn", "onderwijsnummer"}),
    "partner_kinds": frozenset({"employer", "training_provider", "municipality"}),
    "feeds": frozenset({"employment_spells", "enrolments", "municipal_participants"}),
    "cadences": frozenset({"monthly", "quarterly"}),
    "delivery_statuses": frozenset({"loaded", "duplicate", "superseded", "rejected", "skipped"}),
    "severities": frozenset({"row_rejected", "flagged"}),
    "inflow_kinds": frozenset({"herintreder", "zij_instromer", "overig"}),
    "municipality_sources": frozenset({"residence", "partner_location"}),
    "age_bands": frozenset({"<25", "25-34", "35-44", "45-54", "55+"}),
    "route_kinds": frozenset({"enrolment", "wep", "baan", "opleiding", "job"}),
    "event_types": frozenset({"start", "end"}),
    "outcomes": frozenset({"diploma", "dropout", "into_work", "other", "total"}),
    "target_statuses": frozenset({"achieved", "on_track", "needs_acceleration", "off_track", "not_started"}),
    "area_levels": frozenset({"municipality", "region", "all"}),
    "measures": frozenset({"inflow", "outflow", "internal_mobility"}),
    "breakdowns": frozenset(
        {"total", "inflow_kind", "function", "contract_type", "age_band", "target_group", "programme", "employer"}
    ),
    "suppression_reasons": frozenset({"small_count", "secondary"}),
    "completeness_statuses": frozenset({"on_time", "late", "missing", "empty", "not_yet_due"}),
}


def field_checks(field: Field, code_lists: Mapping[str, frozenset[str]]) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if field.code_list is not None:
        codes = code_lists.get(field.code_list, FIXED_CODE_LISTS.get(field.code_list))
        if codes is None:
            raise KeyError(f"field {field.name}: code list {field.code_list!r} was not provided")
        checks.append(pa.Check.isin(sorted(codes), name="code_list"))
    if field.min is not None and field.max is not None:
        checks.append(pa.Check.in_range(field.min, field.max, name="range"))
    elif field.min is not None:
        checks.append(pa.Check.ge(field.min, name="range"))
    elif field.max is not None:
        checks.append(pa.Check.le(field.max, name="range"))
    if field.pattern is not None:
        checks.append(pa.Check.str_matches(f"^(?:{field.pattern})$", name="pattern"))
    return checks


def pandera_schema(table: Table, code_lists: Mapping[str, frozenset[str]]) -> pa.DataFrameSchema:
    """The Pandera schema of a table. `code_lists` maps code-list names to their valid codes."""
    columns = {
        col.name: pa.Column(
            PANDAS_DTYPES[col.field.type],
            checks=field_checks(col.field, code_lists),
            nullable=not col.required,
            description=col.field.description,
            title=col.name,
        )
        for col in table.columns
    }
    return pa.DataFrameSchema(
        columns,
        name=table.name,
        description=table.description,
        strict=True,
        ordered=True,
        unique=list(table.primary_key) or None,
        report_duplicates="all",
    )
