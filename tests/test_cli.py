"""The demo's path, as `make demo` runs it: generator CLI, `dagster asset materialize` against a
persistent DAGSTER_HOME, the summary. The run must be in the instance afterwards (what `make dev` shows)."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

pytestmark = pytest.mark.slow  # the demo's commands end to end

BIN = Path(sys.executable).parent


def test_generator_cli_materialize_cli_and_summary(tmp_path, dagster_home):
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "ZORGSTROOM_ENV": "development",
        "ZORGSTROOM_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'w.duckdb'}",
        "ZORGSTROOM_LANDING_DIR": str(tmp_path / "sample" / "landing"),
        "ZORGSTROOM_FEEDBACK_DIR": str(tmp_path / "feedback"),
    }
    gen = subprocess.run(
        [
            sys.executable,
            "-m",
            "sampledata",
            "--out",
            str(tmp_path / "sample"),
            "--scale",
            "0.05",
            "--from",
            "2023-01",
            "--to",
            "2023-03",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert gen.returncode == 0, gen.stderr
    run = subprocess.run(
        [str(BIN / "dagster"), "asset", "materialize", "--select", "*", "-m", "pipelines.definitions"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "RUN_SUCCESS" in run.stderr + run.stdout

    instance = dg.DagsterInstance.from_config(str(dagster_home))
    runs = instance.get_runs()
    assert len(runs) == 1 and runs[0].is_success
    materialized = instance.get_latest_materialization_event(dg.AssetKey("stg_employment_spells"))
    assert materialized is not None
    metadata = materialized.asset_materialization.metadata
    assert metadata["dagster/row_count"].value > 0
    assert "dagster/column_schema" in metadata and "preview" in metadata
    for key in (
        "stg_employment_spells",
        "fct_employment_spells",
        "fct_sector_inflow",
        "pub_target_attainment",
        "fct_delivery_completeness",
    ):
        meta = instance.get_latest_materialization_event(dg.AssetKey(key)).asset_materialization.metadata
        assert meta["deliveries_in_force"].value > 0 and meta["delivery_files"].value, key  # the files behind it
    attainment = instance.get_latest_materialization_event(
        dg.AssetKey("pub_target_attainment")
    ).asset_materialization.metadata
    assert "sectordeal_zorg" in attainment["attainment"].value  # the attainment table itself, in the UI

    summary = subprocess.run(
        [sys.executable, "-m", "warehouse.summary"], env=env, capture_output=True, text=True, timeout=120
    )
    assert summary.returncode == 0, summary.stderr
    assert "stg_employment_spells" in summary.stdout and "Quarantined rows by reason" in summary.stdout
