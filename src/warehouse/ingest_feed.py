"""Ingest the deliveries of one feed into its staging table.

Per file in the partners' landing folders, in the pipeline's own order (period, then version,
then arrival), never the partner's:
- already in delivery_log (same name and content): nothing to do;
- same content as a logged or earlier file of the same partner and period (any name): logged as
  duplicate, not loaded;
- no period in its name, or unreadable: logged as rejected with the reason;
- a link (never followed), a hidden name (never read), a pipe or device: logged once, rejected or
  skipped, and left where it is (ingest/deliveries.py, `list_landing`);
- a lower version arriving after a higher one of the same partner and period: superseded on arrival;
- otherwise loaded: its accepted rows into the staging table, its quarantined rows into
  quarantine_rows, its record into delivery_log; earlier deliveries of the same partner and
  period (lower or equal version) are marked superseded and their staging rows removed.
Deliveries are validated and written in batches of whole deliveries; each batch is one
transaction, so the tables always hold complete deliveries and an interrupted run loses nothing
that was committed and half-writes nothing. Every file is recorded in read_attempts before it is
read; the batch that logs it removes the record. A file an earlier run stopped on is read only in an
isolated, bounded worker (warehouse/attempts.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from core.errors import DeliveryRejected
from core.paths import as_path
from core.timing import StageTimer
from ingest.deliveries import (
    FILE,
    Delivery,
    NotRead,
    Period,
    describe_file,
    list_landing,
    not_read,
    parse_period_and_version,
    survey_partner_folders,
)
from ingest.limits import ReadLimits, default_limits
from ingest.parallel_read import AheadReader
from ingest.partner_config import PartnerConfig
from ingest.process import DeliveryResult, ReadDelivery, utc_now
from ingest.reference import Reference
from schemas.tables import FEED_STAGING, TABLES
from warehouse.attempts import ATTEMPTS, clear_attempts, record_attempts, unfinished_attempts
from warehouse.db import delete_rows, ensure_table, insert_frame, read_table

LOG_TABLE = "delivery_log"
LOG_COLUMNS = TABLES[LOG_TABLE].column_names
#: Rows per batch (one transaction, one validation pass): bounds memory, amortises per-file costs.
BATCH_ROWS = 250_000
DEFAULT_MAX_FILE_BYTES = 200 * 1024 * 1024
#: delivery_id prefix of files that belong to no partner (their source_file is relative to the landing folder)
UNROUTED = "(unrouted)"


@dataclass
class FeedIngestReport:
    feed: str
    log_rows: list[dict] = field(default_factory=list)  # delivery_log records written this run
    timer: StageTimer = field(
        default_factory=StageTimer
    )  # seconds per stage: discover, read, map_parse, validate, load

    def count(self, status: str) -> int:
        return sum(1 for r in self.log_rows if r["delivery_status"] == status)

    @property
    def rows_accepted(self) -> int:
        return sum(r["rows_accepted"] for r in self.log_rows)

    @property
    def rows_quarantined(self) -> int:
        return sum(r["rows_quarantined"] for r in self.log_rows)


def log_record(
    d: Delivery,
    status: str,
    *,
    period: Period | None = None,
    version: int | None = None,
    result: DeliveryResult | None = None,
    reason_code: str | None = None,
    reason: str | None = None,
    duplicate_of: str | None = None,
    superseded_by: str | None = None,
) -> dict:
    return {
        "delivery_id": d.delivery_id,
        "partner_code": d.partner_code,
        "delivery_period": period.label if period else None,
        "delivery_version": version,
        "source_file": d.source_file,
        "content_hash": d.content_hash,
        "received_at": d.received_at,
        "processed_at": utc_now(),
        "delivery_status": status,
        "rows_read": result.rows_read if result else 0,
        "rows_accepted": len(result.accepted) if result else 0,
        "rows_quarantined": result.rows_quarantined if result else 0,
        "reason_code": reason_code,
        "reason": reason,
        "layout": result.layout if result else None,
        "unmapped_headers": "|".join(result.unmapped_headers) if result and result.unmapped_headers else None,
        "duplicate_of": duplicate_of,
        "superseded_by": superseded_by,
    }


def superseded_reason(new_id: str) -> str:
    return f"Replaced by the later delivery {new_id} for the same partner and period; its rows are withdrawn."


def log_frame(records: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(records, columns=LOG_COLUMNS)
    return df.astype(
        {
            c: (
                "Int64"
                if c in ("delivery_version", "rows_read", "rows_accepted", "rows_quarantined")
                else "datetime64[us]"
                if c in ("received_at", "processed_at")
                else "str"
            )
            for c in LOG_COLUMNS
        }
    )


@dataclass
class _Batch:
    """Deliveries decided but not yet written."""

    to_validate: list[tuple[ReadDelivery, PartnerConfig]] = field(default_factory=list)
    other_records: list[dict] = field(default_factory=list)  # duplicate, rejected, superseded on arrival
    superseded_by: dict[str, str] = field(default_factory=dict)  # delivery_id -> the one replacing it

    @property
    def rows(self) -> int:
        return sum(it.rows_read for it, _ in self.to_validate)

    def __bool__(self) -> bool:
        return bool(self.to_validate or self.other_records or self.superseded_by)


class FeedIngester:
    """The state of one feed's ingestion run: what is in force, which contents are known."""

    def __init__(
        self,
        engine: sa.Engine,
        feed: str,
        partners: dict[str, PartnerConfig],
        reference: Reference,
        key: bytes,
        log: Callable[[str], None],
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        limits: ReadLimits | None = None,
    ) -> None:
        self.engine, self.feed, self.reference, self.key, self.log = engine, feed, reference, key, log
        self.max_file_bytes = max_file_bytes
        self.limits = limits or default_limits()
        self.partners = {code: p for code, p in partners.items() if p.feed == feed}
        self.staging = FEED_STAGING[feed]
        self.report = FeedIngestReport(feed)
        self.timer = self.report.timer
        with engine.begin() as conn:
            for name in (self.staging, LOG_TABLE, "quarantine_rows", ATTEMPTS):
                ensure_table(conn, TABLES[name])
        self.unfinished = unfinished_attempts(engine)
        logged = read_table(engine, LOG_TABLE)
        self.known_ids = set(logged["delivery_id"])
        # A duplicate is the same content for the same partner and period: an unchanged snapshot
        # delivered for another period is that period's delivery, not a duplicate.
        self.hash_owner = {
            (p, per, h): i
            for p, per, h, i in zip(
                logged["partner_code"], logged["delivery_period"], logged["content_hash"], logged["delivery_id"]
            )
        }
        loaded = logged[logged["delivery_status"] == "loaded"]
        self.in_db = set(loaded["delivery_id"])
        self.in_force = {
            r.delivery_id: (r.partner_code, r.delivery_period, int(r.delivery_version)) for r in loaded.itertuples()
        }

    def run(self, landing_dir: Path) -> FeedIngestReport:
        with self.timer.stage("discover"):
            files, others = survey_partner_folders(landing_dir, self.partners, self.max_file_bytes, self.log)
            new = [d for d in files if d.delivery_id not in self.known_ids]
            unread = [o for o in others if o.delivery.delivery_id not in self.known_ids]
        self.log(f"{self.feed}: {len(new)} new file(s) in the landing folders of {len(self.partners)} partner(s)")
        batch = _Batch()
        self._log_not_read(unread, batch)
        ordered = []
        for d in new:
            try:
                period, version = parse_period_and_version(d.source_file)
            except DeliveryRejected as exc:
                batch.other_records.append(log_record(d, "rejected", reason_code=exc.reason_code, reason=exc.message))
                continue
            ordered.append(((period.start, version, d.received_at, d.source_file), d, period, version))
        ordered.sort(key=lambda o: o[0])
        to_read = [
            (d, self.partners[d.partner_code], period, version)
            for _, d, period, version in ordered
            if (d.partner_code, period.label, d.content_hash) not in self.hash_owner
            and d.size_bytes <= self.max_file_bytes
        ]
        # Batches are validated (in workers, when there are several files) while the next batch is
        # read and decided; each is written, in order, once its results are in.
        waiting: tuple[_Batch, list] | None = None
        isolate = {r[0].delivery_id for r in to_read} & set(self.unfinished)
        if isolate:
            self.log(
                f"{self.feed}: an earlier run stopped while reading {len(isolate)} file(s); they are read again "
                "only in an isolated worker bounded in memory and time: " + ", ".join(sorted(isolate))
            )
        reader = AheadReader(
            to_read,
            self.timer,
            log=self.log,
            limits=self.limits,
            isolate=isolate,
            on_read=lambda deliveries: record_attempts(self.engine, deliveries),
        )
        with reader as self.reader:
            for _, d, period, version in ordered:
                self._decide(d, period, version, batch)
                if batch.rows >= BATCH_ROWS:
                    waiting = self._write_when_validated(waiting, (batch, self._submit(batch)))
                    batch = _Batch()
            if batch:
                waiting = self._write_when_validated(waiting, (batch, self._submit(batch)))
            self._write_when_validated(waiting, None)
        return self.report

    def _log_not_read(self, entries: list[NotRead], batch: _Batch) -> None:
        """Links, hidden names and special files in partner folders: logged once, never read, left in place."""
        for entry in entries:
            batch.other_records.append(
                log_record(entry.delivery, entry.status, reason_code=entry.reason_code, reason=entry.reason)
            )
        if entries:
            self.log(
                f"{self.feed}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} not read, left in place: "
                + "; ".join(f"{e.delivery.partner_code}/{e.delivery.source_file} ({e.reason_code})" for e in entries)
            )

    def _submit(self, batch: _Batch) -> list:
        """Start validating a batch: per partner, all its read deliveries in one call."""
        by_partner: dict[str, list[ReadDelivery]] = {}
        for item, partner in batch.to_validate:
            by_partner.setdefault(partner.partner_code, []).append(item)
        return [
            self.reader.submit_validation(items, self.partners[code], self.reference, self.key)
            for code, items in by_partner.items()
        ]

    def _write_when_validated(self, previous: tuple[_Batch, list] | None, current: tuple[_Batch, list] | None):
        """Write the previous batch (its validation is done or is waited for); the current one waits its turn."""
        if previous is not None:
            batch, pending = previous
            results: dict[str, DeliveryResult] = {}
            for collect in pending:
                results.update(collect())
            self._write(batch, results)
        return current

    def _decide(self, d: Delivery, period: Period, version: int, batch: _Batch) -> None:
        content = (d.partner_code, period.label, d.content_hash)
        if content in self.hash_owner:
            owner = self.hash_owner[content]
            batch.other_records.append(
                log_record(
                    d,
                    "duplicate",
                    period=period,
                    version=version,
                    reason_code="FILE_DUPLICATE",
                    reason=f"Same content as {owner}; not loaded again.",
                    duplicate_of=owner,
                )
            )
            return
        self.hash_owner[content] = d.delivery_id
        same_scope = {i: v for i, (p, per, v) in self.in_force.items() if p == d.partner_code and per == period.label}
        newer = [i for i, v in same_scope.items() if v > version]
        if newer:
            batch.other_records.append(
                log_record(
                    d,
                    "superseded",
                    period=period,
                    version=version,
                    reason_code="FILE_OLDER_VERSION",
                    reason=(
                        f"Version {version} arrived after version {same_scope[newer[0]]} of the same period; not "
                        "loaded."
                    ),
                    superseded_by=newer[0],
                )
            )
            return
        try:
            if d.size_bytes > self.max_file_bytes:
                raise DeliveryRejected(
                    "FILE_TOO_LARGE",
                    f"The file is {d.size_bytes:,} bytes; deliveries may be at most {self.max_file_bytes:,} bytes. "
                    "Split it by period, or ask the pipeline team to raise ZORGSTROOM_MAX_FILE_BYTES.",
                )
            item = self.reader.read((d, self.partners[d.partner_code], period, version))
        except DeliveryRejected as exc:
            reason = exc.message
            if d.delivery_id in self.unfinished and exc.reason_code == "FILE_UNREADABLE":
                when = f"{self.unfinished[d.delivery_id]:%Y-%m-%d %H:%M} UTC"
                reason = f"An earlier run stopped while reading this file (at {when}); read again alone: {reason}"
            batch.other_records.append(
                log_record(d, "rejected", period=period, version=version, reason_code=exc.reason_code, reason=reason)
            )
            self.log(f"{d.delivery_id}: rejected ({exc.reason_code})")
            return
        for old in same_scope:
            batch.superseded_by[old] = d.delivery_id
            self.in_force.pop(old)
        self.in_force[d.delivery_id] = (d.partner_code, period.label, version)
        batch.to_validate.append((item, self.partners[d.partner_code]))

    def _write(self, batch: _Batch, results: dict[str, DeliveryResult]) -> None:
        """Write a validated batch in one transaction."""

        records, lines = [], []
        accepted_frames, quarantine_frames = [], []
        for item, _ in batch.to_validate:
            d = item.delivery
            result = results[d.delivery_id]
            replaced_by = batch.superseded_by.get(d.delivery_id)
            status = "superseded" if replaced_by else "loaded"
            records.append(
                log_record(
                    d,
                    status,
                    period=item.period,
                    version=item.version,
                    result=result,
                    superseded_by=replaced_by,
                    reason_code="FILE_SUPERSEDED" if replaced_by else None,
                    reason=superseded_reason(replaced_by) if replaced_by else None,
                )
            )
            if status == "loaded":
                accepted_frames.append(result.accepted)
            quarantine_frames.append(result.quarantine)
            lines.append(
                f"{d.delivery_id}: {result.rows_read} rows read, {len(result.accepted)} accepted, "
                f"{result.rows_quarantined} quarantined" + (f"; superseded by {replaced_by}" if replaced_by else "")
            )
        retire = {old: new for old, new in batch.superseded_by.items() if old in self.in_db}

        with self.timer.stage("load"), self.engine.begin() as conn:
            if retire:
                delete_rows(conn, self.staging, "delivery_id", list(retire))
                log_t = sa.table(
                    LOG_TABLE,
                    *(
                        sa.column(c)
                        for c in ("delivery_id", "delivery_status", "superseded_by", "reason_code", "reason")
                    ),
                )
                for old, new in retire.items():
                    conn.execute(
                        log_t.update()
                        .where(log_t.c.delivery_id == old)
                        .values(
                            delivery_status="superseded",
                            superseded_by=new,
                            reason_code="FILE_SUPERSEDED",
                            reason=superseded_reason(new),
                        )
                    )
            if accepted_frames:
                insert_frame(conn, self.staging, pd.concat(accepted_frames, ignore_index=True))
            if quarantine_frames:
                insert_frame(conn, "quarantine_rows", pd.concat(quarantine_frames, ignore_index=True))
            all_records = batch.other_records + records
            if all_records:
                insert_frame(conn, LOG_TABLE, log_frame(all_records))
                clear_attempts(conn, [r["delivery_id"] for r in all_records])
        if lines:  # one log message per batch (each is an event in Dagster's event log), a line per delivery
            self.log(
                f"{self.feed}: loaded a batch of {len(lines)} deliveries, "
                f"{sum(len(f) for f in accepted_frames):,} rows accepted:\n" + "\n".join(lines)
            )
        self.in_db -= set(retire)
        self.in_db |= {r["delivery_id"] for r in records if r["delivery_status"] == "loaded"}
        self.known_ids |= {r["delivery_id"] for r in batch.other_records + records}
        self.report.log_rows.extend(batch.other_records + records)


