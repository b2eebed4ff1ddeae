"""Bounded reading (ingest/bounds.py, config/ingest_limits.yaml): a file past a limit is rejected before it is
materialised, with a reason that names the limit; and the small file problems of issue 13."""

import dataclasses
import io
import zipfile

import openpyxl
import pytest
from conftest import TEST_KEY
from test_bad_input import HEADER, PARTNERS, REF, ROW_T1, ROW_T2, municipal_file

from core.errors import ConfigError, DeliveryRejected
from ingest.bounds import SheetExtent, check_text_shape, column_number
from ingest.limits import ReadLimits, default_limits, load_read_limits
from ingest.readers import read_csv_bytes, read_delivery_file
from sampledata.hostile import _forge_sizes, _with_sheet_padding, _xlsx
from warehouse.db import make_engine, read_table
from warehouse.ingest_feed import ingest_feed

KNOWN = {"trajectnummer", "bsn", "geboortedatum", "doelgroep"}
SMALL = dataclasses.replace(default_limits(), max_rows=100, max_columns=20, max_cells=500, max_header_chars=200)


def rejected(read) -> DeliveryRejected:
    with pytest.raises(DeliveryRejected) as caught:
        read()
    return caught.value


def csv_bytes(header: list[str], rows: int, width: int | None = None) -> bytes:
    width = width or len(header)
    lines = [";".join(header)] + [
        ";".join(["T1", "111222333", "1990-01-01", "Bijstand"][:width] + [""] * (width - 4))
    ] * rows
    return ("\n".join(lines) + "\n").encode()


def test_the_limits_file_is_validated_and_the_defaults_are_sensible(tmp_path):
    limits = load_read_limits()
    assert limits == ReadLimits()  # config/ingest_limits.yaml holds the documented defaults
    assert limits.max_cells >= 1_000_000 * 13 and limits.max_rows >= 1_048_576  # an honest full sheet fits
    bad = tmp_path / "limits.yaml"
    bad.write_text("max_rows: -1\n")
    with pytest.raises(ConfigError, match="positive"):
        load_read_limits(bad)
    bad.write_text("max_rowz: 10\n")
    with pytest.raises(ConfigError, match="unknown"):
        load_read_limits(bad)


@pytest.mark.parametrize(
    ("data", "code", "named"),
    [
        (csv_bytes(["Trajectnummer", "BSN", "Geboortedatum", "Doelgroep"], 150),
         "FILE_TOO_MANY_ROWS", "max_rows = 100"),
        (csv_bytes(["Trajectnummer", "BSN", "Geboortedatum", "Doelgroep"] + [f"x{i}" for i in range(30)], 2),
         "FILE_TOO_MANY_COLUMNS", "max_columns = 20"),
        (csv_bytes(["Trajectnummer", "BSN", "Geboortedatum", "Doelgroep"] + [f"x{i}" for i in range(10)], 60),
         "FILE_TOO_MANY_CELLS", "max_cells = 500"),
        (csv_bytes(["Trajectnummer", "BSN", "Geboortedatum", "Doelgroep" + "x" * 300], 2),
         "FILE_HEADER_TOO_LONG", "max_header_chars = 200"),
    ],
)  # fmt: skip
def test_a_csv_past_a_limit_is_rejected_naming_the_limit(data, code, named):
    exc = rejected(lambda: read_csv_bytes(data, KNOWN, SMALL))
    assert exc.reason_code == code
    assert named in exc.message and "read limit" in exc.message
    assert "config/" not in exc.message  # a partner reads it: no internal path


def test_the_csv_counts_are_upper_bounds_and_a_file_within_the_limits_reads():
    data = csv_bytes(["Trajectnummer", "BSN", "Geboortedatum", "Doelgroep"], 90)
    assert len(read_csv_bytes(data, KNOWN, SMALL).frame) == 90
    check_text_shape('a;"b;c"\n', ";", SMALL, 30)  # quoted delimiters count, but not past a limit here


def test_a_header_of_a_million_columns_is_refused_before_it_is_split():
    header = ";".join(f"k{i}" for i in range(1_000_000))
    exc = rejected(lambda: read_csv_bytes((header + "\n1\n").encode(), KNOWN))
    assert exc.reason_code == "FILE_TOO_MANY_COLUMNS" and "1,000,000 columns" in exc.message


