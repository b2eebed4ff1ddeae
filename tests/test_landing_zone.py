"""A confined landing zone (ingest/deliveries.py, list_landing): links are never followed, hidden names never
read, and each is logged once and left in place, by the ingester, the unrouted-files listing, the landing
sensor and `make archive` alike."""

import json
import logging
import os

import pandas as pd
import pytest
from conftest import TEST_KEY
from test_bad_input import PARTNERS, REF, ROW_T1, ROW_T2, municipal_file
from test_sensors_schedules import deliver, evaluate, instance, landing  # noqa: F401  (fixtures)

import core.settings as settings_module
import ingest.deliveries as deliveries_module
from ingest.deliveries import FILE, HIDDEN, LINK, SPECIAL, list_landing
from pipelines import sensors as sensors_module
from warehouse.db import make_engine, read_table, replace_tables, row_count
from warehouse.ingest_feed import ingest_feed, log_unrouted_files

PARTNER = "gemeente_den_haag"


@pytest.fixture
def zone(tmp_path):
    """A landing zone with one delivery and every kind of entry that must not be read."""
    zone_dir, outside = tmp_path / "zone_dir", tmp_path / "outside"
    folder = zone_dir / PARTNER
    municipal_file(folder, f"{PARTNER}_202201.csv", ROW_T1)
    municipal_file(outside, f"{PARTNER}_202202.csv", ROW_T2)
    (outside / "map").mkdir()
    municipal_file(outside / "map", f"{PARTNER}_202203.csv", ROW_T2)
    os.symlink(outside / f"{PARTNER}_202202.csv", folder / f"{PARTNER}_202202.csv")  # out of the zone
    os.symlink(folder / f"{PARTNER}_202201.csv", folder / f"{PARTNER}_202201_kopie.csv")  # inside the zone
    os.symlink("/etc/passwd", folder / f"{PARTNER}_202204.csv")  # a system file
    os.symlink(outside / "map", folder / "map")  # a folder
    os.symlink(outside / "map", zone_dir / "gedeeld")  # a folder directly in the landing folder
    (folder / f".{PARTNER}_202205.csv.part").write_text("upload in progress")
    (folder / ".tmp").mkdir()
    (folder / ".tmp" / f"{PARTNER}_202206.csv").write_text("half")
    os.mkfifo(folder / f"{PARTNER}_202207.csv")  # reading it would wait forever
    return zone_dir, outside


def test_the_listing_never_follows_a_link_nor_enters_a_hidden_folder(zone):
    zone_dir, _ = zone
    kinds = {e.path.relative_to(zone_dir).as_posix(): e.kind for e in list_landing(zone_dir)}
    assert kinds == {
        f"{PARTNER}/{PARTNER}_202201.csv": FILE,
        f"{PARTNER}/{PARTNER}_202201_kopie.csv": LINK,
        f"{PARTNER}/{PARTNER}_202202.csv": LINK,
        f"{PARTNER}/{PARTNER}_202204.csv": LINK,
        f"{PARTNER}/map": LINK,
        f"{PARTNER}/.{PARTNER}_202205.csv.part": HIDDEN,
        f"{PARTNER}/.tmp": HIDDEN,
        f"{PARTNER}/{PARTNER}_202207.csv": SPECIAL,
        "gedeeld": LINK,
    }


