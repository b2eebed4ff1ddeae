"""Engine, DDL and bulk I/O for the warehouse, per database.

- DuckDB (embedded default): the frame is handed over as Arrow and inserted with one
  INSERT ... SELECT (its native bulk path; `to_sql` through a dialect is ~100x slower); reads come
  back as Arrow too.
- PostgreSQL (production): COPY through psycopg.
- Anything else SQLAlchemy speaks: `DataFrame.to_sql` in chunks (the generic path).
Replacing a table's contents is one transaction: readers see the old rows until it commits.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.errors import ZorgstroomError
from schemas.ddl import sqlalchemy_table
from schemas.fields import PANDAS_DTYPES
from schemas.tables import TABLES, Table

#: Tables whose rows are the record of what was ingested: never dropped automatically.
DURABLE_LAYERS = ("staging", "audit")


class WarehouseSchemaError(ZorgstroomError):
    pass


def make_engine(url: str) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() in ("duckdb", "sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(url)


def _sa_table(table: Table) -> sa.Table:
    return sqlalchemy_table(table, sa.MetaData())


def ensure_table(conn: sa.Connection, table: Table) -> None:
    """Create the table if absent. A derived table whose columns drifted is rebuilt; a durable one raises."""
    inspector = sa.inspect(conn)
    if inspector.has_table(table.name):
        existing = [c["name"] for c in inspector.get_columns(table.name)]
        if existing == table.column_names:
            return
        if table.layer in DURABLE_LAYERS:
            raise WarehouseSchemaError(
                f"Table {table.name} in the warehouse has columns {existing}, the code expects {table.column_names}. "
                "Its rows are ingested data: rebuild the warehouse with `make reset-warehouse` (re-ingests every "
                "delivery)."
            )
        conn.execute(sa.text(f'DROP TABLE "{table.name}"'))
    _sa_table(table).create(conn)


def ensure_tables(engine: sa.Engine, names: Iterable[str]) -> None:
    with engine.begin() as conn:
        for name in names:
            ensure_table(conn, TABLES[name])


def _conform(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    missing = [c for c in table.column_names if c not in df.columns]
    if missing:
        raise ValueError(f"frame for {table.name} lacks columns {missing}")
    return df[table.column_names]


def _driver_connection(conn: sa.Connection) -> Any:
    """The driver's own connection (DuckDB's or psycopg's) under a live SQLAlchemy connection."""
    raw = conn.connection.driver_connection
    assert raw is not None  # None only once the connection has been invalidated
    return raw


