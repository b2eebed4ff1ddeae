"""Reading ahead in worker processes gives what reading in the main process gives, in the ingester's order."""

import pandas as pd
import pytest
from conftest import TEST_KEY
from test_bad_input import PARTNERS, REF, ROW_T1, ROW_T2, municipal_file

from core.errors import DeliveryRejected
from core.timing import StageTimer
from ingest.deliveries import describe_file, parse_period_and_version
from ingest.parallel_read import AheadReader
from ingest.process import read_delivery, validate_deliveries

PARTNER = "gemeente_den_haag"


@pytest.fixture
def requests(tmp_path):
    folder = tmp_path / PARTNER
    paths = [municipal_file(folder, f"{PARTNER}_2022{m:02d}.csv", ROW_T1, *([ROW_T2] * m)) for m in range(1, 13)]
    paths += [municipal_file(folder, f"{PARTNER}_2023{m:02d}.csv", ROW_T2) for m in range(1, 4)]
    broken = folder / f"{PARTNER}_202304.csv"
    broken.write_bytes(b"%PDF-1.4 not a spreadsheet")
    paths.append(broken)
    out = []
    for path in paths:
        d = describe_file(path, PARTNER, folder)
        period, version = parse_period_and_version(d.source_file)
        out.append((d, PARTNERS[PARTNER], period, version))
    return out


def outcome(read, request):
    try:
        item = read(request)
    except DeliveryRejected as exc:
        return ("rejected", exc.reason_code, exc.message)
    return ("read", item.mapped.frame.reset_index(drop=True), item.mapped.layout, item.reader_issues, item.rows_read)


def test_workers_read_exactly_what_the_main_process_reads_and_skipped_files_are_dropped(requests):
    asked = [r for i, r in enumerate(requests) if i not in (2, 3, 7)]  # the ingester decides some without reading
    timer = StageTimer()
    with AheadReader(requests, timer, workers=2, min_bytes=0) as reader:
        assert reader.pool is not None
        got = [outcome(reader.read, r) for r in asked]
    expected = [outcome(lambda r: read_delivery(*r), r) for r in asked]
    assert len(got) == len(expected) == len(requests) - 3
    for g, e in zip(got, expected):
        assert g[0] == e[0]
        if g[0] == "read":
            pd.testing.assert_frame_equal(g[1], e[1])
            assert g[2:] == e[2:]
        else:
            assert g == e and g[1] == "FILE_NOT_SPREADSHEET"
    assert timer.seconds["read_in_workers"] > 0 and "read" in timer.seconds


def test_a_batch_validated_in_a_worker_equals_validating_it_here(requests):
    items = [read_delivery(*r) for r in requests[:6]]
    partner = requests[0][1]
    with AheadReader(requests, StageTimer(), workers=2, min_bytes=0) as reader:
        assert reader.pool is not None
        collect = reader.submit_validation(items, partner, REF, TEST_KEY)
        got = collect()
    expected = validate_deliveries(items, partner, REF, TEST_KEY)
    assert list(got) == list(expected) and len(got) == 6
    for delivery_id, result in expected.items():
        pd.testing.assert_frame_equal(got[delivery_id].accepted, result.accepted)
        pd.testing.assert_frame_equal(got[delivery_id].quarantine, result.quarantine)
        assert got[delivery_id].rows_read == result.rows_read


def test_little_to_read_or_one_worker_read_in_the_main_process(requests):
    with AheadReader(requests, StageTimer(), workers=2) as reader:  # a few kilobytes: not worth starting workers
        assert reader.pool is None
        assert outcome(reader.read, requests[0])[0] == "read"
    with AheadReader(requests, StageTimer(), workers=1, min_bytes=0) as reader:
        assert reader.pool is None
