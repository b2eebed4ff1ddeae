"""Sector flows: inflow (instroom), outflow (uitstroom) and internal mobility (doorstroom) of care staff.

Definitions (docs/statistics_spec.md, "Definitions" and "Rules where the definitions leave room", and its frames):

- Care employment: every day from a care spell's start to its end date, inclusive. A spell without
  an end date, or with an end after the cut-off, employs its person up to the cut-off and beyond.
- Inflow: a start S with observation_start <= S <= cutoff and no care employment on any day in
  [S - 1 year, S); one per person and start date. Kind: `herintreder` when a care spell of the person
  started before S (necessarily ended before S - 1 year), else `zij_instromer` at age >= 25, else
  `overig`. lookback_complete = S - 1 year >= observation_start.
- Outflow: an end E with observation_start <= E <= cutoff and no care employment on any day in
  (E, E + 1 year]; one per person and end date; provisional while E + 1 year > cutoff.
- Internal mobility (switch): a start (observation_start <= S <= cutoff) that is not an inflow, at an
  employer other than the person's employer(s) on their last care-employment day D before S.
  A new contract at the same employer is no switch; there and back again is two.
- "One year before/after" is the same calendar date (29 February -> 28 February), common.add_years.
- Spells that started before observation_start are history: they count as employment (and make a
  later start a re-entry), their starts are no events.

How it is computed (vectorised, no loop per person): spells are sorted by person and start; the
running maximum of end dates over earlier starts gives, for each start, the last day of care
employment before it (inflow when that day lies before S - 1 year); the same per person and employer
tells whether the new employer employed the person on day D (switch when not); merging spells into
continuous employment intervals (a spell starting on or before the running maximum end + 1 day
continues the interval) gives the outflows: the end of an interval whose next interval starts after
E + 1 year. Dates are handled as integer day numbers; add_years is evaluated on the distinct dates,
and the row-wise helpers of transforms.common (event_municipality, region_of, age_band,
period_columns) on the distinct values. Rows come out ordered by event date, then person_id.

Choices where the rules leave room (documented for the data dictionary):
- Spells starting after the cutoff are ignored (not yet observed): no events, no employment.
- Spells whose end date lies before their start date are ignored (no employment days).
- Ends before observation_start are no outflow events (events are observed from the first period on).
- Attributes of an inflow come from the spell starting that day with the smallest (partner_code,
  record_key); of an outflow from the spell ending that day with the smallest (partner_code,
  record_key); of a switch from the new employer's spell starting that day with the smallest
  record_key.
- An end date after the cutoff counts as "still employed" (no end), also when looking back or ahead.
- A switch is one row per person, start date and new employer (two new employers on one day: two
  rows). from_partner_code is one of the employers on day D: the one whose spell covering D ends
  first (the employment that was left), ties by the smallest partner_code. A start at a second
  employer while the first job goes on is a switch too (the rule as written).
- Age unknown (no birth_year): an inflow without earlier spell is `overig`, never `zij_instromer`
  without evidence of age 25+ (inflow_kind is required; birth_year is required at ingestion anyway).
- Spells given are taken to be care spells (care_spells() selects them from fct_employment_spells).
- target_group_code: the trajectory with the latest referral_date on or before the event date; on
  equal referral dates the one with the largest (partner_code, record_key).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from transforms.common import add_months, age_band, event_municipality, period_columns, region_of

#: Day number standing for "no end" (ongoing, or an end after the cutoff).
FAR = np.int64(10**7)

INFLOW_COLUMNS = [
    "person_id",
    "event_date",
    "event_month",
    "event_quarter",
    "event_year",
    "inflow_kind",
    "lookback_complete",
    "partner_code",
    "record_key",
    "function_code",
    "contract_type_code",
    "programme_code",
    "municipality_code",
    "municipality_source",
    "region_code",
    "age",
    "age_band",
    "target_group_code",
]
OUTFLOW_COLUMNS = [
    "person_id",
    "event_date",
    "event_month",
    "event_quarter",
    "event_year",
    "is_provisional",
    "partner_code",
    "record_key",
    "function_code",
    "contract_type_code",
    "leaving_reason_code",
    "programme_code",
    "municipality_code",
    "municipality_source",
    "region_code",
    "age",
    "age_band",
    "target_group_code",
]
MOBILITY_COLUMNS = [
    "person_id",
    "event_date",
    "event_month",
    "event_quarter",
    "event_year",
    "from_partner_code",
    "to_partner_code",
    "record_key",
    "function_code",
    "contract_type_code",
    "programme_code",
    "municipality_code",
    "municipality_source",
    "region_code",
    "age",
    "age_band",
    "target_group_code",
]
DTYPES = {
    "person_id": "str",
    "event_date": "datetime64[us]",
    "event_month": "datetime64[us]",
    "event_quarter": "str",
    "event_year": "Int64",
    "inflow_kind": "str",
    "lookback_complete": "boolean",
    "is_provisional": "boolean",
    "partner_code": "str",
    "from_partner_code": "str",
    "to_partner_code": "str",
    "record_key": "str",
    "function_code": "str",
    "contract_type_code": "str",
    "leaving_reason_code": "str",
    "programme_code": "str",
    "municipality_code": "str",
    "municipality_source": "str",
    "region_code": "str",
    "age": "Int64",
    "age_band": "str",
    "target_group_code": "str",
}


@dataclass(frozen=True)
class SectorEvents:
    inflow: pd.DataFrame
    outflow: pd.DataFrame
    mobility: pd.DataFrame


# --- day-number helpers ------------------------------------------------------------------------------

#: Offset making day numbers non-negative (dates from the year -770 on), and the factor that packs a
#: group number and a day number into one sortable int64 (group * KEY + day + OFFSET).
OFFSET = np.int64(10**6)
KEY = np.int64(2**25)
NONE = np.int64(-(2**40))  # "no such day"


def to_days(dates) -> tuple[np.ndarray, np.ndarray]:
    """(int64 day numbers since 1970-01-01, NaT mask)."""
    arr = pd.to_datetime(pd.Series(dates)).to_numpy(dtype="datetime64[us]")
    nat = np.isnat(arr)
    return arr.astype("datetime64[D]").astype("int64"), nat


def day(ts: pd.Timestamp) -> np.int64:
    return np.int64(pd.Timestamp(ts).to_datetime64().astype("datetime64[D]").astype("int64"))


def from_days(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="int64").astype("datetime64[D]").astype("datetime64[us]")


def shift_months(days: np.ndarray, months: int) -> np.ndarray:
    """common.add_months on day numbers, evaluated once per distinct date; FAR stays FAR."""
    days = np.asarray(days, dtype="int64")
    far = days >= FAR
    uniq = np.unique(days[~far])
    if len(uniq) == 0:
        return days.copy()
    shifted, _ = to_days(add_months(pd.Series(from_days(uniq)), months))
    out = shifted[np.searchsorted(uniq, np.where(far, uniq[0], days))]
    return np.where(far, FAR, out)


def shift_years(days: np.ndarray, years: int) -> np.ndarray:
    """common.add_years on day numbers (29 February -> 28 February)."""
    return shift_months(days, 12 * years)


def first_flags(*keys: np.ndarray) -> np.ndarray:
    """True where a row starts a new group of (already sorted) keys."""
    n = len(keys[0])
    flags = np.zeros(n, dtype=bool)
    if n:
        flags[0] = True
        for k in keys:
            flags[1:] |= k[1:] != k[:-1]
    return flags


def cummax_by(first: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running maximum of day numbers within consecutive groups (`first` marks each group's first row)."""
    gid = np.cumsum(first) - 1
    packed = gid * KEY + (values + OFFSET)
    return np.maximum.accumulate(packed) - gid * KEY - OFFSET if len(values) else values.copy()


