"""The warehouse schema checks (SQL, schemas/sql_checks.py) find what the Pandera schema finds, on both databases."""

import pandas as pd
import pandera.pandas as pa
import pytest
import sqlalchemy as sa
from test_readers import _process

from ingest.reference import Reference
from pipelines.checks import schema_checks, schema_conformance
from pipelines.resources import IngestResource, WarehouseResource
from schemas.pandera_schemas import pandera_schema
from schemas.tables import TABLES
from transforms.dimensions import dim_region
from warehouse.db import ensure_table, insert_frame, make_engine, replace_table
from warehouse.quality import schema_conformance_in_warehouse

STG = TABLES["stg_employment_spells"]


def pandera_failures(df: pd.DataFrame, table, codes) -> dict[tuple[str, str], int]:
    try:
        pandera_schema(table, codes).validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        names = cases["check"].astype(str).map(pandera_check_name)
        return {(c, k): int(n) for (c, k), n in cases.assign(check=names).groupby(["column", "check"]).size().items()}
    return {}


def pandera_check_name(check: str) -> str:
    """Pandera names a failed check by its repr (`isin([...])`, `in_range(0, 60)`); the SQL rules by kind."""
    for prefix, name in (
        ("isin", "code_list"),
        ("in_range", "range"),
        ("greater_than", "range"),
        ("less_than", "range"),
        ("str_matches", "pattern"),
        ("not_nullable", "not_nullable"),
    ):
        if check.startswith(prefix):
            return name
    return check


@pytest.fixture
def staged(sample, warehouse_url):
    """Valid staging rows from a generated delivery, then broken on purpose in every rule Pandera knows."""
    employer = next(
        f["path"]
        for f in sample["manifest"]["files"]
        if f["partner_code"] == "zorggroep_haaglanden" and f.get("data_rows")
    )
    good = _process(sample["dir"], f"landing/{employer}" if not employer.startswith("landing") else employer).accepted
    codes = Reference().code_lists | {"partners": frozenset({"zorggroep_haaglanden"})}
    assert pandera_failures(good, STG, codes) == {}
    bad = good.copy()
    bad.loc[0:1, "function_code"] = "XYZ"  # code list, two rows
    bad.loc[2, "birth_year"] = 1850  # range (min 1900)
    bad.loc[3, "hours_per_week"] = 61.0  # range (max 60)
    bad.loc[4, "delivery_period"] = "2024-13"  # pattern
    bad.loc[5, "residence_municipality_code"] = "GM12"  # code list
    bad.loc[6, "person_id_kind"] = "paspoort"  # fixed code list
    engine = make_engine(warehouse_url)
    with engine.begin() as conn:
        ensure_table(conn, STG)
        insert_frame(conn, STG.name, bad)
    return engine, bad, codes


def test_sql_rules_find_exactly_what_pandera_finds(staged):
    engine, bad, codes = staged
    expected = pandera_failures(bad, STG, codes)
    assert sum(expected.values()) == 7 and {k for _, k in expected} == {"code_list", "range", "pattern"}
    found = schema_conformance_in_warehouse(engine, STG, codes)
    assert found.failures == expected
    assert found.rows == len(bad) and not found.passed
    assert {s["column"] for s in found.sample} <= {c for c, _ in expected}
    assert "XYZ" in {s["failure_case"] for s in found.sample}


def test_asset_check_passes_on_good_rows_and_masks_identifiers(warehouse_url):
    engine = make_engine(warehouse_url)
    codes = Reference().code_lists | {"partners": frozenset({"p"})}
    good = dim_region(Reference())
    replace_table(engine, "dim_region", good)
    result = schema_conformance("dim_region", engine, codes)
    assert result.passed and result.metadata["rows_checked"].value == len(good)

    person = TABLES["dim_person"]
    row = {
        "person_id": "not-a-pseudonym",
        "person_id_kind": "bsn",
        "birth_year": 1980,
        "residence_municipality_code": None,
        "is_employee": True,
        "is_student": False,
        "is_participant": False,
        "target_group_codes": None,
        "programme_codes": None,
        "first_seen_period": "2024-01",
        "last_seen_period": "2024-02",
    }
    frame = pd.DataFrame([row]).astype(
        {"birth_year": "Int64", "is_employee": "boolean", "is_student": "boolean", "is_participant": "boolean"}
    )
    with engine.begin() as conn:
        ensure_table(conn, person)
        insert_frame(conn, person.name, frame)
    failed = schema_conformance("dim_person", engine, codes)
    assert not failed.passed
    assert failed.metadata["failures_by_column_and_check"].value == {"person_id / pattern": 1}
    assert [s["failure_case"] for s in failed.metadata["sample"].value] == ["***"]


