"""Rebuild a derived table only when what it is built from changed, and only the part that changed
when that is just new deliveries.

A derived table is a pure function of the pipeline's code and configuration, of the deliveries loaded
for the feeds it depends on (the data window and every statistic come from those), and of the derived
tables it reads. Its input fingerprint is a SHA-256 of exactly that: the base fingerprint (the code
version, `core.versions`, and the fingerprints the upstream tables were built from, so a table built
from an upstream table that was rebuilt since, say by a per-layer job, is built again) and the loaded
deliveries. `build_state` records the fingerprint each table was last built from, written after the
table itself (a crash in between only costs a rebuild). A night without new deliveries for a feed
therefore leaves that feed's tables, and with no new deliveries at all every derived table, as they are.

Tables whose rows each depend on a known part of the deliveries (the current record of a partner's
record key, the residence history of a person) can take new deliveries on their own. For them
`build_deliveries` records the deliveries they cover and their base fingerprint:
`deliveries_added_since_built` gives the new ones when nothing else changed (same base, no delivery
retired since), else None: rebuild whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from core.versions import code_version
from schemas.tables import TABLES
from warehouse.db import ensure_table, in_list_text, insert_frame, table_exists

STATE_TABLE = "build_state"
DELIVERIES_TABLE = "build_deliveries"


def loaded_deliveries(engine: sa.Engine, partner_codes: Iterable[str] | None) -> list[str]:
    """The delivery ids in force (status loaded) of these partners (None: every partner), sorted."""
    if not table_exists(engine, "delivery_log"):
        return []
    where = "delivery_status = 'loaded'"
    params: dict[str, list[str]] = {}
    if partner_codes is not None:
        params = {"partners": sorted(partner_codes)}
        where += " AND partner_code IN :partners"
    with engine.connect() as conn:
        sql = f'SELECT delivery_id FROM "delivery_log" WHERE {where} ORDER BY delivery_id'
        return [r[0] for r in conn.execute(in_list_text(sql, params), params)]


def base_fingerprint(engine: sa.Engine, code: str | None = None, upstream: Iterable[str] = ()) -> str:
    """What a table is built from apart from deliveries: the code version and the upstream derived
    tables as they were built (their own recorded fingerprints)."""
    upstream = list(upstream)
    return fingerprint_of(code or code_version(), built_from(engine, upstream) if upstream else {}, upstream)


def fingerprint_of(code: str, state: dict[str, str], names: Iterable[str]) -> str:
    """SHA-256 of `code` and of each named table's recorded fingerprint in `state` ('' if none)."""
    digest = hashlib.sha256(code.encode())
    for name in sorted(names):
        digest.update(f"\0{name}={state.get(name, '')}".encode())
    return digest.hexdigest()


def combined_fingerprint(base: str, deliveries: Iterable[str]) -> str:
    digest = hashlib.sha256(base.encode())
    for delivery_id in sorted(deliveries):
        digest.update(b"\0" + delivery_id.encode())
    return digest.hexdigest()


def input_fingerprint(
    engine: sa.Engine, partner_codes: Iterable[str] | None, code: str | None = None, upstream: Iterable[str] = ()
) -> str:
    """The fingerprint of a table built from the loaded deliveries of these partners (None: all partners)
    and from the `upstream` derived tables (as they were built: their own recorded fingerprints)."""
    return combined_fingerprint(base_fingerprint(engine, code, upstream), loaded_deliveries(engine, partner_codes))


def built_from(engine: sa.Engine, asset_names: Iterable[str]) -> dict[str, str]:
    """The fingerprint each of these tables was last built from (tables never built are absent)."""
    names = list(asset_names)
    if not names or not table_exists(engine, STATE_TABLE):
        return {}
    params = {"names": names}
    sql = f'SELECT asset_name, input_fingerprint FROM "{STATE_TABLE}" WHERE asset_name IN :names'
    with engine.connect() as conn:
        return dict(conn.execute(in_list_text(sql, params), params).all())


