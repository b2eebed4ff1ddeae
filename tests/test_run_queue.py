"""One queue for every run, for real: `make pipeline`'s command (`python -m pipelines.cli run`), a real
instance in a DAGSTER_HOME with the repository's dagster.yaml, and the Dagster daemon the command
starts for it (run queue, retries, monitoring, the landing sensor).

The tests share one instance, sample and warehouse and run in order (each leaves the warehouse as the
next expects it); the daemon the first command starts serves the later ones while the queue has work.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import psutil
import pytest
from dagster._core.events import DagsterEventType
from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

from core.paths import REPO_ROOT
from pipelines.queue import DAEMON_LOG, LOCATION_NAME
from pipelines.sensors import WRITES_WAREHOUSE_TAG
from warehouse.bi_release import bi_tables

pytestmark = pytest.mark.slow

SAMPLE_ARGS = ["--scale", "0.05", "--from", "2023-01", "--to", "2023-03"]
PUBLISHED = ["pub_sector_flows", "pub_retention", "pub_programme_flows", "pub_target_attainment"]


@pytest.fixture(scope="module")
def queue_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("queue")
    home = root / "home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "config" / "dagster" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "ZORGSTROOM_ENV": "development",
        "ZORGSTROOM_WAREHOUSE_URL": f"duckdb:///{root / 'warehouse.duckdb'}",
        "ZORGSTROOM_LANDING_DIR": str(root / "sample" / "landing"),
        "ZORGSTROOM_FEEDBACK_DIR": str(root / "feedback"),
        "ZORGSTROOM_REPORT_DIR": str(root / "report"),
        "ZORGSTROOM_SENSOR_INTERVAL_SECONDS": "3",
        "ZORGSTROOM_DAEMON_IDLE_SECONDS": "30",
    }
    gen = subprocess.run(  # the generator's command line, as `make sample` runs it
        [sys.executable, "-m", "sampledata", "--out", str(root / "sample"), *SAMPLE_ARGS],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert gen.returncode == 0, gen.stderr
    yield {"root": root, "home": home, "env": env, "bi": root / "bi" / "zorgstroom.duckdb"}
    _kill_queue_daemons(home)


def _kill_queue_daemons(home: Path) -> None:
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "pipelines.queue_daemon" in " ".join(proc.info["cmdline"] or []) and (
                proc.environ().get("DAGSTER_HOME") == str(home)
            ):
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
        except (psutil.Error, OSError):
            continue


def pipeline(env: dict, *extra: str, full_rebuild: bool = False) -> subprocess.Popen:
    """`make pipeline`'s command, started in the background."""
    run_env = {**env, **({"ZORGSTROOM_FULL_REBUILD": "1"} if full_rebuild else {})}
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", *extra],
        env=run_env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(proc: subprocess.Popen, home: Path, timeout: float = 300) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"timed out:\n{out[-3000:]}\n{err[-3000:]}\n{_daemon_log(home)}") from None
    assert proc.returncode == 0, f"{out[-4000:]}\n{err[-4000:]}\n{_daemon_log(home)}"
    return out, err


def _daemon_log(home: Path) -> str:
    path = home / DAEMON_LOG
    return path.read_text(errors="replace")[-4000:] if path.exists() else "(no daemon log)"


def instance_of(env: dict) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(env["DAGSTER_HOME"])


def wait_for(predicate, timeout: float, what: str):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def release_run_id(path: Path, con: duckdb.DuckDBPyConnection | None = None) -> str:
    own = con is None
    con = con or duckdb.connect(str(path), read_only=True)
    try:
        return con.sql("SELECT DISTINCT run_id FROM release_info").fetchall()[0][0]
    finally:
        if own:
            con.close()