def test_unique_and_not_null_rules_fire_on_a_table_without_constraints(warehouse_url):
    """The database's own constraints stop these first; the rules stay as a second line (a table made by
    hand, or by an older version of the pipeline)."""
    engine = make_engine(warehouse_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                'CREATE TABLE "dim_region" (municipality_code TEXT, municipality_name TEXT, '
                "labour_market_region_code TEXT, labour_market_region_name TEXT)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO dim_region VALUES ('GM0518', 's-Gravenhage', 'HGL', 'Haaglanden'), "
                "('GM0518', 'Den Haag', 'HGL', 'Haaglanden'), ('GM0603', NULL, 'HGL', 'Haaglanden')"
            )
        )
    found = schema_conformance_in_warehouse(engine, TABLES["dim_region"], Reference().code_lists)
    assert found.failures == {("municipality_code", "unique"): 2, ("municipality_name", "not_nullable"): 1}


def test_an_empty_code_list_admits_no_value_as_in_pandera(duckdb_url):
    engine = make_engine(duckdb_url)
    good = dim_region(Reference())
    replace_table(engine, "dim_region", good)
    table = TABLES["dim_partner"]
    codes = Reference().code_lists | {"partners": frozenset()}  # no partner configured
    from schemas.sql_checks import row_rules

    rule = next(r for r in row_rules(table, codes, "duckdb") if r.column == "partner_code" and r.check == "code_list")
    with engine.connect() as conn:
        assert (
            conn.execute(sa.text(f"SELECT {rule.failing} FROM (SELECT 'p' AS partner_code) AS t")).scalar_one() is True
        )


def test_staging_schema_check_looks_again_only_at_deliveries_it_has_not_passed(sample, warehouse_url, tmp_path):
    """Staging rows never change, so a delivery that passed is not checked again; one that failed is,
    every run, until it is retired (and the check keeps failing meanwhile)."""
    from test_current_records import staging_frame

    employer = next(
        f["path"]
        for f in sample["manifest"]["files"]
        if f["partner_code"] == "zorggroep_haaglanden" and f.get("data_rows")
    )
    good = _process(sample["dir"], f"landing/{employer}" if not employer.startswith("landing") else employer).accepted
    engine = make_engine(warehouse_url)
    check = next(c for c in schema_checks if c.spec.name == "stg_employment_spells_conforms_to_schema")
    resources = (
        WarehouseResource(url=warehouse_url),
        IngestResource(environment="test", landing_dir=str(tmp_path), feedback_dir=str(tmp_path / "feedback")),
    )

    def deliver(delivery_id: str, rows: pd.DataFrame) -> None:
        with engine.begin() as conn:
            ensure_table(conn, STG)
            ensure_table(conn, TABLES["delivery_log"])
            insert_frame(conn, STG.name, rows.assign(delivery_id=delivery_id))
            insert_frame(
                conn,
                "delivery_log",
                staging_frame(
                    [{"delivery_id": delivery_id, "partner_code": "zorggroep_haaglanden", "delivery_status": "loaded"}],
                    TABLES["delivery_log"],
                ),
            )

    def run() -> tuple[bool, int, int]:
        r = check.run(*resources)
        return r.passed, r.metadata["rows_checked"].value, r.metadata["deliveries_passed_before"].value

    deliver("a", good)
    assert run() == (True, len(good), 0)
    assert run() == (True, 0, 1)  # nothing new: nothing scanned
    bad = good.copy()
    bad.loc[0, "function_code"] = "XYZ"
    deliver("b", bad)
    assert run() == (False, len(bad), 1)  # only the new delivery scanned, and it fails
    assert run() == (False, len(bad), 1)  # and keeps failing: a failed delivery is never recorded as passed
    with engine.begin() as conn:  # rows that no delivery in the log accounts for are looked at too
        insert_frame(conn, STG.name, bad.head(1).assign(delivery_id="orphan"))
    assert run() == (False, len(bad) + 1, 1)