def test_xlsx_far_cells_are_found_without_loading_the_sheet(tmp_path):
    assert column_number("XFD") == 16_384 and column_number("CV") == 100 and column_number("A") == 1
    for cells, code in (
        ({"XFD1048576": "x"}, "FILE_TOO_MANY_COLUMNS"),
        ({"A1": "Trajectnummer", "B1": "BSN", "CV1048576": "x"}, "FILE_TOO_MANY_CELLS"),
        ({"A1": "BSN", "AZ200000": "x"}, "FILE_TOO_MANY_CELLS"),
    ):  # fmt: skip
        path = tmp_path / "g_202201.xlsx"
        path.write_bytes(_xlsx(cells))
        limits = dataclasses.replace(default_limits(), max_cells=5_000_000)
        assert rejected(lambda p=path, lim=limits: read_delivery_file(p, KNOWN, lim)).reason_code == code


def test_formatted_empty_cells_do_not_count_and_the_sheet_extent_is_exact():
    extent = SheetExtent()
    extent.feed(b'<row r="900000"><c r="M900000" s="1"/></row><row r="2"><c r="AB2" t="s"><v>1</v></c></row>')
    assert (extent.rows, extent.columns) == (2, 28)  # the self-closed (valueless) M900000 is not filled
    extent.feed(b'<c t="s" r="C1200000"><v>1</v></c>')  # position not first: scanned the general way
    assert extent.irregular and extent.rows == 1_200_000


def test_what_the_xlsx_reader_reports_is_checked_before_its_rows_become_objects(tmp_path):
    """Cells without a position are not seen by the scan; the reader's own height x width catches them."""
    wb = openpyxl.Workbook()
    wb.active.append(["Trajectnummer", "BSN", "Geboortedatum"])
    plain = io.BytesIO()
    wb.save(plain)
    src = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    path = tmp_path / "g_202201.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                head, _, tail = data.partition(b"</sheetData>")
                data = head + b"<row>" + b'<c t="inlineStr"><is><t>x</t></is></c>' * 60 + b"</row></sheetData>" + tail
            out.writestr(item.filename, data)
    exc = rejected(lambda: read_delivery_file(path, KNOWN, SMALL))
    assert exc.reason_code == "FILE_TOO_MANY_COLUMNS" and "column 60" in exc.message


def test_an_archive_that_lies_about_its_sizes_is_refused_without_unpacking_it(tmp_path):
    plain = _xlsx({"A1": "Trajectnummer", "B1": "BSN", "A2": "T1"})
    bomb = _with_sheet_padding(plain, b"0" * (1 << 20), 300)  # 300 MB of padding, < 1 MB on disk
    small = tmp_path / "g_202201.xlsx"
    small.write_bytes(_forge_sizes(bomb, "xl/worksheets/sheet1.xml", 4096))
    assert small.stat().st_size < 2_000_000
    exc = rejected(lambda: read_delivery_file(small, KNOWN))
    assert exc.reason_code == "FILE_CORRUPT" and "does not unpack to the size" in exc.message
    large = tmp_path / "g_202202.xlsx"
    large.write_bytes(_forge_sizes(plain, "xl/worksheets/sheet1.xml", 3 << 30))
    assert rejected(lambda: read_delivery_file(large, KNOWN)).reason_code == "FILE_SUSPICIOUS_ARCHIVE"


# --- the small items ---------------------------------------------------------------------------------------------


