"""Bad input: whole-file rejections with reasons, re-deliveries, feedback reports, atomic loads."""

import csv
import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import msoffcrypto.format.ooxml as ooxml
import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import TEST_KEY

import warehouse.ingest_feed as ingest_feed_module
from ingest.feedback import neutralise_formula, write_feedback_reports, write_report
from ingest.partner_config import load_partner_configs
from ingest.reference import Reference
from schemas.tables import TABLES
from transforms.current_records import latest_records
from warehouse.db import make_engine, read_table, replace_table, row_count
from warehouse.ingest_feed import ingest_feed, log_unrouted_files

REF = Reference()
PARTNERS = load_partner_configs(reference=REF)
HEADER = (
    "Trajectnummer,BSN,Naam,Geboortedatum,Postcode,Doelgroep,Uitkering,Programma,Datum aanmelding,Datum plaatsing,"
    "Soort plaatsing,Datum einde plaatsing,Resultaat plaatsing\n"
)
# 111222333 and 123456782 pass the 11-check (worked out in test_pseudonymise.py)
ROW_T1 = "T1,111222333,A. Jansen,1990-01-01,2511 AB,Bijstand,PW,WEP-trein,2022-01-10,2022-02-01,WEP,,\n"
ROW_T2 = "T2,123456782,B. de Vries,1985-05-05,2611 CD,Statushouder,PW,Voortraject,2022-01-12,,,,\n"


