"""What made a run fail, in plain words, and whether trying again can help.

A run fails for one of two kinds of reason. Infrastructure faults (the DuckDB file locked by
another process, a dropped or refused database connection) say nothing about the data and go away
by themselves: the run is retried (the instance's `run_retries`, allowed per failure through the
run tag `dagster/retry_on_asset_or_op_failure`, pipelines/faults.py) and a check that could not
run because of one is not reported as the data failing. Everything else (a partner mapping error,
a bug) fails the same way again and is not retried.

The classifier works on (exception class name, message) pairs, so the same rules read a live
exception in the run process and a failure stored in Dagster's event log (the outcome screen of
`make pipeline`, pipelines/outcome.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: DuckDB's message when another process holds the file: "... Could not set lock on file "<path>":
#: Conflicting lock is held in <program> (PID <n>) by user <u>. ..."
_DUCKDB_LOCK = re.compile(
    r'Could not set lock on file "(?P<path>[^"]+)"'
    r"(?:: Conflicting lock is held in (?P<program>\S+) \(PID (?P<pid>\d+)\))?"
)
#: Messages of a PostgreSQL connection that was refused, dropped or shut down (psycopg, SQLAlchemy).
_CONNECTION_LOST = re.compile(
    r"server closed the connection unexpectedly|terminating connection due to administrator command"
    r"|connection to server .* failed|could not connect to server|the connection is lost|connection already closed"
    r"|consuming input failed|SSL SYSCALL error|Connection refused|connection reset by peer|server conn crashed"
    r"|the database system is (?:shutting down|starting up|in recovery mode)",
    re.IGNORECASE,
)
_CONNECTION_CLASSES = {"OperationalError", "InterfaceError", "AdminShutdown", "DisconnectionError", "ConnectionTimeout"}
#: The project's own errors whose message is written for people (core/errors.py).
_OWN_ERRORS = {"ConfigError", "SettingsError", "WarehouseSchemaError", "ZorgstroomError"}


@dataclass(frozen=True)
class Cause:
    """The root cause of a failure: `kind` (lock, connection, configuration, error), a sentence for
    the operator, and whether a retry can help."""

    kind: str
    text: str
    transient: bool


def exception_chain(exc: BaseException) -> list[tuple[str, str]]:
    """(class name, message) of an exception and of everything it was raised from, outermost first."""
    chain: list[tuple[str, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((type(current).__name__, str(current)))
        orig = getattr(current, "orig", None)  # SQLAlchemy wraps the driver's exception
        if isinstance(orig, BaseException) and id(orig) not in seen:
            chain.append((type(orig).__name__, str(orig)))
            seen.add(id(orig))
        current = current.__cause__ or current.__context__
    return chain


def classify(chain: Iterable[tuple[str, str]]) -> Cause:
    """The root cause of a failure given as (class name, message) pairs, outermost first."""
    pairs = [(cls or "", msg or "") for cls, msg in chain]
    for _cls, msg in pairs:
        lock = _DUCKDB_LOCK.search(msg)
        if lock:
            return Cause("lock", _lock_text(lock), transient=True)
    for cls, msg in pairs:
        if _CONNECTION_LOST.search(msg) or (cls in _CONNECTION_CLASSES and "connection" in msg.lower()):
            return Cause(
                "connection",
                "The connection to the warehouse database was refused or lost ("
                + _first_line(_without_sqlalchemy_prefix(msg))
                + "). Nothing was half-written: every table is replaced in one transaction. Runs retry by themselves.",
                transient=True,
            )
    for cls, msg in pairs:
        if cls in _OWN_ERRORS:
            kind = "configuration" if cls in ("ConfigError", "SettingsError") else "error"
            return Cause(kind, _first_line(msg), transient=False)
    if pairs:
        cls, msg = pairs[-1]  # the innermost: where it started
        return Cause("error", f"{cls}: {_first_line(msg)}" if msg else cls, transient=False)
    return Cause("error", "unknown error", transient=False)


def _lock_text(match: re.Match) -> str:
    name = Path(match["path"]).name
    holder = ""
    if match["pid"]:
        pid = int(match["pid"])
        holder = f" by process {pid}" + (f" ({command})" if (command := process_command(pid)) else "")
    return (
        f"The warehouse file {name} is locked{holder}: DuckDB allows one process to open it while a run writes. "
        "Close that connection (BI tools read the reader's copy, data/bi/, never the warehouse file). "
        "The run is retried by itself."
    )


def process_command(pid: int, limit: int = 120) -> str:
    """The command line of a local process, shortened; empty when it is gone or cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    words = [w for w in raw.decode(errors="replace").split("\0") if w]
    text = " ".join(Path(words[0]).name if i == 0 else w for i, w in enumerate(words))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _without_sqlalchemy_prefix(msg: str) -> str:
    return re.sub(r"^\([\w.]+\)\s*", "", msg.strip())


def _first_line(msg: str) -> str:
    line = next((part.strip() for part in msg.strip().splitlines() if part.strip()), "")
    return line if len(line) <= 400 else line[:399] + "…"
