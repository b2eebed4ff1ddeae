"""The data's time window, from the deliveries in force: where events are observed from, and the cut-off."""

from __future__ import annotations

import pandas as pd

from transforms.current_records import period_start


def period_end(labels: pd.Series) -> pd.Series:
    """Last day of each period label (YYYY-MM or YYYY-Qn)."""
    starts = period_start(labels)
    months = labels.str.contains("Q").map({True: 3, False: 1})
    return pd.Series(
        [s + pd.DateOffset(months=int(m)) - pd.Timedelta(days=1) for s, m in zip(starts, months)],
        index=labels.index,
        dtype="datetime64[us]",
    )


def data_window(delivery_log: pd.DataFrame, employment_partners: set[str]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(observation_start, cutoff).

    cutoff: the end of the latest delivered period over all loaded deliveries; observation_start:
    the first day of the first delivered period of the care employers (events are observed from
    there on; earlier spells are history). Raises ValueError when nothing is loaded yet.
    """
    loaded = delivery_log[(delivery_log["delivery_status"] == "loaded") & delivery_log["delivery_period"].notna()]
    if loaded.empty:
        raise ValueError("no delivery is loaded yet: the statistics need at least one delivery")
    cutoff = period_end(loaded["delivery_period"]).max()
    employment = loaded[loaded["partner_code"].isin(employment_partners)]
    source = employment if not employment.empty else loaded
    observation_start = period_start(source["delivery_period"]).min()
    return pd.Timestamp(observation_start), pd.Timestamp(cutoff)


def observed(frame: pd.DataFrame, date_column: str, observation_start: pd.Timestamp) -> pd.DataFrame:
    """Only the events on or after the first delivered period: earlier starts are history, not events."""
    return frame[frame[date_column] >= observation_start].reset_index(drop=True)