def shift_by(first: np.ndarray, values: np.ndarray, step: int) -> np.ndarray:
    """Previous (step=1) or next (step=-1) value within consecutive groups; NONE where there is none."""
    out = np.full(len(values), NONE, dtype="int64")
    if len(values) < 2:
        return out
    if step == 1:
        out[1:] = values[:-1]
        out[first] = NONE
    else:
        out[:-1] = values[1:]
        last = np.r_[first[1:], True]
        out[last] = NONE
    return out


def latest_on_or_before(keys_p: np.ndarray, keys_d: np.ndarray, table_p: np.ndarray, table_d: np.ndarray) -> np.ndarray:
    """For each (person code, day) the position in a table sorted by (person code, day) of the last row
    of that person with day <= the given day; -1 when there is none."""
    table = table_p * KEY + (table_d + OFFSET)
    query = keys_p * KEY + (keys_d + OFFSET)
    idx = np.searchsorted(table, query, side="right") - 1
    ok = idx >= 0
    ok[ok] = table_p[idx[ok]] == keys_p[ok]
    return np.where(ok, idx, -1)


def ranks(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, rank of each value): integer codes that keep the string order (NaN: -1)."""
    codes, uniques = pd.factorize(values.astype("str"), sort=True, use_na_sentinel=True)
    return np.asarray(uniques, dtype=object), codes.astype("int64")


def sort_order(a: np.ndarray, b: np.ndarray, c: np.ndarray, c_count: int | None) -> np.ndarray:
    """Positions sorting by (a, b, c), non-negative integer codes a and c and day numbers b (when
    c_count is None: a and b codes, c day numbers). Packs the keys into one int64 when they fit."""
    if len(a) == 0:
        return np.zeros(0, dtype="int64")
    if c_count is None:  # (code, code, day)
        b_count = int(b.max()) + 1
        if (int(a.max()) + 1) * b_count < 2**62 // int(KEY):
            return np.argsort((a * b_count + b) * KEY + (c + OFFSET))
    else:  # (code, day, code)
        c_count = max(c_count, 1)
        if (int(a.max()) + 1) * c_count < 2**62 // int(KEY):
            return np.argsort((a * KEY + (b + OFFSET)) * c_count + c)
    return np.lexsort((c, b, a))


# --- public ------------------------------------------------------------------------------------------


def care_spells(spells: pd.DataFrame, functions: pd.DataFrame) -> pd.DataFrame:
    """The spells whose function is a care function (dim_function.is_care_function true)."""
    is_care = functions["is_care_function"].astype("boolean").fillna(False).astype(bool)
    codes = set(functions.loc[is_care, "function_code"])
    return spells[spells["function_code"].isin(codes)].reset_index(drop=True)


def sector_events(
    spells: pd.DataFrame,
    partners: pd.DataFrame,
    regions: pd.DataFrame,
    trajectories: pd.DataFrame,
    *,
    observation_start: pd.Timestamp,
    cutoff: pd.Timestamp,
) -> SectorEvents:
    """Inflow, outflow and internal mobility from the care spells (see the module docstring)."""
    obs, cut = day(observation_start), day(cutoff)

    start, start_nat = to_days(spells["start_date"])
    end, end_nat = to_days(spells["end_date"])
    end = np.where(end_nat | (end > cut), FAR, end)
    person_ids, person = ranks(spells["person_id"])
    partner_codes, partner = ranks(spells["partner_code"])
    keep = ~start_nat & (start <= cut) & (end >= start) & (person >= 0)
    order = np.flatnonzero(keep)  # positions in `spells`, sorted by person, start, partner, record_key
    order = order[sort_order(person[order], start[order], partner[order], len(partner_codes))]
    _break_ties(order, spells["record_key"], person[order], start[order], partner[order])
    P, S, E, PRT = person[order], start[order], end[order], partner[order]
    new_person = first_flags(P)

    # Per person and start date: the latest employment day before it (NONE: no earlier spell).
    ps_first = first_flags(P, S)
    ps = np.flatnonzero(ps_first)
    ps_p, ps_s, ps_row = P[ps], S[ps], order[ps]  # row: smallest (partner, record_key) starting that day
    ps_emax = np.maximum.reduceat(E, ps) if len(ps) else E[:0]
    ps_newp = first_flags(ps_p)
    ps_prev = shift_by(ps_newp, cummax_by(ps_newp, ps_emax), 1)
    s_minus_year = shift_years(ps_s, -1)
    in_window = (ps_s >= obs) & (ps_s <= cut)
    had_before = ps_prev != NONE
    no_recent = ~had_before | (ps_prev < s_minus_year)
    is_inflow = in_window & no_recent
    inflow = pd.DataFrame(
        {
            "p": ps_p[is_inflow],
            "s": ps_s[is_inflow],
            "row": ps_row[is_inflow],
            "had_before": had_before[is_inflow],
            "lookback_complete": s_minus_year[is_inflow] >= obs,
        }
    )

    # Per person, start date and employer: did that employer employ the person on the last day D?
    psp = np.flatnonzero(ps_first | first_flags(P, S, PRT))
    g_ps = (np.cumsum(ps_first) - 1)[psp]  # the (person, start) group of each (person, start, employer)
    g_p, g_s, g_prt, g_row = P[psp], S[psp], PRT[psp], order[psp]
    g_emax = np.maximum.reduceat(E, psp) if len(psp) else E[:0]
    o2 = sort_order(g_p, g_prt, g_s, None)
    first2 = first_flags(g_p[o2], g_prt[o2])
    prev_prt = np.empty_like(g_emax)
    prev_prt[o2] = shift_by(first2, cummax_by(first2, g_emax[o2]), 1)
    cand = in_window[g_ps] & ~no_recent[g_ps]
    D = np.minimum(g_s - 1, ps_prev[g_ps])
    is_switch = cand & ((prev_prt == NONE) | (prev_prt < D))
    switch = pd.DataFrame({"p": g_p[is_switch], "s": g_s[is_switch], "row": g_row[is_switch], "D": D[is_switch]})
    switch["from_prt"] = _employer_on_day(P, S, E, PRT, switch)

    # Outflow: ends of continuous employment intervals with no new start within a year.
    prev_max = shift_by(new_person, cummax_by(new_person, E), 1)
    new_interval = new_person | (prev_max + 1 < S)
    iv = np.flatnonzero(new_interval)
    iid = np.cumsum(new_interval) - 1
    iv_end = np.maximum.reduceat(E, iv) if len(iv) else E[:0]
    next_start = shift_by(first_flags(P[iv]), S[iv], -1)
    iv_out = (iv_end >= obs) & (iv_end <= cut) & ((next_start == NONE) | (next_start > shift_years(iv_end, 1)))
    ending = np.flatnonzero(iv_out[iid] & (iv_end[iid] == E))
    several = np.bincount(iid[ending], minlength=len(iv))[iid[ending]] > 1  # ties: rank record_key there only
    end_rank = np.zeros(len(ending), dtype="int64")
    if several.any():
        end_rank[several] = ranks(spells["record_key"].iloc[order[ending[several]]])[1]
    ending = ending[np.lexsort((end_rank, PRT[ending], iid[ending]))]
    ending = ending[first_flags(iid[ending])]
    outflow = pd.DataFrame({"p": P[ending], "s": E[ending], "row": order[ending]})
    outflow["is_provisional"] = shift_years(outflow["s"].to_numpy(), 1) > cut

    # Target group: the trajectory with the latest referral on or before the event date.
    tg = _trajectory_lookup(trajectories, person_ids)
    partner_location = dict(zip(partners["partner_code"], partners["location_municipality_code"]))
    municipality_region = dict(zip(regions["municipality_code"], regions["labour_market_region_code"]))

    attributes = spells[[c for c in ATTRIBUTE_COLUMNS if c in spells.columns]]

    def finish(ev: pd.DataFrame, columns: list[str], extra) -> pd.DataFrame:
        ev = ev.iloc[np.lexsort((ev["p"].to_numpy(), ev["s"].to_numpy()))].reset_index(drop=True)  # date, person
        rec = attributes.iloc[ev["row"].to_numpy()].reset_index(drop=True)
        out = pd.DataFrame({"person_id": rec["person_id"]})
        out = pd.concat([out, _date_columns(ev["s"].to_numpy())], axis=1)
        for col in (
            "partner_code",
            "record_key",
            "function_code",
            "contract_type_code",
            "leaving_reason_code",
            "programme_code",
        ):
            out[col] = rec.get(col, None)
        residence = (
            rec["residence_municipality_code"]
            if "residence_municipality_code" in rec
            else pd.Series(None, index=rec.index, dtype="str")
        )
        geo = _geography(residence, rec["partner_code"], partner_location, municipality_region)
        out["municipality_code"], out["municipality_source"], out["region_code"] = geo
        out["age"] = out["event_year"] - pd.to_numeric(rec["birth_year"]).astype("Int64")
        out["age_band"] = _per_distinct(out["age"], age_band)
        out["target_group_code"] = tg(ev["p"].to_numpy(), ev["s"].to_numpy())
        extra(out, ev)
        return out[columns].astype({c: DTYPES[c] for c in columns})

    def inflow_extra(out: pd.DataFrame, ev: pd.DataFrame) -> None:
        age = out["age"].to_numpy(dtype="float64", na_value=np.nan)
        kind = np.where(age >= 25, "zij_instromer", "overig").astype(object)  # NaN age: overig
        kind[ev["had_before"].to_numpy()] = "herintreder"
        out["inflow_kind"] = pd.Series(kind, index=out.index, dtype="str")
        out["lookback_complete"] = ev["lookback_complete"].to_numpy()

    def outflow_extra(out: pd.DataFrame, ev: pd.DataFrame) -> None:
        out["is_provisional"] = ev["is_provisional"].to_numpy()

    def mobility_extra(out: pd.DataFrame, ev: pd.DataFrame) -> None:
        out["from_partner_code"] = partner_codes[ev["from_prt"].to_numpy()] if len(ev) else None
        out["to_partner_code"] = out["partner_code"]

    return SectorEvents(
        inflow=finish(inflow, INFLOW_COLUMNS, inflow_extra),
        outflow=finish(outflow, OUTFLOW_COLUMNS, outflow_extra),
        mobility=finish(switch, MOBILITY_COLUMNS, mobility_extra),
    )


# --- internals ---------------------------------------------------------------------------------------

ATTRIBUTE_COLUMNS = [
    "person_id",
    "partner_code",
    "record_key",
    "birth_year",
    "residence_municipality_code",
    "function_code",
    "contract_type_code",
    "leaving_reason_code",
    "programme_code",
]


def _break_ties(order: np.ndarray, record_key: pd.Series, P, S, PRT) -> None:
    """Within runs of spells of one person at one employer starting on the same day, reorder `order`
    by record_key (in place; P, S, PRT are the sort keys in that order and stay equal within a run).
    Only those rows are ranked: a full sort of millions of keys is slow."""
    first = first_flags(P, S, PRT)
    seg = np.cumsum(first) - 1
    size = np.bincount(seg)
    pos = np.flatnonzero(size[seg] > 1)
    if len(pos) == 0:
        return
    rk = ranks(record_key.iloc[order[pos]])[1]
    o = np.lexsort((rk, seg[pos]))
    order[pos] = order[pos][o]


def _per_distinct(values: pd.Series, fn) -> pd.Series:
    """fn(values), evaluated once per distinct value (the helpers are row-wise and slow on millions)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    result = fn(pd.Series(uniques, dtype=values.dtype))
    return pd.Series(result.take(codes).to_numpy(), index=values.index, dtype=result.dtype)


