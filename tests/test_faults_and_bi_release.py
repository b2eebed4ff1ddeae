"""Which failures a run retries, what the operator reads first, and the BI release (both databases)."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg
import duckdb
import pytest
import sqlalchemy as sa
from dagster._core.storage.tags import RETRY_ON_ASSET_OR_OP_FAILURE_TAG

from core.errors import ConfigError
from pipelines.faults import InfrastructureFault, raise_if_infrastructure, retry_only_infrastructure_faults
from warehouse.bi_grants import apply_grants
from warehouse.bi_release import bi_tables, write_release
from warehouse.db import ensure_tables, make_engine
from warehouse.faults import classify, exception_chain


def _lock_error(path) -> Exception:
    """The error a second process gets from the DuckDB file this process holds, for real."""
    code = (
        "import sqlalchemy as sa, sys\n"
        f"e = sa.create_engine('duckdb:///{path}')\n"
        "try:\n    e.connect()\nexcept Exception as exc:\n    print(str(exc.orig))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    return sa.exc.OperationalError("SELECT 1", {}, duckdb.IOException(out.strip()))


def test_a_lock_names_the_file_and_the_process_that_holds_it(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    holder = duckdb.connect(str(path))
    try:
        cause = classify(exception_chain(_lock_error(path)))
    finally:
        holder.close()
    assert cause.kind == "lock" and cause.transient
    assert cause.text.startswith("The warehouse file warehouse.duckdb is locked by process")
    assert str(os.getpid()) in cause.text and "python" in cause.text  # which process, by its command line


@pytest.mark.parametrize(
    "message",
    [
        "(psycopg.OperationalError) consuming input failed: server closed the connection unexpectedly",
        "(psycopg.errors.AdminShutdown) terminating connection due to administrator command",
        'connection to server at "127.0.0.1", port 5432 failed: Connection refused',
    ],
)
def test_a_lost_database_connection_is_transient(message):
    cause = classify([("OperationalError", message)])
    assert cause.kind == "connection" and cause.transient and "refused or lost" in cause.text


def test_a_mapping_error_is_said_as_it_is_and_not_retried():
    try:
        try:
            raise ConfigError("config/partners/threewise.yaml layouts[0]: ['bsnn'] are not columns of feed enrolments")
        except ConfigError as inner:
            raise RuntimeError("step failed") from inner
    except RuntimeError as exc:
        cause = classify(exception_chain(exc))
    assert cause.kind == "configuration" and not cause.transient
    assert cause.text.startswith("config/partners/threewise.yaml layouts[0]: ['bsnn']")
    assert classify([("KeyError", "'x'")]).text == "KeyError: 'x'" and not classify([("KeyError", "'x'")]).transient


def test_a_check_that_hits_a_lock_fails_its_step_instead_of_reporting_the_data(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = duckdb.connect(str(path))
    try:
        with pytest.raises(InfrastructureFault, match=r"could not run: The warehouse file w\.duckdb is locked"):
            raise_if_infrastructure(_lock_error(path), "check x")
    finally:
        holder.close()
    raise_if_infrastructure(ValueError("a bug"), "check x")  # anything else: the check reports itself failed


@pytest.mark.parametrize(("error", "retried"), [("lock", "true"), ("mapping", "false")])
def test_the_failure_hook_allows_a_retry_for_infrastructure_faults_only(tmp_path, error, retried):
    locked = tmp_path / "w.duckdb"

    @dg.op
    def write():
        if error == "lock":
            raise sa.exc.OperationalError(
                "x", {}, duckdb.IOException(f'IO Error: Could not set lock on file "{locked}": Conflicting lock')
            )
        raise ConfigError("config/partners/x.yaml: missing keys ['feed']")

    @dg.job(hooks={retry_only_infrastructure_faults})
    def job():
        write()

    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        assert instance.get_run_by_id(result.run_id).tags[RETRY_ON_ASSET_OR_OP_FAILURE_TAG] == retried


def _warehouse_with_bi_tables(url: str) -> sa.Engine:
    """Every BI table (empty, as its DDL says), one municipality, and one person in dim_person."""
    engine = make_engine(url)
    ensure_tables(engine, [*bi_tables(), "dim_person"])
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO dim_region VALUES ('GM0518', 's-Gravenhage', 'haaglanden', 'Haaglanden')"))
    return engine


def test_a_release_is_swapped_in_whole_and_an_open_reader_keeps_the_previous_one(warehouse_url, tmp_path):
    engine = _warehouse_with_bi_tables(warehouse_url)
    target = tmp_path / "bi" / "zorgstroom.duckdb"
    assert write_release(engine, target, "run-1")["dim_region"] == 1
    reader = duckdb.connect(str(target), read_only=True)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO dim_region VALUES ('GM0503', 'Delft', 'haaglanden', 'Haaglanden')"))
        write_release(engine, target, "run-2")
        assert reader.sql("SELECT DISTINCT run_id FROM release_info").fetchall() == [("run-1",)]
        assert reader.sql("SELECT COUNT(*) FROM dim_region").fetchone()[0] == 1  # the old release, whole
    finally:
        reader.close()
    with duckdb.connect(str(target), read_only=True) as fresh:
        assert fresh.sql("SELECT DISTINCT run_id FROM release_info").fetchall() == [("run-2",)]
        assert fresh.sql("SELECT COUNT(*) FROM dim_region").fetchone()[0] == 2
        assert "dim_person" not in {t for (t,) in fresh.sql("SHOW TABLES").fetchall()}  # persons stay internal

    with pytest.raises((KeyError, duckdb.Error)):
        # a table that cannot be read: the previous release stays
        write_release(engine, target, "run-3", tables=["dim_region", "no_such_table"])
    with duckdb.connect(str(target), read_only=True) as after:
        assert after.sql("SELECT DISTINCT run_id FROM release_info").fetchall() == [("run-2",)]
    assert sorted(p.name for p in target.parent.iterdir()) == ["zorgstroom.duckdb"]  # no half-written file left
    engine.dispose()


@pytest.mark.postgres
def test_the_bi_role_reads_exactly_the_published_tables_and_dimensions(postgres_url):
    engine = _warehouse_with_bi_tables(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text('CREATE TABLE "fct_sector_inflow" (person_id TEXT)'))
        exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = 'zorgstroom_bi_test'")).first()
    if not exists:
        pytest.fail("role zorgstroom_bi_test missing: scripts/pg-test-server.sh creates it")
    statements = apply_grants(engine, "zorgstroom_bi_test")
    assert any("GRANT SELECT" in s and '"pub_sector_flows"' in s and '"dim_person"' not in s for s in statements)
    with engine.connect() as conn:
        conn.execute(sa.text("SET ROLE zorgstroom_bi_test"))
        for name in bi_tables():
            conn.execute(sa.text(f'SELECT COUNT(*) FROM "{name}"'))
        for internal in ("dim_person", "fct_sector_inflow"):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text(f'SELECT COUNT(*) FROM "{internal}"'))
            conn.rollback()
            conn.execute(sa.text("SET ROLE zorgstroom_bi_test"))
    engine.dispose()
