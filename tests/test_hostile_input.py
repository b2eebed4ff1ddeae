"""Hostile input: the readers return a frame or raise the project's own clear error, never anything
else, and never hang; pathological files are bounded in memory and time."""

import csv
import io
import subprocess
import sys
import textwrap
import zipfile

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DeliveryRejected
from ingest.parse import map_codes, parse_dates, parse_decimal, parse_yes_no
from ingest.readers import RawTable, read_csv_bytes, read_delivery_file

KNOWN = {"trajectnummer", "bsn", "geboortedatum", "doelgroep"}
HYPOTHESIS = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def read_or_reject(data: bytes, suffix=".csv", tmp_path=None) -> RawTable | DeliveryRejected:
    try:
        if tmp_path is None:
            return read_csv_bytes(data, KNOWN)
        path = tmp_path / f"x{suffix}"
        path.write_bytes(data)
        return read_delivery_file(path, KNOWN)
    except DeliveryRejected as exc:
        assert exc.reason_code.startswith("FILE_") and len(exc.message) > 20
        return exc


@HYPOTHESIS
@given(st.binary(max_size=4000))
def test_random_bytes(data):
    read_or_reject(data)


@HYPOTHESIS
@given(st.binary(max_size=3000), st.sampled_from([".csv", ".xlsx", ".txt", ".pdf", ""]))
def test_random_bytes_as_files(tmp_path_factory, data, suffix):
    read_or_reject(data, suffix, tmp_path_factory.mktemp("h"))


@HYPOTHESIS
@given(st.binary(max_size=3000))
def test_random_bytes_behind_a_zip_signature(tmp_path_factory, data):
    read_or_reject(b"PK\x03\x04" + data, ".xlsx", tmp_path_factory.mktemp("z"))


cells = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
rows = st.lists(st.lists(cells, min_size=0, max_size=8), max_size=25)


@HYPOTHESIS
@given(
    rows,
    st.sampled_from([";", ",", "\t", "|"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    st.booleans(),
    st.integers(0, 3),
)
def test_csv_shapes_in_every_encoding(body, delimiter, encoding, with_header, title_rows):
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    for _ in range(title_rows):
        writer.writerow(["Export gemeente"])
    if with_header:
        writer.writerow(["Trajectnummer", "BSN", "Geboortedatum", "Doelgroep"])
    writer.writerows(body)
    data = buf.getvalue().encode(encoding, errors="replace")
    result = read_or_reject(data)
    if isinstance(result, RawTable):
        assert result.header_row_number >= 1
        numbers = result.frame["__row_number__"].tolist()
        assert numbers == sorted(numbers) and all(n > result.header_row_number for n in numbers)
        assert (result.frame.drop(columns="__row_number__").map(lambda v: isinstance(v, str))).all().all()


@HYPOTHESIS
@given(st.lists(cells, max_size=30))
def test_parsers_never_raise_and_flag_only_present_values(values):
    s = pd.Series(values, dtype="str")
    for parser in (parse_dates, parse_decimal, parse_yes_no, lambda v: map_codes(v, {"a": "A"})):
        parsed, invalid = parser(s)
        assert len(parsed) == len(s)
        blank = s.fillna("").str.strip() == ""
        assert not (invalid & blank).any()


BOUNDED = textwrap.dedent("""
    import resource, sys
    from pathlib import Path
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))  # 2 GiB address space
    from core.errors import DeliveryRejected
    from ingest.readers import read_delivery_file
    try:
        raw = read_delivery_file(Path(sys.argv[1]), {"trajectnummer", "bsn", "geboortedatum"})
        print("rows", len(raw.frame))
    except DeliveryRejected as exc:
        print("rejected", exc.reason_code)
""")


def run_bounded(path) -> str:
    """Read a file in a child process with a 2 GiB memory limit and a time limit."""
    done = subprocess.run([sys.executable, "-c", BOUNDED, str(path)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def _workbook_with_sheet_xml(path, write_rows) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["Trajectnummer", "BSN", "Geboortedatum"])
    wb.active.append(["T1", "111222333", "1990-01-01"])
    plain = io.BytesIO()
    wb.save(plain)
    src = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                out.writestr(item, data)
                continue
            head, _, tail = data.decode().partition("</sheetData>")
            with out.open(item.filename, "w") as fh:
                fh.write(head.encode())
                write_rows(fh)
                fh.write(("</sheetData>" + tail).encode())


def test_a_million_empty_rows_csv(tmp_path):
    path = tmp_path / "gemeente_202201.csv"
    path.write_text("Trajectnummer;BSN;Geboortedatum\nT1;111222333;1990-01-01\n" + ";;\n" * 1_000_000, encoding="utf-8")
    assert run_bounded(path) == "rows 1"


def test_a_million_formatted_empty_rows_xlsx(tmp_path):
    path = tmp_path / "gemeente_202201.xlsx"

    def rows(fh):
        for start in range(3, 1_000_003, 10_000):
            fh.write("".join(f'<row r="{r}"><c r="M{r}" s="0"/></row>' for r in range(start, start + 10_000)).encode())

    _workbook_with_sheet_xml(path, rows)
    assert run_bounded(path) == "rows 1"


def test_a_zip_bomb_xlsx_is_refused_before_unpacking(tmp_path):
    path = tmp_path / "gemeente_202201.xlsx"
    zeros = b"<!--" + b"0" * (1 << 20) + b"-->"

    def rows(fh):
        for _ in range(300):  # 300 MB of comment that compresses over 1000x
            fh.write(zeros)

    _workbook_with_sheet_xml(path, rows)
    assert path.stat().st_size < 2_000_000
    assert run_bounded(path) == "rejected FILE_SUSPICIOUS_ARCHIVE"


def test_a_wide_garbage_header(tmp_path):
    path = tmp_path / "gemeente_202201.csv"
    header = ";".join(f"k\u00e9l{i}_{'x' * i}" for i in range(40))
    path.write_text(header + "\n" + (";".join(["?"] * 40) + "\n") * 10_000, encoding="utf-8")
    assert run_bounded(path) == "rejected FILE_NO_HEADER"
