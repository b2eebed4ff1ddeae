"""Delivery files in the landing zone: which partner, which period, which version, which content.

A delivery declares its partner by its folder (`<landing>/<partner_code>/`) and its period and
version by its file name: a period as `YYYYMM`, `YYYY-MM`, `YYYY-Qn` (or `YYYYQn`), and an
optional `_v2`, `_v3`, ... for a corrected re-send. Anything else in the name is free text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from core.errors import DeliveryRejected

_QUARTER = re.compile(r"(?<!\d)(?P<year>(19|20)\d{2})-?Q(?P<q>[1-4])(?!\d)", re.IGNORECASE)
_MONTH = re.compile(r"(?<!\d)(?P<year>(19|20)\d{2})-?(?P<month>0[1-9]|1[0-2])(?!\d)")
_VERSION = re.compile(r"_v(?P<version>\d{1,3})(?!\d)", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """A delivery period: a month (`2019-01`) or a quarter (`2019-Q1`)."""

    label: str
    start: date
    end: date

    @property
    def start_month(self) -> str:
        return self.start.strftime("%Y-%m")


def month_period(year: int, month: int) -> Period:
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    return Period(f"{year:04d}-{month:02d}", start, date.fromordinal(end.toordinal() - 1))


def quarter_period(year: int, quarter: int) -> Period:
    start = date(year, 3 * quarter - 2, 1)
    last_month = month_period(year, 3 * quarter)
    return Period(f"{year:04d}-Q{quarter}", start, last_month.end)


def parse_period_and_version(file_name: str) -> tuple[Period, int]:
    """Period and version from a delivery's file name; DeliveryRejected when there is no period."""
    stem = Path(file_name).stem
    q = _QUARTER.search(stem)
    if q:
        period = quarter_period(int(q["year"]), int(q["q"]))
    else:
        m = _MONTH.search(stem)
        if not m:
            raise DeliveryRejected(
                "FILE_NO_PERIOD",
                f"The file name {file_name!r} holds no period. Name deliveries with the period they cover, "
                "as YYYYMM, YYYY-MM or YYYY-Qn (for example zorggroep_2024-03.csv), and _v2 for a corrected re-send.",
            )
        period = month_period(int(m["year"]), int(m["month"]))
    v = _VERSION.search(stem)
    return period, int(v["version"]) if v else 1


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Delivery:
    """One file in a partner's landing folder."""

    path: Path
    partner_code: str
    source_file: str  # path relative to the partner's folder
    content_hash: str
    size_bytes: int
    received_at: datetime

    @property
    def delivery_id(self) -> str:
        return f"{self.partner_code}/{self.source_file}@{self.content_hash[:12]}"


def describe_file(path: Path, partner_code: str, partner_dir: Path) -> Delivery:
    """A file's identity. Arrival is its modification time; an object store that keeps none
    (mtime 0) gets the time it was first seen."""
    stat = path.stat()
    mtime = getattr(stat, "st_mtime", 0) or datetime.now(UTC).timestamp()
    return Delivery(
        path=path,
        partner_code=partner_code,
        source_file=path.relative_to(partner_dir).as_posix(),
        content_hash=sha256_of(path),
        size_bytes=stat.st_size,
        received_at=datetime.fromtimestamp(mtime, tz=UTC).replace(tzinfo=None),
    )


def is_hidden(relative: Path) -> bool:
    """A file or folder whose name starts with a dot (an upload in progress, a tool's own file): never a delivery."""
    return any(part.startswith(".") for part in relative.parts)


def discover_deliveries(landing_dir: Path, partner_codes: list[str] | set[str]) -> list[Delivery]:
    """Every file in the landing folders of the given partners (hidden files skipped), by name."""
    found: list[Delivery] = []
    for code in sorted(partner_codes):
        folder = landing_dir / code
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not is_hidden(path.relative_to(folder)):
                found.append(describe_file(path, code, folder))
    return found