def _geography(residence: pd.Series, partner: pd.Series, partner_location: dict, municipality_region: dict):
    """(municipality_code, municipality_source, region_code) by common.event_municipality and
    common.region_of, evaluated once per distinct (residence, partner)."""
    r_codes, r_uni = pd.factorize(residence.astype("str"), use_na_sentinel=False)
    p_codes, p_uni = pd.factorize(partner.astype("str"), use_na_sentinel=False)
    pair = r_codes.astype("int64") * max(len(p_uni), 1) + p_codes
    uniq, inverse = np.unique(pair, return_inverse=True)
    res_u = pd.Series(np.asarray(r_uni, dtype=object)[uniq // max(len(p_uni), 1)], dtype="str")
    loc_u = (
        pd.Series(np.asarray(p_uni, dtype=object)[uniq % max(len(p_uni), 1)], dtype="str")
        .map(partner_location)
        .astype("str")
    )
    mun_u, src_u = event_municipality(res_u, loc_u)
    reg_u = region_of(mun_u, municipality_region)
    return tuple(
        pd.Series(x.take(inverse).to_numpy(), index=residence.index, dtype="str") for x in (mun_u, src_u, reg_u)
    )


def _date_columns(days: np.ndarray) -> pd.DataFrame:
    """event_date and common.period_columns, computed once per distinct date."""
    uniq, inverse = np.unique(days, return_inverse=True)
    dates = pd.Series(from_days(uniq), dtype="datetime64[us]")
    cols = pd.concat([dates.rename("event_date"), period_columns(dates, "event")], axis=1)
    return cols.iloc[inverse].reset_index(drop=True)


def _employer_on_day(P, S, E, PRT, switch: pd.DataFrame) -> np.ndarray:
    """Per switch, the employer (partner rank) on its day D: of the person's spells covering D the one
    ending first, ties by the smallest partner. Pairs each switch with its person's spells only."""
    if switch.empty:
        return np.empty(0, dtype="int64")
    p, d = switch["p"].to_numpy(), switch["D"].to_numpy()
    lo = np.searchsorted(P, p, side="left")
    hi = np.searchsorted(P * KEY + (S + OFFSET), p * KEY + (d + OFFSET), side="right")  # spells starting <= D
    counts = hi - lo
    cid = np.repeat(np.arange(len(switch)), counts)
    rows = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)
    cover = E[rows] >= d[cid]
    cid, rows = cid[cover], rows[cover]
    pick = np.lexsort((PRT[rows], E[rows], cid))
    cid, rows = cid[pick], rows[pick]
    first = first_flags(cid)
    out = np.full(len(switch), -1, dtype="int64")
    out[cid[first]] = PRT[rows[first]]
    return out


def _trajectory_lookup(trajectories: pd.DataFrame | None, person_ids: np.ndarray):
    """A function (person codes, days) -> target_group_code of the latest referral on or before the day;
    on equal referral dates the largest (partner_code, record_key) wins."""

    def none(p, d):
        return pd.Series(None, index=range(len(p)), dtype="str")

    if trajectories is None or trajectories.empty:
        return none
    tr = trajectories[trajectories["referral_date"].notna() & trajectories["person_id"].notna()]
    tp = pd.Index(person_ids).get_indexer(tr["person_id"].astype("str"))
    tr, tp = tr[tp >= 0], tp[tp >= 0]
    if tr.empty:
        return none
    td, _ = to_days(tr["referral_date"])
    _, tprt = ranks(tr["partner_code"])
    _, trk = ranks(tr["record_key"])
    o = np.lexsort((trk, tprt, td, tp))
    tp, td = tp[o], td[o]
    groups = tr["target_group_code"].astype("str").to_numpy()[o]

    def lookup(p, d):
        idx = latest_on_or_before(p, d, tp, td)
        vals = np.where(idx >= 0, groups[np.maximum(idx, 0)], None)
        return pd.Series(vals, dtype="str")

    return lookup
