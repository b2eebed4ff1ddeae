"""A file is recorded before it is read, so that one that crashed a run is never read blindly again.

`record_attempts` commits a `read_attempts` row per file just before it is read (in the run process or
handed to a worker); the batch that writes the file's delivery_log record removes it in the same
transaction (`clear_attempts`). A row that remains means a run stopped while that file was being read:
perhaps because of the file, perhaps not (a deployment, kill -9). The next run therefore neither skips
it nor reads it as usual: it reads it only in an isolated worker bounded in memory and time
(ingest/sandbox.py), where a file that crashes the reader is rejected with the cause (FILE_UNREADABLE)
and an innocent one simply loads.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from ingest.deliveries import Delivery
from schemas.tables import TABLES
from warehouse.db import delete_rows, ensure_table, insert_frame, read_table

ATTEMPTS = "read_attempts"


def unfinished_attempts(engine: sa.Engine) -> dict[str, datetime]:
    """delivery_id -> when a run started reading it, for every file whose reading never got logged."""
    with engine.begin() as conn:
        ensure_table(conn, TABLES[ATTEMPTS])
    df = read_table(engine, ATTEMPTS, columns=["delivery_id", "attempted_at"])
    return dict(zip(df["delivery_id"], df["attempted_at"], strict=True))


def record_attempts(engine: sa.Engine, deliveries: list[Delivery]) -> None:
    """Commit an attempt record per delivery, before any of them is read (an earlier record is replaced)."""
    if not deliveries:
        return
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    frame = pd.DataFrame(
        {
            "delivery_id": pd.Series([d.delivery_id for d in deliveries], dtype="str"),
            "partner_code": pd.Series([d.partner_code for d in deliveries], dtype="str"),
            "source_file": pd.Series([d.source_file for d in deliveries], dtype="str"),
            "content_hash": pd.Series([d.content_hash for d in deliveries], dtype="str"),
            "attempted_at": pd.Series([now] * len(deliveries), dtype="datetime64[us]"),
        }
    )
    with engine.begin() as conn:
        delete_rows(conn, ATTEMPTS, "delivery_id", frame["delivery_id"])
        insert_frame(conn, ATTEMPTS, frame)


def clear_attempts(conn: sa.Connection, delivery_ids: list[str]) -> None:
    """Inside the transaction that logs these deliveries: their reading is over."""
    for i in range(0, len(delivery_ids), 500):
        delete_rows(conn, ATTEMPTS, "delivery_id", delivery_ids[i : i + 500])
