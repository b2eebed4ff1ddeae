"""Reading a file in a worker process bounded in memory and time, so that no file can take the run down.

What reading costs is bounded up front where the file tells (ingest/bounds.py); what it does not tell
(the xlsx reader's own allocations, a pathological file that takes forever) is bounded here: the worker
may allocate at most `worker_memory_mib` beyond what it starts with (RLIMIT_AS) and spend at most
`worker_seconds` on one file (RLIMIT_CPU, and a wall-clock limit on the isolated reader). A worker that
runs out, is killed or crashes (the xlsx reader aborts when an allocation fails) rejects that file as
FILE_UNREADABLE with the cause; the run goes on.

`read_isolated` reads one file in a process of its own, forked from a server that has the readers
imported already (some tens of milliseconds per file): used, when the run reads in its own process, for
an xlsx that is not certainly small (ingest/bounds.py, `XlsxBound.small`) and for a file an earlier run
stopped on. Pools of reading workers (ingest/parallel_read.py)
bound each worker with `bound_worker` and each file with `bound_task`.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import types
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from core.errors import DeliveryRejected
from ingest.deliveries import Delivery, Period
from ingest.limits import ReadLimits
from ingest.partner_config import PartnerConfig

ReadRequest = tuple[Delivery, PartnerConfig, Period, int]
#: Seconds a worker gets beyond worker_seconds to send its result back before it is stopped.
GRACE_SECONDS = 10


def _resource():
    try:
        import resource

        return resource
    except ImportError:  # pragma: no cover - not on Linux or macOS: no limits, still in its own process
        return None


def _address_space() -> int | None:
    """The process's virtual memory now (Linux), in bytes."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def bound_memory(allowance_bytes: int) -> None:
    """Let this process allocate at most `allowance_bytes` more than it has now (past it: MemoryError,
    or an abort in native code).

    The limit is on address space (RLIMIT_AS), so Arrow is first switched to the system allocator: its
    default (mimalloc) reserves a gigabyte of address space on first use without using it, which would
    count against the limit while costing no memory."""
    import pyarrow

    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    resource, now = _resource(), _address_space()
    if resource is None or now is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = now + allowance_bytes
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def bound_task(seconds: int | None) -> None:
    """Let this process spend at most `seconds` more CPU time (None: no limit), past which it is stopped."""
    resource = _resource()
    if resource is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if seconds is None:
        resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def bound_worker(limits: ReadLimits) -> None:
    """Initializer of a pool's reading worker: the readers imported first, then its memory bounded."""
    import ingest.process  # noqa: F401  (imported before the limit, so that the limit is what reading adds)

    bound_memory(limits.worker_memory_bytes)


# --- why a worker failed, in words for the partner -------------------------------------------------


def out_of_memory(limits: ReadLimits) -> DeliveryRejected:
    return DeliveryRejected(
        "FILE_UNREADABLE",
        "Reading the file needs more memory than one file may use (read limit "
        f"worker_memory_mib = {limits.worker_memory_mib:,}). Delete empty rows and columns around the data, split "
        "the export or send CSV; if the export is right as it is, ask the pipeline team to raise the limit.",
    )


def out_of_time(limits: ReadLimits) -> DeliveryRejected:
    return DeliveryRejected(
        "FILE_UNREADABLE",
        "Reading the file took longer than one file may take (read limit "
        f"worker_seconds = {limits.worker_seconds:,}). Split the export, or send CSV; if the export is right as it "
        "is, ask the pipeline team to raise the limit.",
    )


def crashed(exitcode: int | None, limits: ReadLimits) -> DeliveryRejected:
    """The rejection for a worker that stopped without an answer, by how it stopped."""
    if exitcode is not None and exitcode < 0:
        sig = -exitcode
        if sig == getattr(signal, "SIGXCPU", -1):
            return out_of_time(limits)
        if sig in (signal.SIGABRT, signal.SIGKILL):
            cause = {
                signal.SIGABRT: "it aborted, as the spreadsheet reader does when the memory the file asks for "
                "cannot be had",
                signal.SIGKILL: "it was killed, usually for using too much memory",
            }[signal.Signals(sig)]
        else:
            cause = f"it crashed (signal {signal.Signals(sig).name})"
    else:
        cause = f"it stopped with exit code {exitcode}"
    return DeliveryRejected(
        "FILE_UNREADABLE",
        f"The file could not be read: the reader stopped on it ({cause}). Save it again (as .xlsx or CSV) and resend; "
        "if it keeps failing, send it to the pipeline team.",
    )


# --- one file in a process of its own --------------------------------------------------------------


def _context() -> Any:  # a forkserver (or spawn) context: BaseContext does not declare Process
    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:  # pragma: no cover - no forkserver (Windows)
        return multiprocessing.get_context("spawn")
    ctx.set_forkserver_preload(["ingest.process"])  # forked with the readers imported: milliseconds per file
    return ctx


_main_lock = threading.Lock()


@contextmanager
def _without_main_module():
    """While a reader process is started: multiprocessing would have it import the main module again (under
    the dagster CLI that is dagster itself, most of a second per file). The reader needs nothing from it."""
    with _main_lock:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main


def _read_child(conn: Connection, request: ReadRequest, limits: ReadLimits, data: bytes | None) -> None:
    """Runs in the isolated process: bound it, read, send the result (or the rejection) back."""
    from ingest.process import read_delivery

    delivery, partner, period, version = request
    os.environ["RUST_BACKTRACE"] = "0"  # an aborting reader says why in one line, not a page of stack
    try:
        bound_memory(limits.worker_memory_bytes)
        bound_task(limits.worker_seconds)
        with tempfile.TemporaryDirectory(prefix="zorgstroom-read-") as tmp:
            if data is not None:  # an object store's file, fetched by the parent: read from a local copy
                local = Path(tmp) / delivery.path.name
                local.write_bytes(data)
                delivery = dataclasses.replace(delivery, path=local)
            item = read_delivery(delivery, partner, period, version, limits=limits)
            conn.send(("read", item))
    except DeliveryRejected as exc:
        conn.send(("rejected", exc.reason_code, exc.message))
    except MemoryError:
        conn.send(("memory",))
    finally:
        conn.close()


def read_isolated(request: ReadRequest, limits: ReadLimits):
    """Read one delivery in a process of its own, bounded in memory and time: the ReadDelivery, or
    DeliveryRejected (the file's own rejection, or FILE_UNREADABLE when the reader ran out or died)."""
    delivery = request[0]
    local = isinstance(delivery.path, Path) and not hasattr(delivery.path, "protocol")
    data = None if local else delivery.path.read_bytes()
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_read_child, args=(sender, request, limits, data), daemon=True)
    with _without_main_module():
        process.start()
    sender.close()
    message, timed_out = None, False
    try:
        if receiver.poll(limits.worker_seconds + GRACE_SECONDS):
            message = receiver.recv()
        else:
            timed_out = True
    except (EOFError, OSError):
        message = None  # the worker died before it answered
    finally:
        receiver.close()
        if timed_out:
            process.kill()
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
            process.join()
    if timed_out:
        raise out_of_time(limits)
    if message is None:
        raise crashed(process.exitcode, limits)
    if message[0] == "read":
        return dataclasses.replace(message[1], delivery=delivery)
    if message[0] == "rejected":
        raise DeliveryRejected(message[1], message[2])
    raise out_of_memory(limits)
