"""Small-count suppression of additive tables: primary and secondary, the one way published counts are masked.

Every published table (`transforms.publish`) goes through `suppress` (additive tables) or
`suppress_cumulative` (cumulative series such as target attainment); there is no switch that turns
either off, and the threshold cannot be set below 3.

The table
---------
A table is a frame of cells, one row per cell, identified by its `keys` columns, with one or more
non-negative integer count columns (`counts`). Its additive structure is given as `Hierarchy`
objects: a hierarchy spans some key columns and links each child key to its parent key (and,
optionally, a `group`). For every combination of the other key columns, the child cells of one parent
(within one group) sum to the parent cell. Each such equation is a *relation*: a total cell and its
member cells. Examples: municipalities sum to their region, region and BUITEN_REGIO sum to ALL
(`area`); the values of one breakdown sum to the `total` row (`Hierarchy.breakdown`, one relation per
breakdown, hence the group). The table is checked to be additive before anything is suppressed (a
table that is not additive cannot be protected by this method): `SuppressionError` otherwise.
A cell with no row is 0.

Method
------
1. Primary suppression: a cell is sensitive ("small_count") when any of its counts is 1 to
   threshold - 1 (default threshold 5: 1 to 4 persons). 0 is not sensitive: it says nobody.
2. Secondary suppression relation by relation, iterated to a fixpoint. In each round, for every
   relation and count column, the knowledge of a reader who knows this method and reads the published
   frame is computed: a published cell is known exactly; a suppressed cell is known to lie in [1, threshold-1]
   when it is a small count, in [threshold, inf) when it is a positive count that was suppressed
   secondarily (a secondary suppression is always a cell of threshold or more, see "zero cells"),
   and in [0, inf) when the count is 0 (only possible in tables with several count columns).
   A suppressed positive cell is *exposed* when the relation's equation, with the other cells at their
   bounds, pins it to one value. This covers the usual rule (a relation with exactly one suppressed
   cell reveals it) and also the cases that the published `suppression_reason` together with the
   public rule would give away: total 6 = small + secondary (so small = 1, secondary = 5), or two
   small cells of 4 under a published total of 8, or small 1 + 1 under a published total that leaves 2.
   For every relation with an exposed cell, the smallest positive unsuppressed member (in the count
   column concerned; ties: the first cell in input order) is suppressed as "secondary"; when there is
   none, the relation's total is suppressed, which then takes part, as a member, in the relations
   above it (so the protection propagates upwards). All relations are handled in the same round
   (vectorised: group sums with numpy over the relation incidence arrays, no loop over cells); rounds
   repeat until nothing changes. Cells of a `linked` group (e.g. the same cohort at several
   horizons, whose cohort count is one number) are suppressed together.
3. Linear-algebra audit. Relations can also be combined: in a municipality x value grid with two
   blocks of suppressed cells joined by one cell, every row and column has two or more suppressed
   cells, yet (row 1 + row 2) - (column 1 + column 2) gives the joining cell. So all relations are
   taken together as linear equations over the unknown cells (suppressed, and rows left out, see 4),
   per connected block of unknown cells; a cell is derivable when its unit vector lies in the row
   space of the equations' matrix (numpy SVD; blocks are small: one month x measure of one table).
   For each derivable positive cell, the combination of relations that derives it (the least-norm
   certificate) names the published cells it uses; the smallest positive one of those is suppressed
   ("secondary"), then rule 2 and this audit run again until no positive unknown cell is derivable.
   Only the blocks of the table with a derivable cell are revisited.
4. Cells under a small total are left out of the output (their rows are dropped): every member of a
   relation whose total is a small count (in any count column: the total is labelled "small_count")
   and, transitively, everything under a dropped cell. Without this the number of suppressed rows
   under a small total would leak: a total of 4 over four suppressed rows (each at least 1, since 0
   is never suppressed) makes each row 1. No secondary suppression can prevent that: in the count
   column in which the total is small, every positive member is itself a small count, so all of
   them and the total are suppressed already. Because rows are dropped whenever the total is
   labelled small, whatever their values, a missing row under a suppressed small total says nothing.
   In a table with one count column (or when the total is small in the first column and that column
   bounds the others, like a cohort and its retained / not retained) the members are all 0 to
   threshold-1 and suppressed or 0, so nothing published is lost. With several count columns a total
   can be small in another column only (e.g. 4 not retained out of a cohort of 15): its members are
   left out too, also those that would have been published (a cost, kept because leaving out only
   some rows would make the missing rows depend on their values). (Rows of zero are never needed to
   read a table: a missing cell is 0 or, under a suppressed small total, unknown.) Rule 2 treats a
   dropped cell as published (more cautious than needed); the audit of rule 3 treats dropped rows as
   unknown, as a reader must.
5. Fail closed: rule 3 ends only when its check finds nothing derivable, and afterwards the check of
   rule 2 runs once more over the whole table; an exposure left there (none is possible with the rules
   above, so this guards the implementation) raises `SuppressionError` rather than publish.

Zero cells (thought through)
----------------------------
A 0 is published and never chosen as a secondary suppression. Publishing 0 reveals no count of 1 to
4. Suppressing a 0 would protect nothing here: the frame publishes `suppression_reason`, and a
"secondary" cell under a total of 1 to 4 could then only be 0, so the attacker would learn it anyway,
while every zero chosen would cost a real statistic. The consequence, that a suppressed cell is at
least 1, is part of the attacker model above (and is why rows under a small total are dropped).
A relation in which all other members are 0 therefore forces its total to be suppressed (rule 2).
What stays visible by design is group-level, not a count: when the other values of a breakdown are
published 0s, all persons of a suppressed cell share the remaining value.

Limits (documented, not hidden)
-------------------------------
Exact derivations are excluded (rules 2 and 3); bounds are used relation by relation (rule 2). An
attacker who combines several relations AND the bounds (a linear programme: e.g. a combination that
gives small + secondary = 6) could narrow a cell further; statistics offices audit that with an LP
solver (tau-ARGUS), which this project does not ship. Suppression is per table: two tables that
publish the same number (e.g. inflow totals and retention cohorts) must be suppressed consistently by
their caller: `forced` marks the cells the other table hides; they are suppressed ("secondary") before
rule 2, so rules 2 and 3 protect them like any other suppressed cell. The secondary cells are chosen
greedily (smallest first), not by an optimiser, so a pattern can hide more than the minimum.
Performance: about 2 s for 200,000 cells.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Counts from 1 to SMALL_COUNT_THRESHOLD - 1 are never published.
SMALL_COUNT_THRESHOLD = 5
#: Below this, the label "small_count" would itself give the value away (threshold 2: it means 1).
MIN_THRESHOLD = 3
SMALL_COUNT = "small_count"
SECONDARY = "secondary"
PARENT_PREFIX = "parent_"
GROUP = "group"

_NONE, _SMALL, _SECONDARY = 0, 1, 2


class SuppressionError(ValueError):
    """The table cannot be suppressed as given (not additive, bad keys or counts, or an exposure is left)."""


@dataclass(frozen=True)
class Hierarchy:
    """One additive dimension of a table.

    `links` has the child key (`columns`), the parent key (`parent_<column>` for each column) and
    optionally `group`. For each combination of the table's other key columns, the children of a
    parent within one group sum to the parent. A child has one row in `links` (one parent); use
    separate hierarchies for overlapping groupings.
    """

    columns: tuple[str, ...]
    links: pd.DataFrame
    name: str = "hierarchy"

    def __post_init__(self) -> None:
        cols = (self.columns,) if isinstance(self.columns, str) else tuple(self.columns)
        object.__setattr__(self, "columns", cols)
        expected = set(cols) | {PARENT_PREFIX + c for c in cols}
        missing = expected - set(self.links.columns)
        extra = set(self.links.columns) - expected - {GROUP}
        if missing or extra:
            raise SuppressionError(
                f"hierarchy {self.name!r}: links need columns {sorted(expected)} (+ optional {GROUP!r}); "
                f"missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
        if self.links[sorted(expected)].isna().any().any():
            raise SuppressionError(f"hierarchy {self.name!r}: links hold empty keys")
        if self.links.duplicated(list(cols)).any():
            raise SuppressionError(f"hierarchy {self.name!r}: a child key has more than one parent")
        same = np.ones(len(self.links), dtype=bool)
        for c in cols:
            same &= (self.links[c] == self.links[PARENT_PREFIX + c]).to_numpy(dtype=bool)
        if same.any():
            raise SuppressionError(f"hierarchy {self.name!r}: a key is its own parent")

    @classmethod
    def tree(cls, column: str, parent_of: Mapping[Any, Any], name: str | None = None) -> Hierarchy:
        """A hierarchy in one key column: each value listed sums, with its siblings, to its parent value."""
        links = pd.DataFrame({column: list(parent_of.keys()), PARENT_PREFIX + column: list(parent_of.values())})
        return cls((column,), links, name or column)

    @classmethod
    def breakdown(
        cls,
        dimension: str,
        value: str,
        pairs: pd.DataFrame,
        total: tuple[Hashable, Hashable] = ("total", "total"),
        name: str | None = None,
    ) -> Hierarchy:
        """Breakdowns of a total row: for each `dimension` (e.g. `function`), its `value`s sum to the
        row (`total`, `total`). `pairs` lists the (dimension, value) pairs (e.g. the table's cells)."""
        p = pairs[[dimension, value]].drop_duplicates()
        p = p[~((p[dimension] == total[0]) & (p[value] == total[1]))].reset_index(drop=True)
        links = p.assign(**{PARENT_PREFIX + dimension: total[0], PARENT_PREFIX + value: total[1], GROUP: p[dimension]})
        return cls((dimension, value), links, name or dimension)


@dataclass(frozen=True)
class Relations:
    """The relations of a table as incidence arrays (one entry per cell in a relation)."""

    relation: np.ndarray  # relation id of each entry
    cell: np.ndarray  # position of the cell (0..n-1, in the table's row order)
    is_member: np.ndarray  # True: member; False: the relation's total
    total_cell: np.ndarray  # per relation: position of its total cell
    hierarchy: np.ndarray  # per relation: name of the hierarchy it comes from

    @property
    def count(self) -> int:
        return len(self.total_cell)

    def frame(self) -> pd.DataFrame:
        """One row per cell in a relation: relation, cell (position), role ('member' | 'total'), hierarchy."""
        return pd.DataFrame(
            {
                "relation": self.relation,
                "cell": self.cell,
                "role": np.where(self.is_member, "member", "total"),
                "hierarchy": self.hierarchy[self.relation] if len(self.relation) else np.array([], dtype=object),
            }
        )


def build_relations(
    cells: pd.DataFrame, keys: Sequence[str], hierarchies: Sequence[Hierarchy], counts: Sequence[str] | None = None
) -> Relations:
    """The relations of a table. With `counts`, also check that the table is additive in each of them."""
    keys = list(keys)
    _check_keys(cells, keys)
    n = len(cells)
    # Integer codes per key column, and one integer id per cell (vectorised lookups instead of merges).
    uniques = {k: pd.Index(pd.unique(cells[k])) for k in keys}
    codes = {k: uniques[k].get_indexer(cells[k]) for k in keys}
    sizes = [max(len(uniques[k]), 1) for k in keys]
    if float(np.prod(np.array(sizes, dtype=float))) >= 2.0**62:
        raise SuppressionError("too many distinct key combinations to index")
    cell_ids = pd.Index(np.ravel_multi_index([codes[k] for k in keys], sizes) if n else np.array([], dtype=np.int64))
    rel_parts, cell_parts, member_parts, totals, names = [], [], [], [], []
    next_rel = 0
    for h in hierarchies:
        cols = list(h.columns)
        if not set(cols) <= set(keys):
            raise SuppressionError(f"hierarchy {h.name!r} spans {cols}, not all of them key columns {keys}")
        if n == 0 or h.links.empty:
            continue
        link_child = [uniques[c].get_indexer(h.links[c]) for c in cols]
        link_parent = [uniques[c].get_indexer(h.links[PARENT_PREFIX + c]) for c in cols]
        known = np.logical_and.reduce([lc >= 0 for lc in link_child])
        csizes = [sizes[keys.index(c)] for c in cols]
        link_ids = pd.Index(np.ravel_multi_index([lc[known] for lc in link_child], csizes))
        group = (
            pd.factorize(h.links[GROUP].astype("str"))[0]
            if GROUP in h.links
            else np.zeros(len(h.links), dtype=np.int64)
        )[known]
        parent_known = np.logical_and.reduce([lp >= 0 for lp in link_parent])[known]
        link_parent = [lp[known] for lp in link_parent]
        # Which cells are children, and by which link.
        link_of_cell = link_ids.get_indexer(np.ravel_multi_index([codes[c] for c in cols], csizes))
        child = np.flatnonzero(link_of_cell >= 0)
        link = link_of_cell[child]
        parent_codes = [codes[k][child] if k not in cols else link_parent[cols.index(k)][link] for k in keys]
        has_parent = parent_known[link]
        parent_cell = np.full(child.size, -1, dtype=np.int64)
        if has_parent.any():
            ids = np.ravel_multi_index([pc[has_parent] for pc in parent_codes], sizes)
            parent_cell[has_parent] = cell_ids.get_indexer(ids)
        orphan = parent_cell < 0
        if orphan.any() and counts is not None:
            values = cells[list(counts)].to_numpy()[child[orphan]]
            if (values > 0).any():
                raise SuppressionError(
                    f"hierarchy {h.name!r}: {int((values > 0).any(axis=1).sum())} cell(s) with persons "
                    "have no total cell in the table"
                )
        child, link, parent_cell = child[~orphan], link[~orphan], parent_cell[~orphan]
        if not child.size:
            continue
        n_groups = int(group.max()) + 1 if group.size else 1
        rel_key = parent_cell * n_groups + group[link]
        rel_keys, rel_local = np.unique(rel_key, return_inverse=True)
        rel_local = rel_local.reshape(-1)
        n_local = rel_keys.size
        rel_total = (rel_keys // n_groups).astype(np.int64)
        rel_parts += [rel_local + next_rel, np.arange(next_rel, next_rel + n_local)]
        cell_parts += [child.astype(np.int64), rel_total]
        member_parts += [np.ones(child.size, dtype=bool), np.zeros(n_local, dtype=bool)]
        totals.append(rel_total)
        names.append(np.full(n_local, h.name, dtype=object))
        next_rel += n_local
    if not rel_parts:
        empty = np.array([], dtype=np.int64)
        rels = Relations(empty, empty, np.array([], dtype=bool), empty, np.array([], dtype=object))
    else:
        rels = Relations(
            np.concatenate(rel_parts),
            np.concatenate(cell_parts),
            np.concatenate(member_parts),
            np.concatenate(totals),
            np.concatenate(names),
        )
    if counts is not None:
        _check_additive(cells, list(keys), list(counts), rels)
    return rels


def suppression_pattern(
    cells: pd.DataFrame,
    *,
    keys: Sequence[str],
    counts: str | Sequence[str],
    hierarchies: Sequence[Hierarchy],
    threshold: int = SMALL_COUNT_THRESHOLD,
    linked: Sequence[str] | None = None,
    forced: np.ndarray | None = None,
) -> pd.DataFrame:
    """Which cells to suppress and which rows to leave out, without masking anything (for audits).

    `forced` (bool per cell) marks cells that must be suppressed whatever their value (reason
    `secondary`): cells another published table hides, so that the two tables stay consistent.

    Returns a frame aligned with `cells` (same index): `suppressed` (bool), `suppression_reason`
    (`small_count` | `secondary` | NaN) and `dropped` (the row is left out of the output).
    """
    counts = [counts] if isinstance(counts, str) else list(counts)
    if not counts:
        raise SuppressionError("no count columns")
    if not isinstance(threshold, (int, np.integer)) or threshold < MIN_THRESHOLD:
        raise SuppressionError(f"threshold must be an integer of at least {MIN_THRESHOLD}, got {threshold!r}")
    values = _count_values(cells, counts)
    rels = build_relations(cells, keys, hierarchies, counts)
    link = None
    if linked:
        missing = set(linked) - set(cells.columns)
        if missing:
            raise SuppressionError(f"linked columns {sorted(missing)} not in the table")
        link = cells.groupby(list(linked), sort=False, dropna=False).ngroup().to_numpy()
    if forced is not None:
        forced = np.asarray(forced)
        if forced.shape != (len(cells),) or forced.dtype != np.bool_:
            raise SuppressionError(
                f"forced must be one bool per cell ({len(cells)}), got dtype {forced.dtype} and shape {forced.shape}"
            )
    t = int(threshold)
    # Rule 4: a total that is a small count in ANY count column hides the rows under it. In that column
    # every positive member is a small count too (suppressed already), so no secondary suppression could
    # stop a reader from counting them (four members, each >= 1, under a total <= 4 are each 1).
    small_total = np.asarray(((values >= 1) & (values < t)).any(axis=1))
    dropped = _dropped(small_total, rels)
    sup, reason = _solve(values, rels, t, link, dropped, forced)
    # Fail closed: nothing may be left that the relations give away (rows under a small total are not shown).
    hidden_total = (small_total | dropped)[rels.total_cell] if rels.count else np.zeros(0, dtype=bool)
    for c in range(values.shape[1]):
        left = _pinned(values[:, c], sup, rels, t) & ~hidden_total[rels.relation]
        if left.any():
            raise SuppressionError(
                f"{int(left.sum())} suppressed cell(s) could still be derived in column {counts[c]!r}; "
                "refusing to publish (this is a bug in the suppression)"
            )
    return pd.DataFrame(
        {
            "suppressed": pd.array(sup, dtype="boolean"),
            "suppression_reason": pd.Series(
                np.array([None, SMALL_COUNT, SECONDARY], dtype=object)[reason], index=cells.index, dtype="str"
            ),
            "dropped": pd.array(dropped, dtype="boolean"),
        },
        index=cells.index,
    )


def suppress(
    cells: pd.DataFrame,
    *,
    keys: Sequence[str],
    counts: str | Sequence[str],
    hierarchies: Sequence[Hierarchy],
    threshold: int = SMALL_COUNT_THRESHOLD,
    linked: Sequence[str] | None = None,
    forced: np.ndarray | None = None,
) -> pd.DataFrame:
    """Suppress small counts in an additive table (see the module docstring for the method).

    Returns the rows of `cells` that are published (rows under a small total are left out), in input
    order with a fresh index, with the count columns as Int64 and NaN where suppressed, and the columns
    `suppressed` (boolean) and `suppression_reason` (`small_count` | `secondary` | NaN) added (or replaced).
    """
    counts = [counts] if isinstance(counts, str) else list(counts)
    pattern = suppression_pattern(
        cells, keys=keys, counts=counts, hierarchies=hierarchies, threshold=threshold, linked=linked, forced=forced
    )
    out = cells.drop(columns=["suppressed", "suppression_reason"], errors="ignore").copy()
    hide = pattern["suppressed"].to_numpy(dtype=bool)
    for c in counts:
        out[c] = out[c].astype("Int64").mask(hide)
    out["suppressed"] = pattern["suppressed"]
    out["suppression_reason"] = pattern["suppression_reason"]
    keep = ~pattern["dropped"].to_numpy(dtype=bool)
    return out[keep].reset_index(drop=True)


def suppress_cumulative(
    frame: pd.DataFrame, *, by: Sequence[str], order: str, count: str, threshold: int = SMALL_COUNT_THRESHOLD
) -> pd.DataFrame:
    """Suppress small counts in cumulative series (e.g. persons reached so far, month by month).

    The difference of two values of one series is a count of persons too. Walking through each series
    (rows with equal `by`, in `order`), a value is published only when it is 0, or at least
    `threshold` and differs from the last published value by 0 or at least `threshold`; so every
    published value and every difference of two published values is 0 or at least `threshold`.
    Otherwise it is suppressed: `small_count` when the value itself is 1 to threshold-1, `secondary`
    when only its rise over the last published value is. A series must not decrease.

    Returns `frame` (same rows and order) with `count` as Int64, NaN where suppressed, and the columns
    `suppressed` (boolean) and `suppression_reason` added.
    """
    if not isinstance(threshold, (int, np.integer)) or threshold < MIN_THRESHOLD:
        raise SuppressionError(f"threshold must be an integer of at least {MIN_THRESHOLD}, got {threshold!r}")
    values = _count_values(frame, [count])[:, 0]
    hidden = np.zeros(len(frame), dtype=bool)
    reason = np.full(len(frame), _NONE, dtype=np.int8)
    positions = np.arange(len(frame))
    for idx in frame.groupby(list(by), sort=False, dropna=False).indices.values():
        idx = positions[np.asarray(idx)]
        idx = idx[np.argsort(frame[order].to_numpy()[idx], kind="stable")]
        series = values[idx]
        if (np.diff(series) < 0).any():
            raise SuppressionError(f"cumulative series {count!r} decreases")
        last = 0.0
        for i, v in zip(idx, series):
            if v == 0 or (v >= threshold and (v == last or v - last >= threshold)):
                last = v
            else:
                hidden[i] = True
                reason[i] = _SMALL if v < threshold else _SECONDARY
    out = frame.drop(columns=["suppressed", "suppression_reason"], errors="ignore").copy()
    out[count] = out[count].astype("Int64").mask(hidden)
    out["suppressed"] = pd.array(hidden, dtype="boolean")
    out["suppression_reason"] = pd.Series(
        np.array([None, SMALL_COUNT, SECONDARY], dtype=object)[reason], index=frame.index, dtype="str"
    )
    return out


# --- internals -------------------------------------------------------------------------------------


def _check_keys(cells: pd.DataFrame, keys: list[str]) -> None:
    missing = set(keys) - set(cells.columns)
    if missing:
        raise SuppressionError(f"key columns {sorted(missing)} not in the table")
    if cells[keys].isna().any().any():
        raise SuppressionError("key columns hold empty values")
    if cells.duplicated(keys).any():
        raise SuppressionError(f"{int(cells.duplicated(keys).sum())} duplicate cell(s) for keys {keys}")


def _count_values(cells: pd.DataFrame, counts: list[str]) -> np.ndarray:
    missing = set(counts) - set(cells.columns)
    if missing:
        raise SuppressionError(f"count columns {sorted(missing)} not in the table")
    frame = cells[counts]
    if frame.isna().any().any():
        raise SuppressionError("count columns hold empty values")
    values = frame.to_numpy(dtype=np.float64).reshape(len(cells), len(counts))
    if (values < 0).any() or (values != np.round(values)).any():
        raise SuppressionError("counts must be non-negative integers")
    return values


def _check_additive(cells: pd.DataFrame, keys: list[str], counts: list[str], rels: Relations) -> None:
    if not rels.count:
        return
    values = _count_values(cells, counts)
    for j, c in enumerate(counts):
        sign = np.where(rels.is_member, 1.0, -1.0)
        balance = np.bincount(rels.relation, sign * values[rels.cell, j], minlength=rels.count)
        bad = np.flatnonzero(balance != 0)
        if bad.size:
            examples = []
            for r in bad[:3]:
                key = cells.iloc[rels.total_cell[r]][keys].to_dict()
                members = values[rels.cell[(rels.relation == r) & rels.is_member], j].sum()
                examples.append(
                    f"{rels.hierarchy[r]} total {key}: {c} {values[rels.total_cell[r], j]:.0f} but members sum to "
                    f"{members:.0f}"
                )
            raise SuppressionError(f"table not additive in {bad.size} relation(s): " + "; ".join(examples))


def _bounds(v: np.ndarray, sup: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """What the attacker knows of each cell in one count column: [lo, hi]."""
    lo, hi = v.copy(), v.copy()
    small = sup & (v >= 1) & (v < t)
    big = sup & (v >= t)
    zero = sup & (v == 0)
    lo[small], hi[small] = 1.0, t - 1.0
    lo[big], hi[big] = float(t), np.inf
    lo[zero], hi[zero] = 0.0, np.inf
    return lo, hi


def _pinned(v: np.ndarray, sup: np.ndarray, rels: Relations, t: int) -> np.ndarray:
    """Per incidence entry: the entry's cell is suppressed, positive, and pinned to one value by its relation."""
    if not rels.count:
        return np.zeros(0, dtype=bool)
    lo, hi = _bounds(v, sup, t)
    rel, member = rels.relation, rels.is_member
    lo_e, hi_e = lo[rels.cell], hi[rels.cell]
    # The relation as an equation: sum(members) - total = 0; contribution a*x of each entry, a = +1 / -1.
    cmin = np.where(member, lo_e, -hi_e)
    cmax = np.where(member, hi_e, -lo_e)
    min_inf, max_inf = np.isneginf(cmin), np.isposinf(cmax)
    min_fin, max_fin = np.where(min_inf, 0.0, cmin), np.where(max_inf, 0.0, cmax)
    n = rels.count
    o_min_inf = np.bincount(rel, min_inf, n)[rel] - min_inf
    o_max_inf = np.bincount(rel, max_inf, n)[rel] - max_inf
    o_min = np.where(o_min_inf > 0, -np.inf, np.bincount(rel, min_fin, n)[rel] - min_fin)
    o_max = np.where(o_max_inf > 0, np.inf, np.bincount(rel, max_fin, n)[rel] - max_fin)
    # a*x = -(sum of the others' contributions)
    low = np.maximum(np.where(member, -o_max, o_min), lo_e)
    high = np.minimum(np.where(member, -o_min, o_max), hi_e)
    return sup[rels.cell] & (v[rels.cell] > 0) & (low == high)


def _choose(v: np.ndarray, sup: np.ndarray, rels: Relations, need: np.ndarray) -> np.ndarray:
    """Cells to suppress for the relations in `need`: the smallest positive unsuppressed member, else the total."""
    rel, cell = rels.relation, rels.cell
    cand = need[rel] & rels.is_member & ~sup[cell] & (v[cell] > 0)
    r, c = rel[cand], cell[cand]
    chosen = np.zeros(0, dtype=np.int64)
    covered = np.zeros(rels.count, dtype=bool)
    if r.size:
        order = np.lexsort((c, v[c], r))
        r_s, c_s = r[order], c[order]
        first = np.r_[True, r_s[1:] != r_s[:-1]]
        chosen = c_s[first]
        covered[r_s[first]] = True
    rest = np.flatnonzero(need & ~covered)
    totals = rels.total_cell[rest]
    totals = totals[~sup[totals] & (v[totals] > 0)]
    return np.concatenate([chosen, totals])


def _relation_fixpoint(
    values: np.ndarray, rels: Relations, t: int, link: np.ndarray | None, sup: np.ndarray, reason: np.ndarray
) -> None:
    """Rule 2 (in place): add secondary suppressions until no relation pins a suppressed cell."""
    n, k = values.shape
    for _ in range(n + 1):
        new = np.zeros(n, dtype=bool)
        if link is not None and n:
            group_sup = np.bincount(link, sup, int(link.max()) + 1) > 0
            new |= group_sup[link] & ~sup
        for c in range(k):
            pinned = _pinned(values[:, c], sup, rels, t)
            if pinned.any():
                need = np.zeros(rels.count, dtype=bool)
                need[rels.relation[pinned]] = True
                new[_choose(values[:, c], sup, rels, need)] = True
        new &= ~sup
        if not new.any():
            return
        sup |= new
        reason[new] = _SECONDARY


def _solve(
    values: np.ndarray,
    rels: Relations,
    t: int,
    link: np.ndarray | None,
    dropped: np.ndarray,
    forced: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rules 1 and 2, then the linear-algebra audit, repeated until nothing is derivable."""
    primary = ((values >= 1) & (values < t)).any(axis=1)
    extra = np.zeros(len(values), dtype=bool) if forced is None else (forced & ~primary)
    if link is not None and extra.any():  # a forced cell takes its linked cells with it
        extra |= np.isin(link, np.unique(link[extra])) & ~primary
    sup = primary | extra
    reason = np.where(primary, _SMALL, np.where(extra, _SECONDARY, _NONE)).astype(np.int8)
    _relation_fixpoint(values, rels, t, link, sup, reason)
    determined, _ = _determined(values, sup | dropped, rels, np.ones(len(values), dtype=bool))
    if not determined.any():
        return sup, reason
    # Work on the independent blocks of the table that hold a derivable cell (cells joined by relations
    # and links), so that the further rounds do not revisit the whole table.
    if link is None:
        block = _components(np.ones(len(values), dtype=bool), rels)
        blocks = [np.flatnonzero(np.isin(block, np.unique(block[determined])))]
    else:
        blocks = [np.arange(len(values))]
    for cells in blocks:
        sub_rels = _sub_relations(rels, cells)
        sub_sup, sub_reason = sup[cells], reason[cells]
        _audit_rounds(
            values[cells], sub_rels, t, None if link is None else link[cells], dropped[cells], sub_sup, sub_reason
        )
        sup[cells], reason[cells] = sub_sup, sub_reason
    return sup, reason


def _audit_rounds(
    values: np.ndarray,
    rels: Relations,
    t: int,
    link: np.ndarray | None,
    dropped: np.ndarray,
    sup: np.ndarray,
    reason: np.ndarray,
) -> None:
    n = len(values)
    dirty = np.ones(n, dtype=bool)  # cells whose component must be (re)checked by linear algebra
    for _ in range(n + 1):
        before = sup.copy()
        _relation_fixpoint(values, rels, t, link, sup, reason)
        dirty |= sup & ~before
        determined, certificates = _determined(values, sup | dropped, rels, dirty)
        if not determined.any():
            return
        new = _choose_for_determined(certificates, values, sup | dropped, rels)
        if not new.size:
            raise SuppressionError("a suppressed cell can be derived and no cell is left to protect it")
        dirty[:] = False
        sup[new] = True
        reason[new] = _SECONDARY
        dirty[new] = True


def _sub_relations(rels: Relations, cells: np.ndarray) -> Relations:
    """The relations among `cells` (positions; a set closed under the relations), renumbered."""
    position = np.full(int(max(rels.cell.max(initial=-1), cells.max(initial=-1))) + 1, -1)
    position[cells] = np.arange(cells.size)
    keep_rel = np.zeros(rels.count, dtype=bool)
    keep_rel[rels.relation[position[rels.cell] >= 0]] = True
    keep = keep_rel[rels.relation]
    new_id = np.cumsum(keep_rel) - 1
    return Relations(
        new_id[rels.relation[keep]],
        position[rels.cell[keep]],
        rels.is_member[keep],
        position[rels.total_cell[keep_rel]],
        rels.hierarchy[keep_rel],
    )


def _components(unknown: np.ndarray, rels: Relations) -> np.ndarray:
    """Connected components of the unknown cells (linked by sharing a relation); -1 for known cells."""
    n = len(unknown)
    inc = unknown[rels.cell]
    r, c = rels.relation[inc], rels.cell[inc]
    label = np.where(unknown, np.arange(n), -1)
    while r.size:
        rel_min = np.full(rels.count, n)
        np.minimum.at(rel_min, r, label[c])
        new = label.copy()
        np.minimum.at(new, c, rel_min[r])
        if (new == label).all():
            break
        label = new
    return label


def _determined(
    values: np.ndarray, unknown: np.ndarray, rels: Relations, check: np.ndarray
) -> tuple[np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Positive unknown cells that the relations, taken together as linear equations, determine exactly.

    Per connected component of unknown cells (only components holding a `check` cell): the equations'
    matrix A over the unknown cells; a cell x is determined when its unit vector lies in the row space
    of A. Its certificate is the combination y of relations with y A = e_x (least norm), returned as
    (relation ids, weights): the published cells that y gives a net weight are what x is derived from."""
    n = len(values)
    determined = np.zeros(n, dtype=bool)
    certificates: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if not rels.count or not unknown.any():
        return determined, certificates
    component = _components(unknown, rels)
    positive = np.asarray((values > 0).any(axis=1))
    todo = np.unique(component[unknown & check])
    if not todo.size:
        return determined, certificates
    inc = unknown[rels.cell] & np.isin(component[rels.cell], todo)
    comp = component[rels.cell[inc]]
    order = np.argsort(comp, kind="stable")
    comp, rel, cell = comp[order], rels.relation[inc][order], rels.cell[inc][order]
    sign = np.where(rels.is_member[inc][order], 1.0, -1.0)
    edges = np.flatnonzero(np.r_[True, comp[1:] != comp[:-1], True])
    for a, b in itertools.pairwise(edges):
        cells_here, col = np.unique(cell[a:b], return_inverse=True)
        if not positive[cells_here].any():
            continue
        rels_here, row = np.unique(rel[a:b], return_inverse=True)
        matrix = np.zeros((rels_here.size, cells_here.size))
        np.add.at(matrix, (row.reshape(-1), col.reshape(-1)), sign[a:b])
        # Projection onto the row space of A through the Gram matrix G = A A^T = U diag(lam) U^T:
        # P = A^T G^+ A, so P[x, x] = sum_i (U^T A)[i, x]^2 / lam_i (1 for a determined cell, else < 1).
        lam, u = np.linalg.eigh(matrix @ matrix.T)
        keep = lam > max(lam.max(initial=0.0), 1.0) * 1e-10
        lam, u = lam[keep], u[:, keep]
        w = u.T @ matrix
        in_row_space = (w**2 / lam[:, None]).sum(axis=0) > 1 - 1e-6
        for j in np.flatnonzero(in_row_space & positive[cells_here]):
            x = int(cells_here[j])
            determined[x] = True
            # least-norm y with y A = e_x: y = G^+ a_x
            certificates[x] = (rels_here, u @ (w[:, j] / lam))
    return determined, certificates


def _choose_for_determined(
    certificates: dict[int, tuple[np.ndarray, np.ndarray]], values: np.ndarray, unknown: np.ndarray, rels: Relations
) -> np.ndarray:
    """For each determined cell: the smallest positive published cell that its derivation uses (a cell
    with a net weight in the certificate's combination of relations). Suppressing it takes that
    derivation away; the next round checks whether another one is left."""
    positive = np.asarray((values > 0).any(axis=1))
    by_rel = np.argsort(rels.relation, kind="stable")
    start = np.searchsorted(rels.relation[by_rel], np.arange(rels.count + 1))
    chosen = set()
    for rels_here, weight in certificates.values():
        used = np.abs(weight) > 1e-9
        support, w = rels_here[used], weight[used]
        pieces = [by_rel[start[r] : start[r + 1]] for r in support]
        inc = np.concatenate(pieces)
        inc_weight = np.repeat(w, [len(p) for p in pieces]) * np.where(rels.is_member[inc], 1.0, -1.0)
        open_inc = ~unknown[rels.cell[inc]] & positive[rels.cell[inc]]
        cand, net = np.unique(rels.cell[inc][open_inc], return_inverse=True)
        net_weight = np.bincount(net.reshape(-1), inc_weight[open_inc], cand.size)
        cand = cand[np.abs(net_weight) > 1e-9]
        if cand.size:
            chosen.add(int(cand[np.lexsort((cand, values[cand, 0]))[0]]))
    return np.array(sorted(chosen), dtype=np.int64)


def _dropped(small_total: np.ndarray, rels: Relations) -> np.ndarray:
    """Rows under a small total (small in any count column), transitively."""
    dropped = np.zeros(len(small_total), dtype=bool)
    if not rels.count:
        return dropped
    while True:
        hidden_total = small_total[rels.total_cell] | dropped[rels.total_cell]
        under = rels.cell[rels.is_member & hidden_total[rels.relation]]
        new = np.zeros(len(small_total), dtype=bool)
        new[under] = True
        new &= ~dropped
        if not new.any():
            return dropped
        dropped |= new
