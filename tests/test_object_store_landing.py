"""A landing zone in an object store: the same pipeline code reads deliveries through
universal-pathlib/fsspec. Tested on fsspec's real in-memory filesystem (the same interface as s3://)."""

import uuid

import pytest
from conftest import TEST_KEY
from upath import UPath

from core.paths import as_path
from ingest.partner_config import load_partner_configs
from ingest.reference import Reference
from pipelines.sensors import evaluate_landing
from warehouse.db import make_engine, read_table, row_count
from warehouse.ingest_feed import ingest_feed, log_unrouted_files


@pytest.fixture
def memory_landing(sample):
    root = UPath(f"memory://landing-{uuid.uuid4().hex[:8]}")
    for path in sample["landing"].rglob("*"):
        if path.is_file():
            target = root / path.relative_to(sample["landing"]).as_posix()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    yield root
    root.fs.rm(root.path, recursive=True)


def test_a_url_becomes_an_object_store_path():
    assert isinstance(as_path("memory://landing"), UPath) and as_path("memory://landing").protocol == "memory"
    assert not hasattr(as_path("/data/landing"), "protocol") or as_path("/data/landing").protocol == ""


def test_deliveries_in_an_object_store_load_exactly_as_local_ones(sample, memory_landing, tmp_path):
    ref = Reference()
    partners = load_partner_configs(reference=ref)
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    for feed in ("employment_spells", "enrolments", "municipal_participants"):
        ingest_feed(engine, feed, partners, memory_landing, ref, TEST_KEY)
    unrouted = log_unrouted_files(engine, memory_landing, partners)
    manifest = sample["manifest"]
    assert row_count(engine, "stg_employment_spells") == manifest["expected_staging_rows"]["employment_spells"]
    assert row_count(engine, "stg_enrolments") == manifest["expected_staging_rows"]["enrolments"]
    assert (
        row_count(engine, "stg_municipal_participants") == manifest["expected_staging_rows"]["municipal_participants"]
    )
    log = read_table(engine, "delivery_log")
    assert len(log) == len(manifest["files"]) + len(manifest["rejected_files"])
    assert [r["reason_code"] for r in unrouted] == ["FILE_UNKNOWN_PARTNER"]
    assert (
        log.loc[log["delivery_status"] == "rejected", "reason_code"] == "FILE_CORRUPT"
    ).sum() == 1  # an xlsx read from the store


def test_the_landing_sensor_scans_an_object_store(memory_landing):
    changed, cursor = evaluate_landing(memory_landing, None)
    assert len(changed) > 20 and all("/" in rel for rel, _ in changed)
    again, _ = evaluate_landing(memory_landing, cursor)
    assert again == []  # same files: no new run
    (memory_landing / "gemeente_den_haag" / "gemeente_den_haag_209901.csv").write_bytes(b"new")
    changed, _ = evaluate_landing(memory_landing, cursor)
    assert [rel for rel, _ in changed] == ["gemeente_den_haag/gemeente_den_haag_209901.csv"]