def test_two_pipelines_at_once_both_succeed_one_after_the_other(queue_env):
    env, home = queue_env["env"], queue_env["home"]
    first = pipeline(env, "--summary")
    time.sleep(1)
    second = pipeline(env)
    (out1, err1), (out2, err2) = finished(first, home), finished(second, home)

    with instance_of(env) as instance:
        runs = instance.get_run_records(RunsFilter(job_name="everything"))
        assert len(runs) == 2 and all(r.dagster_run.status == DagsterRunStatus.SUCCESS for r in runs)
        for record in runs:
            run = record.dagster_run
            assert run.tags["zorgstroom/trigger"] == "cli" and run.tags[WRITES_WAREHOUSE_TAG] == "true"
            assert run.remote_job_origin.location_name == LOCATION_NAME
        earlier, later = sorted(runs, key=lambda r: r.start_time)
        assert earlier.end_time <= later.start_time  # one waited for the other: never two writers
        # what the UI shows for the tables: row counts, column schema, the files behind them
        for key in ("stg_employment_spells", "fct_employment_spells", "fct_sector_inflow", "pub_target_attainment"):
            meta = instance.get_latest_materialization_event(dg.AssetKey(key)).asset_materialization.metadata
            assert meta["dagster/row_count"].value > 0 and "dagster/column_schema" in meta, key
            assert meta["deliveries_in_force"].value > 0 and meta["delivery_files"].value, key

    for out in (out1, out2):  # each ends with its outcome screen
        assert "of everything succeeded" in out and "Checks " in out and "Tables " in out, out[-2000:]
        assert "Deliveries   this run:" in out and "Feedback " in out and "BI release " in out
    assert "Rows per table:" in out1 and "Quarantined rows by reason" in out1  # --summary: the warehouse too
    assert out1.rindex("Rows per table:") < out1.rindex("of everything succeeded")  # the outcome comes last
    warned = [line for line in out1.splitlines() if line.startswith("  warned ")]
    assert warned and all(": " in line and len(line.split(": ", 1)[1]) > 10 for line in warned)  # each says why
    for text in (out1, err1, out2, err2):  # no deprecation, supersession or beta warnings
        assert not re.search(r"\w*Warning:|deprecated|is superseded", text), text
    assert release_run_id(queue_env["bi"]) == later.dagster_run.run_id


def test_the_demo_run_leaves_the_report_its_slides_the_workbook_and_the_feedback(queue_env):
    """What `make demo` hands its readers: the report linking the workbook, every chart as a 1600x900 PNG with a
    CSV beside it, the workbook with a sheet per published table, feedback per delivery and per partner."""
    import openpyxl

    from report.render import REPORT_NAME
    from report.workbook import WORKBOOK_NAME

    root, env, home = queue_env["root"], queue_env["env"], queue_env["home"]
    if not (root / "report" / REPORT_NAME).is_file():  # run alone: make the demo's run first
        finished(pipeline(env), home)
    html = (root / "report" / REPORT_NAME).read_text(encoding="utf-8")
    assert f'href="{WORKBOOK_NAME}"' in html and "Peildatum" in html
    charts = set(re.findall(r'<figure data-chart="([^"]+)" data-chart-kind="(?!table)', html))
    pngs = sorted((root / "report" / "charts").glob("*.png"))
    assert {p.stem for p in pngs} == charts and len(charts) >= 4
    for png in pngs:
        head = png.read_bytes()[:24]
        assert int.from_bytes(head[16:20], "big") >= 1600 and int.from_bytes(head[20:24], "big") >= 900
        assert png.with_suffix(".csv").stat().st_size > 0
    book = openpyxl.load_workbook(root / "report" / WORKBOOK_NAME, read_only=True)
    assert book.sheetnames[0] == "Toelichting" and set(PUBLISHED) <= set(book.sheetnames)
    feedback = root / "feedback"
    reports = list(feedback.rglob("*_feedback.xlsx"))
    overviews = list(feedback.rglob("*_overzicht.xlsx"))
    assert reports and overviews
    assert openpyxl.load_workbook(reports[0], read_only=True).sheetnames[:2] == ["Samenvatting", "Rijen"]
    assert openpyxl.load_workbook(overviews[0], read_only=True).sheetnames == ["Overzicht", "Per periode", "Leveringen"]


