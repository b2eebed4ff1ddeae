"""The words of partner feedback: Dutch reasons beside the English ones, the agreed values for an unknown
code, and no internal detail (paths, environment variables, file names of the pipeline's configuration).

Pure functions: a quarantine row's code, field, masked value and stored English reason in, texts out.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from core.labels import reason_text

#: What a partner must never read: the pipeline's own folders and files, absolute paths, its settings' names.
_INTERNAL = [
    re.compile(r"\b(?:config|data|src|pipelines|schemas|tests|bench|docs)/[\w./-]*"),  # repository paths
    re.compile(r"(?<![\w.])/(?:[\w.-]+/)+[\w.-]*"),  # absolute POSIX paths (two segments or more)
    re.compile(r"\b[A-Za-z]:\\[^\s;,)]*"),  # Windows paths
    re.compile(r"\b[\w-]+\.(?:ya?ml|py|json|toml)\b"),  # the pipeline's own files
]
_ENV = re.compile(r"\bZORGSTROOM_[A-Z_]+\b")
_EMPTY_BRACKETS = re.compile(r"\s*\(\s*[,;]?\s*\)")
_DANGLING = re.compile(r",\s*\)")


def partner_safe(text: object) -> str:
    """A reason as a partner may read it: internal paths removed, settings named in words."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    out = _ENV.sub("the limit", str(text))
    for pattern in _INTERNAL:
        out = pattern.sub("", out)
    out = _DANGLING.sub(")", _EMPTY_BRACKETS.sub("", out))
    return re.sub(r"\s{2,}", " ", out).strip()


#: A function giving, for a quarantine row's canonical column, the labels the partner agreed to send
#: (label -> canonical code), or {} when there is no such list.
AgreedValues = Callable[[str], dict[str, str]]


def agreed_text(values: dict[str, str], limit: int = 40) -> str:
    """'v' (vast), 't' (tijdelijk), ...: each label the partner may send, with its meaning when it differs."""
    shown = [f"'{lab}'" + (f" ({code})" if code.casefold() != lab.casefold() else "") for lab, code in values.items()]
    more = len(shown) - limit
    return ", ".join(shown[:limit]) + (f" en nog {more}" if more > 0 else "")


def field_label(source_columns: object, columns: object = None) -> str:
    """The partner's header(s) of a problem ('Datum in dienst, Datum uit dienst'), else the canonical name."""
    for value in (source_columns, columns):
        if isinstance(value, str) and value.strip():
            return ", ".join(p for p in value.split("|") if p)
    return ""


def dutch_reasons(rows: pd.DataFrame, agreed: AgreedValues | None = None) -> pd.DataFrame:
    """Per quarantine row: `reden` (Dutch, placeholders filled), `wat_te_doen`, `reason_en` (the stored English
    reason, made partner-safe), `what_to_do`. `rows` has reason_code, source_columns, columns, masked_value, reason."""
    out = []
    cols = rows.get("columns", pd.Series(None, index=rows.index))
    for code, src, col, value, reason in zip(
        rows["reason_code"], rows["source_columns"], cols, rows["masked_value"], rows["reason"], strict=True
    ):
        text = reason_text(code)
        values = agreed(str(col)) if (agreed is not None and code == "ROW_UNKNOWN_CODE" and col) else {}
        shown_value = "" if value is None or (isinstance(value, float) and value != value) else str(value)
        dutch = text.dutch(field_label(src, col), shown_value, agreed_text(values))
        out.append((dutch, text.action_nl, partner_safe(reason), text.action_en))
    return pd.DataFrame(out, columns=["reden", "wat_te_doen", "reason_en", "what_to_do"], index=rows.index)
