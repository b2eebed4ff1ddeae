"""Shared fixtures: generated sample deliveries, warehouses (DuckDB file, real PostgreSQL), Dagster home."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import TypedDict

import pytest
import sqlalchemy as sa

os.environ.setdefault("ZORGSTROOM_ENV", "test")
#: The tests' own partner mappings (a snapshot of the six sample partners'): a partner added to config/partners
#: (a yaml and a landing folder) cannot change what the tests see.
FIXTURE_PARTNERS = Path(__file__).resolve().parent / "fixtures" / "partners"
os.environ["ZORGSTROOM_PARTNERS_DIR"] = str(FIXTURE_PARTNERS)

from core.settings import DEVELOPMENT_PSEUDONYM_KEY  # noqa: E402 (after the environment above)
from sampledata.generate import generate_sample_deliveries  # noqa: E402

TEST_KEY = DEVELOPMENT_PSEUDONYM_KEY.encode()


class SampleArgs(TypedDict):
    """Keyword arguments of generate_sample_deliveries used by the fixtures."""

    first_period: str
    last_period: str
    scale: float
    seed: int


SMALL: SampleArgs = {"first_period": "2022-01", "last_period": "2022-06", "scale": 0.1, "seed": 7}
#: Large enough that the statistics publish unsuppressed cells (three years, a few hundred people).
STATS: SampleArgs = {"first_period": "2021-01", "last_period": "2023-12", "scale": 0.4, "seed": 5}


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> dict:
    """A small generated set of deliveries (six months) with the generator's truth files."""
    out = tmp_path_factory.mktemp("sample")
    manifest = generate_sample_deliveries(out, **SMALL)
    return {"dir": out, "landing": out / "landing", "truth": out / "truth", "manifest": manifest}


@pytest.fixture(scope="session")
def stats_sample(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("stats_sample")
    manifest = generate_sample_deliveries(out, **STATS)
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
            pytest.fail(
                "ZORGSTROOM_REQUIRE_POSTGRES=1 but ZORGSTROOM_TEST_POSTGRES_URL is not set: no PostgreSQL server"
            )
        pytest.skip(
            "no PostgreSQL server (set ZORGSTROOM_TEST_POSTGRES_URL, or run as root so make test can install one)"
        )
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


def identity_needles(truth: Path, key: bytes = TEST_KEY) -> dict:
    """What must never appear past ingestion: the generated people's raw identities.

    Birth dates are checked per person (a date column may legitimately hold a date that happens to be
    someone's birthday); numbers, postcodes and names anywhere as text.
    """
    import pandas as pd

    from ingest.pseudonymise import pseudonym

    people = pd.read_csv(truth / "people.csv", dtype=str, keep_default_na=False)
    numbers = {v for v in pd.concat([people["bsn"], people["onderwijsnummer"]]) if v}
    postcodes = {p for p in people["postcode"] if p} | {p.replace(" ", "") for p in people["postcode"] if p}
    full_names = {f"{first} {last}" for first, last in zip(people["first_name"], people["last_name"])}
    names = {n for n in pd.concat([people["first_name"], people["last_name"]]) if len(n) >= 3}
    birth_by_person = {}
    for bsn, onr, born in zip(people["bsn"], people["onderwijsnummer"], people["birth_date"]):
        if bsn:
            birth_by_person[pseudonym("bsn", bsn, key)] = born
        if onr:
            birth_by_person[pseudonym("onderwijsnummer", onr, key)] = born
    births_text = set(people["birth_date"]) | {f"{d[8:10]}-{d[5:7]}-{d[0:4]}" for d in people["birth_date"]}
    return {
        "substrings": numbers | postcodes | full_names,
        "cells": names | full_names,
        "birth_by_person": birth_by_person,
        "births_text": births_text,
    }


def assert_frame_holds_no_identity(df, where: str, needles: dict) -> int:
    """Scan one table; returns the number of values scanned."""
    import pandas as pd

    scanned = 0
    for col in df.columns:
        values = df[col].dropna()
        if values.empty:
            continue
        text_values = set(values.astype(str))
        assert not (text_values & needles["cells"]), f"a name in {where}.{col}"
        joined = "\n".join(text_values)
        for needle in needles["substrings"]:
            assert needle not in joined, f"a raw identifier in {where}.{col}"
        is_date = pd.api.types.is_datetime64_any_dtype(values) or col.endswith(
            ("_date", "_at", "_month", "valid_from", "valid_to")
        )
        if is_date and "person_id" in df.columns:
            born = df["person_id"].map(needles["birth_by_person"])
            same = pd.to_datetime(df[col], errors="coerce").dt.strftime("%Y-%m-%d") == born
            assert not same.any(), f"a person's birth date in {where}.{col}"
        elif not is_date:
            for needle in needles["births_text"]:
                assert needle not in joined, f"a full birth date in {where}.{col}"
        scanned += len(values)
    return scanned


@pytest.fixture(scope="session", params=["duckdb", "postgresql"])
def hostile_run(request, sample, tmp_path_factory):
    """The whole pipeline once per warehouse over the ordinary sample plus the hostile corpus
    (tests/hostile_run.py). DuckDB reads in worker processes (the bounded pool), PostgreSQL in the run
    process (CSV here, every xlsx in an isolated bounded reader): both paths see every hostile file."""
    from hostile_run import run_hostile

    from warehouse.db import make_engine

    root = tmp_path_factory.mktemp(f"hostile_{request.param}")
    with contextlib.ExitStack() as stack:
        url = (
            f"duckdb:///{root / 'warehouse.duckdb'}"
            if request.param == "duckdb"
            else stack.enter_context(postgres_schema())
        )
        with pytest.MonkeyPatch.context() as mp:  # only while the run runs: other tests read in this process
            if request.param == "duckdb":
                mp.setenv("ZORGSTROOM_READ_WORKERS", "2")
                mp.setenv("ZORGSTROOM_READ_WORKERS_MIN_BYTES", "0")
            run = run_hostile(url, sample, root, request.param)
        run["engine"] = make_engine(url)
        yield run
        run["engine"].dispose()
