"""Asset metadata the Dagster UI shows: row count, column schema with descriptions, a preview."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pandas as pd

from ingest.identifiers import masked
from schemas.tables import Table
from warehouse.db import read_table

#: Asset and check metadata as Dagster takes it (values: plain values or dg.MetadataValue).
Metadata = dict[str, Any]

PREVIEW_ROWS = 10
PSEUDONYM_COLUMNS = ("person_id",)
#: Partners' own record numbers: never shown in the UI (a partner may have used a person's number as one).
MASKED_COLUMNS = ("record_key",)


def column_schema(table: Table) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=c.field.type,
                description=c.field.description,
                constraints=dg.TableColumnConstraints(nullable=not c.required),
            )
            for c in table.columns
        ]
    )


def definition_metadata(table: Table) -> Metadata:
    """What the UI shows on an asset's page whatever its last materialization says: column schema
    (with descriptions), table name and grain."""
    return {
        "dagster/column_schema": column_schema(table),
        "dagster/table_name": table.name,
        "grain": table.grain,
    }


def markdown_preview(df: pd.DataFrame, rows: int = PREVIEW_ROWS) -> str:
    """A markdown table of the first rows; pseudonyms shortened (they are long and not for reading), record
    keys masked."""
    head = df.head(rows).copy()
    for c in PSEUDONYM_COLUMNS:
        if c in head:
            head[c] = head[c].str.slice(0, 10) + "…"
    for c in MASKED_COLUMNS:
        if c in head:
            head[c] = head[c].fillna("").astype("str").map(masked)
    cells = head.astype("object").where(head.notna(), "")
    lines = ["| " + " | ".join(map(str, cells.columns)) + " |", "|" + "---|" * len(cells.columns)]
    lines += [
        "| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in cells.itertuples(index=False)
    ]
    return "\n".join(lines)


def table_metadata(table: Table, df: pd.DataFrame, *, rows: int | None = None, **extra: Any) -> Metadata:
    """Row count, schema, grain and a preview. `df` is the table, or only its first rows when `rows`
    gives the count (tables built inside the warehouse are never read whole for their metadata)."""
    return {
        "dagster/row_count": len(df) if rows is None else rows,
        "dagster/column_schema": column_schema(table),
        "dagster/table_name": table.name,
        "grain": table.grain,
        "preview": dg.MetadataValue.md(markdown_preview(df)),
        **extra,
    }


def warehouse_table_metadata(engine, table: Table, rows: int, **extra: Any) -> Metadata:
    """`table_metadata` of a table built in the warehouse: only its first rows are read, for the preview."""
    return table_metadata(table, read_table(engine, table.name, limit=PREVIEW_ROWS), rows=rows, **extra)


MAX_LISTED_DELIVERIES = 100


def deliveries_behind(log: pd.DataFrame, partner_codes: set[str] | None = None) -> Metadata:
    """Metadata naming the delivery files in force behind a table (all partners, or the given ones)."""
    loaded = log[log["delivery_status"] == "loaded"]
    if partner_codes is not None:
        loaded = loaded[loaded["partner_code"].isin(partner_codes)]
    return delivery_files_metadata(
        f"{p}/{f}" for p, f in zip(loaded["partner_code"], loaded["source_file"], strict=True)
    )


def delivery_files_metadata(files) -> Metadata:
    """`deliveries_in_force` and the (first) `delivery_files`, as partner/file."""
    files = sorted(files)
    return {
        "deliveries_in_force": len(files),
        "delivery_files": dg.MetadataValue.json(
            files[:MAX_LISTED_DELIVERIES]
            + ([f"... and {len(files) - MAX_LISTED_DELIVERIES} more"] if len(files) > MAX_LISTED_DELIVERIES else [])
        ),
    }