def municipal_file(folder: Path, name: str, *rows: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def password_protected_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(HEADER.strip().split(","))
    plain, locked = io.BytesIO(), io.BytesIO()
    wb.save(plain)
    plain.seek(0)
    ooxml.OOXMLFile(plain).encrypt("geheim", locked)
    return locked.getvalue()


def ingest(engine, landing, **kw):
    return ingest_feed(engine, "municipal_participants", PARTNERS, landing, REF, TEST_KEY, **kw)


def test_unreadable_files_are_rejected_whole_with_a_reason_and_the_run_goes_on(tmp_path):
    landing = tmp_path / "landing"
    folder = landing / "gemeente_den_haag"
    municipal_file(folder, "gemeente_den_haag_202201.csv", ROW_T1, ROW_T2)
    (folder / "gemeente_den_haag_202202.csv").write_bytes(b"")
    (folder / "gemeente_den_haag_202203.csv").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    (folder / "gemeente_den_haag_202204.pdf").write_bytes(b"%PDF-1.7 not an export")
    (folder / "gemeente_den_haag_202205.xlsx").write_bytes(password_protected_xlsx())
    (folder / "gemeente_den_haag_202206.xlsx").write_bytes(b"PK\x03\x04 this is not really a zip")
    (folder / "gemeente_den_haag_202207.csv").write_text("Trajectnummer,BSN\nT9,111222333\n", encoding="utf-8")
    (folder / "gemeente_den_haag_202208.csv").write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    (folder / "export_zonder_periode.csv").write_text(HEADER + ROW_T1, encoding="utf-8")
    municipal_file(landing / "onbekende_partner", "onbekende_partner_202201.csv", ROW_T1)
    big = municipal_file(folder, "gemeente_den_haag_202209.csv", ROW_T1 * 2000)  # larger than every other file here
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")

    report = ingest(engine, landing, max_file_bytes=big.stat().st_size - 1)
    unrouted = log_unrouted_files(engine, landing, PARTNERS)
    codes = {
        r["source_file"]: r["reason_code"] for r in report.log_rows + unrouted if r["delivery_status"] == "rejected"
    }
    assert codes == {
        "gemeente_den_haag_202202.csv": "FILE_EMPTY",
        "gemeente_den_haag_202203.csv": "FILE_NOT_TEXT",
        "gemeente_den_haag_202204.pdf": "FILE_NOT_SPREADSHEET",
        "gemeente_den_haag_202205.xlsx": "FILE_PASSWORD_PROTECTED",
        "gemeente_den_haag_202206.xlsx": "FILE_CORRUPT",
        "gemeente_den_haag_202207.csv": "FILE_MISSING_COLUMNS",
        "gemeente_den_haag_202208.csv": "FILE_NO_HEADER",
        "export_zonder_periode.csv": "FILE_NO_PERIOD",
        "onbekende_partner/onbekende_partner_202201.csv": "FILE_UNKNOWN_PARTNER",
        "gemeente_den_haag_202209.csv": "FILE_TOO_LARGE",
    }
    assert [r["source_file"] for r in report.log_rows if r["delivery_status"] == "loaded"] == [
        "gemeente_den_haag_202201.csv"
    ]
    assert row_count(engine, "stg_municipal_participants") == 2
    log = read_table(engine, "delivery_log")
    assert len(log) == 11
    missing = log.loc[log["reason_code"] == "FILE_MISSING_COLUMNS", "reason"].iloc[0]
    assert "Datum aanmelding" in missing and "Headers found: ['Trajectnummer', 'BSN']" in missing
    # a second run logs nothing new
    assert ingest(engine, landing, max_file_bytes=big.stat().st_size - 1).log_rows == []
    assert log_unrouted_files(engine, landing, PARTNERS) == []


def test_re_deliveries_duplicate_corrected_resend_late_original_and_withdrawn_rows(tmp_path):
    landing = tmp_path / "landing"
    folder = landing / "gemeente_den_haag"
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    v1 = municipal_file(folder, "gemeente_den_haag_202201.csv", ROW_T1, ROW_T2)
    ingest(engine, landing)
    (folder / "kopie van gemeente_den_haag_202201.csv").write_bytes(v1.read_bytes())  # same content, other name
    municipal_file(
        folder, "gemeente_den_haag_202201_v2.csv", ROW_T1.replace("WEP,,\n", "WEP,2022-06-30,Werkfit\n")
    )  # T2 withdrawn
    report = ingest(engine, landing)
    status = {r["source_file"]: r["delivery_status"] for r in report.log_rows}
    assert status == {
        "kopie van gemeente_den_haag_202201.csv": "duplicate",
        "gemeente_den_haag_202201_v2.csv": "loaded",
    }
    log = read_table(engine, "delivery_log").set_index("source_file")
    assert log.loc["gemeente_den_haag_202201.csv", "delivery_status"] == "superseded"
    assert (
        log.loc["gemeente_den_haag_202201.csv", "superseded_by"]
        == log.loc["gemeente_den_haag_202201_v2.csv", "delivery_id"]
    )
    staging = read_table(engine, "stg_municipal_participants")
    assert staging["record_key"].tolist() == ["T1"]  # the row only in the original is withdrawn
    assert staging["placement_result_code"].tolist() == ["werkfit"]
    # the original arriving again late, under another name, after the v2: superseded on arrival
    municipal_file(
        folder,
        "gemeente_den_haag_2022-01 (oud).csv",
        ROW_T1,
        ROW_T2,
        "T3,111222333,X,1990-01-01,,Bijstand,PW,WEP-trein,2022-01-10,,,,\n",
    )
    late = ingest(engine, landing)
    assert [(r["source_file"], r["delivery_status"]) for r in late.log_rows] == [
        ("gemeente_den_haag_2022-01 (oud).csv", "superseded")
    ]
    assert read_table(engine, "stg_municipal_participants")["record_key"].tolist() == ["T1"]
    # an unchanged snapshot for the next period is that period's delivery, not a duplicate
    (folder / "gemeente_den_haag_202202.csv").write_bytes((folder / "gemeente_den_haag_202201_v2.csv").read_bytes())
    assert [r["delivery_status"] for r in ingest(engine, landing).log_rows] == ["loaded"]
    facts = latest_records(read_table(engine, "stg_municipal_participants"), TABLES["fct_municipal_trajectories"])
    assert facts["delivery_period"].tolist() == ["2022-02"]


def test_feedback_cells_are_safe_against_formula_injection(tmp_path):
    hostile = ['=HYPERLINK("http://x")', "+31 6", "-1+1", "@SUM(A1)", "\tcmd", "\rcmd", "gewoon"]
    assert [neutralise_formula(v) for v in hostile] == ["'" + v for v in hostile[:-1]] + ["gewoon"]
    rows = pd.DataFrame(
        {
            "source_row_number": pd.array(range(2, 2 + len(hostile)), dtype="Int64"),
            "reason_code": "ROW_UNKNOWN_CODE",
            "source_columns": "Doelgroep",
            "masked_value": hostile,
            "reason": [f"Doelgroep '{v}' is not a known code" for v in hostile],
            "severity": "row_rejected",
        }
    )
    delivery = {
        "partner_code": "gemeente_den_haag",
        "source_file": "x_202201.csv",
        "content_hash": "ab" * 32,
        "delivery_status": "loaded",
        "delivery_period": "2022-01",
        "rows_read": 9,
        "rows_accepted": 2,
        "rows_quarantined": 7,
    }
    from ingest.feedback import report_frame

    xlsx, csv_path = write_report(report_frame(delivery, rows), delivery, tmp_path)
    book = openpyxl.load_workbook(xlsx)
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert all(c.data_type == "s" for c in cells if isinstance(c.value, str))
    assert all(c.data_type == "n" for c in book["Rijen"]["A"][1:])  # row numbers are numbers
    values = [c.value for c in cells if isinstance(c.value, str)]
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in values)
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        cells = [cell for row in csv.reader(fh, delimiter=";") for cell in row]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert '\'=HYPERLINK("http://x")' in cells


