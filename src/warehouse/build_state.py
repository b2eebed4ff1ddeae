"""Rebuild a derived table only when what it is built from changed.

A derived table is a pure function of the pipeline's code and configuration, of the deliveries loaded
for the feeds it depends on (the data window and every statistic come from those), and of the derived
tables it reads. Its input fingerprint is a SHA-256 of exactly that: the code version
(`core.versions`), the loaded deliveries, and the fingerprints the upstream tables were built from
(so a table built from an upstream table that was rebuilt since, say by a per-layer job, is built
again). `build_state` records the fingerprint each table was last built from, written after the table
itself (a crash in between only costs a rebuild). A night without new deliveries for a feed therefore
leaves that feed's tables, and with no new deliveries at all every derived table, as they are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timezone

import pandas as pd
import sqlalchemy as sa

from core.versions import code_version
from schemas.tables import TABLES
from warehouse.db import ensure_table, insert_frame, table_exists

STATE_TABLE = "build_state"


def input_fingerprint(engine: sa.Engine, partner_codes: Iterable[str] | None, code: str | None = None,
                      upstream: Iterable[str] = ()) -> str:
    """The fingerprint of a table built from the loaded deliveries of these partners (None: all partners)
    and from the `upstream` derived tables (as they were built: their own recorded fingerprints)."""
    where = "delivery_status = 'loaded'"
    params: dict[str, str] = {}
    if partner_codes is not None:
        codes = sorted(partner_codes)
        params = {f"p{i}": c for i, c in enumerate(codes)}
        where += " AND partner_code IN (" + (", ".join(f":{n}" for n in params) or "NULL") + ")"
    digest = hashlib.sha256((code or code_version()).encode())
    with engine.connect() as conn:
        if sa.inspect(conn).has_table("delivery_log"):
            for (delivery_id,) in conn.execute(sa.text(f'SELECT delivery_id FROM "delivery_log" WHERE {where} ORDER BY delivery_id'), params):
                digest.update(b"\0" + delivery_id.encode())
    upstream = sorted(upstream)
    if upstream:
        state = built_from(engine, upstream)
        for name in upstream:
            digest.update(f"\0{name}={state.get(name, '')}".encode())
    return digest.hexdigest()


def built_from(engine: sa.Engine, asset_names: Iterable[str]) -> dict[str, str]:
    """The fingerprint each of these tables was last built from (tables never built are absent)."""
    names = list(asset_names)
    if not names or not table_exists(engine, STATE_TABLE):
        return {}
    params = {f"a{i}": n for i, n in enumerate(names)}
    sql = f'SELECT asset_name, input_fingerprint FROM "{STATE_TABLE}" WHERE asset_name IN ({", ".join(":" + k for k in params)})'
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(sql), params).all())


def up_to_date(engine: sa.Engine, tables: Iterable[str], fingerprint: str) -> bool:
    """Every one of these tables exists and was built from exactly this fingerprint."""
    tables = list(tables)
    state = built_from(engine, tables)
    return all(state.get(t) == fingerprint and table_exists(engine, t) for t in tables)


def record_built(engine: sa.Engine, tables: Iterable[str], fingerprint: str, run_id: str) -> None:
    """Record (after the tables were written) what they were built from, in one transaction."""
    tables = list(tables)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    frame = pd.DataFrame({"asset_name": tables, "input_fingerprint": fingerprint, "built_at": now, "run_id": run_id})
    frame = frame.astype({"asset_name": "str", "input_fingerprint": "str", "built_at": "datetime64[us]", "run_id": "str"})
    state = sa.table(STATE_TABLE, sa.column("asset_name"))
    with engine.begin() as conn:
        ensure_table(conn, TABLES[STATE_TABLE])
        conn.execute(state.delete().where(state.c.asset_name.in_(tables)))
        insert_frame(conn, STATE_TABLE, frame)