def up_to_date(engine: sa.Engine, tables: Iterable[str], fingerprint: str) -> bool:
    """Every one of these tables exists and was built from exactly this fingerprint."""
    tables = list(tables)
    state = built_from(engine, tables)
    return all(state.get(t) == fingerprint and table_exists(engine, t) for t in tables)


def deliveries_added_since_built(
    engine: sa.Engine, name: str, base: str, deliveries: Iterable[str]
) -> list[str] | None:
    """The deliveries to apply to `name` (a table or check) on their own, sorted; None when it must be
    built whole: never recorded, built from another base (code, configuration or upstream tables),
    or a delivery it covers is no longer in force (superseded by a re-sent file, say)."""
    if name in TABLES and not table_exists(engine, name):
        return None
    covered, now = covered_deliveries(engine, name, base), set(deliveries)
    if not covered or covered - now:
        return None
    return sorted(now - covered)


def covered_deliveries(engine: sa.Engine, name: str, base: str) -> set[str]:
    """The deliveries `name` (a table or check) was recorded to cover as of this base fingerprint
    (none when it was recorded under another)."""
    if not table_exists(engine, DELIVERIES_TABLE):
        return set()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(f'SELECT delivery_id, base_fingerprint FROM "{DELIVERIES_TABLE}" WHERE asset_name = :n'),
            {"n": name},
        ).all()
    return {d for d, _ in rows} if rows and all(b == base for _, b in rows) else set()


def record_built(
    engine: sa.Engine,
    tables: Iterable[str],
    fingerprint: str,
    run_id: str,
    covers: tuple[str, Iterable[str]] | None = None,
) -> None:
    """Record (after the tables were written) what they were built from, in one transaction.
    `covers` = (base fingerprint, deliveries) for tables kept up to date delivery by delivery."""
    tables = list(tables)
    with engine.begin() as conn:
        _record_state(conn, dict.fromkeys(tables, fingerprint), run_id)
        if covers is not None or sa.inspect(conn).has_table(DELIVERIES_TABLE):
            _record_covered(conn, tables, covers)


def record_built_many(engine: sa.Engine, fingerprints: dict[str, str], run_id: str) -> None:
    """Record several names (checks that passed, say) with their own fingerprints, in one transaction."""
    with engine.begin() as conn:
        _record_state(conn, fingerprints, run_id)


def _record_state(conn: sa.Connection, fingerprints: dict[str, str], run_id: str) -> None:
    """A few rows: a plain INSERT.

    The bulk path's set-up costs more than it saves here, and checks record after every step.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    state = sa.table(
        STATE_TABLE, sa.column("asset_name"), sa.column("input_fingerprint"), sa.column("built_at"), sa.column("run_id")
    )
    if not sa.inspect(conn).has_table(STATE_TABLE):
        ensure_table(conn, TABLES[STATE_TABLE])
    conn.execute(state.delete().where(state.c.asset_name.in_(list(fingerprints))))
    conn.execute(
        state.insert(),
        [
            {"asset_name": name, "input_fingerprint": fp, "built_at": now, "run_id": run_id}
            for name, fp in fingerprints.items()
        ],
    )


def record_covered(engine: sa.Engine, name: str, base: str, deliveries: Iterable[str]) -> None:
    """Record that `name` (a check, say) covers these deliveries as of `base`."""
    with engine.begin() as conn:
        _record_covered(conn, [name], (base, deliveries))


def _record_covered(conn: sa.Connection, names: list[str], covers: tuple[str, Iterable[str]] | None) -> None:
    ensure_table(conn, TABLES[DELIVERIES_TABLE])
    table = sa.table(DELIVERIES_TABLE, sa.column("asset_name"))
    conn.execute(table.delete().where(table.c.asset_name.in_(names)))
    if covers is None:
        return
    base, deliveries = covers
    deliveries = sorted(set(deliveries))
    frame = pd.DataFrame(
        {
            "asset_name": [n for n in names for _ in deliveries],
            "delivery_id": [d for _ in names for d in deliveries],
            "base_fingerprint": base,
        }
    )
    insert_frame(conn, DELIVERIES_TABLE, frame.astype("str"))
