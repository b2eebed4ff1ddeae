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
    month = rest.where(~rest.str.startswith("Q"), (rest.str.slice(1).astype("Int64") * 3 - 2).astype("str").str.zfill(2))
    return pd.to_datetime(year + "-" + month + "-01", format="%Y-%m-%d")


def latest_records(staging: pd.DataFrame, fact: Table) -> pd.DataFrame:
    """One row per (partner_code, record_key): the row of the latest delivery in force."""
    ordered = staging.assign(_period_start=period_start(staging["delivery_period"])).sort_values(
        ["_period_start", "delivery_version", "source_row_number"], kind="stable"
    )
    latest = ordered.drop_duplicates(["partner_code", "record_key"], keep="last")
    return latest.sort_values(["partner_code", "record_key"], kind="stable").reset_index(drop=True)[fact.column_names]
