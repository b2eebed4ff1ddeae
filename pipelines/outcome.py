"""What a run did, from Dagster's event log alone, as the one screen `make pipeline` ends with.

Read from the instance, never from the warehouse: the screen never waits for (or fails on) the
warehouse file, which the next queued run may already be writing. A retried run is read with the
runs before it (later runs win per asset and check): a retry re-executes only what had not
succeeded.

The screen, root cause first when the run failed: deliveries by status, rows accepted and
quarantined, checks passed / warned / failed with each warning's and failure's reason, the tables
rebuilt and those left as they were, where the partners' feedback went, and the BI release.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.events import DagsterEventType

from pipelines.faults import error_chain
from warehouse.faults import Cause, classify

EVENTS = {
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.ASSET_CHECK_EVALUATION,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.RUN_FAILURE,
    DagsterEventType.RUN_START,
    DagsterEventType.RUN_SUCCESS,
    DagsterEventType.ENGINE_EVENT,
}
STAGING_COUNTS = {
    "deliveries_loaded": "loaded",
    "deliveries_duplicate": "duplicate",
    "deliveries_superseded_on_arrival": "superseded",
    "deliveries_rejected": "rejected",
}


@dataclass
class CheckOutcome:
    name: str
    asset: str
    passed: bool
    severity: str  # ERROR or WARN
    blocking: bool
    reason: str

    @property
    def verdict(self) -> str:
        if self.passed:
            return "passed"
        return "warned" if self.severity == "WARN" else "failed"


@dataclass
class RunOutcome:
    run_ids: list[str]
    status: str
    seconds: float | None = None
    deliveries_this_run: Counter = field(default_factory=Counter)
    deliveries_in_total: Counter = field(default_factory=Counter)
    rows_accepted: int = 0
    rows_quarantined: int = 0
    checks: dict[str, CheckOutcome] = field(default_factory=dict)
    rebuilt: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    feedback_folder: str | None = None
    feedback_written: int = 0
    feedback_reports: int = 0
    bi_release: str | None = None
    failures: list[tuple[str, Cause, str]] = field(default_factory=list)  # step, cause, stack trace
    run_failure: str | None = None

    @property
    def blocking_failed(self) -> list[CheckOutcome]:
        return [c for c in self.checks.values() if not c.passed and c.blocking]

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS" and not self.blocking_failed

    def cause(self) -> Cause | None:
        """The root cause of a failed run: its first failed step's, or why the run itself failed."""
        if self.failures:
            return self.failures[0][1]
        if self.blocking_failed:
            check = self.blocking_failed[0]
            return Cause("check", f"blocking check {check.name} failed: {check.reason}", transient=False)
        if self.run_failure:
            return Cause("run", self.run_failure, transient=False)
        return None


def _value(entry):
    return getattr(entry, "value", entry)


def run_outcome(instance: dg.DagsterInstance, run_ids: list[str]) -> RunOutcome:
    """The outcome of a run and the retries before it (`run_ids`, oldest first)."""
    last = instance.get_run_by_id(run_ids[-1])
    outcome = RunOutcome(run_ids=list(run_ids), status=last.status.value if last else "UNKNOWN")
    materialized: dict[str, dict] = {}
    per_feed: dict[str, dict] = {}
    starts: list[float] = []
    ends: list[float] = []
    for run_id in run_ids:
        failures_here: list[tuple[str, Cause, str]] = []
        for record in instance.all_logs(run_id, of_type=EVENTS):
            event = record.dagster_event
            if event is None:
                continue
            kind = event.event_type
            if kind == DagsterEventType.RUN_START:
                starts.append(record.timestamp)
            elif kind in (DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE):
                ends.append(record.timestamp)
                if kind == DagsterEventType.RUN_FAILURE and run_id == run_ids[-1]:
                    outcome.run_failure = _run_failure_text(instance, run_id, record.user_message or "")
            elif kind == DagsterEventType.ASSET_MATERIALIZATION:
                mat = event.step_materialization_data.materialization
                materialized[mat.asset_key.to_user_string()] = {k: _value(v) for k, v in mat.metadata.items()}
            elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
                ev = event.asset_check_evaluation_data
                outcome.checks[ev.check_name] = CheckOutcome(
                    name=ev.check_name,
                    asset=ev.asset_key.to_user_string(),
                    passed=ev.passed,
                    severity=ev.severity.value,
                    blocking=bool(ev.blocking),
                    reason=ev.description or _reason_from_metadata(ev.metadata),
                )
            elif kind == DagsterEventType.STEP_FAILURE:
                error = getattr(event.event_specific_data, "error", None)
                trace = error.to_string() if error is not None else ""
                failures_here.append((event.step_key or "", classify(error_chain(error)), trace))
        if run_id == run_ids[-1]:
            outcome.failures = failures_here
    if starts and ends:
        outcome.seconds = max(ends) - min(starts)
    for asset, md in sorted(materialized.items()):
        if "rebuilt" in md:
            (outcome.rebuilt if md["rebuilt"] else outcome.unchanged).append(asset)
        elif asset.startswith("stg_"):
            per_feed[asset] = md
        elif asset == "partner_feedback":
            outcome.feedback_folder = str(md.get("feedback_folder") or "")
            outcome.feedback_written = int(md.get("reports_written_this_run") or 0)
            outcome.feedback_reports = int(md.get("reports") or 0)
        elif asset == "bi_release":
            outcome.bi_release = str(md.get("path") or "")
        else:
            outcome.written.append(asset)
    for md in per_feed.values():
        for key, status in STAGING_COUNTS.items():
            outcome.deliveries_this_run[status] += int(md.get(key) or 0)
        for status, n in (md.get("deliveries_by_status") or {}).items():
            outcome.deliveries_in_total[status] += int(n)
        outcome.rows_accepted += int(md.get("rows_accepted") or 0)
        outcome.rows_quarantined += int(md.get("rows_quarantined") or 0)
    unrouted = materialized.get("unrouted_deliveries")
    if unrouted:
        outcome.deliveries_this_run["rejected"] += int(unrouted.get("files_rejected_this_run") or 0)
    return outcome