def insert_frame(conn: sa.Connection, table_name: str, df: pd.DataFrame, into: str | None = None) -> int:
    """Append a frame to a table inside the caller's transaction, by the database's bulk path.

    `into` names another physical table with the same columns (the new copy during a replace)."""
    table = TABLES[table_name]
    df = _conform(df, table)
    target = into or table_name
    if df.empty:
        return 0
    backend = conn.dialect.name
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    if backend == "duckdb":
        raw = _driver_connection(conn)
        view = f"_load_{table_name}"
        try:  # Arrow is DuckDB's zero-copy scan: ~7x faster than scanning pandas' string columns
            source = pa.Table.from_pandas(df, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed Python objects in a column: let DuckDB scan pandas
            source = df
        raw.register(view, source)
        try:
            raw.execute(f'INSERT INTO "{target}" ({cols}) SELECT {cols} FROM "{view}"')
        finally:
            raw.unregister(view)
    elif backend == "postgresql":
        raw = _driver_connection(conn)
        rows = df.astype(object).where(df.notna(), None).itertuples(index=False, name=None)
        with raw.cursor() as cur, cur.copy(f'COPY "{target}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    else:
        df.to_sql(target, conn, if_exists="append", index=False, chunksize=100_000)
    return len(df)


def delete_rows(conn: sa.Connection, table_name: str, column: str, values: Iterable[object]) -> None:
    values = list(values)
    if values:
        t = _sa_table(TABLES[table_name])
        conn.execute(t.delete().where(t.c[column].in_(values)))


@contextmanager
def _replacing(engine: sa.Engine, table: Table) -> Iterator[tuple[sa.Connection, str]]:
    """A transaction in which the caller fills the table's new contents into the yielded physical table.

    DuckDB: a new table is created, filled, and renamed over the old one (dbt's swap). Deleting
    every row of a wide table costs DuckDB seconds per hundred thousand rows, twice (delete and
    commit); dropping it costs nothing (bench/RESULTS.md). PostgreSQL: DELETE, then the new rows,
    so that readers keep reading the old rows (MVCC) instead of waiting for a lock.
    Either way one transaction: readers and a failed run see the old table.
    """
    _refuse_durable(table)
    with engine.begin() as conn:
        if conn.dialect.name == "duckdb":
            with _swapping(conn, table) as staged:
                yield conn, staged
        else:
            ensure_table(conn, table)
            conn.execute(sa.text(f'DELETE FROM "{table.name}"'))
            yield conn, table.name


def _refuse_durable(table: Table) -> None:
    if table.layer in DURABLE_LAYERS:
        raise WarehouseSchemaError(
            f"{table.name} holds ingested rows ({table.layer}); it is appended to, never replaced"
        )


@contextmanager
def _swapping(conn: sa.Connection, table: Table) -> Iterator[str]:
    """DuckDB, inside the caller's transaction: yields a new empty table to fill, then renames it over the old."""
    staged = f"{table.name}__new"
    conn.execute(sa.text(f'DROP TABLE IF EXISTS "{staged}"'))
    sqlalchemy_table(dataclasses.replace(table, name=staged), sa.MetaData()).create(conn)
    yield staged
    conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table.name}"'))
    conn.execute(sa.text(f'ALTER TABLE "{staged}" RENAME TO "{table.name}"'))


def replace_table(engine: sa.Engine, table_name: str, df: pd.DataFrame) -> int:
    """Replace every row of a table in one transaction (readers never see a half-written table)."""
    return replace_tables(engine, {table_name: df})[table_name]


def replace_tables(engine: sa.Engine, frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Replace several tables in ONE transaction: readers, and a run that fails or is killed halfway, see
    all of them old or all of them new (an asset that writes several tables must never leave one new
    beside another old). Returns the rows written per table."""
    tables = [TABLES[name] for name in frames]
    for table in tables:
        _refuse_durable(table)
    written: dict[str, int] = {}
    with engine.begin() as conn:
        for table in tables:
            df = frames[table.name]
            if conn.dialect.name == "duckdb":
                with _swapping(conn, table) as staged:
                    written[table.name] = insert_frame(conn, table.name, df, into=staged)
            else:
                ensure_table(conn, table)
                conn.execute(sa.text(f'DELETE FROM "{table.name}"'))
                written[table.name] = insert_frame(conn, table.name, df)
    return written


def replace_table_from_select(engine: sa.Engine, table_name: str, select_sql: str) -> int:
    """Replace every row of a table with the result of a SELECT run in the warehouse, in one transaction.

    The select must yield the table's columns in its order. Returns the new row count.
    """
    table = TABLES[table_name]
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    with _replacing(engine, table) as (conn, target):
        conn.execute(sa.text(f'INSERT INTO "{target}" ({cols}) {select_sql}'))
        return _count(conn, f'SELECT COUNT(*) FROM "{target}"')


def in_list_text(sql: str, params: dict) -> sa.TextClause:
    """sa.text with its list-valued parameters expanded (`IN :ids`), on every database."""
    lists = {k: v for k, v in params.items() if isinstance(v, (list, tuple)) and re.search(rf"(?<!:):{k}\b", sql)}
    # typed, so that an empty list renders as an empty set of strings (not of integers)
    return sa.text(sql).bindparams(
        *[
            sa.bindparam(k, expanding=True, type_=sa.String() if all(isinstance(x, str) for x in v) else None)
            for k, v in lists.items()
        ]
    )


#: The temporary table in which `replace_rows` holds the keys it replaces; its `rows_sql` may read it.
TOUCHED_KEYS = "_touched_keys"


def replace_rows(
    engine: sa.Engine, table_name: str, key_columns: list[str], keys_sql: str, rows_sql: str, params: dict | None = None
) -> tuple[int, int]:
    """Replace the rows whose key (`key_columns`) is one of `keys_sql`'s rows by the rows of `rows_sql`,
    in one transaction. The keys are first kept in the temporary table TOUCHED_KEYS, which `rows_sql`
    may read; `rows_sql` yields the table's columns in order, only for those keys, and may read the
    table itself (its old rows). List-valued `params` bind as `IN :name`.
    Returns (rows written, rows in the table now).

    DuckDB: the kept rows and the new ones fill a new table that is renamed over the old one, in key
    order, as a whole replace does (its DELETE costs more than copying the rest once more than a few
    percent of the rows change). PostgreSQL: the new rows are computed into a temporary table, the old
    ones of those keys deleted and the new inserted (readers see the old rows until commit).
    """
    table = TABLES[table_name]
    _refuse_durable(table)
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    params = params or {}
    match = " AND ".join(f'k."{c}" = t."{c}"' for c in key_columns)
    touched = f'EXISTS (SELECT 1 FROM "{TOUCHED_KEYS}" AS k WHERE {match})'
    with engine.begin() as conn:
        for temp, sql in ((TOUCHED_KEYS, keys_sql), ("_new_rows", rows_sql)):
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{temp}"'))
            conn.execute(in_list_text(f'CREATE TEMPORARY TABLE "{temp}" AS {sql}', params), params)
        written = _count(conn, 'SELECT COUNT(*) FROM "_new_rows"')
        if conn.dialect.name == "duckdb":
            order = ", ".join(f'"{c}"' for c in (table.primary_key or key_columns))
            with _swapping(conn, table) as target:
                conn.execute(
                    sa.text(
                        f'INSERT INTO "{target}" ({cols}) SELECT {cols} FROM ('
                        f'SELECT {cols} FROM "{table_name}" AS t WHERE NOT {touched} '
                        f'UNION ALL SELECT {cols} FROM "_new_rows") AS merged ORDER BY {order}'
                    )
                )
        else:
            conn.execute(sa.text(f'DELETE FROM "{table_name}" AS t WHERE {touched}'))
            conn.execute(sa.text(f'INSERT INTO "{table_name}" ({cols}) SELECT {cols} FROM "_new_rows"'))
        for temp in (TOUCHED_KEYS, "_new_rows"):
            conn.execute(sa.text(f'DROP TABLE "{temp}"'))
        return written, _count(conn, f'SELECT COUNT(*) FROM "{table_name}"')


def _count(conn: sa.Connection, sql: str) -> int:
    return int(conn.execute(sa.text(sql)).scalar_one())


def typed(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Give a frame read from the database the pandas dtypes of its table definition."""
    out = {}
    for col in table.columns:
        s = df[col.name]
        t = col.field.type
        want = PANDAS_DTYPES[t]
        if str(s.dtype) == want:
            out[col.name] = s
        elif t in ("date", "timestamp"):
            out[col.name] = pd.to_datetime(s).astype("datetime64[us]")
        elif t == "string":
            out[col.name] = s.astype("object").where(s.notna(), None).astype("str")
        else:
            out[col.name] = s.astype(want)
    return pd.DataFrame(out, index=df.index)


def _select_sql(table: Table, where: str = "", columns: Iterable[str] | None = None, limit: int | None = None) -> str:
    cols = ", ".join(f'"{c}"' for c in (columns or table.column_names))
    return (
        f'SELECT {cols} FROM "{table.name}"'
        + (f" WHERE {where}" if where else "")
        + (f" LIMIT {int(limit)}" if limit is not None else "")
    )


def read_table(
    engine_or_conn: sa.Engine | sa.Connection,
    table_name: str,
    where: str = "",
    params: dict | None = None,
    columns: Iterable[str] | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """A whole table (optionally only some columns, filtered by a SQL `where` with bound :params, or its
    first `limit` rows) with its pandas dtypes.

    DuckDB hands its result over as Arrow (columnar, no Python objects per value): ~10x faster and
    leaner than fetching rows through the DB-API, which dominated the pipeline's profile (bench/).
    """
    table = TABLES[table_name]
    columns = list(columns) if columns is not None else None
    sub = table if columns is None else dataclasses.replace(table, columns=tuple(table.column(c) for c in columns))
    sql = _select_sql(table, where, columns, limit)
    if isinstance(engine_or_conn, sa.Engine):
        with engine_or_conn.connect() as conn:
            return _read(conn, sql, params, sub)
    return _read(engine_or_conn, sql, params, sub)


def _read(conn: sa.Connection, sql: str, params: dict | None, table: Table) -> pd.DataFrame:
    if conn.dialect.name == "duckdb":
        raw = _driver_connection(conn)
        duck_sql = re.sub(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)", r"$\1", sql)  # :name -> $name (DuckDB's named parameters)
        arrow = raw.execute(duck_sql, params or {}).to_arrow_table()
        df = arrow.to_pandas(date_as_object=False, timestamp_as_object=False)
    else:
        df = pd.read_sql(sa.text(sql), conn, params=params or {})
    return typed(df, table)


def rows_of_deliveries(engine: sa.Engine, table_name: str, delivery_ids: list[str], chunk: int = 500) -> pd.DataFrame:
    """The rows of a table that belong to the given deliveries (read in chunks of bound parameters)."""
    parts = [read_table(engine, table_name, limit=0)]
    for i in range(0, len(delivery_ids), chunk):
        ids = delivery_ids[i : i + chunk]
        names = {f"d{j}": v for j, v in enumerate(ids)}
        where = "delivery_id IN (" + ", ".join(f":{n}" for n in names) + ")"
        parts.append(read_table(engine, table_name, where=where, params=names))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def table_exists(engine: sa.Engine, table_name: str) -> bool:
    return sa.inspect(engine).has_table(table_name)


def row_count(engine: sa.Engine, table_name: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f'SELECT COUNT(*) FROM "{table_name}"')).scalar_one())


def distinct_values(engine: sa.Engine, table_name: str, column: str) -> set:
    """The distinct non-null values of one column, counted in the warehouse."""
    TABLES[table_name].column(column)  # known column: the name goes into SQL
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f'SELECT DISTINCT "{column}" FROM "{table_name}" WHERE "{column}" IS NOT NULL'))
        return {r[0] for r in rows}