def ingest_feed(
    engine: sa.Engine,
    feed: str,
    partners: dict[str, PartnerConfig],
    landing_dir: Path,
    reference: Reference,
    key: bytes,
    log: Callable[[str], None] = lambda _m: None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    limits: ReadLimits | None = None,
) -> FeedIngestReport:
    """Load every new delivery of `feed` found in the landing zone. Returns what was logged this run."""
    return FeedIngester(engine, feed, partners, reference, key, log, max_file_bytes, limits).run(as_path(landing_dir))


def log_unrouted_files(
    engine: sa.Engine,
    landing_dir: Path,
    partners: dict[str, PartnerConfig] | frozenset[str] | set[str],
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> list[dict]:
    """Files in the landing zone that belong to no configured partner: logged once as rejected.

    A file directly in the landing folder, or in a folder that is not a partner's, cannot be
    routed to a feed; the data engineer must move it or onboard the partner. `partners`: every partner
    with a mapping file, broken ones included (their files wait for the fix, they are not unrouted).
    Links anywhere outside the partner folders (a partner folder that is itself a link included) are
    logged as rejected (FILE_LINK), hidden names as skipped; none is followed, read or moved.
    """
    landing_dir = as_path(landing_dir)
    with engine.begin() as conn:
        ensure_table(conn, TABLES[LOG_TABLE])
    known = set(read_table(engine, LOG_TABLE, columns=["delivery_id"])["delivery_id"])
    records: list[dict] = []
    if not landing_dir.is_dir():
        return records
    for entry in list_landing(landing_dir, skip=partners):
        rel = entry.path.relative_to(landing_dir)
        folder = rel.parts[0] if len(rel.parts) > 1 else ""
        if entry.kind != FILE:
            gone = not_read(entry, UNROUTED, landing_dir)
            if gone.delivery.delivery_id not in known:
                records.append(
                    log_record(gone.delivery, gone.status, reason_code=gone.reason_code, reason=gone.reason)
                    | {"partner_code": None}
                )
            continue
        d = describe_file(entry.path, UNROUTED, landing_dir, max_file_bytes, entry.stat)
        if d.delivery_id in known:
            continue
        reason = (
            f"The folder {folder!r} is not a known partner: the pipeline team has not onboarded {folder!r} yet. "
            "Ask them to, or move the file to the right partner's folder."
            if folder
            else "The file lies directly in the landing folder; put it in its partner's folder."
        )
        records.append(
            log_record(d, "rejected", reason_code="FILE_UNKNOWN_PARTNER", reason=reason) | {"partner_code": None}
        )
    if records:
        with engine.begin() as conn:
            insert_frame(conn, LOG_TABLE, log_frame(records))
    return records
