"""No file can take a run down: readers bounded in memory and time in worker processes (ingest/sandbox.py), a
broken worker pool recovered (ingest/parallel_read.py), and a file that crashed a run recorded before it was
read, so that the next run reads it only isolated and rejects it with the cause (warehouse/attempts.py)."""

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from conftest import TEST_KEY
from test_bad_input import PARTNERS, REF, ROW_T1, ROW_T2, municipal_file

from core.errors import DeliveryRejected
from core.timing import StageTimer
from ingest.deliveries import describe_file, parse_period_and_version
from ingest.limits import default_limits
from ingest.parallel_read import AheadReader
from ingest.process import read_delivery
from ingest.sandbox import crashed, read_isolated
from sampledata.hostile import MUNICIPAL_HEADER, _xlsx
from warehouse.db import make_engine, read_table
from warehouse.ingest_feed import ingest_feed

PARTNER = "gemeente_den_haag"
#: Reading a sheet of 100 columns x 200,000 rows makes the xlsx reader allocate 640 MB at once.
HUNGRY = {**dict(zip(["A1", "B1", "C1"], MUNICIPAL_HEADER, strict=False)), "CV200000": "x"}
TIGHT = dataclasses.replace(default_limits(), worker_memory_mib=128)


def request_for(path):
    d = describe_file(path, PARTNER, path.parent)
    period, version = parse_period_and_version(d.source_file)
    return (d, PARTNERS[PARTNER], period, version)


def test_an_isolated_read_equals_a_read_here_and_passes_a_rejection_on(tmp_path):
    folder = tmp_path / PARTNER
    csv_path = municipal_file(folder, f"{PARTNER}_202201.csv", ROW_T1, ROW_T2)
    here, there = read_delivery(*request_for(csv_path)), read_isolated(request_for(csv_path), default_limits())
    assert there.mapped.frame.equals(here.mapped.frame) and there.delivery == here.delivery
    pdf = folder / f"{PARTNER}_202202.csv"
    pdf.write_bytes(b"%PDF-1.7 not an export")
    with pytest.raises(DeliveryRejected) as caught:
        read_isolated(request_for(pdf), default_limits())
    assert caught.value.reason_code == "FILE_NOT_SPREADSHEET"


def test_a_reader_past_its_memory_is_stopped_and_the_file_rejected_with_the_cause(tmp_path):
    path = tmp_path / PARTNER / f"{PARTNER}_202201.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(_xlsx(HUNGRY))
    with pytest.raises(DeliveryRejected) as caught:
        read_isolated(request_for(path), TIGHT)
    assert caught.value.reason_code == "FILE_UNREADABLE"
    assert "memory" in caught.value.message and str(tmp_path) not in caught.value.message


def test_a_reader_past_its_cpu_time_is_stopped():
    """RLIMIT_CPU per file: a busy worker is stopped by the kernel (SIGXCPU), which reads as out of time."""
    code = "from ingest.sandbox import bound_task\nbound_task(1)\nwhile True: pass\n"
    done = subprocess.run([sys.executable, "-c", code], timeout=60)
    assert done.returncode == -signal.SIGXCPU
    exc = crashed(done.returncode, default_limits())
    assert exc.reason_code == "FILE_UNREADABLE" and "worker_seconds" in exc.message


@pytest.mark.slow
def test_a_reader_that_hangs_is_stopped_by_the_clock(tmp_path):
    """A read that waits without using CPU (here: a named pipe nobody writes) is stopped at worker_seconds
    plus a grace period, and the file rejected."""
    pipe = tmp_path / PARTNER / f"{PARTNER}_202201.csv"
    pipe.parent.mkdir(parents=True)
    os.mkfifo(pipe)
    d = dataclasses.replace(describe_file(municipal_file(tmp_path / "x", "x.csv"), PARTNER, tmp_path / "x"), path=pipe)
    period, version = parse_period_and_version(pipe.name)
    with pytest.raises(DeliveryRejected) as caught:
        read_isolated((d, PARTNERS[PARTNER], period, version), dataclasses.replace(default_limits(), worker_seconds=1))
    assert caught.value.reason_code == "FILE_UNREADABLE" and "worker_seconds = 1" in caught.value.message