def ingest(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    report = ingest_feed(engine, "municipal_participants", PARTNERS, tmp_path / "landing", REF, TEST_KEY)
    return engine, {r["source_file"]: r for r in report.log_rows}


def test_two_headers_of_one_name_reject_the_file_naming_them(tmp_path):
    folder = tmp_path / "landing" / "gemeente_den_haag"
    folder.mkdir(parents=True)
    (folder / "g_202201.csv").write_text(HEADER.replace("Postcode", "BSN") + ROW_T1, encoding="utf-8")
    (folder / "g_202202.csv").write_text(HEADER.replace("Naam", "bsn ") + ROW_T1, encoding="utf-8")
    _, log = ingest(tmp_path)
    for name in ("g_202201.csv", "g_202202.csv"):
        assert log[name]["reason_code"] == "FILE_DUPLICATE_HEADERS"
    assert "'BSN' and 'BSN'" in log["g_202201.csv"]["reason"]
    assert "'BSN' and 'bsn'" in log["g_202202.csv"]["reason"]  # compared as the mapping compares headers


def test_headers_that_look_like_identifiers_are_masked_in_messages(tmp_path):
    folder = tmp_path / "landing" / "gemeente_den_haag"
    folder.mkdir(parents=True)
    (folder / "g_202201.csv").write_text("Trajectnummer,BSN,111222333\nT1,123456782,x\n", encoding="utf-8")
    _, log = ingest(tmp_path)
    assert log["g_202201.csv"]["reason_code"] == "FILE_MISSING_COLUMNS"
    assert "111222333" not in log["g_202201.csv"]["reason"] and "looks like a BSN" in log["g_202201.csv"]["reason"]


def test_one_long_cell_quarantines_its_row_naming_its_column(tmp_path):
    folder = tmp_path / "landing" / "gemeente_den_haag"
    long_row = ROW_T2.replace("Voortraject", "V" * 200_000)  # past the csv module's own limit of 131,072
    municipal_file(folder, "g_202201.csv", ROW_T1, long_row)
    engine, log = ingest(tmp_path)
    assert (log["g_202201.csv"]["rows_read"], log["g_202201.csv"]["rows_accepted"]) == (2, 1)
    q = read_table(engine, "quarantine_rows").iloc[0]
    assert (q["reason_code"], q["source_row_number"], q["columns"], q["source_columns"]) == (
        "ROW_VALUE_TOO_LONG", 3, "programme", "Programma",
    )  # fmt: skip
    assert "200,000 characters" in q["reason"] and "max_cell_chars" in q["reason"]


def test_utf16_is_read_with_or_without_a_byte_order_mark(tmp_path):
    text = HEADER + ROW_T1 + ROW_T2
    for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
        raw = read_csv_bytes(text.encode(encoding), KNOWN)
        assert raw.frame["Trajectnummer"].tolist() == ["T1", "T2"], encoding
    garbled = b"T\x00r\x00a\x00j\x00" * 20 + b"\x00\xd8"  # UTF-16-LE that breaks off in a lone surrogate
    exc = rejected(lambda: read_csv_bytes(garbled, KNOWN))
    assert exc.reason_code == "FILE_NOT_TEXT" and "UTF-16" in exc.message and "neither" not in exc.message


def test_a_header_only_delivery_is_logged_as_empty_and_leaves_the_original_in_force(tmp_path):
    folder = tmp_path / "landing" / "gemeente_den_haag"
    municipal_file(folder, "gemeente_den_haag_202201.csv", ROW_T1)
    municipal_file(folder, "gemeente_den_haag_202201_v2.csv")  # the header alone
    engine, log = ingest(tmp_path)
    assert log["gemeente_den_haag_202201_v2.csv"]["reason_code"] == "FILE_EMPTY"
    assert "no data rows" in log["gemeente_den_haag_202201_v2.csv"]["reason"]
    assert log["gemeente_den_haag_202201.csv"]["delivery_status"] == "loaded"
    assert read_table(engine, "stg_municipal_participants")["record_key"].tolist() == ["T1"]


def _ods(rows: list[list[str]], far: bytes = b"", sheet: str = "Blad1") -> bytes:
    """An OpenDocument spreadsheet of `rows` (header first), with `far` (raw table rows) appended to its sheet."""
    import pandas as pd

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="odf") as writer:
        pd.DataFrame(rows[1:], columns=rows[0]).to_excel(writer, sheet_name=sheet, index=False)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "content.xml" and far:
                data = data.replace(b"</table:table>", far + b"</table:table>", 1)
            dst.writestr(item, data)
    return out.getvalue()


def test_an_ods_whose_repeated_rows_reach_far_is_refused_before_the_reader_expands_them(tmp_path):
    header = [["Trajectnummer", "BSN", "Geboortedatum", "Doelgroep"], ["T1", "111222333", "01-01-1990", "Bijstand"]]
    far = (  # a million empty rows written once, then one filled cell in column 61: a few bytes on disk
        b'<table:table-row table:number-rows-repeated="1048570"><table:table-cell '
        b'table:number-columns-repeated="60"/></table:table-row><table:table-row><table:table-cell '
        b'table:number-columns-repeated="60"/><table:table-cell office:value-type="string"><text:p>x</text:p>'
        b"</table:table-cell></table:table-row>"
    )
    path = tmp_path / "g_202201.ods"
    path.write_bytes(_ods(header, far))
    assert path.stat().st_size < 10_000
    exc = rejected(lambda: read_delivery_file(path, KNOWN))
    assert exc.reason_code == "FILE_TOO_MANY_CELLS" and "1,048,573 rows by 61 columns" in exc.message
    repeated = b'<table:table-row table:number-rows-repeated="150"><table:table-cell office:value-type="string">'
    repeated += b"<text:p>T9</text:p></table:table-cell></table:table-row>"  # 150 filled rows written once
    path.write_bytes(_ods(header, repeated))
    assert rejected(lambda: read_delivery_file(path, KNOWN, SMALL)).reason_code == "FILE_TOO_MANY_ROWS"
    trailing = b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell/></table:table-row>'
    path.write_bytes(_ods(header, trailing))  # formatted empty rows below the data do not count
    raw = read_delivery_file(path, KNOWN, SMALL)
    assert raw.file_format == "ods" and list(raw.frame["Trajectnummer"]) == ["T1"]
