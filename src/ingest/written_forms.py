"""Written forms to canonical text, per column, before a value is parsed: the mapping's `patterns` and `values`.

A partner may write a value in its own way: a level as `Niveau 2`, `mbo-2` or `N2`, a code with its
description (`F010 - Huishoudelijke hulp`), hours as `fulltime`. The mapping says how, as data:

- `patterns.<column>`: a regular expression; a cell it matches in full (case-insensitive) is
  replaced by the part in its first group (or the group named `value`). A cell it does not match
  stays as written.
- `values.<column>`: labels (trimmed, case-insensitive) and the canonical value each stands for.
  For a coded column the label list is closed: any other text is an unknown code (parse.map_codes).
  For any other column a label replaces the cell and any other text is parsed as written.

The pattern applies first, then the labels. Both work on each distinct value once.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd


def _extract(text: str, pattern: re.Pattern) -> str:
    match = pattern.fullmatch(text)
    if match is None:
        return text
    group = match.group("value") if "value" in pattern.groupindex else match.group(1)
    return (group or "").strip()


def rewrite(values: pd.Series, pattern: re.Pattern | None, labels: dict[str, str] | None) -> pd.Series:
    """Cells (strings, trimmed) with the pattern's group taken and, for labels given, the label's value put in."""
    text = values.fillna("").str.strip()
    if pattern is None and not labels:
        return text
    codes, uniques = pd.factorize(text)
    distinct = pd.Series(np.asarray(uniques, dtype=object), dtype="str")
    if pattern is not None:
        distinct = distinct.map(lambda v: _extract(v, pattern))
    if labels:
        found = distinct.str.casefold().map(labels)
        distinct = found.where(found.notna(), distinct)
    out = distinct.to_numpy(dtype=object)[codes] if len(codes) else np.array([], dtype=object)
    return pd.Series(out, index=values.index, dtype="str")