def test_feedback_file_names_cannot_escape_the_feedback_folder(tmp_path):
    root = tmp_path / "feedback"
    log = pd.DataFrame(
        [
            {
                "delivery_id": "x",
                "partner_code": "../../etc",
                "source_file": "../../../tmp/evil/..\\..\\x_202201.csv",
                "content_hash": "cd" * 32,
                "delivery_status": "rejected",
                "delivery_period": None,
                "rows_read": 0,
                "rows_accepted": 0,
                "rows_quarantined": 0,
                "reason_code": "FILE_EMPTY",
                "reason": "The file is empty.",
            }
        ]
    )
    quarantine = pd.DataFrame(
        columns=[
            "delivery_id",
            "source_row_number",
            "reason_code",
            "source_columns",
            "masked_value",
            "reason",
            "severity",
        ]
    )
    written = write_feedback_reports(log, quarantine, root)
    assert written
    for path in root.rglob("*"):
        assert root.resolve() in path.resolve().parents
    assert not (tmp_path / "etc").exists() and not Path("/tmp/evil").exists()


# --- atomic loads ---------------------------------------------------------------------------------


def _snapshot(engine) -> dict:
    return {
        t: read_table(engine, t).sort_values(TABLES[t].column_names[:2]).reset_index(drop=True)
        for t in ("stg_municipal_participants", "delivery_log", "quarantine_rows")
    }


def _assert_unchanged(engine, before):
    for t, df in _snapshot(engine).items():
        pd.testing.assert_frame_equal(df, before[t], obj=t)


