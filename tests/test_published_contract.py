"""BI reports break when published column names or types change: the published tables are a
contract, kept in schemas/published_contract.json. Changing it is a deliberate act (update the
file, say so in the release notes); this test fails on any accidental drift."""

import json
from pathlib import Path

from schemas.tables import TABLES

CONTRACT = Path(__file__).resolve().parents[1] / "schemas" / "published_contract.json"


def test_published_tables_match_their_contract():
    contract = json.loads(CONTRACT.read_text())
    current = {t.name: [[c.name, c.field.type] for c in t.columns] for t in TABLES.values() if t.layer == "published"}
    assert current == contract


def test_published_tables_hold_no_pseudonyms():
    for table in TABLES.values():
        if table.layer == "published":
            assert "person_id" not in table.column_names
            assert table.name.startswith("pub_")
