"""`make grant-bi ROLE=bi_reader`: on a PostgreSQL warehouse, let a BI role read exactly the BI tables.

    python -m warehouse.bi_grants ROLE            # print the statements
    python -m warehouse.bi_grants ROLE --apply    # run them on ZORGSTROOM_WAREHOUSE_URL, in one transaction

The role must exist (`CREATE ROLE bi_reader LOGIN PASSWORD '...'`, by the database's owner). It gets
USAGE on the warehouse's schema and SELECT on the published tables and the dimensions except
dim_person (warehouse/bi_release.bi_tables), and loses SELECT on every other table of the schema.
Tables are replaced in place on PostgreSQL (DELETE and insert in one transaction), so the grants
stay; run it again after `make reset-warehouse` or a table rebuilt for new columns.
"""

from __future__ import annotations

import argparse
import sys

import sqlalchemy as sa

from core.settings import load_settings
from warehouse.bi_release import bi_grants_sql
from warehouse.db import make_engine


def apply_grants(engine: sa.Engine, role: str) -> list[str]:
    """Run the grants for `role` on the engine's current schema; returns the statements run."""
    if engine.dialect.name != "postgresql":
        raise SystemExit("grant-bi is for a PostgreSQL warehouse; on DuckDB BI tools open the BI copy (data/bi/).")
    with engine.begin() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
        statements = bi_grants_sql(role, schema)
        for statement in statements:
            conn.execute(sa.text(statement))
    return statements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse.bi_grants", description=__doc__.split("\n\n")[0])
    parser.add_argument("role")
    parser.add_argument("--apply", action="store_true", help="run the statements on ZORGSTROOM_WAREHOUSE_URL")
    parser.add_argument("--schema", default="public", help="schema of the warehouse tables when only printing")
    args = parser.parse_args(argv)
    if not args.apply:
        print(";\n".join(bi_grants_sql(args.role, args.schema)) + ";")
        return 0
    engine = make_engine(load_settings().warehouse_url)
    try:
        for statement in apply_grants(engine, args.role):
            print(statement + ";")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
