"""The DuckDB SQL reference of the benchmark (bench/reference.sql). Its comparison with the
pipeline runs in tests/test_pipeline_e2e.py, on the pipeline run that file already makes.

The reference starts from the pipeline's stg_employment_spells (not the delivery files): it checks
current records and the inflow/outflow rules independently of the pandas transforms, not ingest.
"""

import importlib.util
from pathlib import Path

import duckdb
import pytest


BENCH = Path(__file__).resolve().parents[1] / "bench"


def _reference_module():
    spec = importlib.util.spec_from_file_location("bench_reference", BENCH / "reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_duckdb_one_year_arithmetic_clips_29_february():
    """reference.sql relies on d - INTERVAL 1 YEAR being the BRIEF's "same date a year earlier"."""
    row = duckdb.sql("SELECT CAST(DATE '2020-02-29' - INTERVAL 1 YEAR AS DATE), "
                     "CAST(DATE '2020-02-29' + INTERVAL 1 YEAR AS DATE)").fetchone()
    assert [str(d) for d in row] == ["2019-02-28", "2021-02-28"]
