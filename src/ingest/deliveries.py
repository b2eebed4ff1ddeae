"""Delivery files in the landing zone: which partner, which period, which version, which content.

A delivery declares its partner by its folder (`<landing>/<partner_code>/`) and its period and
version by its file name: a period as `YYYYMM`, `YYYY-MM`, `YYYY-Qn` (or `YYYYQn`), and an
optional `_v2`, `_v3`, ... for a corrected re-send. Anything else in the name is free text.

The landing zone is confined: `list_landing` is the one listing the ingester, the landing sensor and
the unrouted-files asset use. It never follows a link (a file or folder that is a symbolic link is
reported as such, not entered or read), does not enter hidden folders, and reports hidden files
and anything that is not a regular file (a pipe, a device) instead of skipping them silently, so
each gets a delivery_log record. Files that are never read (those, and files over the size limit)
are identified by what the listing shows, not by hashing their bytes (`listing_fingerprint`).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat as stat_module
from collections.abc import Iterable
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


def _is_local(path: Path) -> bool:
    return isinstance(path, Path) and not hasattr(path, "protocol")


def open_no_follow(path: Path):
    """The file for reading, refused (OSError) when it has become a link since it was listed."""
    if _is_local(path):
        return os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")
    return path.open("rb")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open_no_follow(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def listing_fingerprint(kind: str, relative: str, *details: object) -> str:
    """The content hash of an entry that is never read (a link, a hidden file, a file over the size limit):
    a SHA-256 of what the listing shows, so it is logged once and again only when that changes."""
    return hashlib.sha256("\x00".join([kind, relative, *map(str, details)]).encode()).hexdigest()


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


def describe_file(
    path: Path, partner_code: str, partner_dir: Path, max_bytes: int | None = None, stat: os.stat_result | None = None
) -> Delivery:
    """A file's identity. Arrival is its modification time; an object store that keeps none
    (mtime 0) gets the time it was first seen. A file over `max_bytes` is not hashed (it is never read)."""
    stat = stat or path.stat()
    mtime = getattr(stat, "st_mtime", 0) or datetime.now(UTC).timestamp()
    relative = path.relative_to(partner_dir).as_posix()
    too_large = max_bytes is not None and stat.st_size > max_bytes
    return Delivery(
        path=path,
        partner_code=partner_code,
        source_file=relative,
        content_hash=listing_fingerprint("large", relative, stat.st_size, getattr(stat, "st_mtime_ns", mtime))
        if too_large
        else sha256_of(path),
        size_bytes=stat.st_size,
        received_at=datetime.fromtimestamp(mtime, tz=UTC).replace(tzinfo=None),
    )


def is_hidden(relative: Path) -> bool:
    """A file or folder whose name starts with a dot (an upload in progress, a tool's own file): never a delivery."""
    return any(part.startswith(".") for part in relative.parts)


FILE, LINK, HIDDEN, SPECIAL = "file", "link", "hidden", "special"


@dataclass(frozen=True)
class LandingEntry:
    """One thing in the landing zone: a regular file to read, or a link, hidden name or special file to log."""

    path: Path
    kind: str  # FILE, LINK, HIDDEN or SPECIAL
    stat: os.stat_result | None  # of the entry itself (a link's own, never its target's)


def _children(folder: Path) -> list[tuple[Path, str, os.stat_result | None]]:
    """(path, kind, stat) of a folder's entries, by name; 'dir' for a real folder to enter. Links are never followed."""
    out: list[tuple[Path, str, os.stat_result | None]] = []
    if _is_local(folder):
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                st = entry.stat(follow_symlinks=False)
                if stat_module.S_ISLNK(st.st_mode):
                    kind = LINK
                elif entry.name.startswith("."):
                    kind = HIDDEN
                elif stat_module.S_ISDIR(st.st_mode):
                    kind = "dir"
                elif stat_module.S_ISREG(st.st_mode):
                    kind = FILE
                else:
                    kind = SPECIAL
                out.append((folder / entry.name, kind, st))
        return out
    for child in sorted(folder.iterdir(), key=lambda c: c.name):  # an object store: no links, no devices
        kind = HIDDEN if child.name.startswith(".") else "dir" if child.is_dir() else FILE
        out.append((child, kind, None))
    return out


def list_landing(folder: Path, skip: Iterable[str] = ()) -> list[LandingEntry]:
    """Every entry under `folder` (sorted, depth first), without following links or entering hidden folders.

    `skip`: names of folders directly in `folder` that are not entered (partner folders, for the
    listing of files that belong to no partner). A folder in `skip` that is a link is still listed."""
    skipped = set(skip)
    found: list[LandingEntry] = []
    stack = [(folder, True)]
    while stack:
        current, top = stack.pop()
        children = _children(current)
        subfolders = []
        for path, kind, st in children:
            if kind == "dir":
                if not (top and path.name in skipped):
                    subfolders.append((path, False))
                continue
            found.append(LandingEntry(path, kind, st))
        stack.extend(reversed(subfolders))
    return sorted(found, key=lambda e: e.path.relative_to(folder).parts)


@dataclass(frozen=True)
class NotRead:
    """An entry that is logged but never read: why, and the log record's delivery."""

    delivery: Delivery
    status: str  # "rejected" or "skipped"
    reason_code: str
    reason: str


def not_read(entry: LandingEntry, partner_code: str, base: Path) -> NotRead:
    """The delivery_log record for a link, a hidden name or a special file (never read, never followed)."""
    relative = entry.path.relative_to(base).as_posix()
    name = entry.path.name
    st = entry.stat
    details: list[object] = [getattr(st, "st_size", 0)]
    if entry.kind == LINK:
        details.append(os.readlink(entry.path))  # a new target is a new record; the target itself is never shown
        status, code = "rejected", "FILE_LINK"
        reason = (
            f"{name!r} is a link (shortcut) to another file or folder. Links in the landing folder are never "
            "followed: put the file itself in the folder."
        )
    elif entry.kind == HIDDEN:
        details = []  # logged once per name: an upload in progress changes until it is renamed
        status, code = "skipped", "FILE_HIDDEN"
        reason = (
            f"{name!r} starts with a dot: a hidden file or folder (an upload in progress, a tool's own file) is "
            "never read. If it is a delivery, rename it without the leading dot."
        )
    else:
        status, code = "rejected", "FILE_NOT_REGULAR"
        reason = f"{name!r} is not a regular file (a pipe, device or socket); it is never read. Deliver a file."
    mtime = getattr(st, "st_mtime", 0) or datetime.now(UTC).timestamp()
    delivery = Delivery(
        path=entry.path,
        partner_code=partner_code,
        source_file=relative,
        content_hash=listing_fingerprint(entry.kind, relative, *details),
        size_bytes=getattr(st, "st_size", 0),
        received_at=datetime.fromtimestamp(mtime, tz=UTC).replace(tzinfo=None),
    )
    return NotRead(delivery, status, code, reason)


def survey_partner_folders(
    landing_dir: Path, partner_codes: Iterable[str], max_bytes: int | None = None, on_error=None
) -> tuple[list[Delivery], list[NotRead]]:
    """The files in the given partners' landing folders (by name), and the entries there that are not read.

    A partner folder that is itself a link is not entered (log_unrouted_files logs it). A file that
    vanishes or turns into a link while it is hashed is left for the next run (`on_error` is told)."""
    files: list[Delivery] = []
    others: list[NotRead] = []
    for code in sorted(partner_codes):
        folder = landing_dir / code
        if (_is_local(folder) and folder.is_symlink()) or not folder.is_dir():
            continue
        for entry in list_landing(folder):
            if entry.kind != FILE:
                others.append(not_read(entry, code, folder))
                continue
            try:
                files.append(describe_file(entry.path, code, folder, max_bytes, entry.stat))
            except OSError as exc:
                if on_error is not None:
                    on_error(f"{code}/{entry.path.relative_to(folder).as_posix()}: not read this run ({exc.strerror})")
    return files, others


def discover_deliveries(landing_dir: Path, partner_codes: list[str] | set[str]) -> list[Delivery]:
    """Every regular file in the landing folders of the given partners (links and hidden names left out), by name."""
    return survey_partner_folders(landing_dir, partner_codes)[0]
