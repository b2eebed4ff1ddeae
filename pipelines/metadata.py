"""Asset metadata the Dagster UI shows: row count, column schema with descriptions, a preview."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from schemas.tables import Table

PREVIEW_ROWS = 10
PSEUDONYM_COLUMNS = ("person_id",)


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


def markdown_preview(df: pd.DataFrame, rows: int = PREVIEW_ROWS) -> str:
    """A markdown table of the first rows; pseudonyms shortened (they are long and not for reading)."""
    head = df.head(rows).copy()
    for c in PSEUDONYM_COLUMNS:
        if c in head:
            head[c] = head[c].str.slice(0, 10) + "…"
    cells = head.astype("object").where(head.notna(), "")
    lines = ["| " + " | ".join(map(str, cells.columns)) + " |", "|" + "---|" * len(cells.columns)]
    lines += ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in cells.itertuples(index=False)]
    return "\n".join(lines)


def table_metadata(table: Table, df: pd.DataFrame, **extra: object) -> dict[str, object]:
    return {
        "dagster/row_count": len(df),
        "dagster/column_schema": column_schema(table),
        "dagster/table_name": table.name,
        "grain": table.grain,
        "preview": dg.MetadataValue.md(markdown_preview(df)),
        **extra,
    }
