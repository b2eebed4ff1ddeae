"""Ingest the deliveries of one feed into its staging table, one transaction per delivery.

Per file in the partners' landing folders, in the pipeline's own order (period, then version,
then arrival), never the partner's:
- already in delivery_log (same name and content): nothing to do;
- same content as a logged or earlier file: logged as duplicate, not loaded;
- no period in its name, or unreadable: logged as rejected with the reason;
- otherwise loaded: its accepted rows into the staging table, its quarantined rows into
  quarantine_rows, its log record into delivery_log, and the earlier deliveries of the same
  partner and period with a lower or equal version marked superseded and their rows removed,
  all in one transaction. A lower version arriving after a higher one is superseded on arrival.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from core.errors import DeliveryRejected
from ingest.deliveries import Delivery, Period, discover_deliveries, parse_period_and_version
from ingest.partner_config import PartnerConfig
from ingest.process import DeliveryResult, process_delivery, utc_now
from ingest.reference import Reference
from schemas.tables import FEED_STAGING, TABLES
from warehouse.db import delete_rows, ensure_table, insert_frame, read_table

LOG_TABLE = "delivery_log"
LOG_COLUMNS = TABLES[LOG_TABLE].column_names


@dataclass
class FeedIngestReport:
    feed: str
    log_rows: list[dict] = field(default_factory=list)  # delivery_log records written this run

    def count(self, status: str) -> int:
        return sum(1 for r in self.log_rows if r["delivery_status"] == status)

    @property
    def rows_accepted(self) -> int:
        return sum(r["rows_accepted"] for r in self.log_rows)

    @property
    def rows_quarantined(self) -> int:
        return sum(r["rows_quarantined"] for r in self.log_rows)


def _log_record(d: Delivery, status: str, *, period: Period | None = None, version: int | None = None,
                result: DeliveryResult | None = None, reason_code: str | None = None, reason: str | None = None,
                duplicate_of: str | None = None, superseded_by: str | None = None) -> dict:
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


def _log_frame(records: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(records, columns=LOG_COLUMNS)
    return df.astype({
        c: ("Int64" if c in ("delivery_version", "rows_read", "rows_accepted", "rows_quarantined")
            else "datetime64[us]" if c in ("received_at", "processed_at") else "str")
        for c in LOG_COLUMNS
    })


def ingest_feed(engine: sa.Engine, feed: str, partners: dict[str, PartnerConfig], landing_dir, reference: Reference,
                key: bytes, log: Callable[[str], None] = lambda _m: None) -> FeedIngestReport:
    """Load every new delivery of `feed` found in the landing zone. Returns what was logged this run."""
    staging = FEED_STAGING[feed]
    feed_partners = {code: p for code, p in partners.items() if p.feed == feed}
    report = FeedIngestReport(feed)
    with engine.begin() as conn:
        for name in (staging, LOG_TABLE, "quarantine_rows"):
            ensure_table(conn, TABLES[name])
    logged = read_table(engine, LOG_TABLE)
    known_ids = set(logged["delivery_id"])
    hash_owner = dict(zip(logged["content_hash"], logged["delivery_id"]))
    in_force = logged[logged["delivery_status"] == "loaded"][["delivery_id", "partner_code", "delivery_period", "delivery_version"]]
    in_force = {r.delivery_id: (r.partner_code, r.delivery_period, int(r.delivery_version)) for r in in_force.itertuples()}

    new = [d for d in discover_deliveries(landing_dir, feed_partners) if d.delivery_id not in known_ids]
    ordered: list[tuple[tuple, Delivery, Period, int]] = []
    for d in new:
        try:
            period, version = parse_period_and_version(d.source_file)
        except DeliveryRejected as exc:
            _write(engine, feed, [], None, _log_record(d, "rejected", reason_code=exc.reason_code, reason=exc.message), report)
            continue
        ordered.append(((period.start, version, d.received_at, d.source_file), d, period, version))
    ordered.sort(key=lambda o: o[0])
    log(f"{feed}: {len(new)} new file(s) in {len(feed_partners)} partner folder(s)")

    for _, d, period, version in ordered:
        if d.content_hash in hash_owner:
            _write(engine, feed, [], None, _log_record(d, "duplicate", period=period, version=version,
                   reason_code="FILE_DUPLICATE", reason=f"Same content as {hash_owner[d.content_hash]}; not loaded again.",
                   duplicate_of=hash_owner[d.content_hash]), report)
            continue
        hash_owner[d.content_hash] = d.delivery_id
        same_scope = {i: v for i, (p, per, v) in in_force.items() if p == d.partner_code and per == period.label}
        newer = [i for i, v in same_scope.items() if v > version]
        if newer:
            _write(engine, feed, [], None, _log_record(d, "superseded", period=period, version=version,
                   reason_code="FILE_OLDER_VERSION", reason=f"Version {version} arrived after version {same_scope[newer[0]]} of the same period; not loaded.",
                   superseded_by=newer[0]), report)
            continue
        try:
            result = process_delivery(d, feed_partners[d.partner_code], period, version, reference, key)
        except DeliveryRejected as exc:
            _write(engine, feed, [], None, _log_record(d, "rejected", period=period, version=version,
                   reason_code=exc.reason_code, reason=exc.message), report)
            log(f"{d.delivery_id}: rejected ({exc.reason_code})")
            continue
        superseded = list(same_scope)
        _write(engine, feed, superseded, result, _log_record(d, "loaded", period=period, version=version, result=result), report)
        for i in superseded:
            in_force.pop(i)
        in_force[d.delivery_id] = (d.partner_code, period.label, version)
        log(f"{d.delivery_id}: {result.rows_read} rows read, {len(result.accepted)} accepted, "
            f"{result.rows_quarantined} quarantined" + (f", supersedes {superseded}" if superseded else ""))
    return report


def _write(engine: sa.Engine, feed: str, superseded: list[str], result: DeliveryResult | None, record: dict,
           report: FeedIngestReport) -> None:
    """One transaction: retire superseded deliveries, add this delivery's rows, quarantine and log record."""
    staging = FEED_STAGING[feed]
    with engine.begin() as conn:
        if superseded:
            delete_rows(conn, staging, "delivery_id", superseded)
            log_t = sa.table(LOG_TABLE, sa.column("delivery_id"), sa.column("delivery_status"), sa.column("superseded_by"))
            conn.execute(log_t.update().where(log_t.c.delivery_id.in_(superseded))
                         .values(delivery_status="superseded", superseded_by=record["delivery_id"]))
        if result is not None:
            insert_frame(conn, staging, result.accepted)
            insert_frame(conn, "quarantine_rows", result.quarantine)
        insert_frame(conn, LOG_TABLE, _log_frame([record]))
    report.log_rows.append(record)
