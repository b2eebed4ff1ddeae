"""Dutch and English words for codes, as data: `config/reference/labels.csv` (statuses, suppression reasons,
inflow kinds, ...) and `config/reference/reason_texts.csv` (per quarantine or rejection reason code: a short
label, a Dutch reason template and what to do, in Dutch and English).

The report and the partner feedback read their words from here, so a better wording is an edit of a CSV.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from core.errors import ConfigError
from core.paths import REFERENCE_DIR

LABELS_FILE = "labels.csv"
REASON_TEXTS_FILE = "reason_texts.csv"
REASON_COLUMNS = ["reason_code", "label_nl", "label_en", "reason_nl", "action_nl", "action_en"]
#: Placeholders a Dutch reason template may use.
PLACEHOLDERS = {"field", "value", "agreed"}


@dataclass(frozen=True)
class ReasonText:
    code: str
    label_nl: str
    label_en: str
    reason_nl: str  # a template: {field}, {value}, {agreed}
    action_nl: str
    action_en: str

    def dutch(self, field: str = "", value: str = "", agreed: str = "") -> str:
        """The Dutch reason for one row, placeholders filled (what to do is `action_nl`)."""
        text = self.reason_nl.format(field=field or "?", value=value, agreed=agreed or "zie de afspraken")
        return text.removeprefix("?: ") if not field else text


def _read(folder: Path, name: str, columns: list[str]) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        raise ConfigError(f"reference file {name} is missing")
    df = pd.read_csv(path, dtype=str, keep_default_na=False).map(str.strip)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ConfigError(f"{name}: columns {missing} are missing")
    return df


@cache
def reason_texts(folder: Path = REFERENCE_DIR) -> dict[str, ReasonText]:
    """Every reason code's texts, validated: unique codes, every text filled, known placeholders only."""
    df = _read(folder, REASON_TEXTS_FILE, REASON_COLUMNS)
    dupes = sorted(df.loc[df["reason_code"].duplicated(), "reason_code"])
    if dupes:
        raise ConfigError(f"{REASON_TEXTS_FILE}: reason codes twice: {dupes}")
    out = {}
    for r in df.itertuples(index=False):
        empty = [c for c in REASON_COLUMNS if not getattr(r, c)]
        if empty:
            raise ConfigError(f"{REASON_TEXTS_FILE}: {r.reason_code} has no {', '.join(empty)}")
        unknown = set(re.findall(r"{(\w*)}", r.reason_nl)) - PLACEHOLDERS
        if unknown:
            raise ConfigError(f"{REASON_TEXTS_FILE}: {r.reason_code} uses unknown placeholders {sorted(unknown)}")
        out[r.reason_code] = ReasonText(r.reason_code, r.label_nl, r.label_en, r.reason_nl, r.action_nl, r.action_en)
    return out


def reason_text(code: object) -> ReasonText:
    """The texts of a reason code; a code without texts gets a neutral fallback (never an error mid-report)."""
    texts = reason_texts()
    key = "" if code is None or (isinstance(code, float) and code != code) else str(code)
    if key in texts:
        return texts[key]
    return ReasonText(key, key or "onbekend", key or "unknown", "{field}: zie de Engelse toelichting", "", "")


@cache
def _labels(folder: Path = REFERENCE_DIR) -> dict[tuple[str, str], tuple[str, str]]:
    df = _read(folder, LABELS_FILE, ["label_set", "code", "label_nl", "label_en"])
    return {(r.label_set, r.code): (r.label_nl, r.label_en) for r in df.itertuples(index=False)}


def label(label_set: str, code: object) -> tuple[str, str]:
    """(Dutch, English) for a code of a label set; an empty code is the set's '' row; unknown: the code itself."""
    key = "" if code is None or (isinstance(code, float) and code != code) else str(code)
    found = _labels().get((label_set, key))
    return found if found is not None else (key, key)


def label_sets() -> dict[str, dict[str, tuple[str, str]]]:
    """Every label set: {set: {code: (nl, en)}}."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for (s, code), words in _labels().items():
        out.setdefault(s, {})[code] = words
    return out
