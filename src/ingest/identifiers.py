"""Identifiers where they do not belong: a BSN used as a trajectory number, a postcode typed into a code
column, a date of birth in a free-text field.

Only the columns declared as an identifier (BSN, onderwijsnummer, birth date, postcode) are
pseudonymised or reduced at ingestion; a value that looks like one of them in any other column would
otherwise be stored, logged and shown as itself. `identifier_kinds` says, per value, which identifier it
looks like; the row is then quarantined with the column named (ingest/process.py) and the value is
masked wherever it is shown. What counts:

- a BSN: nine digits (spaces, dots or hyphens between them allowed) that pass the 11-check;
- an onderwijsnummer: nine digits starting with 10 whose weighted sum leaves 5 (its own check);
- a postcode: four digits and two letters (`2511 AB`);
- a date of birth: a full date (day, month, four-digit year 1900-2099) outside a date column.

A whole value is compared in key, code, number and date columns; free text is searched. Eight digits
are never padded here (record keys of eight digits are common; one in eleven would pass). In free
text a four-digit number before `BV` or `NV` is a company name, not a postcode. Each distinct value is
looked at once, and the checks are vectorised (they run over every row of every delivery).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

BSN_LIKE, ONDERWIJSNUMMER_LIKE, POSTCODE_LIKE, BIRTH_DATE_LIKE = "bsn", "onderwijsnummer", "postcode", "birth_date"
#: How each is named in a quarantine reason: "looks like a BSN".
DESCRIPTIONS = {
    BSN_LIKE: "a BSN",
    ONDERWIJSNUMMER_LIKE: "an onderwijsnummer",
    POSTCODE_LIKE: "a postcode",
    BIRTH_DATE_LIKE: "a date of birth",
}
_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1])
_SEPARATORS = r"[\s.\-]"
_NINE_DIGITS = rf"\d(?:{_SEPARATORS}?\d){{8}}"
_DAY, _MONTH, _YEAR = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])", r"(?:19|20)\d{2}"
_DATE = rf"(?:{_DAY}[-/.]{_MONTH}[-/.]{_YEAR}|{_YEAR}-{_MONTH}-{_DAY}(?:[ T]\d{{2}}:\d{{2}}(?::\d{{2}})?)?)"
_POSTCODE = r"\d{4} ?[A-Za-z]{2}"
_IN_TEXT_POSTCODE = r"(?<![\dA-Za-z])\d{4} ?(?!BV\b|NV\b|bv\b|nv\b)[A-Z]{2}(?![A-Za-z])"


def eleven_checks(nine_digits: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(passes the BSN 11-check, passes the onderwijsnummer check) for strings of exactly nine ASCII digits.

    The digits are read straight from the Arrow buffer (nine bytes per value), not value by value."""
    if nine_digits.empty:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    arr = pa.array(nine_digits, type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    digits = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(-1, 9)
    total = np.zeros(len(digits), dtype=np.int32)
    for i, weight in enumerate(_WEIGHTS):
        total += (digits[:, i].astype(np.int32) - 48) * weight
    bsn = (total != 0) & (total % 11 == 0)
    onderwijsnummer = (digits[:, 0] == ord("1")) & (digits[:, 1] == ord("0")) & (total % 11 == 5)
    return bsn, onderwijsnummer


def _matches(text: pd.Series, pattern: str, *, whole: bool = True) -> pd.Series:
    found = text.str.fullmatch(pattern) if whole else text.str.contains(pattern)
    return found.fillna(False).astype(bool)


def _number_kinds(candidates: pd.Series, out: pd.Series) -> None:
    """Set 'bsn' / 'onderwijsnummer' in `out` for candidates that are nine digits (separators allowed)."""
    plain = _matches(candidates, r"[0-9]{9}")
    spaced = candidates[~plain & (candidates.str.len() > 9)]
    spaced = spaced[_matches(spaced, rf"[0-9](?:{_SEPARATORS}?[0-9]){{8}}")]
    nine = pd.concat([candidates[plain], spaced.str.replace(_SEPARATORS, "", regex=True)])
    bsn, onr = eleven_checks(nine)
    out.loc[nine.index[bsn]] = BSN_LIKE
    out.loc[nine.index[onr]] = ONDERWIJSNUMMER_LIKE


def _whole_value_kinds(text: pd.Series, dates: bool) -> pd.Series:
    out = pd.Series(None, index=text.index, dtype="str")
    lengths = text.str.len()
    _number_kinds(text[lengths.between(9, 17)], out)
    short = text[lengths.between(6, 7)]
    out.loc[short.index[_matches(short, _POSTCODE).to_numpy()]] = POSTCODE_LIKE
    if dates:
        dated = text[lengths.between(8, 19) & out.isna()]
        out.loc[dated.index[_matches(dated, _DATE).to_numpy()]] = BIRTH_DATE_LIKE
    return out


def _in_text_kinds(text: pd.Series, dates: bool) -> pd.Series:
    out = pd.Series(None, index=text.index, dtype="str")
    digits = text[_matches(text, r"[0-9]", whole=False)]  # every identifier holds digits
    with_number = digits[_matches(digits, rf"(?:^|[^0-9]){_NINE_DIGITS}(?:$|[^0-9])", whole=False)]
    if len(with_number):
        numbers = with_number.str.findall(rf"(?<![0-9]){_NINE_DIGITS}(?![0-9])").explode().dropna().astype("str")
        kinds = pd.Series(None, index=numbers.index, dtype="str")
        _number_kinds(numbers, kinds)
        kinds = kinds.dropna()
        out.loc[kinds.index.unique()] = kinds[~kinds.index.duplicated()]
    rest = digits[out.loc[digits.index].isna()]
    out.loc[rest.index[_matches(rest, _IN_TEXT_POSTCODE, whole=False).to_numpy()]] = POSTCODE_LIKE
    if dates:
        rest = digits[out.loc[digits.index].isna()]
        found = _matches(rest, rf"(?:^|[^0-9]){_DATE}(?:$|[^0-9])", whole=False).to_numpy()
        out.loc[rest.index[found]] = BIRTH_DATE_LIKE
    return out


def identifier_kinds(values: pd.Series, *, search: bool = False, dates: bool = True) -> pd.Series:
    """Per value, the identifier it looks like (BSN_LIKE, ...), or None; vectorised over the values as
    they are (callers pass distinct values where a column repeats them: parse.on_unique).

    `search`: look inside the text (free-text columns) rather than at the whole value; `dates`: a full
    date counts (False in date columns, where a date is what belongs).
    """
    text = values.astype("str").fillna("").str.strip()
    return _in_text_kinds(text, dates) if search else _whole_value_kinds(text, dates)


def masked(value: str) -> str:
    """A value shown as its length in stars (at most 12): nothing of it is revealed."""
    return "*" * min(len(value), 12) if value else ""


def mask_if_identifier(text: str) -> str:
    """A header or other short text shown in a message: masked when it looks like an identifier."""
    return mask_identifiers([text])[0]


def mask_identifiers(texts: list[str]) -> list[str]:
    """`mask_if_identifier` for a list of texts (headers), in one vectorised pass."""
    if not texts:
        return []
    kinds = identifier_kinds(pd.Series(texts, dtype="str"), search=True)
    return [
        t if k is None or pd.isna(k) else f"(masked: looks like {DESCRIPTIONS[k]})"
        for t, k in zip(texts, kinds, strict=True)
    ]
