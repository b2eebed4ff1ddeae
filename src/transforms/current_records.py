"""The current state of each partner record: per partner and record key the latest accepted row.

"Latest" is the pipeline's own order of deliveries (period, then version), never arrival or a
partner's "updated" field. A record that never had an accepted row does not exist; a quarantined
row never overwrites an accepted one (quarantined rows are not in staging at all).
"""

from __future__ import annotations

import pandas as pd

from schemas.tables import Table


def period_start(labels: pd.Series) -> pd.Series:
    """First day of each period label (YYYY-MM or YYYY-Qn)."""
    year = labels.str.slice(0, 4)
    rest = labels.str.slice(5)
    month = rest.where(
        ~rest.str.startswith("Q"), (rest.str.slice(1).astype("Int64") * 3 - 2).astype("str").str.zfill(2)
    )
    return pd.to_datetime(year + "-" + month + "-01", format="%Y-%m-%d")


def latest_records(staging: pd.DataFrame, fact: Table) -> pd.DataFrame:
    """One row per (partner_code, record_key): the row of the latest delivery in force."""
    ordered = staging.assign(_period_start=period_start(staging["delivery_period"])).sort_values(
        ["_period_start", "delivery_version", "source_row_number"], kind="stable"
    )
    latest = ordered.drop_duplicates(["partner_code", "record_key"], keep="last")
    return latest.sort_values(["partner_code", "record_key"], kind="stable").reset_index(drop=True)[fact.column_names]


def period_sort_key_sql(column: str) -> str:
    """SQL (DuckDB and PostgreSQL) for the first month of a period label as 'YYYY-MM': sorts like period_start."""
    return (
        f"substr({column}, 1, 4) || '-' || CASE WHEN substr({column}, 6, 1) = 'Q' "
        f"THEN lpad(CAST(CAST(substr({column}, 7, 1) AS INTEGER) * 3 - 2 AS VARCHAR), 2, '0') "
        f"ELSE substr({column}, 6, 2) END"
    )


def latest_records_sql(staging: Table, fact: Table) -> str:
    """`latest_records` as one SELECT over the staging table, run inside the warehouse.

    Same rule and order as the pandas function above (which stays the executable specification;
    tests/test_current_records.py holds them equal): per (partner_code, record_key) the row with the
    latest period start, then version, then source row number. In SQL the staging table never
    travels through Python, which at millions of rows is the difference between seconds and minutes
    and gigabytes of memory (bench/RESULTS.md).
    """
    cols = ", ".join(f'"{c}"' for c in fact.column_names)
    return _ranked_latest(cols, f'SELECT * FROM "{staging.name}"') + " ORDER BY partner_code, record_key"


def _ranked_latest(columns: str, source: str) -> str:
    return (
        f"SELECT {columns} FROM (SELECT *, row_number() OVER (PARTITION BY partner_code, record_key ORDER BY "
        f"{period_sort_key_sql('delivery_period')} DESC, delivery_version DESC, source_row_number DESC) AS _rank "
        f"FROM ({source}) AS candidates) AS ranked WHERE _rank = 1"
    )


def added_records_sql(staging: Table, fact: Table, touched: str) -> tuple[str, str]:
    """(keys, rows): `latest_records` brought up to date with new deliveries (bound as `:added`) alone.

    keys: the (partner_code, record_key) of the new deliveries' rows; rows: their current row, the
    latest of the record's current row before (joined to delivery_log for its version) and its rows
    in the new deliveries, given those keys in the table `touched`. Exact because "latest" is a
    maximum over a fixed order, and the deliveries a record's current row came from are all still in
    force (a retired delivery means a whole rebuild: warehouse.build_state). For `warehouse.db.replace_rows`;
    tests/test_current_records.py holds the result equal to a whole rebuild.
    """
    cols = ", ".join(f'"{c}"' for c in fact.column_names)
    keys = f'SELECT DISTINCT partner_code, record_key FROM "{staging.name}" WHERE delivery_id IN :added'
    before = ", ".join(f'f."{c}"' for c in fact.column_names)
    candidates = (
        f'SELECT {cols}, delivery_version FROM "{staging.name}" WHERE delivery_id IN :added '
        f'UNION ALL SELECT {before}, l.delivery_version FROM "{fact.name}" AS f '
        f'JOIN "delivery_log" AS l ON l.delivery_id = f.delivery_id '
        f'WHERE EXISTS (SELECT 1 FROM "{touched}" AS k '
        "WHERE k.partner_code = f.partner_code AND k.record_key = f.record_key)"
    )
    return keys, _ranked_latest(cols, candidates)
