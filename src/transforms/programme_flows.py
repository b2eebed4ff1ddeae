"""fct_programme_flows: starts and ends of programme routes (docs/statistics_spec.md, issue 3).

One row per route start and per route end, on or before the cutoff:

- every enrolment (route_kind `enrolment`, feed `enrolments`): start = start_date; end =
  actual_end_date with outcome diploma -> diploma, uitval -> dropout, overig -> other;
- every municipal placement (route_kind = placement_kind_code, feed `municipal_participants`):
  start = placement_date; end = placement_end_date (the placement's own end, not the trajectory's:
  trajectory_end_date is a field of its own) with werk -> into_work, uitval -> dropout, werkfit,
  opleiding (started training) and overig -> other;
- every employment spell with a programme_code (route_kind `job`, feed `employment_spells`):
  start = start_date; end = end_date -> other, outcome_detail = leaving_reason_code.

Event geography as everywhere (common.event_municipality, common.region_of); target_group_code =
the target group of the person's municipal trajectory with the latest referral_date on or before
the event date (a backward as-of join per person).

Choices where the rules leave room:
- An end whose code is missing or not in the mapping (e.g. an enrolment with an actual end date
  but outcome `lopend`, or a placement end without a result) gets outcome `other`;
  outcome_detail keeps the canonical code as delivered (NaN when missing).
- A placement with a date but no placement_kind_code has no route kind and is left out (the
  route kinds are a closed list); so is a placement whose kind is outside wep|baan|opleiding.
- Two trajectories of a person referred on the same day: the one with the smallest
  (partner_code, record_key) gives the target group.
- The event_date is also the as-of date for target_group_code for ends (the trajectory must be
  referred on or before the end date).
"""

from __future__ import annotations

import pandas as pd

from transforms.common import event_municipality, period_columns, region_of

COLUMNS = [
    "person_id",
    "person_id_kind",
    "route_kind",
    "source_feed",
    "partner_code",
    "record_key",
    "programme_code",
    "event_type",
    "event_date",
    "event_month",
    "event_quarter",
    "event_year",
    "outcome",
    "outcome_detail",
    "municipality_code",
    "municipality_source",
    "region_code",
    "target_group_code",
]
ENROLMENT_OUTCOMES = {"diploma": "diploma", "uitval": "dropout", "overig": "other"}
PLACEMENT_OUTCOMES = {
    "werk": "into_work",
    "uitval": "dropout",
    "werkfit": "other",
    "opleiding": "other",  # started training: outcome_detail keeps it
    "overig": "other",
}
PLACEMENT_KINDS = ("wep", "baan", "opleiding")