def test_a_worker_that_dies_breaks_no_run_the_pool_is_restarted_and_only_that_file_is_rejected(tmp_path):
    folder = tmp_path / PARTNER
    paths = [municipal_file(folder, f"{PARTNER}_2022{m:02d}.csv", ROW_T1, *([ROW_T2] * m)) for m in (1, 3, 4, 5)]
    hungry = folder / f"{PARTNER}_202202.xlsx"
    hungry.write_bytes(_xlsx(HUNGRY))
    requests = sorted((request_for(p) for p in [*paths, hungry]), key=lambda r: r[2].start)
    messages = []
    outcomes = {}
    with AheadReader(requests, StageTimer(), workers=2, min_bytes=0, limits=TIGHT, log=messages.append) as reader:
        assert reader.pool is not None
        for request in requests:
            try:
                outcomes[request[0].source_file] = reader.read(request).rows_read
            except DeliveryRejected as exc:
                outcomes[request[0].source_file] = exc.reason_code
    assert outcomes == {
        f"{PARTNER}_202201.csv": 2,
        f"{PARTNER}_202202.xlsx": "FILE_UNREADABLE",
        f"{PARTNER}_202203.csv": 4,
        f"{PARTNER}_202204.csv": 5,
        f"{PARTNER}_202205.csv": 6,
    }
    assert any("a reading worker stopped" in m for m in messages)


CRASHING_RUN = textwrap.dedent("""
    import dataclasses, os, sys
    from pathlib import Path
    import ingest.parallel_read as pr
    from ingest.limits import default_limits
    from ingest.partner_config import load_partner_configs
    from ingest.reference import Reference
    from warehouse.db import make_engine
    from warehouse.ingest_feed import ingest_feed
    url, landing, target = sys.argv[1:4]
    # Before issue 13 a reader that could not have its memory aborted the run process itself. This run
    # behaves like that for `target`: reading it kills the process (after its attempt was recorded).
    real_here, real_isolated = pr.read_delivery, pr.read_isolated
    pr.read_delivery = lambda d, *a, **k: os.abort() if d.source_file == target else real_here(d, *a, **k)
    pr.read_isolated = lambda r, lim: os.abort() if r[0].source_file == target else real_isolated(r, lim)
    ref = Reference()
    limits = dataclasses.replace(default_limits(), worker_memory_mib=128)
    ingest_feed(make_engine(url), "municipal_participants", load_partner_configs(reference=ref), Path(landing),
                ref, b"k" * 32, limits=limits)
""")


def crash_while_reading(url: str, landing, target: str) -> None:
    done = subprocess.run([sys.executable, "-c", CRASHING_RUN, url, str(landing), target], capture_output=True)
    assert done.returncode < 0, done.stderr.decode()[-2000:]  # killed by a signal, nothing logged


def test_a_file_that_crashed_a_run_is_read_again_only_isolated_and_rejected_with_the_cause(warehouse_url, tmp_path):
    landing = tmp_path / "landing"
    folder = landing / PARTNER
    folder.mkdir(parents=True)
    (folder / f"{PARTNER}_202201.xlsx").write_bytes(_xlsx(HUNGRY))  # really too hungry for the limit
    municipal_file(folder, f"{PARTNER}_202202.csv", ROW_T1)  # innocent, but in hand when a run was killed
    municipal_file(folder, f"{PARTNER}_202203.csv", ROW_T2)
    make_engine(warehouse_url).dispose()

    crash_while_reading(warehouse_url, landing, f"{PARTNER}_202201.xlsx")
    engine = make_engine(warehouse_url)
    assert set(read_table(engine, "read_attempts")["source_file"]) == {f"{PARTNER}_202201.xlsx"}
    assert read_table(engine, "delivery_log").empty
    engine.dispose()
    crash_while_reading(warehouse_url, landing, f"{PARTNER}_202202.csv")  # a second run, killed on another file
    engine = make_engine(warehouse_url)
    assert set(read_table(engine, "read_attempts")["source_file"]) == {
        f"{PARTNER}_202201.xlsx",
        f"{PARTNER}_202202.csv",
    }

    messages = []
    report = ingest_feed(
        engine, "municipal_participants", PARTNERS, landing, REF, TEST_KEY, log=messages.append, limits=TIGHT
    )
    log = {r["source_file"]: r for r in report.log_rows}
    crasher = log[f"{PARTNER}_202201.xlsx"]
    assert (crasher["delivery_status"], crasher["reason_code"]) == ("rejected", "FILE_UNREADABLE")
    assert crasher["reason"].startswith("An earlier run stopped while reading this file")
    assert "memory" in crasher["reason"]
    assert log[f"{PARTNER}_202202.csv"]["delivery_status"] == "loaded"  # innocent: read isolated, loaded
    assert log[f"{PARTNER}_202203.csv"]["delivery_status"] == "loaded"
    assert any("read again only in an isolated worker" in m for m in messages)
    assert read_table(engine, "read_attempts").empty
    assert ingest_feed(engine, "municipal_participants", PARTNERS, landing, REF, TEST_KEY).log_rows == []
