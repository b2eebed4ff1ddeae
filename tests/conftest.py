"""Shared fixtures: generated sample deliveries, warehouses (DuckDB file, real PostgreSQL), Dagster home."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

os.environ.setdefault("ZORGSTROOM_ENV", "test")

from core.settings import DEVELOPMENT_PSEUDONYM_KEY  # noqa: E402
from sampledata.generate import generate_sample_deliveries  # noqa: E402

TEST_KEY = DEVELOPMENT_PSEUDONYM_KEY.encode()
SMALL = {"first_period": "2022-01", "last_period": "2022-06", "scale": 0.1, "seed": 7}


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> dict:
    """A small generated set of deliveries (six months) with the generator's truth files."""
    out = tmp_path_factory.mktemp("sample")
    manifest = generate_sample_deliveries(out, **SMALL)
    return {"dir": out, "landing": out / "landing", "truth": out / "truth", "manifest": manifest}


def load_manifest(truth: Path) -> dict:
    return json.loads((truth / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture
def duckdb_url(tmp_path) -> str:
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


@contextlib.contextmanager
def postgres_schema():
    """A fresh schema in the test PostgreSQL database; fails (not skips) when PostgreSQL is required."""
    base = os.environ.get("ZORGSTROOM_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("ZORGSTROOM_REQUIRE_POSTGRES") == "1":
            pytest.fail("ZORGSTROOM_REQUIRE_POSTGRES=1 but ZORGSTROOM_TEST_POSTGRES_URL is not set: no PostgreSQL server")
        pytest.skip("no PostgreSQL server (set ZORGSTROOM_TEST_POSTGRES_URL, or run as root so make test can install one)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_url():
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["duckdb", "postgresql"])
def warehouse_url(request, tmp_path):
    """Both warehouses: the embedded DuckDB file and a real PostgreSQL."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def dagster_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home
