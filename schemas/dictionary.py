"""The data dictionary (docs/data_dictionary.md), rendered from the table metadata.

`python -m schemas.dictionary` rewrites the file; a test fails when the committed file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from schemas.tables import TABLES, Table

DICTIONARY_PATH = Path(__file__).resolve().parents[1] / "docs" / "data_dictionary.md"
LAYER_ORDER = ["staging", "fact", "dimension", "published", "audit"]
LAYER_TITLES = {
    "staging": "Staging (one table per partner feed)",
    "fact": "Facts",
    "dimension": "Dimensions and reference data",
    "published": "Published statistics (read by BI tools)",
    "audit": "Audit: deliveries and quarantine",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_markdown(table: Table) -> str:
    lines = [
        f"### `{table.name}`",
        "",
        table.description,
        "",
        f"- Grain: {table.grain}",
        f"- Primary key: {', '.join(f'`{c}`' for c in table.primary_key) or '(none)'}",
        "",
        "| column | type | required | description |",
        "|---|---|---|---|",
    ]
    for col in table.columns:
        f = col.field
        extra = []
        if f.code_list:
            extra.append(f"codes: {f.code_list}")
        if f.min is not None or f.max is not None:
            extra.append(f"range {f.min if f.min is not None else ''}..{f.max if f.max is not None else ''}")
        if f.unit:
            extra.append(f"unit: {f.unit}")
        desc = f.description + (f" ({'; '.join(extra)})" if extra else "")
        lines.append(f"| `{col.name}` | {f.type} | {'yes' if col.required else 'no'} | {_cell(desc)} |")
    return "\n".join(lines) + "\n"


def render_dictionary() -> str:
    parts = [
        "# Data dictionary",
        "",
        "Generated from `schemas/fields.py` and `schemas/tables.py` by `python -m schemas.dictionary`;",
        "do not edit by hand (a test fails when this file is stale).",
        "",
    ]
    for layer in LAYER_ORDER:
        tables = [t for t in TABLES.values() if t.layer == layer]
        if not tables:
            continue
        parts += [f"## {LAYER_TITLES[layer]}", ""]
        parts += [table_markdown(t) for t in tables]
    return "\n".join(parts)


def main() -> int:
    DICTIONARY_PATH.write_text(render_dictionary(), encoding="utf-8")
    print(f"wrote {DICTIONARY_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
