"""Reading and validating delivery files in worker processes, while the main process decides and loads.

Reading a file (decoding, CSV or xlsx, finding the header, mapping the partner's headers) depends on
that file alone, so it can run on the other cores. The ingester still decides and loads deliveries
strictly in its own order; it only asks for the files in that order, and the workers read a few files
ahead. A file that cannot be read comes back as its rejection (reason code and message), exactly as
when read in the main process. Validating (parsing, pseudonymising, the schema, duplicate keys) is
done per batch of deliveries of one partner (`submit_validation`): per file it would cost several
times more, as most of its cost is per call and the same people, dates and codes recur every month.

Used only where it pays: a local landing folder (worker processes cannot see an in-memory or
authenticated object store of the parent) and enough bytes to amortise starting the workers
(a nightly run with one new file reads it in the main process).

No file can take the run down (ingest/sandbox.py): the pool's workers are bounded in memory and each
file in CPU time; a worker that dies breaks the pool, and then the file asked for is read again alone,
in an isolated bounded process (a file that broke the pool dies there too and is rejected with the
cause), the pool is started afresh and the files it had in hand are handed to it again. Without a
pool, CSV files and certainly small xlsx files are read here, after their bounds are checked
(ingest/bounds.py), while any other xlsx (its reader allocates in native code, where running out of
memory aborts) and every file an earlier run stopped on is read isolated.
Before a file is read, `on_read` is told (the ingester records the attempt, warehouse/attempts.py).
"""

from __future__ import annotations

import os
import pathlib
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

from core.errors import ConfigError, DeliveryRejected
from core.timing import StageTimer
from ingest.deliveries import Delivery, Period, open_no_follow
from ingest.limits import ReadLimits, default_limits
from ingest.partner_config import PartnerConfig
from ingest.process import DeliveryResult, ReadDelivery, read_delivery, validate_deliveries
from ingest.readers import sniff_format, xlsx_bound
from ingest.reference import Reference
from ingest.sandbox import bound_task, bound_worker, read_isolated

#: Less than this to read stays in the main process: starting the workers (each imports pandas and
#: pandera) costs a few seconds, more than they save on the demo's 10 MB (bench/RESULTS.md).
MIN_BYTES_FOR_WORKERS = 16 * 2**20
#: Files each worker may have read ahead of the one the ingester waits for (bounds memory).
AHEAD_PER_WORKER = 2

ReadRequest = tuple[Delivery, PartnerConfig, Period, int]


def reader_min_bytes() -> int:
    """ZORGSTROOM_READ_WORKERS_MIN_BYTES, else MIN_BYTES_FOR_WORKERS."""
    return int(os.environ.get("ZORGSTROOM_READ_WORKERS_MIN_BYTES", MIN_BYTES_FOR_WORKERS))


def reader_workers() -> int:
    """Worker processes for reading: ZORGSTROOM_READ_WORKERS, else one per CPU (0 or 1: no workers)."""
    configured = os.environ.get("ZORGSTROOM_READ_WORKERS")
    if configured is not None:
        return max(int(configured), 0)
    return os.cpu_count() or 1


def _read_in_worker(
    delivery: Delivery, partner: PartnerConfig, period: Period, version: int, limits: ReadLimits
) -> tuple:
    """Runs in a worker: the read delivery, or its rejection as plain values (picklable), plus seconds."""
    timer = StageTimer()
    bound_task(limits.worker_seconds)
    try:
        item = read_delivery(delivery, partner, period, version, timer, limits)
    except DeliveryRejected as exc:
        return ("rejected", exc.reason_code, exc.message, timer.seconds)
    return ("read", item, None, timer.seconds)


def _validate_in_worker(
    items: list[ReadDelivery], partner: PartnerConfig, reference: Reference, key: bytes
) -> tuple[dict[str, DeliveryResult], dict[str, float]]:
    """Runs in a worker: validate_deliveries, plus its seconds per stage."""
    timer = StageTimer()
    bound_task(None)  # validating a batch is bounded by the batch size, not per file
    return validate_deliveries(items, partner, reference, key, timer), timer.seconds


def needs_isolation(delivery: Delivery, limits: ReadLimits, sheet: str | None = None) -> bool:
    """Whether a file must be read in an isolated worker rather than here: an xlsx whose first sheet is not
    certainly small (its reader allocates in native code, where running out of memory aborts the process
    instead of raising), or an old .xls / encrypted workbook. Raises DeliveryRejected for an xlsx past a limit."""
    try:
        with open_no_follow(delivery.path) as fh:
            kind = sniff_format(fh.read(8))
    except OSError:
        return False  # the read here will say what is wrong
    if kind == "text":
        return False
    bound = xlsx_bound(delivery.path, limits, sheet) if kind == "xlsx" else None
    return bound is None or not bound.small


def _sheet_of(partner: PartnerConfig, period: Period) -> str | None:
    """The sheet the partner's layout for the period names (None: the first, or no layout: the read says so)."""
    try:
        return partner.layout_for(period.start_month).sheet
    except ConfigError:
        return None