def _run_failure_text(instance: dg.DagsterInstance, run_id: str, message: str) -> str:
    """Why a run failed that no step explains (its process was killed, it never started)."""
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        text = record.user_message or ""
        if "Detected run worker status" in text or "Run execution process" in text or "timed out" in text:
            return _plain_engine_message(text)
    return message.strip().splitlines()[0] if message.strip() else "the run failed"


def _plain_engine_message(text: str) -> str:
    if "is gone" in text or "unexpectedly" in text or "exited" in text or "killed" in text.lower():
        return "The run's process was killed or crashed before it finished (" + text.strip().splitlines()[0] + ")"
    return text.strip().splitlines()[0]


def _reason_from_metadata(metadata) -> str:
    md = {k: _value(v) for k, v in metadata.items()}
    for key in ("offending_rows", "failures", "deliveries_over", "deliveries_with_problems"):
        if md.get(key):
            return f"{key.replace('_', ' ')}: {md[key]}"
    return ""


def _join(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _counts(counter: Counter) -> str:
    order = ["loaded", "duplicate", "superseded", "rejected"]
    keys = [k for k in order if k in counter] + sorted(k for k in counter if k not in order)
    return ", ".join(f"{counter[k]:,} {k}" for k in keys) or "none"


def render(outcome: RunOutcome, *, run_log: str | None = None) -> list[str]:
    """The closing screen, root cause first when the run failed."""
    run = outcome.run_ids[-1][:8]
    lines = [""]
    cause = outcome.cause()
    if outcome.succeeded:
        took = f" in {outcome.seconds:.0f} s" if outcome.seconds is not None else ""
        lines.append(f"Run {run} of everything succeeded{took}.")
    else:
        what = cause.text if cause else outcome.status.lower()
        lines.append(f"Run {run} of everything FAILED: {what}")
    if len(outcome.run_ids) > 1:
        lines.append(
            f"  (retry {len(outcome.run_ids) - 1} of run {outcome.run_ids[0][:8]}: "
            "a run that fails on a lock, a lost connection or a killed process is started again)"
        )
    lines.append("")
    total = f"; in the warehouse: {_counts(outcome.deliveries_in_total)}" if outcome.deliveries_in_total else ""
    lines.append(f"Deliveries   this run: {_counts(outcome.deliveries_this_run)}{total}")
    lines.append(f"Rows         {outcome.rows_accepted:,} accepted, {outcome.rows_quarantined:,} quarantined this run")
    verdicts = Counter(c.verdict for c in outcome.checks.values())
    lines.append(
        f"Checks       {verdicts['passed']} passed, {verdicts['warned']} warned, {verdicts['failed']} failed"
        + (" (a blocking check failed: the tables after it were not built)" if outcome.blocking_failed else "")
    )
    lines += [
        f"  {check.verdict:<7} {check.name}: {check.reason or '(no reason given)'}"
        for check in sorted(outcome.checks.values(), key=lambda c: (c.verdict != "failed", c.name))
        if not check.passed
    ]
    lines.append(
        f"Tables       {len(outcome.rebuilt)} rebuilt, {len(outcome.unchanged)} unchanged"
        + (f": rebuilt {_join(outcome.rebuilt)}" if outcome.rebuilt else "")
    )
    if outcome.feedback_folder:
        lines.append(
            f"Feedback     {outcome.feedback_written} report(s) written this run, {outcome.feedback_reports} in all, "
            f"in {outcome.feedback_folder}"
        )
    if outcome.bi_release:
        lines.append(f"BI release   {outcome.bi_release} (the published tables and dimensions of this run)")
    if run_log:
        lines.append(f"Run log      {run_log}; every event of the run: `make dev`, Runs, {run}")
    if not outcome.succeeded and outcome.failures:
        step, _, trace = outcome.failures[0]
        lines += ["", f"Stack trace of the first failed step ({step}):", *trace.rstrip().splitlines()[-25:]]
    return lines
