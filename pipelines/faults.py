"""Runs retry infrastructure faults, and only those (warehouse/faults.py says which are).

The instance retries failed runs (`run_retries` in config/dagster/dagster.yaml) but, by its
`retry_on_asset_or_op_failure: false`, not runs whose steps failed: a mapping error fails the same
way every time. When a step fails, the failure hook below sets the run's
`dagster/retry_on_asset_or_op_failure` tag before the run's failure is recorded: true when every
step that failed in this run failed on a lock or a dropped connection, false otherwise (a retry
inherits its parent's tags, so the hook always says it again). A run whose process was killed is
retried whatever the tag says (Dagster retries every failure that is not a step's).
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.storage.tags import RETRY_ON_ASSET_OR_OP_FAILURE_TAG
from dagster._utils.error import SerializableErrorInfo

from warehouse.faults import Cause, classify, exception_chain


class InfrastructureFault(Exception):
    """A step could not do its work because the warehouse was unreachable or locked (not a data problem)."""


def cause_of(exc: BaseException) -> Cause:
    return classify(exception_chain(exc))


def error_chain(error: SerializableErrorInfo | None) -> list[tuple[str, str]]:
    """(class name, message) of a failure stored in Dagster's event log, outermost first."""
    chain: list[tuple[str, str]] = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        chain.append((error.cls_name or "", error.message or ""))
        error = error.cause or error.context
    return chain


def raise_if_infrastructure(exc: BaseException, what: str) -> None:
    """Re-raise a lock or connection fault as an InfrastructureFault: a check that could not run
    must fail its step (and the run is retried), never be reported as the data failing."""
    cause = cause_of(exc)
    if cause.transient:
        raise InfrastructureFault(f"{what} could not run: {cause.text}") from exc


def step_failure_causes(instance: dg.DagsterInstance, run_id: str) -> list[Cause]:
    """The cause of every step failure recorded for a run, in order."""
    causes = []
    for record in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        data = record.dagster_event.event_specific_data if record.dagster_event else None
        error = getattr(data, "error", None)
        causes.append(classify(error_chain(error)))
    return causes


def retry_allowed(causes: Iterable[Cause]) -> bool:
    causes = list(causes)
    return bool(causes) and all(c.transient for c in causes)


@dg.failure_hook(name="retry_only_infrastructure_faults")
def retry_only_infrastructure_faults(context: dg.HookContext) -> None:
    """After a step failed: may the run be retried for what failed in it so far?"""
    if context.op_exception is None:
        return
    causes = [*step_failure_causes(context.instance, context.run_id), cause_of(context.op_exception)]
    allowed = retry_allowed(causes)
    context.instance.add_run_tags(context.run_id, {RETRY_ON_ASSET_OR_OP_FAILURE_TAG: str(allowed).lower()})
    cause = causes[-1]
    context.log.error(
        f"Cause ({cause.kind}): {cause.text}"
        + (" The run will be retried." if allowed else " Not retried: a retry would fail the same way.")
    )
