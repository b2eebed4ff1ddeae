"""One queue for every run: `make pipeline` submits to the instance's run queue, like the sensor and
the schedule do, and a Dagster daemon starts the runs one warehouse writer at a time.

- `submit_everything` creates a run of the job `everything` (with the job's tags and
  `zorgstroom/trigger`) in the code location `zorgstroom` and puts it in the queue of the
  instance in DAGSTER_HOME (QueuedRunCoordinator; the tag limit `zorgstroom/writes-warehouse: 1`
  lets one such run start at a time, config/dagster/dagster.yaml).
- `ensure_daemon` makes sure a daemon serves that instance: when none has sent a heartbeat lately
  (`make dev` runs one), it starts `python -m pipelines.queue_daemon`, which runs `dagster-daemon
  run` until the queue has been empty for a while, then stops it. A lock file in DAGSTER_HOME lets
  only one such daemon start, however many `make pipeline` run at once.

The daemon also does what only it can: run retries, run monitoring, the landing sensor and the
nightly schedule (docs/operations.md).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus, RunsFilter
from dagster._core.storage.tags import AUTO_RETRY_RUN_ID_TAG, WILL_RETRY_TAG
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import BaseWorkspaceRequestContext, WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

from core.paths import REPO_ROOT

#: The code location's name wherever it is loaded: `dg dev` and the daemon (workspace.yaml), and the
#: runs `make pipeline` submits (a test holds them equal).
LOCATION_NAME = "zorgstroom"
DEFINITIONS_MODULE = "pipelines.definitions"
JOB_NAME = "everything"
TRIGGER_TAG = "zorgstroom/trigger"
#: Repository name of a `dg.Definitions` object.
REPOSITORY_NAME = "__repository__"

#: A daemon whose last heartbeat is older than this is taken for gone (it beats every 30 s).
HEARTBEAT_MAX_AGE_SECONDS = 75
DAEMON_LOCK = "zorgstroom-daemon.lock"
DAEMON_LOG = "zorgstroom-daemon.log"

IN_PROGRESS = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]


INIT_LOCK = "zorgstroom-instance.lock"


@contextmanager
def open_instance(home: Path) -> Iterator[dg.DagsterInstance]:
    """The instance in `home`, its storage created under a lock: two `make pipeline` at once on a new
    DAGSTER_HOME would otherwise both create the SQLite tables and leave two migration heads."""
    with (home / INIT_LOCK).open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        instance = dg.DagsterInstance.get()
        try:
            _ = (instance.run_storage, instance.event_log_storage, instance.schedule_storage)  # created lazily
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    with instance:
        yield instance


@contextmanager
def code_location_workspace(instance: dg.DagsterInstance) -> Iterator[BaseWorkspaceRequestContext]:
    """The code location `zorgstroom`, loaded in this process (to create runs; the daemon launches them)."""
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            executable_path=sys.executable, module_name=DEFINITIONS_MODULE, working_directory=str(REPO_ROOT)
        ),
        location_name=LOCATION_NAME,
    )
    with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as context:
        workspace = context.create_request_context()
        errors = workspace.get_code_location_error(LOCATION_NAME)
        if errors is not None:
            raise CodeLocationLoadError(errors)
        yield workspace


class CodeLocationLoadError(Exception):
    """The definitions could not be loaded (the SerializableErrorInfo says why)."""

    def __init__(self, error) -> None:
        super().__init__(error.message.strip() if getattr(error, "message", None) else str(error))
        self.error = error


def submit_everything(
    instance: dg.DagsterInstance, workspace: BaseWorkspaceRequestContext, tags: Mapping[str, str] | None = None
) -> DagsterRun:
    """Create a run of `everything` and put it in the instance's queue; returns the run."""
    location = workspace.get_code_location(LOCATION_NAME)
    repo = location.get_repository(REPOSITORY_NAME)
    selector = JobSubsetSelector(
        location_name=LOCATION_NAME, repository_name=repo.name, job_name=JOB_NAME, op_selection=None
    )
    remote_job = location.get_job(selector)
    plan = location.get_execution_plan(remote_job, {}, step_keys_to_execute=None, known_state=None, instance=instance)
    snapshot = plan.execution_plan_snapshot
    run = instance.create_run(
        job_name=JOB_NAME,
        run_id=None,
        run_config={},
        resolved_op_selection=remote_job.resolved_op_selection,
        step_keys_to_execute=snapshot.step_keys_to_execute,
        op_selection=None,
        status=None,
        root_run_id=None,
        parent_run_id=None,
        tags={**remote_job.run_tags, **(tags or {})},
        job_snapshot=remote_job.job_snapshot,
        execution_plan_snapshot=snapshot,
        parent_job_snapshot=remote_job.parent_job_snapshot,
        remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(),
        asset_selection=None,
        asset_check_selection=None,
        asset_graph=repo.asset_graph,
    )
    return instance.submit_run(run.run_id, workspace)


def daemon_alive(
    instance: dg.DagsterInstance, max_age: float = HEARTBEAT_MAX_AGE_SECONDS, home: Path | None = None
) -> bool:
    """Whether a daemon dequeues runs for this instance: its queue daemon beat recently, and it is not
    the daemon of a `queue_daemon` that has gone (its lock free, its daemon's id in the lock file)."""
    beat = instance.get_daemon_heartbeats().get("QUEUED_RUN_COORDINATOR")
    if beat is None or time.time() - beat.timestamp >= max_age:
        return False
    # not the last heartbeat of a daemon that was killed with the queue_daemon that ran it
    return home is None or not (lock_is_free(home) and beat.daemon_id == recorded_daemon_id(home))


def recorded_daemon_id(home: Path) -> str:
    """The id of the daemon the last `queue_daemon` ran (written into its lock file)."""
    try:
        return (home / DAEMON_LOCK).read_text().strip()
    except OSError:
        return ""


def runs_in_progress(instance: dg.DagsterInstance) -> int:
    """Runs queued or running, and failed runs whose retry the daemon has not created yet."""
    busy = instance.get_runs_count(RunsFilter(statuses=IN_PROGRESS))
    awaiting_retry = [
        r
        for r in instance.get_runs(
            RunsFilter(statuses=[DagsterRunStatus.FAILURE], tags={WILL_RETRY_TAG: "true"}), limit=20
        )
        if AUTO_RETRY_RUN_ID_TAG not in r.tags
    ]
    return busy + len(awaiting_retry)


def daemon_lock(home: Path):
    """The open lock file of the daemon `make pipeline` starts (held while that daemon runs)."""
    return (home / DAEMON_LOCK).open("a+")


def lock_is_free(home: Path) -> bool:
    with daemon_lock(home) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def ensure_daemon(instance: dg.DagsterInstance, home: Path) -> bool:
    """Start the queue's daemon in the background unless one is running; True when one was started."""
    if daemon_alive(instance, home=home) or not lock_is_free(home):
        return False
    log = (home / DAEMON_LOG).open("ab")
    subprocess.Popen(
        [sys.executable, "-m", "pipelines.queue_daemon"],
        cwd=REPO_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # outlives `make pipeline` until the queue is empty
    )
    log.close()
    return True