def test_links_hidden_names_and_pipes_are_logged_once_never_read_and_left_in_place(zone, tmp_path, monkeypatch):
    zone_dir, outside = zone
    hashed = []
    real_sha = deliveries_module.sha256_of
    monkeypatch.setattr(deliveries_module, "sha256_of", lambda p: hashed.append(p.name) or real_sha(p))
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    messages = []
    report = ingest_feed(engine, "municipal_participants", PARTNERS, zone_dir, REF, TEST_KEY, log=messages.append)
    unrouted = log_unrouted_files(engine, zone_dir, PARTNERS)
    got = {(r["source_file"], r["delivery_status"], r["reason_code"]) for r in report.log_rows + unrouted}
    assert got == {
        (f"{PARTNER}_202201.csv", "loaded", None),
        (f"{PARTNER}_202201_kopie.csv", "rejected", "FILE_LINK"),
        (f"{PARTNER}_202202.csv", "rejected", "FILE_LINK"),
        (f"{PARTNER}_202204.csv", "rejected", "FILE_LINK"),
        ("map", "rejected", "FILE_LINK"),
        (f".{PARTNER}_202205.csv.part", "skipped", "FILE_HIDDEN"),
        (".tmp", "skipped", "FILE_HIDDEN"),
        (f"{PARTNER}_202207.csv", "rejected", "FILE_NOT_REGULAR"),
        ("gedeeld", "rejected", "FILE_LINK"),
    }
    assert hashed == [f"{PARTNER}_202201.csv"]  # nothing else was opened
    assert read_table(engine, "stg_municipal_participants")["record_key"].tolist() == ["T1"]
    log = read_table(engine, "delivery_log")
    assert not log["reason"].fillna("").str.contains(str(outside)).any()  # a link's target is never named
    assert any("not read, left in place" in m for m in messages)
    assert (zone_dir / PARTNER / "map").is_symlink() and (outside / f"{PARTNER}_202202.csv").is_file()
    # a second run logs nothing again; a link that is pointed elsewhere is logged anew
    assert ingest_feed(engine, "municipal_participants", PARTNERS, zone_dir, REF, TEST_KEY).log_rows == []
    assert log_unrouted_files(engine, zone_dir, PARTNERS) == []
    (zone_dir / PARTNER / "map").unlink()
    os.symlink(outside, zone_dir / PARTNER / "map")
    again = ingest_feed(engine, "municipal_participants", PARTNERS, zone_dir, REF, TEST_KEY).log_rows
    assert [(r["source_file"], r["reason_code"]) for r in again] == [("map", "FILE_LINK")]


def test_make_archive_skips_and_reports_links_and_leaves_hidden_files(zone, tmp_path, monkeypatch, capsys):
    zone_dir, outside = zone
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    engine = make_engine(url)
    ingest_feed(engine, "municipal_participants", PARTNERS, zone_dir, REF, TEST_KEY)
    log_unrouted_files(engine, zone_dir, PARTNERS)
    engine.dispose()
    monkeypatch.setenv("ZORGSTROOM_WAREHOUSE_URL", url)
    monkeypatch.setenv("ZORGSTROOM_LANDING_DIR", str(zone_dir))
    monkeypatch.setenv("ZORGSTROOM_ARCHIVE_DIR", str(tmp_path / "archive"))
    from warehouse.archive_cli import main

    assert main() == 0
    out = capsys.readouterr().out
    assert "Archived 1 processed file(s)" in out and "Left 5 link(s) in place" in out
    archived = sorted(p.relative_to(tmp_path / "archive").as_posix() for p in (tmp_path / "archive").rglob("*"))
    assert archived == [PARTNER, f"{PARTNER}/{PARTNER}_202201.csv"]
    assert (zone_dir / PARTNER / f".{PARTNER}_202205.csv.part").is_file()  # an upload in progress stays
    assert all((zone_dir / PARTNER / n).is_symlink() for n in (f"{PARTNER}_202202.csv", "map"))
    assert (outside / f"{PARTNER}_202202.csv").is_file()


