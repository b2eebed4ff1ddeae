"""SQLAlchemy table definitions generated from the table metadata: the warehouse DDL."""

from __future__ import annotations

import sqlalchemy as sa

from schemas.tables import TABLES, Table

SQL_TYPES = {
    "string": sa.Text,
    "int": sa.BigInteger,
    "float": sa.Float,
    "bool": sa.Boolean,
    "date": sa.Date,
    "timestamp": sa.DateTime,
}


def sqlalchemy_table(table: Table, metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        table.name,
        metadata,
        *[
            sa.Column(
                col.name,
                SQL_TYPES[col.field.type](),
                nullable=not col.required,
                # Keys are natural keys, never generated. (An autoincrement integer key makes
                # SQLAlchemy emit a sequence default whose WAL replay DuckDB 1.5 cannot do.)
                autoincrement=False,
                comment=col.field.description,
            )
            for col in table.columns
        ],
        *([sa.PrimaryKeyConstraint(*table.primary_key)] if table.primary_key else []),
        comment=table.description,
    )


def warehouse_metadata() -> sa.MetaData:
    """All warehouse tables in one MetaData (for create_all and for DDL review)."""
    metadata = sa.MetaData()
    for t in TABLES.values():
        sqlalchemy_table(t, metadata)
    return metadata
