"""Derived fields: a canonical field computed from several partner columns by ordered rules written as data.

A mapping's `derived.<column>` lists rules; the first rule whose conditions all hold gives the
field its value (canonical text: a code of the column's code list, a number, a date, ja/nee).
Conditions look at the cells as the partner wrote them (trimmed, case-insensitive), by the name of
a mapped column or of one of the layout's `inputs`:

- `when: {name: text}` or `{name: [texts]}`: the cell is one of these texts;
- `filled: [names]`: the cells are not empty; `empty: [names]`: the cells are empty.

A rule without conditions is the default and comes last. A row that no rule matches gets no value
when every cell the rules look at is empty, and is reported otherwise (`unmatched`): a value the
mapping does not know is a row error, never a silent null.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingest.partner_config import Layout, Rule


@dataclass
class Derived:
    values: pd.Series  # canonical text, "" where no rule gave a value
    unmatched: pd.Series  # rows no rule matched although a cell the rules read is filled
    names: tuple[str, ...]  # the columns and inputs the rules read


def _holds(rule: Rule, cells: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    mask = pd.Series(True, index=index)
    for name, texts in rule.when:
        mask &= cells[name].str.casefold().isin(texts)
    for name in rule.filled:
        mask &= cells[name] != ""
    for name in rule.empty:
        mask &= cells[name] == ""
    return mask


def derive(frame: pd.DataFrame, rules: tuple[Rule, ...]) -> Derived:
    """Apply one derived field's rules to a mapped frame (strings: canonical columns and inputs)."""
    names = tuple(dict.fromkeys(n for rule in rules for n in rule.names))
    cells = {n: frame[n].fillna("").str.strip() for n in names}
    masks = [_holds(rule, cells, frame.index).to_numpy(dtype=bool) for rule in rules]
    values = np.select(masks, [rule.value for rule in rules], default="") if masks else np.full(len(frame), "")
    matched = np.logical_or.reduce(masks) if masks else np.zeros(len(frame), dtype=bool)
    any_filled = np.zeros(len(frame), dtype=bool)
    for n in names:
        any_filled |= (cells[n] != "").to_numpy(dtype=bool)
    return Derived(
        pd.Series(values, index=frame.index, dtype="str"),
        pd.Series(~matched & any_filled, index=frame.index),
        names,
    )


def derive_all(frame: pd.DataFrame, layout: Layout) -> dict[str, Derived]:
    """Every derived field of the layout, by canonical column."""
    return {column: derive(frame, rules) for column, rules in layout.derived.items()}