def test_a_run_while_a_bi_reader_holds_the_release_open_succeeds_and_nothing_new_keeps_every_schema(queue_env):
    env, home, bi = queue_env["env"], queue_env["home"], queue_env["bi"]
    reader = duckdb.connect(str(bi), read_only=True)  # a BI tool left open, as BI tools are
    try:
        before = release_run_id(bi, reader)
        rows_before = reader.sql("SELECT COUNT(*) FROM pub_target_attainment").fetchone()[0]
        out, _ = finished(pipeline(env), home)
        assert "0 loaded" in out  # nothing new
        # the open connection still reads the previous release, whole
        assert release_run_id(bi, reader) == before
        assert reader.sql("SELECT COUNT(*) FROM pub_target_attainment").fetchone()[0] == rows_before
    finally:
        reader.close()
    with instance_of(env) as instance:
        last = instance.get_runs(RunsFilter(job_name="everything"), limit=1)[0]
        assert last.status == DagsterRunStatus.SUCCESS
        assert release_run_id(bi) == last.run_id  # a new connection reads the new release
        with duckdb.connect(str(bi), read_only=True) as fresh:
            assert {t for (t,) in fresh.sql("SELECT table_name FROM release_info").fetchall()} == set(bi_tables())
            assert "dim_person" not in {t for (t,) in fresh.sql("SHOW TABLES").fetchall()}
        # a run that rebuilt nothing: every published table still shows its schema, grain and row count
        for key in PUBLISHED:
            event = instance.get_latest_materialization_event(dg.AssetKey(key))
            assert event.run_id == last.run_id
            meta = event.asset_materialization.metadata
            assert meta["rebuilt"].value is False
            columns = [c.name for c in meta["dagster/column_schema"].value.columns]
            assert columns and "suppressed" in columns and meta["grain"].value, key
            assert meta["dagster/row_count"].value >= 0


def test_a_cli_run_and_a_sensor_run_started_together_both_succeed(queue_env):
    env, home, root = queue_env["env"], queue_env["home"], queue_env["root"]
    with instance_of(env) as instance:
        known = {r.run_id for r in instance.get_runs()}
        cli = pipeline(env, full_rebuild=True)  # a full rebuild: long enough for the sensor to tick during it
        cli_run = wait_for(
            lambda: next(
                (
                    r
                    for r in instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.STARTED]))
                    if r.run_id not in known
                ),
                None,
            ),
            120,
            "the CLI's run to start",
        )
        folder = root / "sample" / "landing" / "gemeente_den_haag"
        source = folder / "gemeente_den_haag_202301.csv"
        (folder / "gemeente_den_haag_202304.csv").write_bytes(source.read_bytes().replace(b"2023-01", b"2023-04"))
        sensor_run = wait_for(
            lambda: next(
                (r for r in instance.get_runs() if r.tags.get("dagster/sensor_name") == "landing_sensor"), None
            ),
            60,
            "a run of the landing sensor",
        )
        finished(cli, home)
        done = wait_for(
            lambda: (r := instance.get_run_by_id(sensor_run.run_id)) and r.is_finished and r, 180, "the sensor's run"
        )
        assert done.status == DagsterRunStatus.SUCCESS, _daemon_log(home)
        cli_record = instance.get_run_record_by_id(cli_run.run_id)
        sensor_record = instance.get_run_record_by_id(sensor_run.run_id)
        assert cli_record.dagster_run.status == DagsterRunStatus.SUCCESS
        assert sensor_record.create_timestamp.timestamp() < cli_record.end_time  # it was asked for while the CLI ran
        assert cli_record.end_time <= sensor_record.start_time  # and waited for it
        assert json.loads(sensor_run.tags["zorgstroom/landing-files"]) == [
            "gemeente_den_haag/gemeente_den_haag_202304.csv"
        ]
        loaded = instance.get_latest_materialization_event(dg.AssetKey("stg_municipal_participants"))
        assert loaded.run_id in (cli_run.run_id, sensor_run.run_id)  # whichever read it first loaded it
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        files = {f for (f,) in con.sql("SELECT source_file FROM delivery_log").fetchall()}
    assert "gemeente_den_haag_202304.csv" in files