def event_geography(records: pd.DataFrame, partners: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """municipality_code, municipality_source and region_code of the events on `records` (which
    carry residence_municipality_code and partner_code), index aligned with `records`."""
    location = dict(zip(partners["partner_code"], partners["location_municipality_code"]))
    municipality_region = dict(zip(regions["municipality_code"], regions["labour_market_region_code"]))
    employer_location = records["partner_code"].map(location)
    code, source = event_municipality(records["residence_municipality_code"], employer_location)
    return pd.DataFrame(
        {"municipality_code": code, "municipality_source": source, "region_code": region_of(code, municipality_region)},
        index=records.index,
    )


def target_group_at(events: pd.DataFrame, trajectories: pd.DataFrame) -> pd.Series:
    """Target group of each event's person: the trajectory with the latest referral_date on or
    before event_date (same-day referrals: smallest partner_code, record_key). Index of `events`."""
    out = pd.Series(pd.NA, index=events.index, dtype="str")
    if events.empty or trajectories.empty:
        return out
    refs = (
        trajectories.loc[
            trajectories["referral_date"].notna() & trajectories["person_id"].notna(),
            ["person_id", "referral_date", "partner_code", "record_key", "target_group_code"],
        ]
        .sort_values(["person_id", "referral_date", "partner_code", "record_key"], kind="stable")
        .drop_duplicates(["person_id", "referral_date"], keep="first")
        .assign(referral_date=lambda d: d["referral_date"].astype("datetime64[us]"))
        .sort_values("referral_date", kind="stable")
    )
    left = (
        events[["person_id", "event_date"]]
        .assign(_row=range(len(events)))
        .loc[lambda d: d["event_date"].notna() & d["person_id"].notna()]
        .assign(event_date=lambda d: d["event_date"].astype("datetime64[us]"))
        .sort_values("event_date", kind="stable")
    )
    if left.empty or refs.empty:
        return out
    merged = pd.merge_asof(
        left,
        refs[["person_id", "referral_date", "target_group_code"]],
        left_on="event_date",
        right_on="referral_date",
        by="person_id",
        direction="backward",
    )
    values = pd.Series(merged["target_group_code"].to_numpy(), index=merged["_row"].to_numpy())
    out.iloc[values.index.to_numpy()] = values.to_numpy()
    return out.astype("str")


def _rows(
    records: pd.DataFrame,
    *,
    date_col: str,
    event_type: str,
    route_kind,
    source_feed: str,
    outcome=None,
    outcome_detail=None,
    cutoff: pd.Timestamp,
) -> pd.DataFrame:
    keep = records[date_col].notna() & (records[date_col] <= cutoff)
    r = records.loc[keep]
    n = len(r)

    def col(value):
        if isinstance(value, pd.Series):
            return value.loc[r.index].astype("str")
        return pd.Series([value] * n, index=r.index, dtype="str")

    return pd.DataFrame(
        {
            "person_id": r["person_id"].astype("str"),
            "person_id_kind": r["person_id_kind"].astype("str"),
            "route_kind": col(route_kind),
            "source_feed": col(source_feed),
            "partner_code": r["partner_code"].astype("str"),
            "record_key": r["record_key"].astype("str"),
            "programme_code": r["programme_code"].astype("str"),
            "event_type": col(event_type),
            "event_date": r[date_col].astype("datetime64[us]"),
            "outcome": col(outcome),
            "outcome_detail": col(outcome_detail),
            "residence_municipality_code": r["residence_municipality_code"].astype("str"),
        },
        index=r.index,
    )


def programme_flows(
    enrolments: pd.DataFrame,
    trajectories: pd.DataFrame,
    spells: pd.DataFrame,
    partners: pd.DataFrame,
    regions: pd.DataFrame,
    *,
    cutoff: pd.Timestamp,
) -> pd.DataFrame:
    """fct_programme_flows: one row per route start and per route end on or before the cutoff."""
    cutoff = pd.Timestamp(cutoff)
    parts = []

    e = enrolments
    parts.append(
        _rows(
            e,
            date_col="start_date",
            event_type="start",
            route_kind="enrolment",
            source_feed="enrolments",
            cutoff=cutoff,
        )
    )
    e_outcome = e["enrolment_outcome_code"].map(ENROLMENT_OUTCOMES).fillna("other")
    parts.append(
        _rows(
            e,
            date_col="actual_end_date",
            event_type="end",
            route_kind="enrolment",
            source_feed="enrolments",
            outcome=e_outcome,
            outcome_detail=e["enrolment_outcome_code"],
            cutoff=cutoff,
        )
    )

    t = trajectories.loc[trajectories["placement_kind_code"].isin(PLACEMENT_KINDS)]
    parts.append(
        _rows(
            t,
            date_col="placement_date",
            event_type="start",
            route_kind=t["placement_kind_code"],
            source_feed="municipal_participants",
            cutoff=cutoff,
        )
    )
    t_outcome = t["placement_result_code"].map(PLACEMENT_OUTCOMES).fillna("other")
    parts.append(
        _rows(
            t,
            date_col="placement_end_date",
            event_type="end",
            route_kind=t["placement_kind_code"],
            source_feed="municipal_participants",
            outcome=t_outcome,
            outcome_detail=t["placement_result_code"],
            cutoff=cutoff,
        )
    )

    s = spells.loc[spells["programme_code"].notna()]
    parts.append(
        _rows(
            s,
            date_col="start_date",
            event_type="start",
            route_kind="job",
            source_feed="employment_spells",
            cutoff=cutoff,
        )
    )
    parts.append(
        _rows(
            s,
            date_col="end_date",
            event_type="end",
            route_kind="job",
            source_feed="employment_spells",
            outcome="other",
            outcome_detail=s["leaving_reason_code"],
            cutoff=cutoff,
        )
    )

    flows = pd.concat(parts, ignore_index=True)
    flows = flows.join(event_geography(flows, partners, regions))
    flows = flows.join(period_columns(flows["event_date"], prefix="event"))
    flows["target_group_code"] = target_group_at(flows, trajectories)
    flows = flows.sort_values(
        ["event_date", "person_id", "source_feed", "partner_code", "record_key", "event_type"],
        ascending=[True, True, True, True, True, False],
        kind="stable",
    ).reset_index(drop=True)
    return flows[COLUMNS].astype({c: "str" for c in COLUMNS if c not in ("event_date", "event_month", "event_year")})
