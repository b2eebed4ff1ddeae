"""Nothing lost, nothing counted twice: every delivery's rows are accounted for.

For each delivery in the log: rows_read = rows_accepted + rows_quarantined; for a loaded one, the
staging table holds exactly rows_accepted rows of it and quarantine_rows exactly
rows_quarantined rejected rows; a delivery that is not in force has no staging rows.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from schemas.tables import FEED_STAGING


def reconcile_feed(engine: sa.Engine, feed: str) -> pd.DataFrame:
    """Deliveries of the feed whose counts disagree, with what disagrees (empty: all accounted for)."""
    staging = FEED_STAGING[feed]
    sql = f"""
        WITH staged AS (SELECT delivery_id, COUNT(*) AS n FROM "{staging}" GROUP BY delivery_id),
             quarantined AS (
                 SELECT delivery_id, COUNT(DISTINCT source_row_number) AS n FROM quarantine_rows
                 WHERE severity = 'row_rejected' GROUP BY delivery_id)
        SELECT l.delivery_id, l.delivery_status, l.rows_read, l.rows_accepted, l.rows_quarantined,
               COALESCE(s.n, 0) AS rows_in_staging, COALESCE(q.n, 0) AS rows_in_quarantine
        FROM delivery_log l
        LEFT JOIN staged s ON s.delivery_id = l.delivery_id
        LEFT JOIN quarantined q ON q.delivery_id = l.delivery_id
        WHERE l.delivery_id IN (SELECT delivery_id FROM staged)
           OR l.partner_code IN (SELECT DISTINCT partner_code FROM "{staging}")
    """
    df = pd.read_sql(sa.text(sql), engine)
    problems = []
    for r in df.itertuples():
        why = []
        if r.rows_read != r.rows_accepted + r.rows_quarantined:
            why.append("rows_read != rows_accepted + rows_quarantined")
        if r.delivery_status == "loaded" and r.rows_in_staging != r.rows_accepted:
            why.append(f"{r.rows_in_staging} rows in {staging}, log says {r.rows_accepted}")
        if r.delivery_status != "loaded" and r.rows_in_staging:
            why.append(f"{r.delivery_status} delivery still has {r.rows_in_staging} rows in {staging}")
        if r.delivery_status in ("loaded", "superseded") and r.rows_in_quarantine != r.rows_quarantined:
            why.append(f"{r.rows_in_quarantine} rejected rows in quarantine_rows, log says {r.rows_quarantined}")
        if why:
            problems.append({"delivery_id": r.delivery_id, "problem": "; ".join(why)})
    return pd.DataFrame(problems, columns=["delivery_id", "problem"])
