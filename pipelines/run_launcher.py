"""The development instance's run launcher: Dagster's default one, plus a health check of the run's
process, so that run monitoring can tell a run whose process was killed from one that is working.

Dagster's DefaultRunLauncher starts each run in a process of the code server, and the code server
notices when that process dies; but when the code server dies with it (the daemon of `make
pipeline` was killed, the machine restarted) nobody would, and the run would stay STARTED for
ever. With this launcher the run monitoring daemon (`run_monitoring` in
config/dagster/dagster.yaml) asks every poll whether the process that started the run (the `pid` of
its RUN_START event) is still alive and still that run's; a dead one marks the run failed, and run
retries start it again.

Only for processes on this machine (the SQLite instance of development and the demo). On
Kubernetes the K8sRunLauncher checks its Jobs itself (docs/operations.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import DefaultRunLauncher
from dagster._core.events import DagsterEventType
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun


def run_worker_pid(instance, run_id: str) -> int | None:
    """The process that started the run (its RUN_START event), or None before it started."""
    records = instance.all_logs(run_id, of_type=DagsterEventType.RUN_START)
    for record in records:
        if record.dagster_event is not None and record.dagster_event.pid:
            return int(record.dagster_event.pid)
    return None


def process_runs(pid: int, run_id: str) -> bool | None:
    """Whether process `pid` is alive and a run worker; None when this cannot be told (no /proc)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, someone else's
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None if not Path("/proc").is_dir() else False
    if _proc_state(pid) == "Z":  # a zombie is a dead process whose parent has not collected it yet
        return False
    # a run worker (started by the code server through multiprocessing, or with the run's id), not a reused pid
    return b"multiprocessing" in cmdline or run_id.encode() in cmdline


def _proc_state(pid: int) -> str:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return text.rsplit(")", 1)[-1].split()[0] if ")" in text else ""


class LocalRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher whose run workers can be health-checked (processes on this machine)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        """FAILED only when the run's process is certainly gone: monitoring fails the run on anything
        but RUNNING, so whatever cannot be told counts as running."""
        pid = run_worker_pid(self._instance, run.run_id)
        if pid is not None and process_runs(pid, run.run_id) is False:
            return CheckRunHealthResult(
                WorkerStatus.FAILED, f"the run's process (pid {pid}) is gone: it was killed or crashed"
            )
        return CheckRunHealthResult(WorkerStatus.RUNNING, f"process {pid} is running" if pid else "starting")