def test_the_sensor_never_follows_a_link_and_never_hashes_a_file_over_the_size_limit(
    instance,  # noqa: F811
    landing,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes(b"x")
    deliver(landing, "zorggroep_haaglanden/zorggroep_haaglanden_2024-01.csv", b"a;b\n1;2\n")
    huge = deliver(landing, "zorggroep_haaglanden/zorggroep_haaglanden_2024-02.csv", b"0" * 5000)
    os.symlink(outside, landing / "zorggroep_haaglanden" / "zorggroep_haaglanden_2024-03.csv")
    os.symlink(tmp_path, landing / "zorggroep_haaglanden" / "map")
    monkeypatch.setenv("ZORGSTROOM_MAX_FILE_BYTES", "1000")
    hashed = []
    real_sha = sensors_module.sha256_of
    monkeypatch.setattr(sensors_module, "sha256_of", lambda p: hashed.append(p.name) or real_sha(p))
    result = evaluate(instance)
    files = json.loads(result.run_requests[0].tags["zorgstroom/landing-files"])
    assert files == [
        "zorggroep_haaglanden/zorggroep_haaglanden_2024-01.csv",
        "zorggroep_haaglanden/zorggroep_haaglanden_2024-02.csv",
    ]
    assert hashed == ["zorggroep_haaglanden_2024-01.csv"]  # the large one is identified by size and time
    assert huge.stat().st_size > 1000


# --- the other small items -----------------------------------------------------------------------------------------


def test_an_asset_writing_several_tables_commits_them_together(warehouse_url, monkeypatch):
    import warehouse.db as db

    engine = make_engine(warehouse_url)
    regions = REF.municipalities.copy()
    no_periods = pd.DataFrame(columns=db.TABLES["dim_period"].column_names)
    replace_tables(engine, {"dim_region": regions, "dim_period": no_periods})
    real_insert = db.insert_frame

    def failing(conn, table_name, df, **kwargs):
        if table_name == "dim_period":
            raise RuntimeError("killed between the two tables")
        return real_insert(conn, table_name, df, **kwargs)

    monkeypatch.setattr(db, "insert_frame", failing)
    with pytest.raises(RuntimeError, match="killed between"):
        replace_tables(engine, {"dim_region": regions.head(2), "dim_period": no_periods})
    assert row_count(engine, "dim_region") == len(regions)  # the first table was not committed alone


def test_an_unset_environment_warns_once_and_loudly_that_the_development_key_is_in_use(monkeypatch, caplog):
    monkeypatch.delenv("ZORGSTROOM_ENV", raising=False)
    monkeypatch.delenv("ZORGSTROOM_PSEUDONYM_KEY", raising=False)
    monkeypatch.setattr(settings_module, "_warned_about_development_key", False)
    with caplog.at_level(logging.WARNING, logger="zorgstroom.settings"):
        settings_module.load_settings()
        settings_module.load_settings()
    warnings = [r for r in caplog.records if r.name == "zorgstroom.settings"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "PUBLIC development pseudonymisation key" in warnings[0].getMessage()
    caplog.clear()
    monkeypatch.setattr(settings_module, "_warned_about_development_key", False)
    monkeypatch.setenv("ZORGSTROOM_ENV", "development")  # chosen explicitly (make does): no warning
    with caplog.at_level(logging.WARNING, logger="zorgstroom.settings"):
        settings_module.load_settings()
    assert not [r for r in caplog.records if r.name == "zorgstroom.settings"]


def test_a_file_swapped_for_a_link_after_it_was_listed_is_refused_by_the_reader(tmp_path):
    """The listing never follows links; the readers do not either, should an entry become one in between."""
    import openpyxl

    from core.errors import DeliveryRejected
    from ingest.readers import read_delivery_file

    outside = tmp_path / "outside"
    outside.mkdir()
    municipal_file(outside, "gemeente_den_haag_202201.csv", ROW_T1)
    wb = openpyxl.Workbook()
    wb.active.append(["Trajectnummer", "BSN"])
    wb.save(outside / "gemeente_den_haag_202202.xlsx")
    folder = tmp_path / "landing" / "gemeente_den_haag"
    folder.mkdir(parents=True)
    known = PARTNERS["gemeente_den_haag"].known_headers
    for name in ("gemeente_den_haag_202201.csv", "gemeente_den_haag_202202.xlsx"):
        assert read_delivery_file(outside / name, known).headers  # the real file reads
        os.symlink(outside / name, folder / name)
        with pytest.raises(DeliveryRejected) as caught:
            read_delivery_file(folder / name, known)
        assert caught.value.reason_code == "FILE_LINK", name
        assert str(outside) not in caught.value.message  # where the link points is never shown
