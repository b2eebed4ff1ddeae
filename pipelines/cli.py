"""`make pipeline`: submit a run of `everything` to the instance's queue, follow it on the terminal,
end with the outcome screen, exit with its result.

    python -m pipelines.cli run [--summary] [--log data/logs/last-run.log]
    python -m pipelines.cli outcome [RUN_ID]          # the screen of a run again (default: the last)

The run waits in the same queue as the sensor's and the schedule's runs (pipelines/queue.py),
so two `make pipeline` at once, or one while `make dev` handles a delivery, wait for each other
instead of failing on the warehouse's lock. A run that fails on a transient fault is retried by
the daemon: the command follows the retry and exits with its result. Exit status: 0 when the run
succeeded and no blocking check failed, 1 otherwise, 130 when interrupted (the run is cancelled).

`ZORGSTROOM_FULL_REBUILD=1` becomes the run tag `zorgstroom/full-rebuild=true`: the run's process
is started by the daemon and does not see this command's environment.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TextIO

import dagster as dg
import sqlalchemy as sa
from dagster._core.events import DagsterEventType
from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter
from dagster._core.storage.tags import AUTO_RETRY_RUN_ID_TAG, WILL_RETRY_TAG

from core.settings import load_settings
from pipelines.faults import error_chain
from pipelines.incremental import FULL_REBUILD_TAG
from pipelines.outcome import RunOutcome, render, run_outcome
from pipelines.queue import (
    DAEMON_LOG,
    JOB_NAME,
    TRIGGER_TAG,
    CodeLocationLoadError,
    code_location_workspace,
    ensure_daemon,
    open_instance,
    submit_everything,
)
from pipelines.resources import WAREHOUSE_TAG
from pipelines.sensors import WRITES_WAREHOUSE_TAG
from warehouse.faults import classify, exception_chain

POLL_SECONDS = 0.5
#: How long a failed run may wait for the daemon to create its retry.
RETRY_WAIT_SECONDS = 120
DAEMON_CHECK_SECONDS = 10


def _now() -> str:
    return datetime.now().strftime("%H:%M:%S")


class Follower:
    """Prints a run's progress as its events arrive, and writes every event to the run log."""

    def __init__(self, instance: dg.DagsterInstance, home: Path, out: TextIO, log: TextIO | None) -> None:
        self.instance, self.home, self.out, self.log = instance, home, out, log

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def follow(self, run_id: str) -> list[str]:
        """Follow a run and the retries the daemon starts for it; returns the run ids, oldest first."""
        chain = [run_id]
        while True:
            status = self._follow_one(chain[-1])
            if status != DagsterRunStatus.FAILURE:
                return chain
            retry = self._retry_of(chain[-1])
            if retry is None:
                return chain
            self.say(f"{_now()} run {chain[-1][:8]} failed; the daemon retries it as run {retry[:8]}")
            chain.append(retry)

    def _follow_one(self, run_id: str) -> DagsterRunStatus:
        cursor = None
        announced_queue = False
        last_daemon_check = time.monotonic()  # run_command has just made sure of one
        while True:
            run = self.instance.get_run_by_id(run_id)
            if run is None:
                raise RuntimeError(f"run {run_id} disappeared from the instance")
            connection = self.instance.get_records_for_run(run_id, cursor=cursor)
            for record in connection.records:
                self._show(record.event_log_entry)
            cursor = connection.cursor
            if connection.has_more:
                continue
            if run.is_finished:
                return run.status
            if run.status == DagsterRunStatus.QUEUED and not announced_queue:
                ahead = self._runs_ahead(run_id)
                self.say(
                    f"{_now()} run {run_id[:8]} of {JOB_NAME} queued"
                    + (f" behind {ahead} run(s) that write the warehouse" if ahead else "")
                )
                announced_queue = True
            if time.monotonic() - last_daemon_check > DAEMON_CHECK_SECONDS:
                # a queued run needs a daemon to start it, and a running one whose daemon died needs one to
                # notice (run monitoring) and retry it
                last_daemon_check = time.monotonic()
                if ensure_daemon(self.instance, self.home):
                    self.say(
                        f"{_now()} no Dagster daemon serves this instance: started one for the queue "
                        f"(log: {self.home / DAEMON_LOG}); it stops when the queue is empty"
                    )
            time.sleep(POLL_SECONDS)

    def _retry_of(self, run_id: str) -> str | None:
        deadline = time.monotonic() + RETRY_WAIT_SECONDS
        while time.monotonic() < deadline:
            run = self.instance.get_run_by_id(run_id)
            if run is None or run.tags.get(WILL_RETRY_TAG) == "false":
                return None
            if run.tags.get(AUTO_RETRY_RUN_ID_TAG):
                return run.tags[AUTO_RETRY_RUN_ID_TAG]
            if run.tags.get(WILL_RETRY_TAG) == "true":
                ensure_daemon(self.instance, self.home)
            time.sleep(POLL_SECONDS)
        return None

    def _runs_ahead(self, run_id: str) -> int:
        others = self.instance.get_runs(
            RunsFilter(
                statuses=[DagsterRunStatus.QUEUED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED],
                tags={WRITES_WAREHOUSE_TAG: "true"},
            )
        )
        mine = self.instance.get_run_record_by_id(run_id)
        created = mine.create_timestamp if mine else None
        return sum(
            1
            for r in others
            if r.run_id != run_id
            and (
                r.status != DagsterRunStatus.QUEUED
                or created is None
                or (rec := self.instance.get_run_record_by_id(r.run_id)) is None
                or rec.create_timestamp < created
            )
        )

    def _show(self, entry) -> None:
        event = entry.dagster_event
        stamp = datetime.fromtimestamp(entry.timestamp).strftime("%H:%M:%S")
        if self.log is not None:
            kind = event.event_type_value if event else "LOG"
            self.log.write(f"{stamp} {entry.run_id[:8]} {kind} {entry.step_key or ''} {entry.user_message}\n")
            self.log.flush()
        if event is None:
            return
        kind = event.event_type
        if kind == DagsterEventType.RUN_START:
            self.say(f"{stamp} run {entry.run_id[:8]} started (process {event.pid})")
        elif kind == DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.event_specific_data.materialization
            md = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
            rows = md.get("dagster/row_count")
            rebuilt = md.get("rebuilt")
            state = "rebuilt" if rebuilt is True else "unchanged" if rebuilt is False else "written"
            if md.get("updated_from_new_deliveries"):
                state = "updated from the new deliveries"
            if "deliveries_loaded" in md:
                state = f"{md['deliveries_loaded']} new deliveries loaded, {md.get('deliveries_rejected', 0)} rejected"
            shown = f"{rows:>10,} rows" if isinstance(rows, int) else " " * 15
            self.say(f"{stamp}   {mat.asset_key.to_user_string():<34} {shown}  {state}")
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            ev = event.event_specific_data
            if not ev.passed:
                verdict = "warned" if ev.severity == dg.AssetCheckSeverity.WARN else "FAILED"
                self.say(f"{stamp}   check {verdict}: {ev.check_name}: {ev.description or ''}")
        elif kind == DagsterEventType.STEP_FAILURE:
            cause = classify(error_chain(getattr(event.event_specific_data, "error", None)))
            self.say(f"{stamp}   step {entry.step_key} FAILED: {cause.text}")
        elif kind in (DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE, DagsterEventType.RUN_CANCELED):
            self.say(
                f"{stamp} run {entry.run_id[:8]} {kind.value.removeprefix('RUN_').replace('PIPELINE_', '').lower()}"
            )


