"""config/dagster/dagster.production.yaml loads into a real instance on PostgreSQL and stores a run there."""

from __future__ import annotations

import os
import shutil

import dagster as dg
import psycopg
import pytest
import sqlalchemy as sa

from core.paths import REPO_ROOT
from pipelines.sensors import WRITES_WAREHOUSE_TAG

PRODUCTION_YAML = REPO_ROOT / "config" / "dagster" / "dagster.production.yaml"
DAGSTER_DB = "zorgstroom_dagster_test"

pytestmark = pytest.mark.postgres


@pytest.fixture
def production_instance(tmp_path, monkeypatch):
    base = os.environ.get("ZORGSTROOM_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("ZORGSTROOM_REQUIRE_POSTGRES") == "1":
            pytest.fail(
                "ZORGSTROOM_REQUIRE_POSTGRES=1 but ZORGSTROOM_TEST_POSTGRES_URL is not set: no PostgreSQL server"
            )
        pytest.skip(
            "no PostgreSQL server (set ZORGSTROOM_TEST_POSTGRES_URL, or run as root so make test can install one)"
        )
    url = sa.engine.make_url(base)
    env = {
        "DAGSTER_PG_HOST": url.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(url.port or 5432),
        "DAGSTER_PG_DB": DAGSTER_DB,
        "DAGSTER_PG_USERNAME": url.username or "zorgstroom",
        "DAGSTER_PG_PASSWORD": url.password or "",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PRODUCTION_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    conninfo = psycopg.conninfo.make_conninfo(
        host=env["DAGSTER_PG_HOST"],
        port=env["DAGSTER_PG_PORT"],
        dbname=DAGSTER_DB,
        user=env["DAGSTER_PG_USERNAME"],
        password=env["DAGSTER_PG_PASSWORD"],
    )
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance, conninfo


@dg.asset
def trivial_number() -> int:
    return 42


def test_production_instance_stores_runs_in_postgres_and_queues_with_limits(production_instance):
    instance, conninfo = production_instance

    # The configuration itself: PostgreSQL storage, the queued coordinator, its limits, no telemetry.
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    queue = instance.get_concurrency_config().run_queue_config  # what the daemon dequeues by
    assert queue.max_concurrent_runs == 4
    assert [dict(limit) for limit in queue.tag_concurrency_limits] == [{"key": WRITES_WAREHOUSE_TAG, "limit": 1}]
    assert instance.get_settings("telemetry") == {"enabled": False}
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
    assert instance.run_retries_retry_on_asset_or_op_failure is False  # only infrastructure faults retry
    assert instance.run_monitoring_enabled and instance.run_monitoring_start_timeout_seconds == 300

    # A materialisation through the instance lands in PostgreSQL.
    result = dg.materialize([trivial_number], instance=instance, tags={WRITES_WAREHOUSE_TAG: "true"})
    run_id = result.run_id
    try:
        assert result.success
        with psycopg.connect(conninfo) as conn:
            row = conn.execute("SELECT status, pipeline_name FROM runs WHERE run_id = %s", (run_id,)).fetchone()
            assert row is not None and row[0] == "SUCCESS"
            materialised = conn.execute(
                "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
                (run_id,),
            ).fetchone()[0]
            assert materialised == 1
            tags = dict(conn.execute("SELECT key, value FROM run_tags WHERE run_id = %s", (run_id,)).fetchall())
            assert tags.get(WRITES_WAREHOUSE_TAG) == "true"
        assert instance.get_latest_materialization_event(dg.AssetKey("trivial_number")).run_id == run_id
    finally:
        instance.delete_run(run_id)  # the database is shared between test sessions: leave it as found
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SELECT count(*) FROM runs WHERE run_id = %s", (run_id,)).fetchone()[0] == 0


def test_production_instance_refuses_to_start_without_its_database_settings(production_instance, monkeypatch, tmp_path):
    monkeypatch.delenv("DAGSTER_PG_PASSWORD")
    home = tmp_path / "no_password"
    home.mkdir()
    shutil.copy(PRODUCTION_YAML, home / "dagster.yaml")
    with pytest.raises(Exception, match="DAGSTER_PG_PASSWORD"), dg.DagsterInstance.from_config(str(home)) as instance:
        instance.run_storage  # noqa: B018  (storage is created lazily)
