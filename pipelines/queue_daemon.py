"""`python -m pipelines.queue_daemon`: a Dagster daemon for the instance in DAGSTER_HOME while its
queue has work, started by `make pipeline` when no daemon (`make dev`'s) serves the instance.

It holds DAGSTER_HOME/zorgstroom-daemon.lock while it runs (a second one exits at once), runs
`dagster-daemon run -w workspace.yaml` (the code location `zorgstroom`), and stops it once no run has
been queued, running or awaiting its retry for IDLE_SECONDS (then starts it again if a run was queued
meanwhile). Its output goes to DAGSTER_HOME/zorgstroom-daemon.log.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from core.paths import REPO_ROOT
from pipelines.queue import daemon_alive, daemon_lock, open_instance, runs_in_progress

IDLE_SECONDS = float(os.environ.get("ZORGSTROOM_DAEMON_IDLE_SECONDS", "20"))
POLL_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 60


def main() -> int:
    home = Path(os.environ["DAGSTER_HOME"])
    lock = daemon_lock(home)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another one runs
    with open_instance(home) as instance:
        if daemon_alive(instance):
            return 0  # `make dev`'s daemon serves the queue
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping:
            _serve_until_idle(instance, lock, lambda: stopping)
            # The daemon is gone: say so (its last heartbeat would make `make pipeline` wait for it), then
            # serve again if a run was queued while it stopped; only then give up the lock.
            instance.wipe_daemon_heartbeats()
            if stopping or not runs_in_progress(instance):
                break
    return 0


def _record_daemon_id(instance: dg.DagsterInstance, lock, started: float) -> bool:
    """Write the id of the daemon just started into the lock file, once it has sent a heartbeat: if this
    process is killed, `make pipeline` can tell that daemon's last heartbeat from a live one's."""
    beat = instance.get_daemon_heartbeats().get("QUEUED_RUN_COORDINATOR")
    if beat is None or beat.timestamp < started:
        return False
    lock.seek(0)
    lock.truncate()
    lock.write(beat.daemon_id)
    lock.flush()
    return True


def _serve_until_idle(instance: dg.DagsterInstance, lock, stopping) -> None:
    daemon = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(REPO_ROOT / "workspace.yaml")],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    print(f"{time.strftime('%H:%M:%S')} queue daemon started (pid {daemon.pid})", flush=True)
    started = time.time()
    idle_since: float | None = None
    recorded = False
    try:
        while not stopping() and daemon.poll() is None:
            if not recorded:
                recorded = _record_daemon_id(instance, lock, started)
            if runs_in_progress(instance):
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= IDLE_SECONDS:
                break
            time.sleep(POLL_SECONDS)
    finally:
        _stop(daemon)
        print(f"{time.strftime('%H:%M:%S')} queue daemon stopped", flush=True)


def _stop(daemon: subprocess.Popen) -> None:
    if daemon.poll() is not None:
        return
    os.killpg(daemon.pid, signal.SIGTERM)  # the daemon and its code server
    try:
        daemon.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait()


if __name__ == "__main__":
    sys.exit(main())