def _home() -> Path:
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise SystemExit(
            "DAGSTER_HOME is not set: run `make pipeline` (it sets .dagster_home), or export DAGSTER_HOME."
        )
    return Path(home)


def run_command(args: argparse.Namespace) -> int:
    home = _home()
    out = sys.stdout
    tags = {TRIGGER_TAG: "cli"}
    settings = load_settings()
    tags[WAREHOUSE_TAG] = sa.engine.make_url(settings.warehouse_url).render_as_string(hide_password=True)
    if os.environ.get("ZORGSTROOM_FULL_REBUILD") == "1":
        tags[FULL_REBUILD_TAG] = "true"
    if args.log:
        Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    with (
        open_instance(home) as instance,
        Path(args.log).open("w", encoding="utf-8") if args.log else contextlib.nullcontext() as log,
    ):
        try:
            with code_location_workspace(instance) as workspace:
                run = submit_everything(instance, workspace, tags)
        except CodeLocationLoadError as exc:
            cause = classify(error_chain(exc.error))
            print(f"Cannot load the code location zorgstroom: {cause.text}", file=sys.stderr)
            print("", file=sys.stderr)
            print(exc.error.to_string().rstrip(), file=sys.stderr)
            return 1
        except Exception as exc:  # the definitions raised while loading in this process
            print(f"Cannot load the code location zorgstroom: {classify(exception_chain(exc)).text}", file=sys.stderr)
            raise
        follower = Follower(instance, home, out, log)
        follower.say(
            f"{_now()} submitted run {run.run_id[:8]} of {JOB_NAME} to the queue of {home}"
            + (" (full rebuild)" if FULL_REBUILD_TAG in tags else "")
        )
        if ensure_daemon(instance, home):
            follower.say(
                f"{_now()} no Dagster daemon serves this instance: started one for the queue "
                f"(log: {home / DAEMON_LOG}); it stops when the queue is empty"
            )
        try:
            chain = follower.follow(run.run_id)
        except KeyboardInterrupt:
            current = instance.get_run_by_id(run.run_id)
            if current is not None and not current.is_finished:
                instance.run_coordinator.cancel_run(run.run_id)
                print(f"\nInterrupted: run {run.run_id[:8]} cancelled.", file=sys.stderr)
            return 130
        outcome = run_outcome(instance, chain)
        return _finish(outcome, args)


