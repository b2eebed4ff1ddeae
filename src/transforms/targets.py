"""fct_target_persons and fct_target_attainment (docs/statistics_spec.md, issue 3).

Every target is a row of dim_target (config/reference/targets.csv) and is read generically; a new
target is a new row, not new code:

- `criterion_feed`: employment_spells | enrolments | municipal_participants, several joined by `|`.
- `criterion_event`: `start` (employment spells: the start of any CARE spell, switches and new
  contracts included; enrolments: the start of any enrolment; municipal participants: the
  placement_date of a placement) or `placement_end` (municipal participants only: the
  placement_end_date).
- Municipal record: the person (person_id, bsn-kind pseudonyms only) has at least one municipal
  trajectory matching all non-empty filters among criterion_programme_code,
  criterion_target_group_code and criterion_benefit_type_code on one record, whatever its dates.
  For an event on a municipal record itself (placement start or end) the filters apply to that
  same record.
- Event filters: criterion_mbo_levels and criterion_learning_path_code apply to enrolment events;
  criterion_placement_kind_code and criterion_placement_results to placement events.
- Window inclusive, qualifying date <= cutoff, event municipality (residence, else the partner's
  location) inside the target's labour-market region (BUITEN_REGIO never is).
- One row per target and person: the first qualifying event (ties: smallest feed, partner_code,
  record_key).

Attainment arithmetic follows docs/statistics_spec.md "Attainment arithmetic", per target as of every
month end from the window start's month and as of min(cutoff, window_end) (`is_latest`).

Choices where the rules leave room:
- A municipal filter (programme, target group, benefit type) that is filled in on a target whose
  criterion_requires_municipal_record is false still requires a matching municipal record: the
  filters describe "a municipal participant of ..." and cannot be met otherwise.
- Event filters apply only to the feed they describe (enrolment filters do not restrict
  employment-spell events of the same target, placement filters do not restrict enrolments).
- An empty region_code means no region restriction.
- A combination the rules do not define (placement_end on employment_spells or enrolments, an
  unknown feed or event, window_end before window_start) raises ValueError naming the target,
  instead of silently counting nobody.
- Every as-of row is computed "as if that date were the cutoff": remaining months run from the
  as-of date's month to the window end's month (for the latest row of an open window this is the
  cutoff's month, as in the brief; once the window closed it is 0).
- Required monthly rate when the as-of date lies in the window end's month (0 remaining months)
  and the target is not reached: NaN (no month left to divide over), like a window closed short.
- Window entirely after the cutoff: remaining months still counted from the cutoff's month to the
  window end's month, so required_monthly_rate = target / those months and forecast = 0.
- Status thresholds are compared in exact integer arithmetic (achieved x window days x 100 >=
  95 x target x elapsed days), so "exactly 95%" is never lost to floating point.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from transforms.common import OUTSIDE_REGION
from transforms.programme_flows import event_geography

PERSON_COLUMNS = ["target_code", "person_id", "first_qualifying_date", "qualifying_feed", "partner_code", "record_key"]
ATTAINMENT_COLUMNS = [
    "target_code",
    "as_of_date",
    "is_latest",
    "window_start",
    "window_end",
    "target_number",
    "achieved",
    "share_attained",
    "elapsed_share",
    "expected_to_date",
    "status",
    "run_rate",
    "remaining_months",
    "forecast",
    "required_monthly_rate",
]
FEEDS = ("employment_spells", "enrolments", "municipal_participants")
EVENTS = ("start", "placement_end")
MUNICIPAL_FILTERS = {
    "criterion_programme_code": "programme_code",
    "criterion_target_group_code": "target_group_code",
    "criterion_benefit_type_code": "benefit_type_code",
}
RUN_RATE_MONTHS = 6


def _blank(value) -> bool:
    return (
        value is None
        or (not isinstance(value, str) and pd.isna(value))
        or (isinstance(value, str) and not value.strip())
    )


def _split(value) -> list[str]:
    return [] if _blank(value) else [v.strip() for v in str(value).split("|") if v.strip()]


def _as_bool(value) -> bool:
    if _blank(value):
        return False
    if isinstance(value, str):
        return value.strip().casefold() in ("true", "ja", "1")
    return bool(value)


def _candidate_events(
    feed: str, event: str, spells, enrolments, trajectories, functions, partners, regions
) -> pd.DataFrame:
    """All events of one feed and event kind, with geography and the attributes the filters read."""
    if feed == "employment_spells" and event == "start":
        care_codes = functions.loc[functions["is_care_function"].fillna(False).astype(bool), "function_code"]
        records = spells.loc[spells["function_code"].isin(care_codes)]
        date_col = "start_date"
    elif feed == "enrolments" and event == "start":
        records, date_col = enrolments, "start_date"
    elif feed == "municipal_participants" and event in ("start", "placement_end"):
        records = trajectories
        date_col = "placement_date" if event == "start" else "placement_end_date"
    else:
        raise ValueError(f"criterion_event {event!r} is not defined for feed {feed!r}")
    records = records.loc[records[date_col].notna()]
    out = records.assign(
        event_date=records[date_col].astype("datetime64[us]"),
        qualifying_feed=feed,
    )
    return out.join(event_geography(out, partners, regions)[["region_code"]])


def _municipal_persons(trajectories: pd.DataFrame, filters: dict[str, str]) -> pd.Series:
    """person_ids (bsn only) with at least one trajectory matching all `filters` on one record."""
    keep = trajectories["person_id_kind"].eq("bsn").fillna(False).astype(bool)
    for column, value in filters.items():
        keep &= trajectories[column].eq(value).fillna(False).astype(bool)
    return trajectories.loc[keep, "person_id"].dropna().drop_duplicates()


def target_persons(
    targets: pd.DataFrame,
    spells: pd.DataFrame,
    enrolments: pd.DataFrame,
    trajectories: pd.DataFrame,
    partners: pd.DataFrame,
    regions: pd.DataFrame,
    functions: pd.DataFrame,
    *,
    cutoff: pd.Timestamp,
) -> pd.DataFrame:
    """fct_target_persons: per target and person the first qualifying event in the window, on or before the cutoff."""
    cutoff = pd.Timestamp(cutoff)
    cache: dict[tuple[str, str], pd.DataFrame] = {}
    found = []
    for t in targets.to_dict("records"):
        code = t["target_code"]
        feeds, event = _split(t["criterion_feed"]), str(t["criterion_event"]).strip()
        unknown = [f for f in feeds if f not in FEEDS]
        if not feeds or unknown or event not in EVENTS:
            raise ValueError(
                f"target {code}: unknown criterion_feed {t['criterion_feed']!r} or criterion_event {event!r}"
            )
        ws, we = pd.Timestamp(t["window_start"]), pd.Timestamp(t["window_end"])
        if we < ws:
            raise ValueError(f"target {code}: window_end {we.date()} before window_start {ws.date()}")
        filters = {col: str(t[key]).strip() for key, col in MUNICIPAL_FILTERS.items() if not _blank(t.get(key))}
        needs_record = _as_bool(t["criterion_requires_municipal_record"]) or bool(filters)
        linked = _municipal_persons(trajectories, filters) if needs_record else None
        levels = _split(t.get("criterion_mbo_levels"))
        path = None if _blank(t.get("criterion_learning_path_code")) else str(t["criterion_learning_path_code"]).strip()
        kind = (
            None if _blank(t.get("criterion_placement_kind_code")) else str(t["criterion_placement_kind_code"]).strip()
        )
        results = _split(t.get("criterion_placement_results"))
        region = None if _blank(t.get("region_code")) else str(t["region_code"]).strip()

        for feed in feeds:
            key = (feed, event)
            if key not in cache:
                try:
                    cache[key] = _candidate_events(
                        feed, event, spells, enrolments, trajectories, functions, partners, regions
                    )
                except ValueError as exc:
                    raise ValueError(f"target {code}: {exc}") from None
            ev = cache[key]
            keep = (ev["event_date"] >= ws) & (ev["event_date"] <= we) & (ev["event_date"] <= cutoff)
            if region is not None:
                keep &= ev["region_code"].eq(region).fillna(False).astype(bool) & ev["region_code"].ne(
                    OUTSIDE_REGION
                ).fillna(False).astype(bool)
            if feed == "enrolments":
                if levels:
                    keep &= ev["mbo_level"].astype("Int64").astype("str").isin(levels)
                if path is not None:
                    keep &= ev["learning_path_code"].eq(path).fillna(False).astype(bool)
            if feed == "municipal_participants":
                if kind is not None:
                    keep &= ev["placement_kind_code"].eq(kind).fillna(False).astype(bool)
                if results:
                    keep &= ev["placement_result_code"].isin(results)
                for column, value in filters.items():  # on the event's own municipal record
                    keep &= ev[column].eq(value).fillna(False).astype(bool)
            elif needs_record:
                keep &= ev["person_id_kind"].eq("bsn").fillna(False).astype(bool) & ev["person_id"].isin(linked)
            keep &= ev["person_id"].notna()
            hit = ev.loc[
                keep.fillna(False).astype(bool),
                ["person_id", "event_date", "qualifying_feed", "partner_code", "record_key"],
            ]
            found.append(hit.assign(target_code=code))

    if not found:
        return _typed_persons(pd.DataFrame(columns=PERSON_COLUMNS))
    allhits = pd.concat(found, ignore_index=True).rename(columns={"event_date": "first_qualifying_date"})
    first = (
        allhits.sort_values(
            ["target_code", "person_id", "first_qualifying_date", "qualifying_feed", "partner_code", "record_key"],
            kind="stable",
        )
        .drop_duplicates(["target_code", "person_id"], keep="first")
        .sort_values(["target_code", "first_qualifying_date", "person_id"], kind="stable")
        .reset_index(drop=True)
    )
    return _typed_persons(first[PERSON_COLUMNS])


def _typed_persons(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype(
        {
            "target_code": "str",
            "person_id": "str",
            "first_qualifying_date": "datetime64[us]",
            "qualifying_feed": "str",
            "partner_code": "str",
            "record_key": "str",
        }
    )


def _month_index(days: np.ndarray) -> np.ndarray:
    """year * 12 + month - 1 of datetime64[D] values."""
    return days.astype("datetime64[M]").astype(np.int64)


def _as_of_dates(ws: pd.Timestamp, we: pd.Timestamp, cutoff: pd.Timestamp) -> list[pd.Timestamp]:
    if ws > cutoff:
        return [cutoff]
    last = min(cutoff, we)
    ends = list(pd.period_range(ws.to_period("M"), last.to_period("M"), freq="M").to_timestamp(how="end").normalize())
    return [*ends[:-1], last]


def target_attainment(targets: pd.DataFrame, persons: pd.DataFrame, *, cutoff: pd.Timestamp) -> pd.DataFrame:
    """fct_target_attainment: per target one row per month end in the window up to the cutoff, the
    last one as of min(cutoff, window_end) with is_latest (a single cutoff row for a window that
    lies entirely after the cutoff)."""
    cutoff = pd.Timestamp(cutoff).normalize()
    frames = []
    for t in targets.to_dict("records"):
        code = t["target_code"]
        ws, we = pd.Timestamp(t["window_start"]).normalize(), pd.Timestamp(t["window_end"]).normalize()
        if we < ws:
            raise ValueError(f"target {code}: window_end {we.date()} before window_start {ws.date()}")
        number = t["target_number"]
        has_number = not pd.isna(number)
        n = int(number) if has_number else 0

        dates = np.sort(
            persons.loc[persons["target_code"].eq(code).fillna(False).astype(bool), "first_qualifying_date"]
            .dropna()
            .to_numpy(dtype="datetime64[D]")
        )
        as_of_list = _as_of_dates(ws, we, cutoff)
        as_of = np.array([d.to_datetime64() for d in as_of_list], dtype="datetime64[D]")
        # pandas is untyped: name the item type, so that we_d - ws_d is a timedelta64, not a timedelta
        ws_d: np.datetime64[date] = np.datetime64(ws.date(), "D")
        we_d: np.datetime64[date] = np.datetime64(we.date(), "D")

        achieved = np.searchsorted(dates, as_of, side="right").astype(np.int64)
        window_days = int((we_d - ws_d).astype(np.int64)) + 1
        elapsed_days = np.clip((np.minimum(as_of, we_d) - ws_d).astype(np.int64) + 1, 0, window_days)
        elapsed_share = elapsed_days / window_days
        m_as_of = _month_index(as_of)
        run_from = (m_as_of - (RUN_RATE_MONTHS - 1)).astype("datetime64[M]").astype("datetime64[D]")
        recent = achieved - np.searchsorted(dates, run_from, side="left")
        run_rate = recent / RUN_RATE_MONTHS
        remaining = np.maximum(_month_index(np.array([we_d]))[0] - m_as_of, 0)
        forecast = achieved + run_rate * remaining
        not_started = as_of < ws_d

        if has_number:
            share = achieved / n
            expected = n * elapsed_share
            # exact: achieved >= p% of n * elapsed/window  <=>  achieved * window * 100 >= p * n * elapsed
            lhs = achieved * window_days * 100
            status = np.where(
                not_started,
                "not_started",
                np.where(
                    achieved >= n,
                    "achieved",
                    np.where(
                        lhs >= 95 * n * elapsed_days,
                        "on_track",
                        np.where(lhs >= 60 * n * elapsed_days, "needs_acceleration", "off_track"),
                    ),
                ),
            ).astype(object)
            with np.errstate(divide="ignore", invalid="ignore"):
                required = np.where(
                    achieved >= n, 0.0, np.where(remaining > 0, (n - achieved) / np.maximum(remaining, 1), np.nan)
                )
        else:
            share = expected = required = np.full(len(as_of), np.nan)
            status = np.full(len(as_of), None, dtype=object)

        frames.append(
            pd.DataFrame(
                {
                    "target_code": code,
                    "as_of_date": as_of.astype("datetime64[us]"),
                    "is_latest": np.arange(len(as_of)) == len(as_of) - 1,
                    "window_start": ws,
                    "window_end": we,
                    "target_number": number if has_number else pd.NA,
                    "achieved": achieved,
                    "share_attained": share,
                    "elapsed_share": elapsed_share,
                    "expected_to_date": expected,
                    "status": status,
                    "run_rate": run_rate,
                    "remaining_months": remaining,
                    "forecast": forecast.astype(float),
                    "required_monthly_rate": required,
                }
            )
        )

    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ATTAINMENT_COLUMNS)
    out = out.sort_values(["target_code", "as_of_date"], kind="stable").reset_index(drop=True)
    return out[ATTAINMENT_COLUMNS].astype(
        {
            "target_code": "str",
            "as_of_date": "datetime64[us]",
            "is_latest": "boolean",
            "window_start": "datetime64[us]",
            "window_end": "datetime64[us]",
            "target_number": "Int64",
            "achieved": "Int64",
            "share_attained": "float64",
            "elapsed_share": "float64",
            "expected_to_date": "float64",
            "status": "str",
            "run_rate": "float64",
            "remaining_months": "Int64",
            "forecast": "float64",
            "required_monthly_rate": "float64",
        }
    )
