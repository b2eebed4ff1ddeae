"""Reference from the delivery files: sector inflow/outflow per municipality and month, and the attainment of
each target, computed from the landing folder itself (+ config/partners, config/reference) by DuckDB SQL, and
compared with the pipeline's fct_sector_inflow / fct_sector_outflow / fct_target_attainment.

    python bench/reference_files.py --landing bench/out/scale_1/landing \
        --warehouse bench/out/scale_1/warehouse.duckdb [--json out.json] [--flows-only] \
        [--exclude PARTNER/FILE ...] [--show-sql]

Prints the seconds (xlsx conversion, file scan, cp1252 transcoding, SQL, total), the totals, the verdicts and
the differing cells / values; exit code 0 when everything compared is equal, 1 otherwise.
Importable: `compute(landing, exclude=(), targets=True) -> dict` and `compare(landing, warehouse, ...) -> dict`.
--flows-only: read the rows of the employment files alone (inflow/outflow; no targets).

Unlike bench/reference.py (which starts from the pipeline's stg_employment_spells), this starts from the
files, so it redoes the pipeline's ingest independently (it imports nothing from src/):

Python (file-level decisions only; timed as `scan_s`, the xlsx part as `xlsx_s`):
- inventory: the files in <landing>/<partner_code>/ (sub-folders included) of the partners in config/partners,
  hidden files and links left out (the pipeline logs those as skipped or rejected without reading them; they
  are left out of the comparison of deliveries too); SHA-256 of each file, arrival = its mtime, period and
  version from the file name (YYYYMM, YYYY-MM, YYYY-Qn, _vN), the layout era covering the period's first month;
- per file the checks that reject a whole file (ingest/readers.py, headers.py, ingest_feed.py): no period, over
  ZORGSTROOM_MAX_FILE_BYTES (200 MiB), not a spreadsheet (magic bytes, suffix), empty, NUL bytes, corrupt or
  zip-bomb xlsx, no header row among the first 30 rows, a required column missing, two headers on one column;
- per CSV the dialect as the pipeline detects it: encoding (BOM, UTF-8, else cp1252, else latin-1), delimiter
  (the one splitting the top lines most consistently), header row (most known headers); from the header row,
  the position of each canonical column (the era's aliases). DuckDB's read_csv knows no cp1252 without the
  `encodings` extension (not installable here) and refuses latin-1 bytes 0x80-0x9F, so a cp1252 file holding
  such a byte (EUR sign, curly quotes, dashes) is transcoded to a UTF-8 copy kept in memory (an fsspec memory
  file system registered with DuckDB; `transcode_s`);
- xlsx: python-calamine reads the first sheet, each cell rendered as text as readers.cell_to_text does (dates
  ISO, whole numbers without '.0', booleans ja/nee); the rows below the header go to DuckDB as Arrow tables.
DuckDB SQL (timed as `sql_s`): reading every CSV row (read_csv, one call per partner, era, dialect and column
layout: the generated SQL, see --show-sql) and all row-level work: bench/reference_files.sql (which files are
duplicate / rejected / superseded / in force, the data window, parsing and validating employment rows,
duplicate record keys, current records, care spells, inflow, outflow) and bench/reference_files_targets.sql
(the same for enrolments and municipal trajectories, target events, first qualifying date per person and
target, attainment as of every month end).

With --flows-only the enrolment and municipal files are not read: only, per partner, its latest file that
would load is inspected (it sets the cut-off: the end of the latest loaded period of any partner).

The person key inside the process is the normalised BSN (digits; 'onr:' + digits for a student known only by
an onderwijsnummer); it is never written or printed: the outputs are counts and attainment figures only.

Known limits (rules not reproduced exactly; none occurs in the generated samples or the tests' edge cases):
- CSV parsing is DuckDB's, not Python's csv module: a row with more than header width + 8 values, or a quoted
  value followed by more text ("f"g, which Python reads as fg), makes DuckDB stop with an error (loudly, never
  a silent difference); the pipeline rejects the first row and keeps the second. A CSV that Python's csv module
  cannot parse past its first 30 records is rejected whole by the pipeline but read here; UTF-16 CSVs go to
  DuckDB as 'utf-16' (untested);
- current records: two loaded deliveries of one partner with the same period start and version (a monthly and
  a quarterly file starting in the same month) are ordered by row order here, by source row number (then load
  order) in the pipeline;
- the bounds and privacy rules of issue 13 are not reproduced: the read limits (config/ingest_limits.yaml),
  two headers of one name (rejected by the pipeline), a header without data rows (rejected as FILE_EMPTY),
  a cell longer than max_cell_chars and a BSN, onderwijsnummer, postcode or full date in a column not
  declared as one (their rows quarantined by the pipeline), UTF-16 text without a byte-order mark;
- code labels are compared with DuckDB lower() where the pipeline uses Python casefold() (they differ for a few
  characters such as 'ß'); digits and whitespace in identifiers, dates and postcodes are ASCII digits and
  Python's whitespace set here, where Python's regular expressions also accept other Unicode digits;
- Python's strptime accepts a seconds value of 60 or 61 (rolled over); DuckDB does not (rejected here);
- of the mapping language (docs/mapping_reference.md) this reads the columns and code labels of each layout era,
  the partner's and layout's `patterns` (as RE2 regular expressions, case-insensitive) and `sheet`; not
  reproduced (no generated partner uses them): `derived` fields and `inputs`, `bsn_or_onderwijsnummer`, labels of
  columns that are not coded, `values` given per layout, and a declared `decimal_separator`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import itertools
import json
import math
import os
import re
import sys
import time
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import yaml

ROOT = Path(__file__).resolve().parents[1]
SQL = Path(__file__).with_name("reference_files.sql")
FLOWS_SQL = Path(__file__).with_name("reference_flows.sql")
TARGETS_SQL = Path(__file__).with_name("reference_files_targets.sql")
#: The partner mappings: ZORGSTROOM_PARTNERS_DIR as the pipeline reads it (the tests' fixtures), else config/partners.
PARTNERS_DIR = Path(os.environ.get("ZORGSTROOM_PARTNERS_DIR") or ROOT / "config" / "partners")
REFERENCE_DIR = ROOT / "config" / "reference"

FEED = "employment_spells"
#: Each feed's input columns (ingest/feeds.py) and the table the generated SQL reads its rows into.
FEED_COLUMNS = {
    "employment_spells": [
        "employee_number",
        "employment_number",
        "bsn",
        "birth_date",
        "postcode",
        "function",
        "contract_type",
        "hours_per_week",
        "is_apprenticeship",
        "start_date",
        "end_date",
        "leaving_reason",
        "programme",
    ],
    "enrolments": [
        "enrolment_number",
        "bsn",
        "onderwijsnummer",
        "birth_date",
        "postcode",
        "programme",
        "crebo_code",
        "mbo_level",
        "learning_path",
        "start_date",
        "planned_end_date",
        "actual_end_date",
        "outcome",
        "leaving_reason",
        "bbl_employer_name",
        "has_work_placement_agreement",
    ],
    "municipal_participants": [
        "trajectory_number",
        "bsn",
        "birth_date",
        "postcode",
        "target_group",
        "benefit_type",
        "programme",
        "referral_date",
        "placement_date",
        "placement_kind",
        "placement_end_date",
        "placement_result",
        "trajectory_end_date",
        "trajectory_result",
        "benefit_end_date",
        "benefit_end_reason",
        "civic_integration_required",
    ],
}
RAW_TABLE = {"employment_spells": "emp_raw", "enrolments": "enr_raw", "municipal_participants": "mun_raw"}
#: Per feed: the input columns a statistic needs (ingest/feeds.py needed_by: a file without one is rejected) and
#: the person identifiers, for the file-level header check.
REQUIRED = {
    "employment_spells": (
        ("employee_number", "bsn", "birth_date", "function", "contract_type", "start_date", "end_date"),
        ("bsn",),
    ),
    "enrolments": (
        ("enrolment_number", "mbo_level", "learning_path", "start_date", "actual_end_date", "outcome"),
        ("bsn", "onderwijsnummer"),
    ),
    "municipal_participants": (
        (
            "trajectory_number",
            "bsn",
            "target_group",
            "benefit_type",
            "programme",
            "referral_date",
            "placement_date",
            "placement_kind",
            "placement_end_date",
            "placement_result",
        ),
        ("bsn",),
    ),
}

#: ZORGSTROOM_MAX_FILE_BYTES, as the pipeline's settings read it (core/settings.py).
MAX_FILE_BYTES = int(os.environ.get("ZORGSTROOM_MAX_FILE_BYTES") or 200 * 1024 * 1024)
HEADER_SEARCH_ROWS = 30
MIN_HEADER_MATCHES = 2
DELIMITERS = ";,\t|"
MAX_XLSX_UNPACKED_BYTES = 1 << 30
MAX_XLSX_RATIO = 200
NOT_SPREADSHEET_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")
#: Extra columns declared beyond the header's width, to see values a row has past it.
OVERFLOW = 8
#: Bytes where cp1252 and latin-1 differ; DuckDB's read_csv refuses them as latin-1 (and has no cp1252
#: without the `encodings` extension), so a cp1252 file holding any of them is transcoded to UTF-8 first.
C1_BYTES = re.compile(rb"[\x80-\x9f]")

_QUARTER = re.compile(r"(?<!\d)(?P<year>(19|20)\d{2})-?Q(?P<q>[1-4])(?!\d)", re.IGNORECASE)
_MONTH = re.compile(r"(?<!\d)(?P<year>(19|20)\d{2})-?(?P<month>0[1-9]|1[0-2])(?!\d)")
_VERSION = re.compile(r"_v(?P<version>\d{1,3})(?!\d)", re.IGNORECASE)


# --- configuration (read directly, not through src/) -------------------------------------------------------


def normalise_header(header: object) -> str:
    return re.sub(r"[\W_]+", "_", str(header).strip().casefold()).strip("_")


@dataclass
class Partner:
    code: str
    feed: str
    location: str
    layouts: list[dict]  # {"name", "valid_from", "valid_to", "columns": {canonical: [aliases]}}
    ignored: list[str]
    values: dict[str, dict[str, str]]

    def layout_for(self, start_month: str) -> dict:
        for lay in self.layouts:
            if (lay["valid_from"] is None or lay["valid_from"] <= start_month) and (
                lay["valid_to"] is None or start_month <= lay["valid_to"]
            ):
                return lay
        raise RuntimeError(f"partner {self.code}: no layout covers {start_month}")

    @property
    def known_headers(self) -> set[str]:
        known = {normalise_header(h) for h in self.ignored}
        for lay in self.layouts:
            for aliases in lay["columns"].values():
                known.update(normalise_header(a) for a in aliases)
        return known


def load_partners(folder: Path = PARTNERS_DIR) -> dict[str, Partner]:
    partners = {}
    for path in sorted(folder.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        layouts = []
        for i, lay in enumerate(raw["layouts"]):
            cols = {k: [v] if isinstance(v, str) else list(v) for k, v in (lay.get("columns") or {}).items()}
            vf, vt = lay.get("valid_from"), lay.get("valid_to")
            layouts.append(
                {
                    "name": str(lay.get("layout", i)),
                    "valid_from": vf and str(vf),
                    "valid_to": vt and str(vt),
                    "columns": cols,
                    # the mapping's sheet and patterns: the layout's own, else the partner's (ingest/partner_config.py)
                    "sheet": lay.get("sheet") or raw.get("sheet"),
                    "patterns": {**(raw.get("patterns") or {}), **(lay.get("patterns") or {})},
                }
            )
        values = {
            col: {str(label).strip().casefold(): code for label, code in mapping.items()}
            for col, mapping in (raw.get("values") or {}).items()
        }
        partners[raw["partner_code"]] = Partner(
            raw["partner_code"],
            raw["feed"],
            raw["location_municipality_code"],
            layouts,
            list(raw.get("ignored_headers") or []),
            values,
        )
    return partners


# --- file inventory and file-level checks --------------------------------------------------------------------


@dataclass
class FileInfo:
    file_id: int
    partner: Partner
    path: Path
    source_file: str
    size: int
    received_at: datetime
    content_hash: str = ""
    period_label: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    version: int | None = None
    layout: str | None = None
    readable: bool | None = None  # None: not inspected
    reject_reason: str | None = None
    fmt: str | None = None  # csv | xlsx
    encoding: str | None = None  # as the pipeline decodes the file
    read_path: Path | str | None = None  # what DuckDB reads: the file, or its UTF-8 transcoding (in memory)
    duck_encoding: str | None = None
    delimiter: str | None = None
    skip_lines: int = 0  # CSV: physical lines up to and including the header row
    width: int = 0
    positions: dict[str, int] = field(default_factory=dict)  # canonical column -> cell position
    xlsx_rows: list[list[str]] | None = None  # converted cells below the header (until made an Arrow table)
    xlsx_table: object = None  # pyarrow.Table of those cells
    transcode_s: float = 0.0


def _period_end(info: FileInfo) -> date:
    """The last day of a file's period (for a file with a period label: parse_period sets both)."""
    assert info.period_end is not None, info.source_file
    return info.period_end


