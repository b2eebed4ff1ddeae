"""The landing sensor, the nightly schedule and the archive, evaluated against a real Dagster instance."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from ingest.deliveries import sha256_of
from pipelines import sensors as sensors_module
from pipelines.schedules import build_nightly_schedule
from pipelines.sensors import (
    LANDING_FILE_COUNT_TAG,
    LANDING_FILES_TAG,
    WRITES_WAREHOUSE_TAG,
    archive_loaded_files,
    build_landing_sensor,
    landing_run_key,
)


@dg.asset
def dummy_asset() -> int:
    return 1


dummy_job = dg.define_asset_job("dummy_job", selection=[dummy_asset])
landing_sensor = build_landing_sensor(dummy_job)
nightly_schedule = build_nightly_schedule(dummy_job)
defs = dg.Definitions(assets=[dummy_asset], jobs=[dummy_job], sensors=[landing_sensor], schedules=[nightly_schedule])


@pytest.fixture
def instance(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as inst:
        yield inst


@pytest.fixture
def landing(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "landing"
    (folder / "zorggroep_haaglanden").mkdir(parents=True)
    monkeypatch.setenv("ZORGSTROOM_LANDING_DIR", str(folder))
    return folder


def evaluate(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, definitions=defs, sensor_name=landing_sensor.name
    )
    return landing_sensor.evaluate_tick(context)


def deliver(landing: Path, relative: str, content: bytes) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_sensor_and_schedule_defaults():
    assert landing_sensor.name == "landing_sensor"
    assert landing_sensor.minimum_interval_seconds == 60
    assert landing_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert landing_sensor.job_name == "dummy_job"
    defs.get_repository_def()  # sensor, schedule and job resolve together


def test_new_file_gives_one_run_then_none_with_the_returned_cursor(instance, landing):
    deliver(landing, "zorggroep_haaglanden/zorggroep_2024-03.csv", b"bsn;naam\n1;x\n")
    first = evaluate(instance)
    assert len(first.run_requests) == 1
    request = first.run_requests[0]
    assert request.run_key == landing_run_key(
        [
            (
                "zorggroep_haaglanden/zorggroep_2024-03.csv",
                sha256_of(landing / "zorggroep_haaglanden/zorggroep_2024-03.csv"),
            )
        ]
    )
    assert json.loads(request.tags[LANDING_FILES_TAG]) == ["zorggroep_haaglanden/zorggroep_2024-03.csv"]
    assert request.tags[LANDING_FILE_COUNT_TAG] == "1"
    assert request.tags[WRITES_WAREHOUSE_TAG] == "true"
    assert "bsn" not in json.dumps(dict(request.tags))  # names only, never contents
    state = json.loads(first.cursor)
    size, mtime_ns, digest = state["zorggroep_haaglanden/zorggroep_2024-03.csv"].split(":")
    assert int(size) == 13 and int(mtime_ns) > 0 and len(digest) == 64

    second = evaluate(instance, cursor=first.cursor)
    assert second.run_requests == []
    assert "No new or changed files" in second.skip_message

    # A lost cursor hashes again and gives the SAME run key: Dagster's run-key dedupe stops a second run.
    again = evaluate(instance, cursor=None)
    assert [r.run_key for r in again.run_requests] == [request.run_key]


def test_unchanged_files_are_not_hashed_again(instance, landing, monkeypatch):
    deliver(landing, "zorggroep_haaglanden/a_202403.csv", b"a\n")
    first = evaluate(instance)
    hashed: list[Path] = []
    monkeypatch.setattr(sensors_module, "sha256_of", lambda p: hashed.append(p) or sha256_of(p))
    second = evaluate(instance, cursor=first.cursor)
    assert second.run_requests == [] and hashed == []


def test_touched_file_with_the_same_bytes_gives_no_run(instance, landing):
    path = deliver(landing, "zorggroep_haaglanden/a_202403.csv", b"a;b\n1;2\n")
    first = evaluate(instance)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    touched = evaluate(instance, cursor=first.cursor)
    assert touched.run_requests == []
    # the new mtime is remembered, so the next evaluation does not hash it again
    assert json.loads(touched.cursor)["zorggroep_haaglanden/a_202403.csv"].split(":")[1] == str(
        stat.st_mtime_ns + 5_000_000_000
    )


def test_changed_file_gives_a_new_run_key(instance, landing):
    path = deliver(landing, "zorggroep_haaglanden/a_202403.csv", b"a;b\n1;2\n")
    first = evaluate(instance)
    path.write_bytes(b"a;b\n1;3\n")  # same size, new bytes
    changed = evaluate(instance, cursor=first.cursor)
    assert len(changed.run_requests) == 1
    assert changed.run_requests[0].run_key != first.run_requests[0].run_key
    assert json.loads(changed.run_requests[0].tags[LANDING_FILES_TAG]) == ["zorggroep_haaglanden/a_202403.csv"]


def test_two_new_files_give_one_run_listing_both(instance, landing):
    deliver(landing, "zorggroep_haaglanden/a_202403.csv", b"1\n")
    deliver(landing, "roc_zuidwest/sub/b_2024-Q1.xlsx", b"2\n")
    deliver(landing, "roc_zuidwest/.upload_in_progress.csv", b"3\n")  # hidden: skipped
    deliver(landing, ".hidden_partner/c_202403.csv", b"4\n")  # hidden folder: skipped
    deliver(landing, "loose_202403.csv", b"5\n")  # not in a partner folder: skipped
    result = evaluate(instance)
    assert len(result.run_requests) == 1
    listed = json.loads(result.run_requests[0].tags[LANDING_FILES_TAG])
    assert listed == ["roc_zuidwest/sub/b_2024-Q1.xlsx", "zorggroep_haaglanden/a_202403.csv"]
    assert result.run_requests[0].tags[LANDING_FILE_COUNT_TAG] == "2"
    assert set(json.loads(result.cursor)) == set(listed)

    # one more file later: a run for that file only
    deliver(landing, "zorggroep_haaglanden/a_202404.csv", b"6\n")
    later = evaluate(instance, cursor=result.cursor)
    assert [json.loads(r.tags[LANDING_FILES_TAG]) for r in later.run_requests] == [
        ["zorggroep_haaglanden/a_202404.csv"]
    ]


def test_long_file_lists_are_truncated_in_the_tags(instance, landing):
    for i in range(30):
        deliver(landing, f"zorggroep_haaglanden/{'x' * 60}_{i:02d}_202403.csv", str(i).encode())
    request = evaluate(instance).run_requests[0]
    listed = json.loads(request.tags[LANDING_FILES_TAG])
    assert 0 < len(listed) < 30 and len(request.tags[LANDING_FILES_TAG]) <= sensors_module.MAX_LISTED_CHARS
    assert request.tags[LANDING_FILE_COUNT_TAG] == "30"


def test_missing_landing_folder_skips_with_a_reason(instance, tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("ZORGSTROOM_LANDING_DIR", str(missing))
    cursor = '{"p/a.csv":"1:2:abc"}'
    result = evaluate(instance, cursor=cursor)
    assert result.run_requests == []
    assert str(missing) in result.skip_message and "does not exist" in result.skip_message
    assert result.cursor == cursor  # kept as it was: a mount that is briefly missing forgets nothing


def test_corrupt_cursor_rescans_instead_of_failing(instance, landing):
    deliver(landing, "zorggroep_haaglanden/a_202403.csv", b"1\n")
    assert len(evaluate(instance, cursor="not json").run_requests) == 1


def test_nightly_schedule_requests_a_run_of_the_job(instance):
    assert nightly_schedule.cron_schedule == "0 2 * * *"
    assert nightly_schedule.execution_timezone == "Europe/Amsterdam"
    assert nightly_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert nightly_schedule.job_name == "dummy_job"
    when = datetime(2026, 3, 3, 2, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
    data = nightly_schedule.evaluate_tick(context)
    assert len(data.run_requests) == 1
    request = data.run_requests[0]
    assert request.job_name in (None, "dummy_job")  # None: the schedule's own job
    assert request.tags[WRITES_WAREHOUSE_TAG] == "true"


def test_archive_moves_files_into_partner_folders(tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    a = deliver(landing, "zorggroep_haaglanden/a_202403.csv", b"a\n")
    b = deliver(landing, "roc_zuidwest/sub/b_202403.csv", b"b\n")
    moved = archive_loaded_files(
        landing, archive, ["zorggroep_haaglanden/a_202403.csv", Path("roc_zuidwest/sub/b_202403.csv")]
    )
    assert moved == [
        archive.resolve() / "zorggroep_haaglanden/a_202403.csv",
        archive.resolve() / "roc_zuidwest/sub/b_202403.csv",
    ]
    assert not a.exists() and not b.exists()
    assert moved[0].read_bytes() == b"a\n" and moved[1].read_bytes() == b"b\n"

    # the same bytes delivered again and archived again: fine; different bytes: never overwritten
    deliver(landing, "zorggroep_haaglanden/a_202403.csv", b"a\n")
    assert archive_loaded_files(landing, archive, ["zorggroep_haaglanden/a_202403.csv"]) == [moved[0]]
    deliver(landing, "zorggroep_haaglanden/a_202403.csv", b"changed\n")
    with pytest.raises(FileExistsError):
        archive_loaded_files(landing, archive, ["zorggroep_haaglanden/a_202403.csv"])
    assert moved[0].read_bytes() == b"a\n"


@pytest.mark.parametrize(
    "relative",
    [
        "../outside.csv",
        "zorggroep_haaglanden/../../outside.csv",
        "/etc/passwd",
        "a_202403.csv",
        "zorggroep_haaglanden/link.csv",
    ],
)
def test_archive_refuses_paths_outside_its_folders(tmp_path, relative):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    outside = tmp_path / "outside.csv"
    outside.write_bytes(b"secret\n")
    kept = deliver(landing, "zorggroep_haaglanden/ok_202403.csv", b"ok\n")
    deliver(landing, "a_202403.csv", b"loose\n")
    (landing / "zorggroep_haaglanden/link.csv").symlink_to(outside)
    with pytest.raises(ValueError):
        archive_loaded_files(landing, archive, ["zorggroep_haaglanden/ok_202403.csv", relative])
    assert kept.exists() and outside.read_bytes() == b"secret\n"  # checked first: nothing moved
    assert not (archive / "zorggroep_haaglanden/ok_202403.csv").exists()


def test_archive_refuses_a_symlinked_archive_folder_pointing_out(tmp_path):
    landing, archive, elsewhere = tmp_path / "landing", tmp_path / "archive", tmp_path / "elsewhere"
    deliver(landing, "zorggroep_haaglanden/a_202403.csv", b"a\n")
    archive.mkdir()
    elsewhere.mkdir()
    (archive / "zorggroep_haaglanden").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ValueError, match="outside the archive"):
        archive_loaded_files(landing, archive, ["zorggroep_haaglanden/a_202403.csv"])
    assert list(elsewhere.iterdir()) == []


def test_archive_refuses_an_archive_inside_the_landing_folder(tmp_path):
    landing = tmp_path / "landing"
    deliver(landing, "zorggroep_haaglanden/a_202403.csv", b"a\n")
    with pytest.raises(ValueError, match="lies in the landing folder"):
        archive_loaded_files(landing, landing / "archive", ["zorggroep_haaglanden/a_202403.csv"])
    # a hidden folder inside it is fine: the sensor skips hidden folders
    moved = archive_loaded_files(landing, landing / ".archive", ["zorggroep_haaglanden/a_202403.csv"])
    assert moved[0].read_bytes() == b"a\n"


def _started_run(instance, job_name: str, started_at: float):
    """A run of the job in status STARTED since `started_at` (as the run worker's RUN_START records it)."""
    from dagster._core.events import DagsterEvent, DagsterEventType
    from dagster._core.events.log import EventLogEntry
    from dagster._core.test_utils import create_run_for_test

    run = create_run_for_test(instance, job_name=job_name, status=dg.DagsterRunStatus.NOT_STARTED)
    event = DagsterEvent(DagsterEventType.RUN_START.value, job_name)
    instance.handle_new_event(
        EventLogEntry(
            error_info=None,
            level="debug",
            user_message="",
            run_id=run.run_id,
            timestamp=started_at,
            dagster_event=event,
        )
    )
    return run


def test_files_a_queued_or_later_run_will_read_give_no_second_run(instance, landing):
    from dagster._core.remote_origin import InProcessCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.storage.dagster_run import DagsterRun
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.utils import make_new_run_id

    path = deliver(landing, "zorggroep_haaglanden/a_202403.csv", b"a\n")
    location = InProcessCodeLocationOrigin(LoadableTargetOrigin(python_file=__file__), location_name="zorgstroom")
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), "dummy_job")
    queued = instance.run_storage.add_run(
        DagsterRun(
            job_name="dummy_job",
            run_id=make_new_run_id(),
            status=dg.DagsterRunStatus.QUEUED,
            remote_job_origin=origin,
        )
    )
    covered = evaluate(instance)
    assert covered.run_requests == [] and queued.run_id[:8] in covered.skip_message
    assert "zorggroep_haaglanden/a_202403.csv" in json.loads(covered.cursor)  # remembered: it will be read
    instance.delete_run(queued.run_id)

    # a run that started before the file landed has read the landing folder already: the file gets a run
    landed = path.stat().st_mtime
    early = _started_run(instance, "dummy_job", landed - 60)
    assert instance.get_run_by_id(early.run_id).status == dg.DagsterRunStatus.STARTED
    assert len(evaluate(instance).run_requests) == 1
    # one that started after it landed has read it (or will, in its staging steps): no second run
    later = _started_run(instance, "dummy_job", landed + 30)
    again = evaluate(instance)
    assert again.run_requests == [] and later.run_id[:8] in again.skip_message
