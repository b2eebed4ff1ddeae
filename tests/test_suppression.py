"""Small-count suppression (transforms.suppression): hand-worked cases and a brute-force audit of random tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from transforms.suppression import Hierarchy, SuppressionError, suppress, suppress_cumulative, suppression_pattern

T = 5  # the default threshold: 1 to 4 is a small count


def _one_level(values: dict[str, int], total: str = "R") -> tuple[pd.DataFrame, Hierarchy]:
    """A one-relation table: the members in `values` sum to `total`."""
    cells = pd.DataFrame({"area": [*values, total], "persons": [*values.values(), sum(values.values())]})
    return cells, Hierarchy.tree("area", dict.fromkeys(values, total))


def _by_area(out: pd.DataFrame) -> dict[str, tuple]:
    return {
        r.area: (
            None if pd.isna(r.persons) else int(r.persons),
            r.suppression_reason if isinstance(r.suppression_reason, str) else None,
        )
        for r in out.itertuples()
    }


# --- hand-worked cases ------------------------------------------------------------------------------


def test_cell_of_three_gets_one_secondary_and_the_total_cannot_reveal_it():
    cells, h = _one_level({"A": 3, "B": 7, "C": 12, "D": 0})  # R = 22
    out = suppress(cells, keys=["area"], counts="persons", hierarchies=[h])
    # A = 3 is a small count. With only A hidden, R - B - C - D = 22 - 7 - 12 - 0 = 3 gives it back, so one
    # more member must go: the smallest positive unsuppressed one, B = 7 (D = 0 is not positive, C is larger).
    assert _by_area(out) == {
        "A": (None, "small_count"),
        "B": (None, "secondary"),
        "C": (12, None),
        "D": (0, None),
        "R": (22, None),
    }
    assert out["suppressed"].tolist() == [True, True, False, False, False]
    assert str(out["persons"].dtype) == "Int64"
    # What a reader can work out: A + B = 22 - 12 - 0 = 10, A is 1..4 ("small_count"), B >= 5 ("secondary").
    published = out.set_index("area")["persons"]
    rest = published["R"] - published["C"] - published["D"]
    candidates = [a for a in range(1, T) if rest - a >= T]
    assert rest == 10 and candidates == [1, 2, 3, 4]  # the 3 is one of four possibilities


def test_relation_whose_only_other_member_is_zero_forces_its_total_and_that_propagates_up():
    # Municipalities D, R, Z of region REG, broken down by function F / G (totals on the right):
    #            F    G   total
    #   D        3    6     9
    #   R        0    7     7
    #   Z        8    9    17
    #   REG     11   22    33
    data = {"D": {"F": 3, "G": 6}, "R": {"F": 0, "G": 7}, "Z": {"F": 8, "G": 9}}
    rows = []
    for area, d in data.items():
        rows += [(area, "function", v, n) for v, n in d.items()] + [(area, "total", "total", sum(d.values()))]
    rows += [("REG", "function", v, sum(d[v] for d in data.values())) for v in ["F", "G"]]
    rows += [("REG", "total", "total", 33)]
    cells = pd.DataFrame(rows, columns=["area", "breakdown", "value", "persons"])
    out = suppress(
        cells,
        keys=["area", "breakdown", "value"],
        counts="persons",
        hierarchies=[
            Hierarchy.tree("area", {"D": "REG", "R": "REG", "Z": "REG"}),
            Hierarchy.breakdown("breakdown", "value", cells),
        ],
    )
    got = {(r.area, r.value): r.suppression_reason if r.suppressed else int(r.persons) for r in out.itertuples()}
    # Round 1: D/F = 3 is small. Row D: only D/F hidden -> smallest other member D/G (6). Column F: only D/F
    #          hidden -> smallest positive member Z/F (8; R/F = 0 does not count).
    # Round 2: column G: D/G alone -> R/G (7, smaller than Z/G 9). Row Z: Z/F alone -> Z/G (9).
    # Round 3: row R: R/G is its only hidden cell and the only other member, R/F, is 0: the total R/total (7)
    #          must go, or R/total - R/F would give R/G back.
    # Round 4: one level up, the column of totals: R/total alone -> D/total (9, smaller than Z/total 17).
    assert got == {
        ("D", "F"): "small_count",
        ("D", "G"): "secondary",
        ("D", "total"): "secondary",
        ("R", "F"): 0,
        ("R", "G"): "secondary",
        ("R", "total"): "secondary",
        ("Z", "F"): "secondary",
        ("Z", "G"): "secondary",
        ("Z", "total"): 17,
        ("REG", "F"): 11,
        ("REG", "G"): 22,
        ("REG", "total"): 33,
    }


def test_five_is_published_and_zero_is_published():
    cells, h = _one_level({"A": 5, "B": 0, "C": 7})
    out = suppress(cells, keys=["area"], counts="persons", hierarchies=[h])
    assert _by_area(out) == {"A": (5, None), "B": (0, None), "C": (7, None), "R": (12, None)}
    assert not out["suppressed"].any()
    four, h4 = _one_level({"A": 4, "B": 0, "C": 7})
    assert suppress(four, keys=["area"], counts="persons", hierarchies=[h4])["suppressed"].tolist() == [
        True,
        False,
        True,
        False,
    ]


def test_the_input_index_and_row_order_do_not_matter():
    cells, h = _one_level({"A": 3, "B": 7, "C": 12, "D": 0})
    shuffled = cells.iloc[[4, 2, 0, 3, 1]].set_axis([50, 40, 30, 20, 10])
    out = suppress(shuffled, keys=["area"], counts="persons", hierarchies=[h])
    assert out["area"].tolist() == ["R", "C", "A", "D", "B"]  # input order kept, fresh index
    assert _by_area(out) == {
        "A": (None, "small_count"),
        "B": (None, "secondary"),
        "C": (12, None),
        "D": (0, None),
        "R": (22, None),
    }


def test_published_labels_cannot_pin_a_small_count():
    # A = 1 small. The usual rule would hide B = 5 only; but then A + B = 15 - 9 = 6 with A in 1..4 and B >= 5
    # (its label says "secondary") leaves A = 1, B = 5. So C goes as well: A + B + C = 15, nothing pinned.
    cells, h = _one_level({"A": 1, "B": 5, "C": 9})
    out = suppress(cells, keys=["area"], counts="persons", hierarchies=[h])
    assert _by_area(out) == {
        "A": (None, "small_count"),
        "B": (None, "secondary"),
        "C": (None, "secondary"),
        "R": (15, None),
    }
    # Two small 4s under a published 8 would both be 4 (each 1..4, summing to 8): the total goes.
    cells, h = _one_level({"A": 4, "B": 4, "C": 0})
    out = suppress(cells, keys=["area"], counts="persons", hierarchies=[h])
    assert _by_area(out) == {
        "A": (None, "small_count"),
        "B": (None, "small_count"),
        "C": (0, None),
        "R": (None, "secondary"),
    }


def test_a_cell_derivable_only_by_combining_relations_is_protected():
    # Municipalities m1..m4 of R by value v1..v5; the 2s and 3s are small counts:
    #          v1  v2  v3  v4  v5  total
    #   m1      2   3   0   0  20    25
    #   m2      3   2   2   0  20    27
    #   m3      0   0   2   3  20    25
    #   m4      0   0   3   2  20    25
    #   R       5   5   7   5  80   102
    # Relation by relation all is well: every row and column holds two or three small cells whose sum
    # leaves each of them 1..4. But (row m1 + row m2) - (column v1 + column v2) isolates m2/v3:
    # (25 - 20) + (27 - 20) - 5 - 5 = 2. The audit finds it; its derivation uses R/v1 and R/v2 (5 each,
    # the smallest cells it uses): R/v1 goes (first in order), then rule 2 adds R/v2 (R's row would
    # give R/v1 back). Now R's row gives R/v1 + R/v2 = 102 - 7 - 5 - 80 = 10 = m1/v1 + m2/v1 + m1/v2 + m2/v2,
    # so m2/v3 = 12 - 10 = 2 again: the next derivation uses R/v4 (5), which goes. Then R/v1, R/v2, R/v4
    # (each >= 5, "secondary") sum to 102 - 7 - 80 = 15, which pins each to 5: rule 2 adds R/v3.
    grid = {"m1": [2, 3, 0, 0, 20], "m2": [3, 2, 2, 0, 20], "m3": [0, 0, 2, 3, 20], "m4": [0, 0, 3, 2, 20]}
    region = [sum(col) for col in zip(*grid.values())]
    rows = [(m, "v", f"v{i + 1}", x) for m, vs in [*grid.items(), ("R", region)] for i, x in enumerate(vs)]
    rows += [(m, "total", "total", sum(vs)) for m, vs in [*grid.items(), ("R", region)]]
    cells = pd.DataFrame(rows, columns=["area", "breakdown", "value", "persons"])
    hierarchies = [Hierarchy.tree("area", dict.fromkeys(grid, "R")), Hierarchy.breakdown("breakdown", "value", cells)]
    out = suppress(cells, keys=["area", "breakdown", "value"], counts="persons", hierarchies=hierarchies)
    got = out.set_index(["area", "value"])
    assert got.loc[("m2", "v3"), "suppression_reason"] == "small_count"
    assert got.loc[[("R", v) for v in ["v1", "v2", "v3", "v4"]], "suppression_reason"].tolist() == ["secondary"] * 4
    assert got.loc[("R", "v5"), "persons"] == 80 and got.loc[("R", "total"), "persons"] == 102
    assert set(got.index[got["suppression_reason"] == "secondary"]) == {
        ("R", "v1"),
        ("R", "v2"),
        ("R", "v3"),
        ("R", "v4"),
    }
    # The derivation above now needs R/v1 + R/v2, which only R's row gives, together with R/v3 and R/v4:
    # (25 - 20) + (27 - 20) - (102 - 80 - R/v3 - R/v4) depends on the unknown R/v3 + R/v4.
    assert got.loc[[("m1", "v5"), ("m2", "v5"), ("m1", "total"), ("m2", "total")], "persons"].tolist() == [
        20,
        20,
        25,
        27,
    ]


def test_rows_under_a_small_total_are_left_out():
    # Region total 4 over four municipalities of 1: four suppressed rows, each at least 1 (0 is never
    # suppressed), under a total of at most 4 would make each of them 1. So only the region row is shown.
    cells, h = _one_level({"A": 1, "B": 1, "C": 1, "D": 1, "E": 0})
    pattern = suppression_pattern(cells, keys=["area"], counts="persons", hierarchies=[h])
    assert pattern["dropped"].tolist() == [True, True, True, True, True, False]
    out = suppress(cells, keys=["area"], counts="persons", hierarchies=[h])
    assert _by_area(out) == {"R": (None, "small_count")}


def test_linked_cells_are_suppressed_together():
    # The same cohort (area A) at two horizons: a small count at horizon 6 hides A at horizon 12 as well.
    cells = pd.DataFrame(
        {"area": ["A", "B", "C", "R"] * 2, "horizon": [6] * 4 + [12] * 4, "persons": [3, 6, 8, 17, 9, 6, 8, 23]}
    )
    h = Hierarchy.tree("area", {"A": "R", "B": "R", "C": "R"})
    out = suppress(cells, keys=["area", "horizon"], counts="persons", hierarchies=[h], linked=["area"])
    hidden = set(out.loc[out["suppressed"], ["area", "horizon"]].itertuples(index=False, name=None))
    # horizon 6: A small, B (6) secondary; linked: A and B at 12 too.
    assert hidden == {("A", 6), ("B", 6), ("A", 12), ("B", 12)}
    assert out.loc[(out["area"] == "A") & (out["horizon"] == 12), "suppression_reason"].item() == "secondary"


def test_several_count_columns_are_suppressed_as_one_cell():
    # cohort, retained and not retained: B has 2 not retained.
    cells = pd.DataFrame({"area": ["A", "B", "C", "R"], "cohort": [20, 9, 12, 41], "retained": [10, 7, 7, 24]})
    cells["not_retained"] = cells["cohort"] - cells["retained"]
    h = Hierarchy.tree("area", {"A": "R", "B": "R", "C": "R"})
    out = suppress(cells, keys=["area"], counts=["cohort", "retained", "not_retained"], hierarchies=[h])
    assert out["suppressed"].tolist() == [False, True, True, False]  # B small, C (12 < 20) secondary
    assert out.loc[1, ["cohort", "retained", "not_retained"]].isna().all()
    assert out.loc[2, "suppression_reason"] == "secondary"


# --- forced cells (hidden by another table) -----------------------------------------------------------


def test_a_forced_cell_gets_its_own_secondary_protection():
    # Nothing here is small. A (5) is hidden by another published table: forced, reason "secondary".
    # Round 1: with only A hidden, R - B - C - D = 22 - 5 - 12 - 0 = 5 gives it back: the smallest positive
    #          other member, B (5), goes. Round 2: A + B = 22 - 12 - 0 = 10 with both >= 5 (their label
    #          says "secondary") pins both to 5: C goes too. Now A + B + C = 22: A is anything from 5 to 12.
    cells, h = _one_level({"A": 5, "B": 5, "C": 12, "D": 0})
    assert not suppress(cells, keys=["area"], counts="persons", hierarchies=[h])["suppressed"].any()
    forced = (cells["area"] == "A").to_numpy()
    out = suppress(cells, keys=["area"], counts="persons", hierarchies=[h], forced=forced)
    assert _by_area(out) == {
        "A": (None, "secondary"),
        "B": (None, "secondary"),
        "C": (None, "secondary"),
        "D": (0, None),
        "R": (22, None),
    }


def test_a_forced_cell_is_protected_up_the_hierarchy_and_across_linked_cells():
    # M1 (8) and M2 (0) make region R1 (8); R1 and region R2 (6) make ALL (14); two horizons, linked by area
    # (the same cohort). M1 is forced at horizon 6 only; the link hides it at horizon 12 too.
    # Per horizon: R1's relation has M1 hidden and only a 0 besides it, so R1 itself goes (R1 - M2 = M1);
    # in ALL's relation R1 is then alone: R2 (6) goes. ALL = R1 + R2 = 14 with both >= 5 leaves R1 in 5..9.
    rows = [(a, hz, n) for hz in [6, 12] for a, n in [("M1", 8), ("M2", 0), ("R1", 8), ("R2", 6), ("ALL", 14)]]
    cells = pd.DataFrame(rows, columns=["area", "horizon", "persons"])
    h = Hierarchy.tree("area", {"M1": "R1", "M2": "R1", "R1": "ALL", "R2": "ALL"})
    forced = ((cells["area"] == "M1") & (cells["horizon"] == 6)).to_numpy()
    out = suppress(cells, keys=["area", "horizon"], counts="persons", hierarchies=[h], linked=["area"], forced=forced)
    got = {(r.area, r.horizon): r.suppression_reason if r.suppressed else int(r.persons) for r in out.itertuples()}
    assert got == {
        (a, hz): v
        for hz in [6, 12]
        for a, v in [("M1", "secondary"), ("M2", 0), ("R1", "secondary"), ("R2", "secondary"), ("ALL", 14)]
    }
    # A forced cell that is a small count keeps its reason; a mask that is not one bool per cell is refused.
    cells, h = _one_level({"A": 3, "B": 7, "C": 12})
    out = suppress(
        cells, keys=["area"], counts="persons", hierarchies=[h], forced=np.array([True, False, False, False])
    )
    assert _by_area(out)["A"] == (None, "small_count") and _by_area(out)["B"] == (None, "secondary")
    for bad in [np.array([True, False]), np.array([1, 0, 0, 0])]:  # too short; not bool
        with pytest.raises(SuppressionError):
            suppress(cells, keys=["area"], counts="persons", hierarchies=[h], forced=bad)


# --- several count columns -----------------------------------------------------------------------------

COHORT_COUNTS = ["cohort", "retained", "not_retained"]


def _cohort_table(rows: list[tuple[str, int, int, int]]) -> pd.DataFrame:
    """(area, horizon, cohort, retained) rows -> the three additive count columns."""
    cells = pd.DataFrame(rows, columns=["area", "horizon", "cohort", "retained"])
    cells["not_retained"] = cells["cohort"] - cells["retained"]
    return cells


def _multi_column_exposures(
    cells: pd.DataFrame,
    pattern: pd.DataFrame,
    counts: list[str],
    relations: list[tuple[int, list[int]]],
    same_first: np.ndarray | None = None,
) -> list[str]:
    """What a reader of the published rows could work out, written independently of the module.

    Per count column, what the reader knows of a cell: a published row exactly; a suppressed row 1..4 where
    that count is small, >= 5 where it is 5 or more, >= 0 where it is 0 (cautious: a reader sees one label
    per row, not per count); a missing row (left out under a small total) 0..the bound of its total.
    `same_first`: rows whose first count is one number (a cohort at several horizons) share one unknown,
    known when any of those rows is published. Finds (a) a hidden positive count pinned by one relation with
    those bounds and (b) one determined by all relations as linear equations (rank test)."""
    v_all = cells[counts].to_numpy(dtype=float)
    sup, dropped = pattern["suppressed"].to_numpy(dtype=bool), pattern["dropped"].to_numpy(dtype=bool)
    n, problems = len(cells), []
    parent = {m: total for total, members in relations for m in members}
    for j, col in enumerate(counts):
        v = v_all[:, j]
        lo = np.where(sup, np.where((v >= 1) & (v < T), 1.0, np.where(v >= T, float(T), 0.0)), v)
        hi = np.where(sup, np.where((v >= 1) & (v < T), T - 1.0, np.inf), v)
        for i in range(n):  # missing rows: 0 .. their total's upper bound (totals first, top-down)
            chain, k = [], i
            while dropped[k]:
                chain.append(k)
                k = parent[k]
            for c in reversed(chain):
                lo[c], hi[c] = 0.0, hi[parent[c]]
        var = np.arange(n) if j or same_first is None else same_first
        ids, var = np.unique(var, return_inverse=True)
        var_lo, var_hi = np.full(ids.size, -np.inf), np.full(ids.size, np.inf)
        np.maximum.at(var_lo, var, lo)
        np.minimum.at(var_hi, var, hi)
        known = np.zeros(ids.size, dtype=bool)
        known[var[~(sup | dropped)]] = True
        value = np.zeros(ids.size)
        value[var] = v
        var_lo, var_hi = np.where(known, value, var_lo), np.where(known, value, var_hi)
        for total, members in relations:
            sign = {var[m]: 1.0 for m in members} | {var[total]: -1.0}
            for x in sign:
                if known[x] or value[x] == 0:
                    continue
                others = [o for o in sign if o != x]
                omin = sum(sign[o] * (var_lo[o] if sign[o] > 0 else var_hi[o]) for o in others)
                omax = sum(sign[o] * (var_hi[o] if sign[o] > 0 else var_lo[o]) for o in others)
                low, high = (-omax, -omin) if sign[x] > 0 else (omin, omax)
                if max(low, var_lo[x]) == min(high, var_hi[x]):
                    problems.append(
                        f"{col}: {cells.iloc[np.flatnonzero(var == x)[0]].to_dict()} pinned by one relation"
                    )
        hidden = np.flatnonzero(~known)
        pos = {x: i for i, x in enumerate(hidden)}
        rows = []
        for total, members in relations:
            row = np.zeros(hidden.size)
            for m, s in [(m, 1.0) for m in members] + [(total, -1.0)]:
                if var[m] in pos:
                    row[pos[var[m]]] += s
            if row.any():
                rows.append(row)
        if rows:
            a = np.array(rows)
            rank = np.linalg.matrix_rank(a)
            for x, i in pos.items():
                if value[x] > 0 and np.linalg.matrix_rank(np.vstack([a, np.eye(hidden.size)[i]])) == rank:
                    problems.append(
                        f"{col}: {cells.iloc[np.flatnonzero(var == x)[0]].to_dict()} determined by the relations"
                    )
    return problems


def _area_relations(cells: pd.DataFrame, parent_of: dict[str, str], by: str = "horizon") -> list[tuple[int, list[int]]]:
    at = {(r.area, getattr(r, by)): i for i, r in enumerate(cells.itertuples())}
    rels: dict[int, list[int]] = {}
    for (area, b), i in at.items():
        if area in parent_of:
            rels.setdefault(at[parent_of[area], b], []).append(i)
    return list(rels.items())


def test_a_total_small_in_another_count_column_leaves_out_the_rows_under_it():
    # The shape that made the suppression refuse a real retention table. Horizon 24: 4 not retained in the
    # region (cohort 22) are 1 each in M2..M5; M1 has 0 not retained, M6 (7, 7, 0) nothing small at all.
    # The region's not retained (4) is a small count, so every positive member in that column is one too:
    # all are suppressed already and no secondary suppression can help, yet M2..M5 (each >= 1 by their
    # label) under a total <= 4 would each be 1. So, as for a small cohort, the rows under the region are
    # left out at horizon 24, M6 included (which rows go may not depend on their values).
    # Horizon 6 (the same cohorts, linked by area): nobody left yet.
    parent_of = {**{f"M{i}": "R" for i in range(1, 7)}, "R": "ALL", "BR": "ALL"}
    h24 = [("M1", 2, 2), ("M2", 10, 9), ("M3", 1, 0), ("M4", 1, 0), ("M5", 1, 0), ("M6", 7, 7), ("BR", 12, 6)]
    rows = []
    for horizon, leaves in [(6, [(a, c, c) for a, c, _ in h24]), (24, h24)]:
        region = (sum(c for a, c, _ in leaves if a != "BR"), sum(r for a, _, r in leaves if a != "BR"))
        rows += [(a, horizon, c, r) for a, c, r in leaves] + [
            ("R", horizon, *region),
            ("ALL", horizon, region[0] + 12, region[1] + leaves[-1][2]),
        ]
    cells = _cohort_table(rows)
    assert cells.loc[(cells["area"] == "R") & (cells["horizon"] == 24), COHORT_COUNTS].values.tolist() == [[22, 18, 4]]
    hierarchy = Hierarchy.tree("area", parent_of)
    kw = dict(keys=["area", "horizon"], counts=COHORT_COUNTS, hierarchies=[hierarchy], linked=["area"])
    pattern = suppression_pattern(cells, **kw)
    got = {
        (r.area, r.horizon): "dropped" if d else (r.suppression_reason if s else "shown")
        for r, s, d in zip(
            pattern.assign(area=cells["area"], horizon=cells["horizon"]).itertuples(),
            pattern["suppressed"],
            pattern["dropped"],
        )
    }
    assert got == {
        # horizon 24: the region is small_count (4 not retained); BR (12, 6, 6) would give it back from ALL: secondary.
        **{(f"M{i}", 24): "dropped" for i in range(1, 7)},
        ("R", 24): "small_count",
        ("BR", 24): "secondary",
        ("ALL", 24): "shown",
        # horizon 6: cohorts 1 and 2 are small; M2, R and BR go with their horizon-24 rows (linked).
        ("M1", 6): "small_count",
        ("M2", 6): "secondary",
        ("M3", 6): "small_count",
        ("M4", 6): "small_count",
        ("M5", 6): "small_count",
        ("M6", 6): "shown",
        ("R", 6): "secondary",
        ("BR", 6): "secondary",
        ("ALL", 6): "shown",
    }
    same = cells.groupby("area").ngroup().to_numpy()
    assert _multi_column_exposures(cells, pattern, COHORT_COUNTS, _area_relations(cells, parent_of), same) == []
    # M6 hidden by another table as well: it goes at both horizons, and still nothing can be worked out.
    forced = (cells["area"] == "M6").to_numpy()
    pattern = suppression_pattern(cells, **kw, forced=forced)
    assert pattern.loc[forced, "suppressed"].all()
    assert (pattern.loc[forced & (cells["horizon"] == 6), "suppression_reason"] == "secondary").all()
    assert _multi_column_exposures(cells, pattern, COHORT_COUNTS, _area_relations(cells, parent_of), same) == []
    out = suppress(cells, **kw, forced=forced)
    assert set(out.loc[out["horizon"] == 24, "area"]) == {"R", "BR", "ALL"}


@pytest.mark.parametrize(
    "bad",
    [
        pd.DataFrame({"area": ["A", "B", "R"], "persons": [3, 7, 11]}),  # 3 + 7 != 11
        pd.DataFrame({"area": ["A", "A", "R"], "persons": [3, 7, 10]}),  # duplicate cell
        pd.DataFrame({"area": ["A", "B"], "persons": [3, 7]}),  # members without their total
        pd.DataFrame({"area": ["A", "B", "R"], "persons": [3, -1, 2]}),
    ],
)
def test_tables_that_cannot_be_protected_are_refused(bad):
    with pytest.raises(SuppressionError):
        suppress(bad, keys=["area"], counts="persons", hierarchies=[Hierarchy.tree("area", {"A": "R", "B": "R"})])


def test_threshold_is_configurable_but_cannot_be_switched_off():
    cells, h = _one_level({"A": 6, "B": 12, "C": 15})
    assert not suppress(cells, keys=["area"], counts="persons", hierarchies=[h])["suppressed"].any()
    # Threshold 10: A = 6 is a small count; B = 12 is the smallest other member.
    out = suppress(cells, keys=["area"], counts="persons", hierarchies=[h], threshold=10)
    assert out["suppression_reason"].fillna("-").tolist() == ["small_count", "secondary", "-", "-"]
    for threshold in [0, 1, 2, None]:
        with pytest.raises(SuppressionError):
            suppress(cells, keys=["area"], counts="persons", hierarchies=[h], threshold=threshold)


def test_cumulative_series_publish_no_small_value_and_no_small_difference():
    # Series A month by month (rows shuffled): 0, 3, 7, 9, 15, 15, 16. Walking in date order:
    # 0 published; 3 small; 7 published (7 - 0 = 7); 9 only 2 above the published 7: secondary;
    # 15 published (15 - 7 = 8); 15 again (difference 0) published; 16 is 1 above 15: secondary.
    series = pd.DataFrame({"target": "A", "month": [3, 1, 2, 7, 5, 4, 6], "achieved": [7, 0, 3, 16, 15, 9, 15]})
    series = pd.concat([series, pd.DataFrame({"target": "B", "month": [1, 2], "achieved": [5, 6]})], ignore_index=True)
    out = suppress_cumulative(series, by=["target"], order="month", count="achieved")
    got = {(r.target, r.month): r.suppression_reason if r.suppressed else int(r.achieved) for r in out.itertuples()}
    assert got == {
        ("A", 1): 0,
        ("A", 2): "small_count",
        ("A", 3): 7,
        ("A", 4): "secondary",
        ("A", 5): 15,
        ("A", 6): 15,
        ("A", 7): "secondary",
        ("B", 1): 5,
        ("B", 2): "secondary",
    }
    assert out["month"].tolist() == series["month"].tolist()  # same rows, same order
    shown = out.sort_values(["target", "month"]).dropna(subset=["achieved"])
    steps = shown.groupby("target")["achieved"].diff().dropna()
    assert ((steps == 0) | (steps >= T)).all()
    with pytest.raises(SuppressionError):
        suppress_cumulative(pd.DataFrame({"t": "A", "m": [1, 2], "n": [9, 8]}), by=["t"], order="m", count="n")


# --- brute-force audit of random tables -------------------------------------------------------------

MUNIS = ["m1", "m2", "m3"]
AREAS = [*MUNIS, "R", "BR", "ALL"]
AREA_PARENT = {"m1": "R", "m2": "R", "m3": "R", "R": "ALL", "BR": "ALL"}
BREAKDOWNS = {"kind": ["k1", "k2", "k3"], "age": ["a1", "a2"]}


def _random_table(rng: np.random.Generator) -> pd.DataFrame:
    """Area (3 municipalities of R, BR; ALL) x breakdowns (total, kind, age), counted from random persons,
    every cell a row (zeros included)."""
    n = int(rng.integers(0, 60))
    leaf = rng.choice(["m1", "m2", "m3", "BR"], size=n, p=rng.dirichlet(np.full(4, 0.7)))
    attrs = {b: rng.choice(v, size=n, p=rng.dirichlet(np.full(len(v), 0.7))) for b, v in BREAKDOWNS.items()}
    rows = []
    for area in AREAS:
        inside = {"R": np.isin(leaf, MUNIS), "ALL": np.ones(n, dtype=bool)}.get(area, leaf == area)
        rows.append((area, "total", "total", int(inside.sum())))
        rows += [(area, b, v, int((inside & (attrs[b] == v)).sum())) for b, vs in BREAKDOWNS.items() for v in vs]
    return pd.DataFrame(rows, columns=["area", "breakdown", "value", "persons"])


def _relations(cells: pd.DataFrame) -> list[tuple[int, list[int]]]:
    """(total, members) by position, written out independently of the module."""
    at = {(r.area, r.breakdown, r.value): i for i, r in enumerate(cells.itertuples())}
    rels = []
    for b, v in [("total", "total")] + [(b, v) for b, vs in BREAKDOWNS.items() for v in vs]:
        rels.append((at["R", b, v], [at[m, b, v] for m in MUNIS]))
        rels.append((at["ALL", b, v], [at["R", b, v], at["BR", b, v]]))
    for area in AREAS:
        rels += [(at[area, "total", "total"], [at[area, b, v] for v in vs]) for b, vs in BREAKDOWNS.items()]
    return rels


_RANDOM_HIERARCHIES = [
    Hierarchy.tree("area", AREA_PARENT),
    Hierarchy.breakdown(
        "breakdown",
        "value",
        pd.DataFrame([(b, v) for b, vs in BREAKDOWNS.items() for v in vs], columns=["breakdown", "value"]),
    ),
]


def _suppress_random(cells: pd.DataFrame) -> pd.DataFrame:
    return suppression_pattern(
        cells, keys=["area", "breakdown", "value"], counts="persons", hierarchies=_RANDOM_HIERARCHIES
    )


def _reader_bounds(cells: pd.DataFrame, pattern: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """What a reader of the published rows knows of each cell: published exactly; a suppressed row 1..4
    (small_count) or >= 5 (secondary); a missing row (left out under a small total) 0..4."""
    v = cells["persons"].to_numpy(dtype=float)
    sup, dropped = pattern["suppressed"].to_numpy(dtype=bool), pattern["dropped"].to_numpy(dtype=bool)
    small = (pattern["suppression_reason"] == "small_count").to_numpy()
    lo = np.where(dropped, 0, np.where(sup, np.where(small, 1, T), v))
    hi = np.where(dropped, T - 1, np.where(sup, np.where(small, T - 1, np.inf), v))
    return lo, hi


def test_audit_of_random_tables_no_suppressed_count_can_be_worked_out():
    rng = np.random.default_rng(20240611)
    seen = {"small": 0, "secondary": 0, "dropped": 0, "zero_published": 0}
    for _ in range(300):
        cells = _random_table(rng)
        pattern = _suppress_random(cells)
        v = cells["persons"].to_numpy()
        sup, dropped = pattern["suppressed"].to_numpy(dtype=bool), pattern["dropped"].to_numpy(dtype=bool)
        unknown = sup | dropped
        published = ~unknown
        # Every published count is 0 or at least 5.
        assert ((v[published] == 0) | (v[published] >= T)).all()
        # Rows are only left out under a small total (or under a row left out), and hold at most 4.
        assert (v[dropped] < T).all()
        small = (pattern["suppression_reason"] == "small_count").to_numpy()
        under = {m for total, members in _relations(cells) if small[total] or dropped[total] for m in members}
        assert set(np.flatnonzero(dropped)) <= under
        lo, hi = _reader_bounds(cells, pattern)
        assert (lo <= v).all() and (v <= hi).all()  # the reader's knowledge is true
        for total, members in _relations(cells):
            in_rel = [total, *members]
            hidden = [c for c in in_rel if unknown[c]]
            # Solving the relation: a hidden cell that is the only hidden one in it is determined.
            assert not (len(hidden) == 1 and v[hidden[0]] > 0), cells.iloc[in_rel]
            # With what the labels say (1..4, >= 5, 0..4) no hidden positive cell is pinned either.
            sign = dict.fromkeys(members, 1.0) | {total: -1.0}
            for c in hidden:
                others = [o for o in in_rel if o != c]
                omin = sum(sign[o] * (lo[o] if sign[o] > 0 else hi[o]) for o in others)
                omax = sum(sign[o] * (hi[o] if sign[o] > 0 else lo[o]) for o in others)
                low, high = (-omax, -omin) if sign[c] > 0 else (omin, omax)
                low, high = max(low, lo[c]), min(high, hi[c])
                assert not (v[c] > 0 and low == high), (cells.iloc[in_rel], c)
        # Nor does the whole system of relations taken together (linear algebra, rank test) determine
        # a hidden positive cell.
        hid = np.flatnonzero(unknown)
        if hid.size:
            col = {c: i for i, c in enumerate(hid)}
            rows = []
            for total, members in _relations(cells):
                row = np.zeros(hid.size)
                for c in members:
                    if c in col:
                        row[col[c]] += 1
                if total in col:
                    row[col[total]] -= 1
                if row.any():
                    rows.append(row)
            if rows:
                a = np.array(rows)
                rank = np.linalg.matrix_rank(a)
                for c, i in col.items():
                    if v[c] > 0:
                        assert np.linalg.matrix_rank(np.vstack([a, np.eye(hid.size)[i]])) > rank, cells.iloc[c]
        seen["small"] += int((pattern["suppression_reason"] == "small_count").sum())
        seen["secondary"] += int((pattern["suppression_reason"] == "secondary").sum())
        seen["dropped"] += int(dropped.sum())
        seen["zero_published"] += int((published & (v == 0)).sum())
    assert min(seen.values()) > 100, seen  # the tables exercise every path


def test_where_a_relation_is_fully_published_its_members_sum_to_the_total():
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(120):
        cells = _random_table(rng)
        pattern = _suppress_random(cells)
        shown = (~pattern["suppressed"] & ~pattern["dropped"]).to_numpy(dtype=bool)
        published = cells["persons"].where(shown)
        for total, members in _relations(cells):
            if shown[[total, *members]].all():
                assert published.iloc[members].sum() == published.iloc[total]
                checked += 1
    assert checked > 400


COHORT_MUNIS = ["m1", "m2", "m3", "m4", "m5"]
COHORT_PARENT = {**dict.fromkeys(COHORT_MUNIS, "R"), "R": "ALL", "BR": "ALL"}


def _random_cohorts(rng: np.random.Generator) -> pd.DataFrame:
    """A retention-like table: cohorts per area (5 municipalities of R, BR; R; ALL) at horizons 6, 12, 24,
    with the retained at each horizon; a row only for an area with someone in the cohort."""
    size = {a: int(rng.poisson(rng.choice([1.5, 4, 9]))) for a in [*COHORT_MUNIS, "BR"]}
    rows = []
    for horizon in [6, 12, 24]:
        keep = rng.uniform(0.5, 1.0)
        leaf = {a: (n, int(rng.binomial(n, keep))) for a, n in size.items() if n}
        region = [(a, x) for a, x in leaf.items() if a != "BR"]
        if region:
            leaf["R"] = (sum(x[0] for _, x in region), sum(x[1] for _, x in region))
        if leaf:
            top = [leaf.get("R", (0, 0)), leaf.get("BR", (0, 0))]
            leaf["ALL"] = (top[0][0] + top[1][0], top[0][1] + top[1][1])
        rows += [(a, horizon, c, r) for a, (c, r) in leaf.items()]
    return _cohort_table(rows)


def test_audit_of_random_cohort_tables_with_several_counts_links_and_forced_cells():
    # Three count columns (zeros common in retained and not retained), the same cohort at three horizons
    # (linked), and now and then cells forced by another table: the suppression never refuses, and nothing
    # it hides can be worked out (_multi_column_exposures, with the cohort one unknown across horizons).
    rng = np.random.default_rng(20250101)
    hierarchy = Hierarchy.tree("area", COHORT_PARENT)
    seen = {"small_elsewhere": 0, "dropped": 0, "forced": 0}
    for _ in range(150):
        cells = _random_cohorts(rng)
        if cells.empty:
            continue
        groups = cells.groupby("area").ngroup().to_numpy()
        forced = np.isin(groups, np.flatnonzero(rng.random(groups.max() + 1) < 0.15)) if rng.random() < 0.5 else None
        pattern = suppression_pattern(
            cells,
            keys=["area", "horizon"],
            counts=COHORT_COUNTS,
            hierarchies=[hierarchy],
            linked=["area"],
            forced=forced,
        )
        sup, dropped = pattern["suppressed"].to_numpy(dtype=bool), pattern["dropped"].to_numpy(dtype=bool)
        shown = cells.loc[~sup & ~dropped, COHORT_COUNTS].to_numpy()
        assert ((shown == 0) | (shown >= T)).all()
        if forced is not None:
            assert sup[forced].all()
            seen["forced"] += int(forced.sum())
        assert (
            _multi_column_exposures(cells, pattern, COHORT_COUNTS, _area_relations(cells, COHORT_PARENT), groups) == []
        )
        v = cells[COHORT_COUNTS].to_numpy()
        seen["small_elsewhere"] += int((((v[:, 1:] >= 1) & (v[:, 1:] < T)).any(axis=1) & (v[:, 0] >= T)).sum())
        seen["dropped"] += int(dropped.sum())
    assert min(seen.values()) > 50, seen


@pytest.mark.slow
def test_a_table_of_two_hundred_thousand_cells_is_protected():
    """Correctness at the size of a real pub_sector_flows (speed is measured in bench/, not here)."""
    rng = np.random.default_rng(3)
    months, munis = 150, [f"GM{i:04d}" for i in range(9)]
    breakdowns = {"function": 12, "contract": 4, "age": 5, "group": 6, "programme": 6, "employer": 6}
    frames = []
    for measure in ["inflow", "outflow", "mobility"]:
        leaf = {m: rng.poisson(rng.uniform(1, 60), size=months) for m in [*munis, "BR"]}
        split = {
            m: {
                b: np.array([rng.multinomial(n, rng.dirichlet(np.ones(k))) for n in leaf[m]])
                for b, k in breakdowns.items()
            }
            for m in leaf
        }
        region = {b: sum(split[m][b] for m in munis) for b in breakdowns}
        areas = {**split, "REG": region, "ALL": {b: region[b] + split["BR"][b] for b in breakdowns}}
        for area, by in areas.items():
            frames.append(
                pd.DataFrame(
                    {
                        "month": np.arange(months),
                        "measure": measure,
                        "area": area,
                        "breakdown": "total",
                        "value": "total",
                        "persons": by["function"].sum(axis=1),
                    }
                )
            )
            for b, counts in by.items():
                for j in range(counts.shape[1]):
                    frames.append(
                        pd.DataFrame(
                            {
                                "month": np.arange(months),
                                "measure": measure,
                                "area": area,
                                "breakdown": b,
                                "value": f"{b}{j}",
                                "persons": counts[:, j],
                            }
                        )
                    )
    cells = pd.concat(frames, ignore_index=True)
    cells = cells[(cells["persons"] > 0) | (cells["breakdown"] == "total")].reset_index(drop=True)
    assert len(cells) > 150_000
    keys = ["month", "measure", "area", "breakdown", "value"]
    hierarchies = [
        Hierarchy.tree("area", {**dict.fromkeys(munis, "REG"), "REG": "ALL", "BR": "ALL"}),
        Hierarchy.breakdown("breakdown", "value", cells),
    ]
    out = suppress(cells, keys=keys, counts="persons", hierarchies=hierarchies)
    shown = out["persons"].dropna()
    assert ((shown == 0) | (shown >= T)).all() and out["suppressed"].sum() > 1000
