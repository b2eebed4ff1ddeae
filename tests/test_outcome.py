"""The closing screen of `make pipeline` / `make demo` (pipelines/outcome.py, cli._finish) when a run fails:
the cause in plain words on the first line, before any stack trace, and a non-zero exit status."""

import argparse
import os
import subprocess
import sys
from collections import Counter

import duckdb
import sqlalchemy as sa

from pipelines.cli import _finish
from pipelines.outcome import CheckOutcome, RunOutcome, render
from warehouse.faults import classify, exception_chain

RUN = "0123456789abcdef"


def _outcome(**changes) -> RunOutcome:
    outcome = RunOutcome(run_ids=[RUN], status="SUCCESS", seconds=12.0)
    outcome.deliveries_this_run = Counter({"loaded": 3, "rejected": 1})
    outcome.checks = {
        "pub_sector_flows_has_no_small_counts": CheckOutcome(
            "pub_sector_flows_has_no_small_counts", "pub_sector_flows", True, "ERROR", True, ""
        ),
        "delivery_log_quarantine_share": CheckOutcome(
            "delivery_log_quarantine_share", "delivery_log", False, "WARN", False, "2 deliveries above 5 %"
        ),
    }
    for name, value in changes.items():
        setattr(outcome, name, value)
    return outcome


def _first_line(lines: list[str]) -> str:
    return next(line for line in lines if line.strip())


def test_a_successful_run_says_so_and_lists_each_warning_with_its_reason():
    outcome = _outcome()
    lines = render(outcome)
    assert _first_line(lines) == "Run 01234567 of everything succeeded in 12 s."
    assert "Checks       1 passed, 1 warned, 0 failed" in lines
    assert "  warned  delivery_log_quarantine_share: 2 deliveries above 5 %" in lines
    assert _finish(outcome, argparse.Namespace()) == 0


def test_a_failed_blocking_check_is_the_first_line_and_the_exit_status_is_non_zero(capsys):
    checks = _outcome().checks | {
        "stg_enrolments_conforms_to_schema": CheckOutcome(
            "stg_enrolments_conforms_to_schema", "stg_enrolments", False, "ERROR", True, "12 failures of the rules"
        )
    }
    outcome = _outcome(checks=checks)  # the run itself succeeded: its checks did not
    lines = render(outcome)
    assert _first_line(lines) == (
        "Run 01234567 of everything FAILED: blocking check stg_enrolments_conforms_to_schema failed: "
        "12 failures of the rules"
    )
    assert any("a blocking check failed: the tables after it were not built" in line for line in lines)
    assert _finish(outcome, argparse.Namespace()) == 1
    assert "FAILED: blocking check stg_enrolments_conforms_to_schema" in capsys.readouterr().out


def test_a_step_failed_on_a_lock_names_the_lock_and_its_process_before_the_stack_trace(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    holder = duckdb.connect(str(path))  # this process holds the lock
    code = f"import duckdb\ntry:\n    duckdb.connect({str(path)!r})\nexcept Exception as e:\n    print(e)"
    try:
        message = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    finally:
        holder.close()
    error = sa.exc.OperationalError("SELECT 1", {}, duckdb.IOException(message.strip()))
    cause = classify(exception_chain(error))
    trace = "Traceback (most recent call last):\n  File 'x.py', line 1\nOperationalError: " + message
    outcome = _outcome(status="FAILURE", failures=[("stg_employment_spells", cause, trace)])
    lines = render(outcome)
    first = _first_line(lines)
    assert first.startswith("Run 01234567 of everything FAILED: The warehouse file warehouse.duckdb is locked")
    assert str(os.getpid()) in first  # which process holds it
    assert lines.index("Stack trace of the first failed step (stg_employment_spells):") > lines.index(first)
    assert _finish(outcome, argparse.Namespace()) == 1
