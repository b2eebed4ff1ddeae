"""Warehouse I/O on the real databases: bulk loads, one-transaction replaces, reopening after a hard exit."""

import subprocess
import sys
import textwrap

import duckdb
import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

from ingest.reference import Reference
from schemas.tables import TABLES
from transforms.dimensions import dim_postcode_range, dim_region
from warehouse.db import WarehouseSchemaError, ensure_table, make_engine, read_table, replace_table, row_count


def test_replace_and_read_back_round_trip(warehouse_url):
    engine = make_engine(warehouse_url)
    df = dim_postcode_range(Reference())
    assert replace_table(engine, "dim_postcode_range", df) == len(df)
    back = read_table(engine, "dim_postcode_range").sort_values("pc4_from").reset_index(drop=True)
    pd.testing.assert_frame_equal(back, df.sort_values("pc4_from").reset_index(drop=True), check_dtype=False)
    assert back["pc4_from"].dtype == "Int64"


def test_a_failed_replace_leaves_the_previous_table(warehouse_url):
    engine = make_engine(warehouse_url)
    good = dim_region(Reference())
    replace_table(engine, "dim_region", good)
    broken = good.copy()
    broken["municipality_code"] = None  # violates NOT NULL: the insert fails inside the transaction
    with pytest.raises((sa.exc.SQLAlchemyError, duckdb.Error, psycopg.Error), match=r"(?i)null"):
        replace_table(engine, "dim_region", broken)
    assert row_count(engine, "dim_region") == len(good)
    assert read_table(engine, "dim_region")["municipality_code"].notna().all()


def test_derived_table_with_drifted_columns_is_rebuilt_but_staging_is_protected(duckdb_url):
    engine = make_engine(duckdb_url)
    with engine.begin() as conn:
        conn.execute(sa.text('CREATE TABLE "dim_region" (old_column TEXT)'))
        conn.execute(sa.text('CREATE TABLE "stg_enrolments" (old_column TEXT)'))
    replace_table(engine, "dim_region", dim_region(Reference()))
    assert [c["name"] for c in sa.inspect(engine).get_columns("dim_region")] == TABLES["dim_region"].column_names
    with pytest.raises(WarehouseSchemaError, match="make reset-warehouse"), engine.begin() as conn:
        ensure_table(conn, TABLES["stg_enrolments"])


def test_duckdb_file_reopens_after_the_writer_exits_without_closing(tmp_path):
    """Regression: a sequence default in the DDL once made DuckDB's WAL replay fail after such an exit."""
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    script = textwrap.dedent(f"""
        import os
        import sqlalchemy as sa
        from schemas.tables import TABLES
        from warehouse.db import ensure_table, make_engine, replace_table
        from transforms.dimensions import DIMENSIONS
        from ingest.reference import Reference
        engine = make_engine({url!r})
        with engine.begin() as conn:
            for table in TABLES.values():
                ensure_table(conn, table)
        for name, build in DIMENSIONS.items():
            replace_table(engine, name, build(Reference()))
        os._exit(0)  # no close, no checkpoint: the WAL must replay
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert (tmp_path / "w.duckdb.wal").exists()
    engine = make_engine(url)
    assert set(TABLES) <= set(sa.inspect(engine).get_table_names())
    assert row_count(engine, "dim_postcode_range") > 0


def test_replace_refuses_a_table_of_ingested_rows(warehouse_url):
    engine = make_engine(warehouse_url)
    with pytest.raises(WarehouseSchemaError, match="never replaced"):
        replace_table(engine, "delivery_log", pd.DataFrame())


def test_replacing_a_wide_table_twice_keeps_its_definition(duckdb_url):
    """The DuckDB swap (new table, renamed over the old) keeps the DDL: NOT NULL and the primary key."""
    engine = make_engine(duckdb_url)
    df = dim_region(Reference())
    for _ in range(2):
        assert replace_table(engine, "dim_region", df) == len(df)
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        pk = sa.inspect(conn).get_pk_constraint("dim_region")["constrained_columns"]
    assert "dim_region__new" not in tables and pk == ["municipality_code"]
    dup = pd.concat([df, df.head(1)], ignore_index=True)
    with pytest.raises((sa.exc.SQLAlchemyError, duckdb.Error), match=r"(?i)constraint|duplicate"):
        replace_table(engine, "dim_region", dup)
    assert row_count(engine, "dim_region") == len(df)