def _finish(outcome: RunOutcome, args: argparse.Namespace) -> int:
    if getattr(args, "summary", False):
        from warehouse.summary import main as summary_main

        summary_main()
    print("\n".join(render(outcome, run_log=getattr(args, "log", None))), flush=True)
    return 0 if outcome.succeeded else 1


def outcome_command(args: argparse.Namespace) -> int:
    home = _home()
    with open_instance(home) as instance:
        run_id = args.run_id or last_run_id(instance)
        if run_id is None:
            print("No run of everything in this instance yet: `make pipeline`.")
            return 0
        chain = run_chain(instance, run_id)
        return _finish(run_outcome(instance, chain), args)


def last_run_id(instance: dg.DagsterInstance) -> str | None:
    runs = instance.get_runs(RunsFilter(job_name=JOB_NAME), limit=1)
    return runs[0].run_id if runs else None


def run_chain(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The run and the runs it retried, oldest first (a retry names its parent)."""
    chain = [run_id]
    run = instance.get_run_by_id(run_id)
    while run is not None and run.parent_run_id:
        chain.insert(0, run.parent_run_id)
        run = instance.get_run_by_id(run.parent_run_id)
    return chain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.cli", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="submit a run of everything, follow it, print its outcome")
    run.add_argument("--summary", action="store_true", help="print the warehouse summary before the outcome")
    run.add_argument("--log", help="write every event of the run to this file")
    run.set_defaults(func=run_command)
    again = sub.add_parser("outcome", help="print the outcome screen of a run (default: the last)")
    again.add_argument("run_id", nargs="?")
    again.add_argument("--summary", action="store_true", help="print the warehouse summary before the outcome")
    again.set_defaults(func=outcome_command)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