def test_a_run_killed_mid_way_is_retried_and_the_retry_completes(queue_env):
    env, home = queue_env["env"], queue_env["home"]
    with instance_of(env) as instance:
        known = {r.run_id for r in instance.get_runs()}
        cli = pipeline(env, full_rebuild=True)
        run = wait_for(
            lambda: next(
                (r for r in instance.get_runs(RunsFilter(job_name="everything")) if r.run_id not in known), None
            ),
            60,
            "the run",
        )
        pid = wait_for(lambda: _step_started(instance, run.run_id, "fct_employment_spells"), 120, "a step mid-way")
        os.kill(pid, signal.SIGKILL)  # the run's process, mid-way
        out, _ = finished(cli, home)
        killed = instance.get_run_by_id(run.run_id)
        assert killed.status == DagsterRunStatus.FAILURE
        retry = instance.get_runs(RunsFilter(tags={"dagster/parent_run_id": run.run_id}))
        assert len(retry) == 1 and retry[0].status == DagsterRunStatus.SUCCESS
        assert retry[0].tags.get("dagster/retry_number") == "1"
        assert f"retries it as run {retry[0].run_id[:8]}" in out and "(retry 1 of run" in out
        assert f"Run {retry[0].run_id[:8]} of everything succeeded" in out


def _step_started(instance: dg.DagsterInstance, run_id: str, step: str) -> int | None:
    """The pid of the run's process once `step` has started."""
    for record in instance.all_logs(run_id, of_type=DagsterEventType.STEP_START):
        event = record.dagster_event
        if record.step_key == step and event is not None and event.pid:
            return event.pid
    return None


def test_a_run_whose_processes_were_all_killed_is_marked_failed_and_retried_by_the_next_daemon(queue_env):
    """Run monitoring: the run, its code server, the daemon and the queue daemon killed at once (a
    machine that went down). The next `make pipeline` starts a daemon whose monitoring finds the run
    STARTED without a process, marks it failed, and its retry completes."""
    env, home = queue_env["env"], queue_env["home"]
    with instance_of(env) as instance:
        known = {r.run_id for r in instance.get_runs()}
        cli = pipeline(env, full_rebuild=True)
        run = wait_for(
            lambda: next(
                (r for r in instance.get_runs(RunsFilter(job_name="everything")) if r.run_id not in known), None
            ),
            60,
            "the run",
        )
        wait_for(lambda: _step_started(instance, run.run_id, "fct_employment_spells"), 120, "a step mid-way")
        cli.kill()
        cli.communicate()
        for proc in psutil.process_iter(["cmdline"]):
            try:
                if "pipelines.queue_daemon" in " ".join(proc.info["cmdline"] or []) and (
                    proc.environ().get("DAGSTER_HOME") == str(home)
                ):
                    for child in [proc, *proc.children(recursive=True)]:
                        child.kill()
            except psutil.Error:
                continue
        time.sleep(2)
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.STARTED  # nobody left to notice

        finished(pipeline(env), home)  # the next run: its daemon's monitoring finds the dead one
        failed = wait_for(
            lambda: (r := instance.get_run_by_id(run.run_id)).status == DagsterRunStatus.FAILURE and r, 120, "failed"
        )
        messages = [
            (r.dagster_event.message or "") if r.dagster_event else "" for r in instance.all_logs(failed.run_id)
        ]
        assert any("is gone: it was killed or crashed" in m for m in messages), messages[-5:]
        retry = wait_for(
            lambda: instance.get_runs(RunsFilter(tags={"dagster/parent_run_id": run.run_id})), 120, "its retry"
        )[0]
        done = wait_for(lambda: (r := instance.get_run_by_id(retry.run_id)).is_finished and r, 240, "the retry")
        assert done.status == DagsterRunStatus.SUCCESS, _daemon_log(home)