class Rejected(Exception):
    pass


def parse_period(source_file: str) -> tuple[str, date, date, int] | None:
    stem = Path(source_file).stem
    q = _QUARTER.search(stem)
    if q:
        y, n = int(q["year"]), int(q["q"])
        label, start, months = f"{y:04d}-Q{n}", date(y, 3 * n - 2, 1), 3
    else:
        m = _MONTH.search(stem)
        if not m:
            return None
        y, mo = int(m["year"]), int(m["month"])
        label, start, months = f"{y:04d}-{mo:02d}", date(y, mo, 1), 1
    total = start.year * 12 + start.month - 1 + months
    end = date.fromordinal(date(total // 12, total % 12 + 1, 1).toordinal() - 1)
    v = _VERSION.search(stem)
    return label, start, end, int(v["version"]) if v else 1


def discover(landing: Path, partners: dict[str, Partner], exclude: set[str]) -> list[FileInfo]:
    files: list[FileInfo] = []
    for code in sorted(partners):
        folder = landing / code
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if (
                not path.is_file()
                or any(p.is_symlink() for p in [path, *path.parents] if p != folder and folder in p.parents)
                or any(part.startswith(".") for part in rel.parts)
                or f"{code}/{rel.as_posix()}" in exclude
            ):
                continue
            st = path.stat()
            mtime = st.st_mtime or datetime.now(UTC).timestamp()
            info = FileInfo(
                len(files),
                partners[code],
                path,
                rel.as_posix(),
                st.st_size,
                datetime.fromtimestamp(mtime, tz=UTC).replace(tzinfo=None),
            )
            period = parse_period(info.source_file)
            if period:
                info.period_label, info.period_start, info.period_end, info.version = period
                info.layout = partners[code].layout_for(info.period_start.strftime("%Y-%m"))["name"]
            files.append(info)
    return files


def decode_text(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    if b"\x00" in data[:8192]:
        raise Rejected("FILE_NOT_TEXT")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_delimiter(sample_lines: list[str]) -> str:
    best, best_score = ",", (-1, -1)
    for delim in DELIMITERS:
        counts = [len(next(csv.reader([line], delimiter=delim))) for line in sample_lines if line.strip()]
        if not counts:
            continue
        widest = max(counts)
        score = (widest if widest > 1 else 0, sum(1 for c in counts if c == widest))
        if score > best_score:
            best, best_score = delim, score
    return best


def find_header_row(rows: list[list[str]], known: set[str]) -> int:
    best_idx, best_hits = -1, 0
    for idx, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        hits = sum(1 for cell in row if cell and normalise_header(cell) in known)
        if hits > best_hits:
            best_idx, best_hits = idx, hits
    if best_hits < MIN_HEADER_MATCHES:
        raise Rejected("FILE_NO_HEADER")
    return best_idx


def unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers):
        h = str(h).strip() or f"(column {i + 1} without header)"
        n = seen.get(h, 0)
        seen[h] = n + 1
        out.append(h if n == 0 else f"{h} ({n + 1})")
    return out


def map_positions(headers: list[str], partner: Partner, layout: dict) -> dict[str, int]:
    """ingest/headers.py map_headers: canonical column -> position of its header; Rejected when ambiguous or missing."""
    by_norm: dict[str, list[int]] = {}
    for i, h in enumerate(headers):
        by_norm.setdefault(normalise_header(h), []).append(i)
    positions = {}
    for column, aliases in layout["columns"].items():
        hits = [i for a in dict.fromkeys(normalise_header(a) for a in aliases) for i in by_norm.get(a, [])]
        if len(hits) > 1:
            raise Rejected("FILE_AMBIGUOUS_HEADERS")
        if hits:
            positions[column] = hits[0]
    required, identifiers = REQUIRED[partner.feed]
    missing = [c for c in required if c not in positions and c in layout["columns"]]
    if not any(p in positions for p in identifiers):
        missing += [p for p in identifiers if p in layout["columns"] and p not in missing]
    if missing:
        raise Rejected("FILE_MISSING_COLUMNS")
    return positions


def cell_to_text(value: object) -> str:
    """readers.cell_to_text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value).strip()


def inspect_csv(info: FileInfo, data: bytes, memory_dir: str | None) -> None:
    text, encoding = decode_text(data)
    if not text.strip():
        raise Rejected("FILE_EMPTY")
    delimiter = sniff_delimiter(text[:65536].splitlines()[:HEADER_SEARCH_ROWS])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    rows, line_nums = [], []
    try:
        for row in itertools.islice(reader, HEADER_SEARCH_ROWS):
            rows.append(row)
            line_nums.append(reader.line_num)
    except csv.Error:
        raise Rejected("FILE_UNREADABLE") from None
    idx = find_header_row(rows, info.partner.known_headers)
    headers = unique_headers(rows[idx])
    assert info.period_start is not None  # inspect rejects a file without a period before reading it
    lay = info.partner.layout_for(info.period_start.strftime("%Y-%m"))
    info.positions = map_positions(headers, info.partner, lay)
    info.fmt, info.encoding, info.delimiter = "csv", encoding, delimiter
    info.skip_lines, info.width = line_nums[idx], len(headers)
    info.read_path, info.duck_encoding = info.path, {"utf-8-sig": "utf-8", "cp1252": "latin-1"}.get(encoding, encoding)
    if encoding in ("cp1252", "latin-1") and C1_BYTES.search(data) and memory_dir is not None:
        # a UTF-8 copy in an in-memory file system (fsspec) registered with DuckDB: raw values never touch a disk
        t = time.perf_counter()
        _memory_fs().pipe(f"{memory_dir}/{info.file_id}.csv", text.encode("utf-8"))  # same lines: skip_lines holds
        info.read_path, info.duck_encoding = f"memory://{memory_dir}/{info.file_id}.csv", "utf-8"
        info.transcode_s = time.perf_counter() - t


def _without_values(exc: Exception) -> str:
    """A DuckDB CSV error without the row it quotes (it may hold a BSN): the error, its reason, the file."""
    lines = str(exc).splitlines()
    keep = [lines[0]] + [
        ln.strip()
        for ln in lines[1:]
        if re.match(
            r"\s*(Expected Number of Columns|Value with unterminated quote|Invalid unicode|Maximum line size|file = )",
            ln,
        )
    ]
    return (
        "\n".join(keep)
        + "\n(the reference stops rather than read this file differently from the pipeline; see the docstring)"
    )


def _memory_fs():
    import fsspec

    return fsspec.filesystem("memory")


def inspect_xlsx(info: FileInfo, convert: bool, is_zip: bool) -> None:
    """Open the workbook (python-calamine), find the header; with convert, keep the cells below it as an Arrow table.
    An xlsx (zip) is first checked against zip bombs; an OLE2 file (old .xls, encrypted) goes to calamine directly."""
    import python_calamine

    if is_zip:
        try:
            with info.path.open("rb") as fh, zipfile.ZipFile(fh) as zf:
                members = zf.infolist()
        except (zipfile.BadZipFile, OSError):
            raise Rejected("FILE_CORRUPT") from None
        total = sum(m.file_size for m in members)
        worst = max((m.file_size / max(m.compress_size, 1) for m in members), default=0)
        if total > MAX_XLSX_UNPACKED_BYTES or worst > MAX_XLSX_RATIO:
            raise Rejected("FILE_SUSPICIOUS_ARCHIVE")
    assert info.period_start is not None  # inspect rejects a file without a period before reading it
    lay = info.partner.layout_for(info.period_start.strftime("%Y-%m"))
    rows = read_workbook_rows(info.path, python_calamine, lay["sheet"])
    idx = find_header_row(rows, info.partner.known_headers)
    headers = unique_headers(rows[idx])
    info.positions = map_positions(headers, info.partner, lay)
    info.fmt, info.width, info.read_path = "xlsx", len(headers), info.path
    if convert:
        info.xlsx_rows = rows[idx + 1 :]
        info.xlsx_table = xlsx_arrow(info)


def read_workbook_rows(path: Path, python_calamine, sheet_name: str | None = None) -> list[list[str]]:
    """The rows of the named sheet (trimmed, case-insensitive; ingest/workbooks.py), else the first, as text
    (readers._sheet_rows): empty rows kept as [], trailing ones dropped."""
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        if sheet_name is None:
            sheet = workbook.get_sheet_by_index(0)
        else:
            names = [n for n in workbook.sheet_names if n.strip().casefold() == str(sheet_name).strip().casefold()]
            if not names:
                raise Rejected("FILE_NO_SHEET")
            sheet = workbook.get_sheet_by_name(names[0])
        rows: list[list[str]] = []
        last = -1
        for row in sheet.iter_rows():
            texts = [v.strip() if type(v) is str else cell_to_text(v) for v in row]
            if any(texts):
                last = len(rows)
                rows.append(texts)
            else:
                rows.append([])
    except Rejected:
        raise
    except Exception:  # password, corrupt: calamine raises several types
        raise Rejected("FILE_CORRUPT") from None
    rows = rows[: last + 1]
    if not rows:
        raise Rejected("FILE_EMPTY")
    return rows


def inspect(info: FileInfo, convert: bool, memory_dir: str | None = None) -> None:
    """File-level checks of one delivery (ingest_feed._decide + readers.read_delivery_file); sets readable
    and the content hash."""
    try:
        if info.period_label is None:
            raise Rejected("FILE_NO_PERIOD")
        if info.size > MAX_FILE_BYTES:
            raise Rejected("FILE_TOO_LARGE")
        with info.path.open("rb") as fh:
            head = fh.read(8)
        kind = "xlsx" if head.startswith(b"PK\x03\x04") else "ole2" if head.startswith(b"\xd0\xcf\x11\xe0") else "text"
        if head.startswith(NOT_SPREADSHEET_MAGIC) or (
            kind == "text" and info.path.suffix.lower() not in SUPPORTED_SUFFIXES and head
        ):
            raise Rejected("FILE_NOT_SPREADSHEET")
        if kind in ("xlsx", "ole2"):
            inspect_xlsx(info, convert, is_zip=kind == "xlsx")
        else:
            data = info.path.read_bytes()
            info.content_hash = hashlib.sha256(data).hexdigest()
            inspect_csv(info, data, memory_dir)
        info.readable = True
    except Rejected as exc:
        info.readable, info.reject_reason = False, exc.args[0]
    if not info.content_hash:
        hash_file(info)


def hash_file(info: FileInfo) -> None:
    h = hashlib.sha256()
    with info.path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    info.content_hash = h.hexdigest()


# --- generated SQL: read the rows of the files into emp_raw / enr_raw / mun_raw --------------------------------


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def cell_sql(f: FileInfo, column: str) -> str:
    """The SQL of one canonical column's cell: its position, through the layout's pattern when it has one
    (written_forms.rewrite: a full match, case-insensitive, is replaced by its first group, trimmed)."""
    if column not in f.positions:
        return "NULL"
    cell = f"c{f.positions[column]}"
    assert f.period_start is not None  # a file without a period is rejected before its columns are mapped
    pattern = f.partner.layout_for(f.period_start.strftime("%Y-%m"))["patterns"].get(column)
    if not pattern:
        return cell
    p = sql_str(pattern)
    return (
        f"CASE WHEN regexp_full_match(pystrip({cell}), {p}, 'i') "
        f"THEN pystrip(regexp_extract(pystrip({cell}), '^(?:' || {p} || ')$', 1, 'i')) ELSE {cell} END"
    )


def csv_group_sql(files: list[FileInfo]) -> str:
    """One read_csv over files that share partner, era, dialect and column positions.

    Returns an INSERT into the feed's raw table.
    """
    f0 = files[0]
    feed_columns = FEED_COLUMNS[f0.partner.feed]
    total = f0.width + OVERFLOW
    select = ",\n       ".join(f"{cell_sql(f0, c)} AS {c}" for c in feed_columns)
    all_cells = ", ".join(f"c{i}" for i in range(total))
    extra = ", ".join(f"c{i}" for i in range(f0.width, total))
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(total)) + "}"
    paths = ",\n        ".join(sql_str(str(f.read_path)) for f in files)
    assert f0.delimiter is not None  # inspect_csv sniffed it
    return (
        f"-- {f0.partner.code}, layout {f0.layout}: {len(files)} CSV file(s), {f0.encoding}"
        + (" (transcoded to UTF-8)" if f0.read_path != f0.path else "")
        + f", delimiter {f0.delimiter!r}, "
        f"header on line {f0.skip_lines}, {f0.width} columns\n"
        f"INSERT INTO {RAW_TABLE[f0.partner.feed]}\n"
        f"SELECT filename AS path,\n       {select},\n"
        f"       pystrip(concat_ws('', {all_cells})) = '' AS is_blank,\n"
        f"       pystrip(concat_ws('', {extra})) <> '' AS too_many_values\n"
        f"FROM read_csv([\n        {paths}],\n"
        f"    auto_detect = false, header = false, skip = {f0.skip_lines}, delim = {sql_str(f0.delimiter)},\n"
        "    quote = '\"', escape = '\"',\n"
        f"    encoding = '{f0.duck_encoding}', null_padding = true, parallel = false, filename = true,\n"
        f"    columns = {columns});\n"
    )


def xlsx_group_sql(files: list[FileInfo], table: str) -> str:
    f0 = files[0]
    select = ",\n       ".join(f"{cell_sql(f0, c)} AS {c}" for c in FEED_COLUMNS[f0.partner.feed])
    all_cells = ", ".join([*(f"c{i}" for i in range(f0.width)), "overflow"])
    return (
        f"-- {f0.partner.code}, layout {f0.layout}: {len(files)} xlsx file(s) converted to text cells, "
        f"{f0.width} columns\n"
        f"INSERT INTO {RAW_TABLE[f0.partner.feed]}\n"
        f"SELECT path,\n       {select},\n"
        f"       pystrip(concat_ws('', {all_cells})) = '' AS is_blank,\n"
        f"       pystrip(overflow) <> '' AS too_many_values\n"
        f"FROM {table} ORDER BY file_id, row_order;\n"
    )


def xlsx_arrow(info: FileInfo):
    """The converted cells below the header of one xlsx file as an Arrow table (path, file_id, row_order,
    c0.., overflow = the cells right of the header's last column, joined; SQL checks them)."""
    import pyarrow as pa

    width = info.width
    assert info.xlsx_rows is not None  # inspect_xlsx(convert=True) kept them
    rows = [r if len(r) == width else (r + [""] * (width - len(r)))[:width] for r in info.xlsx_rows]
    overflow = [("".join(r[width:]) if len(r) > width else "") for r in info.xlsx_rows]
    cols = list(zip(*rows)) if rows else [() for _ in range(width)]
    n = len(rows)
    arrays = {
        "path": pa.array([str(info.path)] * n, pa.string()),
        "file_id": pa.array([info.file_id] * n, pa.int32()),
        "row_order": pa.array(range(n), pa.int64()),
    }
    for i in range(width):
        arrays[f"c{i}"] = pa.array(cols[i], pa.string())
    arrays["overflow"] = pa.array(overflow, pa.string())
    info.xlsx_rows = None  # the Arrow table holds the cells now
    return pa.table(arrays)


# --- running ------------------------------------------------------------------------------------------------------

RAW_DDL = "\n".join(
    f"CREATE OR REPLACE TEMP TABLE {RAW_TABLE[feed]} (path VARCHAR, "
    + ", ".join(f"{c} VARCHAR" for c in columns)
    + ", is_blank BOOLEAN, too_many_values BOOLEAN);"
    for feed, columns in FEED_COLUMNS.items()
)


def _setup_sql() -> str:
    """The macros the generated SQL needs (pystrip, from reference_files.sql)."""
    sql = SQL.read_text()
    return sql[sql.index("CREATE OR REPLACE TEMP MACRO py_space()") : sql.index("-- One date format")]


def _reference_tables(con: duckdb.DuckDBPyConnection, partners: dict[str, Partner]) -> None:
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ref_pc4 AS
        SELECT CAST(trim(pc4_from) AS INTEGER) AS pc4_from, CAST(trim(pc4_to) AS INTEGER) AS pc4_to,
               trim(municipality_code) AS municipality_code
        FROM read_csv({sql_str(str(REFERENCE_DIR / "pc4_municipality.csv"))}, all_varchar = true, header = true);
        CREATE OR REPLACE TEMP TABLE ref_functions AS
        SELECT trim(function_code) AS function_code, lower(trim(is_care_function)) = 'true' AS is_care_function
        FROM read_csv({sql_str(str(REFERENCE_DIR / "functions.csv"))}, all_varchar = true, header = true);
        CREATE OR REPLACE TEMP TABLE ref_regions AS
        SELECT trim(municipality_code) AS municipality_code,
               trim(labour_market_region_code) AS labour_market_region_code
        FROM read_csv({sql_str(str(REFERENCE_DIR / "municipalities.csv"))}, all_varchar = true, header = true);
        CREATE OR REPLACE TEMP TABLE ref_targets_csv AS
        SELECT * FROM read_csv({sql_str(str(REFERENCE_DIR / "targets.csv"))}, all_varchar = true, header = true);
        CREATE OR REPLACE TEMP TABLE ref_partners (
            partner_code VARCHAR, feed VARCHAR, location_municipality_code VARCHAR);
        CREATE OR REPLACE TEMP TABLE code_labels (
            partner_code VARCHAR, column_name VARCHAR, label_key VARCHAR, code VARCHAR);
    """)
    con.executemany(
        "INSERT INTO ref_partners VALUES (?, ?, ?)", [(p.code, p.feed, p.location) for p in partners.values()]
    )
    labels = [
        (p.code, col, key, code)
        for p in partners.values()
        for col, mapping in p.values.items()
        for key, code in mapping.items()
    ]
    con.executemany("INSERT INTO code_labels VALUES (?, ?, ?, ?)", labels)


def _files_table(con: duckdb.DuckDBPyConnection, files: list[FileInfo]) -> None:
    con.execute("""CREATE OR REPLACE TEMP TABLE ref_files (
        file_id INTEGER, partner_code VARCHAR, feed VARCHAR, source_file VARCHAR,
        path VARCHAR, read_path VARCHAR, period_label VARCHAR, period_start DATE, period_end DATE, version INTEGER,
        content_hash VARCHAR,
        received_at TIMESTAMP, readable BOOLEAN, reject_reason VARCHAR, layout VARCHAR, encoding VARCHAR)""")
    con.executemany(
        "INSERT INTO ref_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                f.file_id,
                f.partner.code,
                f.partner.feed,
                f.source_file,
                str(f.path),
                str(f.read_path or f.path),
                f.period_label,
                f.period_start,
                f.period_end,
                f.version,
                f.content_hash,
                f.received_at,
                f.readable,
                f.reject_reason,
                f.layout,
                f.encoding,
            )
            for f in files
            if f.readable is not None
        ],
    )


def run(
    landing: str | Path,
    exclude: set[str] | frozenset[str] = frozenset(),
    targets: bool = True,
    con: duckdb.DuckDBPyConnection | None = None,
) -> tuple[duckdb.DuckDBPyConnection, dict]:
    """Compute everything into an (in-memory) DuckDB connection; returns it and the timings / generated SQL.
    targets=False: inflow/outflow only (only the employment files' rows are read)."""
    landing = Path(landing).resolve()
    memory_dir = f"/reference_files_{os.getpid()}_{time.monotonic_ns()}"
    try:
        return _run(landing, set(exclude), targets, con, memory_dir)
    finally:
        fs = _memory_fs()
        if fs.exists(memory_dir):
            fs.rm(memory_dir, recursive=True)


def _is_xlsx(f: FileInfo) -> bool:
    return f.fmt == "xlsx" or f.path.suffix.lower() in (".xlsx", ".xlsm", ".xls")


def _run(landing: Path, exclude: set[str], targets: bool, con: duckdb.DuckDBPyConnection | None, memory_dir: str):
    t0 = time.perf_counter()
    partners = load_partners()
    files = discover(landing, partners, exclude)
    feeds = set(FEED_COLUMNS) if targets else {FEED}

    # Python front end, part 1: every file of the feeds read (hash, file-level checks, CSV dialect and header;
    # xlsx cells).
    xlsx_s = 0.0
    for f in files:
        if f.partner.feed in feeds:
            t_x = time.perf_counter()
            inspect(f, convert=True, memory_dir=memory_dir)
            xlsx_s += (time.perf_counter() - t_x) if _is_xlsx(f) else 0.0
    # Part 2: feeds not read only set the cut-off: per partner, its latest file that would load.
    for p in partners.values():
        if p.feed in feeds:
            continue
        for f in sorted((f for f in files if f.partner is p and f.period_label), key=_period_end, reverse=True):
            t_x = time.perf_counter()
            inspect(f, convert=False)
            xlsx_s += (time.perf_counter() - t_x) if _is_xlsx(f) else 0.0
            if f.readable:
                break
    for f in files:  # files without a period: rejected before anything is read
        if f.readable is None and f.period_label is None:
            hash_file(f)
            f.readable, f.reject_reason = False, "FILE_NO_PERIOD"
    # Files read by one read_csv (or one Arrow table): same partner, era, dialect and column positions.
    t_x = time.perf_counter()
    groups: dict[tuple, list[FileInfo]] = {}
    for f in files:
        if f.partner.feed in feeds and f.readable:
            key = (
                f.partner.code,
                f.layout,
                f.fmt,
                f.duck_encoding,
                f.read_path != f.path,
                f.delimiter,
                f.skip_lines,
                f.width,
                tuple(sorted(f.positions.items())),
            )
            groups.setdefault(key, []).append(f)
    arrow_tables = {}
    for n, (key, members) in enumerate(groups.items()):
        if key[2] == "xlsx":
            import pyarrow as pa

            arrow_tables[f"xlsx_group_{n}"] = pa.concat_tables([f.xlsx_table for f in members])
    xlsx_s += time.perf_counter() - t_x
    transcode_s = sum(f.transcode_s for f in files)
    front_s = time.perf_counter() - t0

    # DuckDB SQL: read the rows (generated SQL), then reference_files.sql.
    con = con or duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if transcode_s:
        con.register_filesystem(_memory_fs())
    t1 = time.perf_counter()
    generated = [_setup_sql(), RAW_DDL]
    for n, (key, members) in enumerate(groups.items()):
        if key[2] == "xlsx":
            con.register(f"xlsx_group_{n}", arrow_tables[f"xlsx_group_{n}"])
            generated.append(xlsx_group_sql(members, f"xlsx_group_{n}"))
        else:
            generated.append(csv_group_sql(members))
    _reference_tables(con, partners)
    _files_table(con, files)
    for stmt in generated:
        try:
            con.execute(stmt)
        except duckdb.Error as exc:
            raise RuntimeError(f"{stmt.splitlines()[0]}\n{_without_values(exc)}") from None
    con.execute(SQL.read_text())
    con.execute(FLOWS_SQL.read_text())
    if targets:
        con.execute(TARGETS_SQL.read_text())
    sql_s = time.perf_counter() - t1
    for name in arrow_tables:
        con.unregister(name)
    return con, {
        "targets": targets,
        "scan_s": front_s - xlsx_s - transcode_s,
        "xlsx_s": xlsx_s,
        "transcode_s": transcode_s,
        "sql_s": sql_s,
        "total_s": time.perf_counter() - t0,
        "generated_sql": "\n".join(generated),
    }


def _totals(con, table: str) -> dict:
    return {
        m: {"cells": int(cells), "persons_summed": int(persons)}
        for m, cells, persons in con.execute(
            f"SELECT measure, count(*), sum(persons) FROM {table} GROUP BY measure ORDER BY measure"
        ).fetchall()
    }


ATTAINMENT_COLUMNS = [
    "achieved",
    "share_attained",
    "elapsed_share",
    "expected_to_date",
    "status",
    "run_rate",
    "remaining_months",
    "forecast",
    "required_monthly_rate",
]


def _summary(con, timings: dict) -> dict:
    window = con.execute(
        "SELECT CAST(observation_start AS VARCHAR), CAST(cutoff AS VARCHAR) FROM ref_window"
    ).fetchone()
    counts = [
        {"measure": m, "municipality_code": mun, "event_month": str(month), "persons": int(p)}
        for m, mun, month, p in con.execute("SELECT * FROM ref_counts ORDER BY 1, 3, 2").fetchall()
    ]
    files = {
        f"{feed}/{status}": int(n)
        for feed, status, n in con.execute(
            "SELECT feed, status, count(*) FROM ref_deliveries GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    }
    rows = dict(
        zip(
            ("rows_read", "rows_accepted", "current_records", "care_spells"),
            (
                int(x or 0)
                for x in con.execute("""
        SELECT (SELECT count(*) FROM ref_rows WHERE status = 'loaded'),
               (SELECT count(*) FROM ref_rows WHERE status = 'loaded' AND accepted),
               (SELECT count(*) FROM ref_current), (SELECT count(*) FROM ref_spells)""").fetchone()
            ),
        )
    )
    out = {
        **{k: v for k, v in timings.items() if k != "generated_sql"},
        "observation_start": window[0],
        "cutoff": window[1],
        "files": files,
        "employment_rows": rows,
        "totals": _totals(con, "ref_counts"),
        "counts": counts,
    }
    if timings["targets"]:
        out["targets_latest"] = [
            dict(zip(["target_code", "as_of_date", *ATTAINMENT_COLUMNS], r))
            for r in con.execute(
                f"SELECT target_code, CAST(as_of_date AS VARCHAR), {', '.join(ATTAINMENT_COLUMNS)} FROM ref_attainment "
                "WHERE is_latest ORDER BY target_code"
            ).fetchall()
        ]
    return out


def compute(landing: str | Path, exclude: set[str] | frozenset[str] = frozenset(), targets: bool = True) -> dict:
    """Inflow/outflow counts (and, with targets, the attainment of each target) from the delivery files alone:
    timings, window, file statuses, counts per cell."""
    con, timings = run(landing, exclude, targets)
    try:
        return _summary(con, timings)
    finally:
        con.close()


PIPELINE_COUNTS = """
SELECT 'inflow' AS measure, municipality_code, CAST(event_month AS DATE) AS event_month,
       count(DISTINCT person_id) AS persons
FROM wh.fct_sector_inflow GROUP BY ALL
UNION ALL
SELECT 'outflow', municipality_code, CAST(event_month AS DATE), count(DISTINCT person_id)
FROM wh.fct_sector_outflow GROUP BY ALL
"""

DIFF = """
SELECT coalesce(r.measure, p.measure), coalesce(r.municipality_code, p.municipality_code),
       coalesce(r.event_month, p.event_month), coalesce(r.persons, 0), coalesce(p.persons, 0)
FROM ref_counts r
FULL OUTER JOIN pipeline_counts p
  ON r.measure = p.measure AND r.municipality_code IS NOT DISTINCT FROM p.municipality_code
 AND r.event_month = p.event_month
WHERE coalesce(r.persons, 0) <> coalesce(p.persons, 0)
ORDER BY 1, 3, 2
"""

#: Per delivery of the feeds read: status and accepted rows here and in the pipeline's delivery_log (a diagnostic).
DELIVERY_DIFF = """
WITH mine AS (
    SELECT d.partner_code || '/' || d.source_file || '@' || left(d.content_hash, 12) AS delivery_id, d.status,
           (SELECT count(*) FILTER (WHERE r.accepted) FROM ref_rows_all r WHERE r.file_id = d.file_id) AS rows_accepted
    FROM ref_deliveries d WHERE d.feed IN ({feeds})
), theirs AS (
    SELECT l.delivery_id, l.delivery_status AS status, l.rows_accepted
    FROM wh.delivery_log l JOIN ref_partners p ON p.partner_code = l.partner_code
    WHERE p.feed IN ({feeds})
      AND l.delivery_status <> 'skipped' AND coalesce(l.reason_code, '') NOT IN ('FILE_LINK', 'FILE_NOT_REGULAR')
)
SELECT coalesce(m.delivery_id, t.delivery_id), m.status, t.status, m.rows_accepted, t.rows_accepted
FROM mine m FULL OUTER JOIN theirs t ON m.delivery_id = t.delivery_id
WHERE m.status IS DISTINCT FROM t.status
   OR (m.status IN ('loaded', 'superseded') AND m.rows_accepted IS DISTINCT FROM t.rows_accepted)
ORDER BY 1
"""

#: Per target and as-of date: achieved and the arithmetic on it, here and in fct_target_attainment (floats to 1e-9).
TARGET_DIFF = """
SELECT coalesce(r.target_code, p.target_code), CAST(coalesce(r.as_of_date, p.as_of_date) AS VARCHAR), column_name,
       CAST(ref_value AS VARCHAR), CAST(pipeline_value AS VARCHAR)
FROM ref_attainment r
FULL OUTER JOIN wh.fct_target_attainment p
  ON p.target_code = r.target_code AND CAST(p.as_of_date AS DATE) = r.as_of_date,
LATERAL (VALUES {pairs}) v(column_name, ref_value, pipeline_value, same)
WHERE NOT coalesce(same, false)
ORDER BY 1, 2, 3
"""


def _target_pairs() -> str:
    pairs = [
        "('row', CAST(r.target_code IS NOT NULL AS VARCHAR), CAST(p.target_code IS NOT NULL AS VARCHAR), "
        "r.target_code IS NOT NULL AND p.target_code IS NOT NULL)",
        "('is_latest', CAST(r.is_latest AS VARCHAR), CAST(p.is_latest AS VARCHAR), r.is_latest IS NOT DISTINCT "
        "FROM p.is_latest)",
    ]
    for c in ATTAINMENT_COLUMNS:
        if c in ("status", "achieved", "remaining_months"):
            same = f"r.{c} IS NOT DISTINCT FROM p.{c}"
        else:
            same = f"(r.{c} IS NULL AND (p.{c} IS NULL OR isnan(p.{c}))) OR abs(r.{c} - p.{c}) <= 1e-9"
        pairs.append(f"('{c}', CAST(r.{c} AS VARCHAR), CAST(p.{c} AS VARCHAR), {same})")
    return ",\n       ".join(pairs)


def compare(
    landing: str | Path, warehouse: str | Path, exclude: set[str] | frozenset[str] = frozenset(), targets: bool = True
) -> dict:
    """Files reference vs the pipeline's results in `warehouse` (opened read-only): inflow/outflow totals and
    differing cells; with targets, differing attainment values; per delivery, differing status or accepted rows."""
    con, timings = run(landing, exclude, targets)
    try:
        result = _summary(con, timings)
        con.execute(f"ATTACH {sql_str(str(Path(warehouse).resolve()))} AS wh (READ_ONLY)")
        con.execute(f"CREATE TEMP TABLE pipeline_counts AS {PIPELINE_COUNTS}")
        diffs = con.execute(DIFF).fetchall()
        feeds = ", ".join(sql_str(f) for f in (FEED_COLUMNS if targets else [FEED]))
        deliveries = con.execute(DELIVERY_DIFF.format(feeds=feeds)).fetchall()
        target_diffs = con.execute(TARGET_DIFF.format(pairs=_target_pairs())).fetchall() if targets else []
        pipeline_totals = _totals(con, "pipeline_counts")
    finally:
        con.close()
    result.pop("counts")
    result["totals"] = {
        **{f"reference_{k}": v for k, v in result["totals"].items()},
        **{f"pipeline_{k}": v for k, v in pipeline_totals.items()},
    }
    result["differences"] = [
        {"measure": m, "municipality_code": mun, "event_month": str(month), "reference": r, "pipeline": p}
        for m, mun, month, r, p in diffs
    ]
    result["target_differences"] = [
        {"target_code": t, "as_of_date": d, "column": c, "reference": r, "pipeline": p}
        for t, d, c, r, p in target_diffs
    ]
    result["delivery_differences"] = [
        {
            "delivery_id": d,
            "status_reference": s1,
            "status_pipeline": s2,
            "rows_accepted_reference": a1,
            "rows_accepted_pipeline": a2,
        }
        for d, s1, s2, a1, a2 in deliveries
    ]
    result["verdict"] = "EQUAL" if not diffs else f"DIFFERENT in {len(diffs)} cells"
    if targets:
        result["targets_verdict"] = "EQUAL" if not target_diffs else f"DIFFERENT in {len(target_diffs)} values"
    result["excluded"] = sorted(exclude)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--landing", required=True, type=Path)
    ap.add_argument("--warehouse", type=Path, help="compare with this warehouse (opened read-only)")
    ap.add_argument(
        "--flows-only",
        action="store_true",
        help="inflow/outflow only: read the rows of the employment files alone, no target attainment",
    )
    ap.add_argument(
        "--exclude",
        nargs="*",
        default=[],
        metavar="PARTNER/FILE",
        help="leave these files out, as if not in the landing folder (e.g. "
        "zorggroep_haaglanden/zorggroep_haaglanden_2025-01.csv)",
    )
    ap.add_argument("--json", type=Path, help="write the result here as JSON")
    ap.add_argument("--show-sql", action="store_true", help="print the generated SQL that reads the files")
    args = ap.parse_args(argv)
    targets, exclude = not args.flows_only, set(args.exclude)
    if args.show_sql:
        con, timings = run(args.landing, exclude, targets)
        con.close()
        print(timings["generated_sql"])
    result = (
        compare(args.landing, args.warehouse, exclude, targets)
        if args.warehouse
        else compute(args.landing, exclude, targets)
    )
    print(
        f"files reference ({'inflow/outflow and targets' if targets else 'inflow/outflow only'}): "
        f"xlsx conversion {result['xlsx_s']:.3f} s, file scan (hash, sniff, headers) {result['scan_s']:.3f} s, "
        f"cp1252 transcoding {result['transcode_s']:.3f} s, SQL {result['sql_s']:.3f} s, "
        f"total {result['total_s']:.3f} s"
    )
    print(
        f"  window {result['observation_start']} .. {result['cutoff']}; files: "
        + ", ".join(f"{k} {v}" for k, v in result["files"].items())
    )
    print("  employment rows (loaded files): " + ", ".join(f"{k} {v}" for k, v in result["employment_rows"].items()))
    for k, v in result["totals"].items():
        print(f"  {k}: {v['cells']} cells, {v['persons_summed']} persons summed over cells")
    for t in result.get("targets_latest", []):
        print(f"  target {t['target_code']} as of {t['as_of_date']}: achieved {t['achieved']}, status {t['status']}")
    ok = True
    if args.warehouse:
        print(f"files reference vs pipeline, inflow/outflow: {result['verdict']}")
        for d in result["differences"]:
            print(f"  {d}")
        if targets:
            print(f"files reference vs pipeline, target attainment: {result['targets_verdict']}")
            for d in result["target_differences"][:30]:
                print(f"  {d}")
        if result["delivery_differences"]:
            print(f"  deliveries that differ in status or accepted rows: {len(result['delivery_differences'])}")
            for d in result["delivery_differences"][:30]:
                print(f"    {d}")
        ok = not result["differences"] and not result["target_differences"]
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
