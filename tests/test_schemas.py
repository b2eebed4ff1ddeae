"""One definition per table yields its Pandera schema, DDL and dictionary entry; they agree."""

import pandas as pd
import pandera.pandas as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ingest.reference import Reference
from schemas.ddl import warehouse_metadata
from schemas.dictionary import DICTIONARY_PATH, render_dictionary
from schemas.fields import PANDAS_DTYPES
from schemas.pandera_schemas import FIXED_CODE_LISTS, pandera_schema
from schemas.tables import TABLES

CODE_LISTS = Reference().code_lists | {"partners": frozenset({"p1", "p2"})}


def test_data_dictionary_is_up_to_date():
    assert DICTIONARY_PATH.read_text(encoding="utf-8") == render_dictionary(), (
        "run `make dictionary` and commit docs/data_dictionary.md"
    )


def test_dictionary_documents_every_column():
    text = render_dictionary()
    for table in TABLES.values():
        assert f"### `{table.name}`" in text
        for col in table.columns:
            assert f"| `{col.name}` |" in text
            assert col.field.description.strip(), f"{table.name}.{col.name} has no description"


def test_ddl_matches_metadata():
    md = warehouse_metadata()
    for table in TABLES.values():
        t = md.tables[table.name]
        assert [c.name for c in t.columns] == table.column_names
        assert [c.name for c in t.primary_key.columns] == list(table.primary_key)
        for col in table.columns:
            assert t.c[col.name].nullable == (not col.required)
    ddl = str(sa.schema.CreateTable(md.tables["stg_employment_spells"]).compile(dialect=postgresql.dialect()))
    assert "person_id TEXT NOT NULL" in ddl and "end_date DATE" in ddl


def _valid_value(field, i):
    """The i-th of two distinct valid values of a field (distinct so primary keys stay unique)."""
    if field.code_list:
        codes = CODE_LISTS.get(field.code_list, FIXED_CODE_LISTS.get(field.code_list))
        return sorted(codes)[i]
    examples = {
        "delivery_period": ["2022-01", "2022-Q2"],
        "content_hash": ["a" * 64, "b" * 64],
        "input_fingerprint": ["e" * 64, "f" * 64],
        "base_fingerprint": ["e" * 64, "f" * 64],
        "person_id": ["c" * 64, "d" * 64],
        "crebo_code": ["25498", "25491"],
        "municipality_code": ["GM0518", "GM0503"],
        "location_municipality_code": ["GM0518", "GM0503"],
        "month_label": ["2022-01", "2022-02"],
    }
    examples |= {
        name: ["2022-Q1", "2022-Q2"] for name in ("event_quarter", "cohort_quarter", "period_quarter", "quarter_label")
    }
    if field.name in examples:
        return examples[field.name][i]
    base = int(field.min if field.min is not None else 1)
    return {
        "string": f"x{i}",
        "int": base + i,
        "float": float(field.min or 0) + i,
        "bool": True,
        "date": pd.Timestamp("2022-01-01") + pd.Timedelta(days=i),
        "timestamp": pd.Timestamp("2022-01-01 12:00"),
    }[field.type]


def _valid_frame(table, rows=2):
    return pd.DataFrame(
        {
            col.name: pd.Series([_valid_value(col.field, i) for i in range(rows)], dtype=PANDAS_DTYPES[col.field.type])
            for col in table.columns
        }
    )


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_schema_accepts_a_valid_frame_and_rejects_a_broken_one(name):
    """PUDL's lesson: feed each check a bad frame, or it may never have enforced anything."""
    table = TABLES[name]
    schema = pandera_schema(table, CODE_LISTS)
    good = _valid_frame(table)
    schema.validate(good)
    required = [c for c in table.columns if c.required]
    constrained = [c for c in table.columns if c.field.code_list or c.field.pattern or c.field.min is not None]
    assert required, f"{name} has no required column"
    bad = good.copy()
    bad[required[0].name] = pd.Series([None, None], dtype=bad[required[0].name].dtype)
    with pytest.raises(pa.errors.SchemaErrors):
        schema.validate(bad, lazy=True)
    for col in constrained:
        bad = good.copy()
        if col.field.type == "string":
            bad[col.name] = pd.Series(["not-a-valid-code!"] * 2, dtype="str")
        else:
            bad[col.name] = pd.Series([-(10**6)] * 2, dtype=bad[col.name].dtype)
        with pytest.raises(pa.errors.SchemaErrors):
            schema.validate(bad, lazy=True)