class AheadReader:
    """Reads the requested files in order, in worker processes, a few files ahead of the caller.

    `read(request)` returns the ReadDelivery or raises DeliveryRejected, like `read_delivery`. Requests
    must be asked for in the order given to the constructor; a request that is never asked for (a
    duplicate decided without reading) is skipped. Without workers it reads CSV and small xlsx files in
    this process and other xlsx files isolated. `isolate`: delivery ids always read isolated (an earlier run
    stopped on them);
    `on_read` is called with the deliveries about to be read (in this process or handed to a worker).
    """

    def __init__(
        self,
        requests: Iterable[ReadRequest],
        timer: StageTimer,
        workers: int | None = None,
        log: Callable[[str], None] = lambda _m: None,
        min_bytes: int | None = None,
        limits: ReadLimits | None = None,
        isolate: Iterable[str] = (),
        on_read: Callable[[list[Delivery]], None] = lambda _d: None,
    ) -> None:
        self.pending = deque(requests)
        self.timer = timer
        self.log = log
        self.limits = limits or default_limits()
        self.isolate = set(isolate)
        self.on_read = on_read
        self.futures: dict[str, Future] = {}
        self.submitted: dict[str, ReadRequest] = {}
        self.order: deque[str] = deque()
        workers = reader_workers() if workers is None else workers
        local = all(type(r[0].path) in (pathlib.PosixPath, pathlib.WindowsPath) for r in self.pending)
        self.pool: ProcessPoolExecutor | None = None
        self.workers = workers
        min_bytes = reader_min_bytes() if min_bytes is None else min_bytes
        if workers > 1 and local and sum(r[0].size_bytes for r in self.pending) >= min_bytes:
            self.pool = self._new_pool()
            self.window = workers * AHEAD_PER_WORKER
            log(f"reading {len(self.pending)} files in {workers} worker processes")

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers, mp_context=get_context("spawn"), initializer=bound_worker, initargs=(self.limits,)
        )

    def _fill(self) -> None:
        batch: list[ReadRequest] = []
        while self.pool is not None and self.pending and len(self.futures) + len(batch) < self.window:
            request = self.pending.popleft()
            if request[0].delivery_id in self.isolate:
                continue  # read isolated when asked for
            batch.append(request)
        if not batch:
            return
        self.on_read([r[0] for r in batch])
        for request in batch:
            self._submit(request)

    def _submit(self, request: ReadRequest) -> None:
        delivery = request[0]
        assert self.pool is not None
        self.futures[delivery.delivery_id] = self.pool.submit(_read_in_worker, *request, self.limits)
        self.submitted[delivery.delivery_id] = request
        self.order.append(delivery.delivery_id)

    def _read_here(self, request: ReadRequest) -> ReadDelivery:
        """Without a worker pool: CSV in this process, xlsx (and files to isolate) in an isolated worker."""
        delivery, partner, period, version = request
        self.on_read([delivery])
        if delivery.delivery_id in self.isolate or needs_isolation(delivery, self.limits, _sheet_of(partner, period)):
            with self.timer.stage("read"):
                return read_isolated(request, self.limits)
        return read_delivery(delivery, partner, period, version, self.timer, self.limits)

    def _restart_pool(self) -> None:
        """A worker died: a new pool, and the reads the old one had in hand given to it again."""
        lost = [self.submitted[i] for i in self.order if i in self.futures]
        assert self.pool is not None
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.futures.clear()
        self.order.clear()
        self.pool = self._new_pool()
        self.log(f"a reading worker stopped; started new workers and handed them {len(lost)} file(s) again")
        for request in lost:
            self._submit(request)

    def read(self, request: ReadRequest) -> ReadDelivery:
        delivery = request[0]
        wanted = delivery.delivery_id
        if self.pool is None:
            return self._read_here(request)
        while self.order and self.order[0] != wanted:  # read ahead, then decided without reading: dropped
            self.futures.pop(self.order.popleft()).cancel()
        if wanted not in self.futures:
            while self.pending and self.pending[0][0].delivery_id != wanted:
                self.pending.popleft()
        self._fill()
        future = self.futures.pop(wanted, None)
        if future is None:  # not in the plan, or to be read isolated
            if self.pending and self.pending[0][0].delivery_id == wanted:
                self.pending.popleft()
            self.on_read([delivery])
            with self.timer.stage("read"):
                return read_isolated(request, self.limits)
        self.order.popleft()
        try:
            with self.timer.stage("read"):  # the wall time the ingester waits for its reader
                status, value, message, seconds = future.result()
        except BrokenProcessPool:
            # which file killed the worker is not known: this one is read again alone, bounded; if it was
            # the one, it dies there too and is rejected with the cause
            self._restart_pool()
            with self.timer.stage("read"):
                return read_isolated(request, self.limits)
        for name, sec in seconds.items():
            self.timer.seconds[f"{name}_in_workers"] = self.timer.seconds.get(f"{name}_in_workers", 0.0) + sec
        self._fill()
        if status == "rejected":
            raise DeliveryRejected(value, message)
        return value

    def submit_validation(
        self, items: list[ReadDelivery], partner: PartnerConfig, reference: Reference, key: bytes
    ) -> Callable[[], dict[str, DeliveryResult]]:
        """Validate deliveries of one partner in a worker (or here, without workers); returns a function
        that waits for the results. Seconds spent in the worker are added to the timer when collected."""
        if self.pool is None:
            return lambda: validate_deliveries(items, partner, reference, key, self.timer)
        future = self.pool.submit(_validate_in_worker, items, partner, reference, key)

        def collect() -> dict[str, DeliveryResult]:
            try:
                with self.timer.stage("validate"):  # the wall time the ingester waits for the worker
                    results, seconds = future.result()
            except (BrokenProcessPool, CancelledError):  # a reading worker died meanwhile: validate here
                return validate_deliveries(items, partner, reference, key, self.timer)
            for name, sec in seconds.items():
                self.timer.seconds[f"{name}_in_workers"] = self.timer.seconds.get(f"{name}_in_workers", 0.0) + sec
            return results

        return collect

    def close(self) -> None:
        if self.pool is not None:
            for future in self.futures.values():
                future.cancel()
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __enter__(self) -> AheadReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
