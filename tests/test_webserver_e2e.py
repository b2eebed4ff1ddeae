"""The whole operation, for real: `dg dev` (webserver and daemon, as `make dev` runs it) on a persistent DAGSTER_HOME.

- the landing sensor sees the deliveries and launches a run by itself;
- a materialisation launched through the webserver's GraphQL API overlaps with it: the run queue
  (one writer at a time, config/dagster/dagster.yaml) serialises them, no lock error;
- GraphQL reports the assets materialised and the checks evaluated;
- a new delivery dropped into the landing folder produces a new run and updated tables, with no
  other action.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.paths import REPO_ROOT
from sampledata import generate_sample_deliveries
from warehouse.db import make_engine, read_table

pytestmark = pytest.mark.slow  # the webserver, its daemon and real runs

BIN = Path(sys.executable).parent
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        out = json.loads(resp.read())
    assert "errors" not in out, out
    return out["data"]


def runs(port: int) -> list[dict]:
    data = graphql(port, "{ runsOrError { ... on Runs { results { runId status jobName tags { key value } } } } }")
    return data["runsOrError"]["results"]


def wait_for(predicate, timeout: float, what: str):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value is not None and value is not False and not (isinstance(value, (list, dict)) and not value):
            return value
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


def read_when_free(url: str, table: str):
    """Read as a BI tool on a DuckDB file must: once no run process holds the file (it has one writer)."""

    def attempt():
        engine = make_engine(url)
        try:
            return read_table(engine, table)
        except Exception as exc:  # the lock of a run process that is just exiting
            if "lock" not in str(exc).lower():
                raise
            return None
        finally:
            engine.dispose()

    return wait_for(attempt, 60, f"{table} to be readable")


@pytest.fixture
def dagster_dev(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO_ROOT / "config" / "dagster" / "dagster.yaml").read_text())
    sample = tmp_path / "sample"
    generate_sample_deliveries(sample, first_period="2023-01", last_period="2023-02", scale=0.05, seed=3)
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "ZORGSTROOM_ENV": "development",
        "ZORGSTROOM_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'w.duckdb'}",
        "ZORGSTROOM_LANDING_DIR": str(sample / "landing"),
        "ZORGSTROOM_FEEDBACK_DIR": str(tmp_path / "feedback"),
    }
    log = (tmp_path / "dagster-dev.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "dg"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],  # `make dev`'s command
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
        start_new_session=True,
    )
    try:

        def ready():
            try:
                return graphql(port, "{ version }")
            except OSError:
                return None

        wait_for(ready, 120, "the webserver")
        yield {
            "port": port,
            "sample": sample,
            "url": env["ZORGSTROOM_WAREHOUSE_URL"],
            "log": tmp_path / "dagster-dev.log",
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


LAUNCH = """
mutation($params: ExecutionParams!) {
  launchPipelineExecution(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}"""


def test_sensor_and_graphql_runs_overlap_safely_and_a_new_delivery_is_picked_up(dagster_dev):
    port = dagster_dev["port"]
    # 1. the sensor launches a run for the deliveries already in the landing folder
    sensor_run = wait_for(
        lambda: next((r for r in runs(port) if any(t["key"] == "dagster/sensor_name" for t in r["tags"])), None),
        150,
        "a run from the landing sensor",
    )
    # 2. a second materialisation through GraphQL, while the first may still run
    repo = graphql(port, "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }")
    node = repo["repositoriesOrError"]["nodes"][0]
    assert node["location"]["name"] == "zorgstroom"  # the code location's name (workspace.yaml)
    launched = graphql(
        port,
        LAUNCH,
        {
            "params": {
                "selector": {
                    "repositoryLocationName": node["location"]["name"],
                    "repositoryName": node["name"],
                    "jobName": "everything",
                }
            }
        },
    )
    assert launched["launchPipelineExecution"]["__typename"] == "LaunchRunSuccess", launched
    manual_id = launched["launchPipelineExecution"]["run"]["runId"]
    done = wait_for(
        lambda: (
            lambda rs: (
                rs if {sensor_run["runId"], manual_id} <= {r["runId"] for r in rs if r["status"] in TERMINAL} else None
            )
        )(runs(port)),
        400,
        "both runs to finish",
    )
    status = {r["runId"]: r["status"] for r in done}
    assert status[sensor_run["runId"]] == "SUCCESS" and status[manual_id] == "SUCCESS", dagster_dev["log"].read_text()[
        -3000:
    ]

    # 3. what the webserver reports: assets materialised, checks evaluated with the expected outcomes
    assets = graphql(
        port,
        """{ assetNodes { assetKey { path } assetMaterializations(limit: 1) { runId }
                                 assetChecksOrError { ... on AssetChecks { checks { name } } } } }""",
    )
    nodes = {"/".join(n["assetKey"]["path"]): n for n in assets["assetNodes"]}
    for key in ("stg_employment_spells", "fct_sector_inflow", "pub_sector_flows", "pub_target_attainment"):
        assert nodes[key]["assetMaterializations"], key
    listed = {c["name"] for n in nodes.values() for c in (n["assetChecksOrError"] or {}).get("checks", [])}
    expected = {
        "stg_employment_spells": "stg_employment_spells_rows_accounted_for",
        "pub_sector_flows": "pub_sector_flows_no_small_counts",
        "fct_sector_inflow": "fct_sector_inflow_municipality_code_in_dim_region",
    }
    assert set(expected.values()) <= listed
    for asset, check in expected.items():  # the latest execution of each check, read back through GraphQL
        latest = graphql(
            port,
            """query($key: AssetKeyInput!, $name: String!) {
                assetCheckExecutions(assetKey: $key, checkName: $name, limit: 1) { runId status } }""",
            {"key": {"path": [asset]}, "name": check},
        )["assetCheckExecutions"]
        assert latest and latest[0]["status"] == "SUCCEEDED" and latest[0]["runId"] in status, (check, latest)

    # 4. a new delivery dropped into the landing folder: a new run, updated tables, no other action
    before = set(read_when_free(dagster_dev["url"], "delivery_log")["source_file"])
    source = dagster_dev["sample"] / "landing" / "gemeente_den_haag" / "gemeente_den_haag_202302.csv"
    (source.parent / "gemeente_den_haag_202303.csv").write_bytes(source.read_bytes().replace(b"2023-02", b"2023-03"))
    seen = {r["runId"] for r in runs(port)}
    new_run = wait_for(
        lambda: next((r for r in runs(port) if r["runId"] not in seen and r["status"] in TERMINAL), None),
        240,
        "a run for the new delivery",
    )
    assert new_run["status"] == "SUCCESS"
    after = read_when_free(dagster_dev["url"], "delivery_log")
    assert set(after["source_file"]) - before == {"gemeente_den_haag_202303.csv"}
    log_text = dagster_dev["log"].read_text()
    assert "database is locked" not in log_text and "Could not set lock" not in log_text
    assert not re.search(r"(Deprecation|Supersession|Beta|Preview)Warning", log_text), log_text[-3000:]