def test_a_failure_inside_the_load_transaction_leaves_the_tables_unchanged(warehouse_url, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    folder = landing / "gemeente_den_haag"
    engine = make_engine(warehouse_url)
    municipal_file(folder, "gemeente_den_haag_202201.csv", ROW_T1)
    ingest(engine, landing)
    before = _snapshot(engine)
    municipal_file(
        folder, "gemeente_den_haag_202202.csv", ROW_T1, ROW_T2, "T3,1,X,bad,,Bijstand,PW,WEP-trein,2022-01-10,,,,\n"
    )
    real_insert = ingest_feed_module.insert_frame

    def failing_insert(conn, table_name, df):
        real_insert(conn, table_name, df)
        if table_name == "quarantine_rows":  # after the staging rows went in, before the log
            raise RuntimeError("simulated crash inside the transaction")

    monkeypatch.setattr(ingest_feed_module, "insert_frame", failing_insert)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest(engine, landing)
    _assert_unchanged(engine, before)
    monkeypatch.undo()
    assert [r["delivery_status"] for r in ingest(engine, landing).log_rows] == [
        "loaded"
    ]  # nothing half-done blocks a retry


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import warehouse.ingest_feed as m
    from ingest.partner_config import load_partner_configs
    from ingest.reference import Reference
    from warehouse.db import make_engine
    url, landing, marker = sys.argv[1:4]
    real = m.insert_frame
    def slow_insert(conn, table, df):
        real(conn, table, df)
        if table == "stg_municipal_participants":
            Path(marker).write_text("inside")
            time.sleep(60)
    m.insert_frame = slow_insert
    ref = Reference()
    partners = load_partner_configs(reference=ref)
    m.ingest_feed(make_engine(url), "municipal_participants", partners, Path(landing), ref, b"k")
""")


def test_killing_the_process_mid_load_leaves_the_previous_tables_readable_and_unchanged(warehouse_url, tmp_path):
    landing = tmp_path / "landing"
    folder = landing / "gemeente_den_haag"
    engine = make_engine(warehouse_url)
    municipal_file(folder, "gemeente_den_haag_202201.csv", ROW_T1)
    ingest_feed(engine, "municipal_participants", PARTNERS, landing, REF, b"k")
    before = _snapshot(engine)
    engine.dispose()  # DuckDB: one writer process at a time
    municipal_file(folder, "gemeente_den_haag_202202.csv", ROW_T1, ROW_T2)
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, warehouse_url, str(landing), str(marker)])
    try:
        for _ in range(600):
            if marker.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), "the loader never reached the middle of its transaction"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    engine = make_engine(warehouse_url)
    _assert_unchanged(engine, before)


def test_a_reader_never_sees_a_half_written_table(warehouse_url, monkeypatch):
    import warehouse.db as db

    engine = make_engine(warehouse_url)
    regions = Reference().municipalities.copy()
    replace_table(engine, "dim_region", regions)
    inside, release = threading.Event(), threading.Event()
    real_insert = db.insert_frame

    def paused_insert(conn, table_name, df, **kwargs):
        n = real_insert(conn, table_name, df, **kwargs)
        inside.set()
        release.wait(30)
        return n

    monkeypatch.setattr(db, "insert_frame", paused_insert)
    writer = threading.Thread(target=replace_table, args=(engine, "dim_region", regions.head(3)))
    writer.start()
    assert inside.wait(30)
    with engine.connect() as conn:  # another connection, while the replace has written the new rows but not committed
        seen = conn.execute(sa.text('SELECT COUNT(*) FROM "dim_region"')).scalar_one()
    release.set()
    writer.join(30)
    assert seen == len(regions)  # the old table, whole
    assert row_count(engine, "dim_region") == 3  # then the new one, whole


def test_processed_deliveries_can_be_archived_and_are_not_loaded_again(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    folder = landing / "gemeente_den_haag"
    municipal_file(folder, "gemeente_den_haag_202201.csv", ROW_T1)
    (folder / "leeg_202202.csv").write_bytes(b"")
    municipal_file(landing / "onbekend", "onbekend_202201.csv", ROW_T1)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    engine = make_engine(url)
    ingest(engine, landing)
    log_unrouted_files(engine, landing, PARTNERS)
    engine.dispose()
    municipal_file(folder, "gemeente_den_haag_202203.csv", ROW_T2)  # arrived after the run: stays
    monkeypatch.setenv("ZORGSTROOM_WAREHOUSE_URL", url)
    monkeypatch.setenv("ZORGSTROOM_LANDING_DIR", str(landing))
    monkeypatch.setenv("ZORGSTROOM_ARCHIVE_DIR", str(tmp_path / "archive"))
    from warehouse.archive_cli import main

    assert main() == 0
    archived = sorted(
        p.relative_to(tmp_path / "archive").as_posix() for p in (tmp_path / "archive").rglob("*") if p.is_file()
    )
    assert archived == [
        "gemeente_den_haag/gemeente_den_haag_202201.csv",
        "gemeente_den_haag/leeg_202202.csv",
        "onbekend/onbekend_202201.csv",
    ]
    assert sorted(p.name for p in landing.rglob("*") if p.is_file()) == ["gemeente_den_haag_202203.csv"]
    engine = make_engine(url)
    assert [r["source_file"] for r in ingest(engine, landing).log_rows] == ["gemeente_den_haag_202203.csv"]


def test_a_row_failing_only_the_schema_does_not_push_out_a_valid_duplicate(tmp_path):
    """The first *valid* row of a record key stays: a row that only the Pandera schema rejects (birth year
    1890) does not count as the first, so the valid row after it is loaded, not rejected as a duplicate."""
    folder = tmp_path / "landing" / "gemeente_den_haag"
    municipal_file(folder, "gemeente_den_haag_202201.csv", ROW_T1.replace("1990-01-01", "1890-01-01"), ROW_T1)
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    ingest(engine, tmp_path / "landing")
    quarantine = read_table(engine, "quarantine_rows")
    assert quarantine["reason_code"].tolist() == ["ROW_SCHEMA"]
    assert quarantine["source_row_number"].tolist() == [2]
    assert read_table(engine, "stg_municipal_participants")["source_row_number"].tolist() == [3]
