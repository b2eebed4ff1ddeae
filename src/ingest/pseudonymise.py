"""Identifiers to pseudonyms at ingestion: nothing identifying gets past this module.

- BSN and onderwijsnummer: checked (11-check), then replaced by HMAC-SHA256 under the secret key.
  A plain hash would not do: all 10^9 candidate numbers can be tried in minutes.
- Birth date: becomes birth year.
- Postcode: becomes the CBS municipality code through the PC4 table in config/reference.
- Names are never read into canonical columns (partner mappings list them as ignored headers).
"""

from __future__ import annotations

import hashlib
import hmac
import re

import numpy as np
import pandas as pd

from ingest.reference import OUTSIDE_REGION

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_POSTCODE = re.compile(r"^\s*(\d{4})\s*([A-Za-z]{2})?\s*$")


def weighted_sum(digits: str) -> int:
    return sum(w * int(d) for w, d in zip(_WEIGHTS, digits, strict=True))


def normalise_number(value: str) -> str:
    """Digits only, left-padded to 9 when 8 digits remain (leading zero lost in a spreadsheet)."""
    digits = re.sub(r"\D", "", value or "")
    return digits.zfill(9) if 7 <= len(digits) < 9 else digits


def is_valid_bsn(value: str) -> bool:
    """The 11-check: nine digits, 9*d1 + 8*d2 + ... + 2*d8 - d9 divisible by 11 and not zero."""
    digits = normalise_number(value)
    if len(digits) != 9:
        return False
    total = weighted_sum(digits)
    return total != 0 and total % 11 == 0


def is_valid_onderwijsnummer(value: str) -> bool:
    """Nine digits starting with 10, weighted sum mod 11 equal to 5."""
    digits = re.sub(r"\D", "", value or "")
    return len(digits) == 9 and digits.startswith("10") and weighted_sum(digits) % 11 == 5


def pseudonym(kind: str, digits: str, key: bytes) -> str:
    """HMAC-SHA256 of 'kind:digits' under `key`, hex. The kind keeps a BSN and an onderwijsnummer apart."""
    return hmac.new(key, f"{kind}:{digits}".encode(), hashlib.sha256).hexdigest()


def check_and_pseudonymise(values: pd.Series, kind: str, key: bytes) -> tuple[pd.Series, pd.Series]:
    """(pseudonyms, invalid mask) for a column of BSNs or onderwijsnummers; empty stays missing.

    Each distinct number is hashed once (people recur across rows and deliveries).
    """
    text = values.fillna("").str.strip()
    present = text != ""
    validator = is_valid_bsn if kind == "bsn" else is_valid_onderwijsnummer
    cache: dict[str, str | None] = {}
    out = np.full(len(text), None, dtype=object)
    invalid = np.zeros(len(text), dtype=bool)
    for i, (value, has) in enumerate(zip(text.to_numpy(), present.to_numpy())):
        if not has:
            continue
        if value not in cache:
            digits = normalise_number(value)
            cache[value] = pseudonym(kind, digits, key) if validator(digits) else None
        result = cache[value]
        if result is None:
            invalid[i] = True
        else:
            out[i] = result
    return pd.Series(out, index=values.index, dtype="str"), pd.Series(invalid, index=values.index)


def birth_years(birth_dates: pd.Series) -> pd.Series:
    return birth_dates.dt.year.astype("Int64")


def municipalities_from_postcodes(values: pd.Series, pc4_lookup: dict[int, str]) -> tuple[pd.Series, pd.Series]:
    """(municipality codes, invalid mask). Outside Haaglanden: BUITEN_REGIO; empty: missing."""
    text = values.fillna("").str.strip()
    pc4 = text.str.extract(_POSTCODE)[0]
    number = pd.to_numeric(pc4, errors="coerce")
    invalid = (text != "") & (number.isna() | (number < 1000))
    codes = number.map(pc4_lookup)
    codes = codes.where(codes.notna() | number.isna() | invalid, OUTSIDE_REGION)
    codes = codes.where(~invalid, None)
    return codes.astype("str"), invalid
