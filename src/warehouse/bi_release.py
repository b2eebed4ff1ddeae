"""What BI tools read: the published tables and the dimensions they join, released whole after
each successful run, so that a BI connection never holds up a run and never sees a mix.

- DuckDB (the embedded default): DuckDB lets one process open a file while another writes it, so a
  BI tool holding the warehouse file open would make every run fail on its lock. BI tools open the
  reader's copy instead (default data/bi/zorgstroom.duckdb, ZORGSTROOM_BI_PATH): a separate DuckDB
  file that `write_release` fills under a temporary name next to it and renames over the old one
  (one atomic rename). A reader that has the old file open keeps reading the previous release; the
  next connection reads the new one; nobody sees half of each.
- PostgreSQL: BI tools read the `pub_*` tables and the dimensions in the warehouse itself (each
  table is replaced in one transaction, so readers see the old rows until it commits, MVCC); the
  BI role may read exactly those tables (`bi_grants_sql`, `make grant-bi`).

Each release holds `release_info`: one row per table (run_id, released_at, table_name, row_count).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from schemas.tables import TABLES
from warehouse.db import read_table

#: Dimensions that hold persons stay internal.
INTERNAL_DIMENSIONS = frozenset({"dim_person"})
RELEASE_INFO = "release_info"


def bi_tables() -> list[str]:
    """The tables BI tools read: every published table and every dimension except dim_person."""
    return [
        name
        for name, table in TABLES.items()
        if table.layer == "published" or (table.layer == "dimension" and name not in INTERNAL_DIMENSIONS)
    ]


def write_release(engine: sa.Engine, target: Path, run_id: str, tables: list[str] | None = None) -> dict[str, int]:
    """Write the BI tables into a new DuckDB file and rename it over `target`; returns rows per table.

    From a DuckDB warehouse the tables are copied inside DuckDB (ATTACH, CREATE TABLE AS); from any
    other warehouse they are read as frames and written through Arrow. Nothing is renamed unless
    every table was written: a failure leaves the previous release in place.
    """
    tables = bi_tables() if tables is None else tables
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        if engine.dialect.name == "duckdb":
            counts = _copy_inside_duckdb(engine, staged, tables)
        else:
            counts = _copy_through_frames(engine, staged, tables)
        with duckdb.connect(str(staged)) as bi:
            _write_release_info(bi, run_id, counts)
            bi.execute("CHECKPOINT")
        with staged.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(staged, target)  # atomic on one file system: the old release or the new, never a mix
    finally:
        for leftover in (staged, staged.with_name(staged.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return counts


def _copy_inside_duckdb(engine: sa.Engine, staged: Path, tables: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    alias = "bi_release_" + uuid.uuid4().hex[:8]
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None  # an open DuckDB connection
        raw.execute(f"ATTACH '{_quoted(staged)}' AS {alias}")
        try:
            for name in tables:
                raw.execute(f'CREATE TABLE {alias}."{name}" AS SELECT * FROM main."{name}"')
                counts[name] = int(raw.execute(f'SELECT COUNT(*) FROM {alias}."{name}"').fetchone()[0])
        finally:
            raw.execute(f"DETACH {alias}")
    return counts


def _copy_through_frames(engine: sa.Engine, staged: Path, tables: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    with duckdb.connect(str(staged)) as bi:
        for name in tables:
            df = read_table(engine, name)
            bi.register("_frame", pa.Table.from_pandas(df, preserve_index=False))
            bi.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _frame')
            bi.unregister("_frame")
            counts[name] = len(df)
    return counts


def _write_release_info(bi: duckdb.DuckDBPyConnection, run_id: str, counts: dict[str, int]) -> None:
    released_at = datetime.now(UTC).replace(tzinfo=None)
    bi.execute(
        f"CREATE TABLE {RELEASE_INFO} (run_id VARCHAR NOT NULL, released_at TIMESTAMP NOT NULL, "
        "table_name VARCHAR NOT NULL, row_count BIGINT NOT NULL)"
    )
    bi.executemany(
        f"INSERT INTO {RELEASE_INFO} VALUES (?, ?, ?, ?)",
        [(run_id, released_at, name, n) for name, n in counts.items()],
    )


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def bi_grants_sql(role: str, schema: str) -> list[str]:
    """PostgreSQL statements that let `role` read exactly the BI tables of `schema`, nothing else."""
    if not role.replace("_", "").isalnum():
        raise ValueError(f"role name {role!r}: letters, digits and _ only")
    if not schema.replace("_", "").isalnum():
        raise ValueError(f"schema name {schema!r}: letters, digits and _ only")
    listed = ", ".join(f'"{schema}"."{t}"' for t in bi_tables())
    return [
        f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM "{role}"',
        f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
        f'GRANT SELECT ON {listed} TO "{role}"',
    ]
