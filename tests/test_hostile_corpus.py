"""The hostile corpus (sampledata/hostile.py) dropped into the landing zone of one run, beside the ordinary
sample: the run finishes, every hostile file has a delivery_log record with the expected reason, every
ordinary delivery loads as the generator says, nothing is left half-read, and the peak memory of the
process tree is measured and printed (its limit, 1 GiB, is asserted in bench/hostile.py, not here).
On DuckDB (reading in bounded worker processes) and on PostgreSQL (reading in the run process).

The identity scan of the same run (every table, the event log, the feedback) is in test_privacy_audit.py.
"""

import pandas as pd
import pytest

from schemas.tables import FEED_STAGING
from warehouse.db import read_table

pytestmark = pytest.mark.slow


def _log(run) -> pd.DataFrame:
    return read_table(run["engine"], "delivery_log")


def test_the_run_finishes(hostile_run):
    result = hostile_run["result"]
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert hostile_run["peak_bytes"] > 0  # measured (and printed by the fixture)


def test_every_hostile_entry_has_its_record_with_the_expected_reason(hostile_run):
    log = _log(hostile_run)
    corpus = hostile_run["corpus"]
    assert len(corpus.expected) >= 20
    for entry in corpus.expected:
        mine = log[(log["source_file"] == entry.source_file)]
        mine = (
            mine[mine["partner_code"].isna()]
            if entry.partner_code is None
            else mine[mine["partner_code"] == entry.partner_code]
        )
        assert len(mine) == 1, (entry.what, mine.to_dict("records"))
        record = mine.iloc[0]
        assert record["delivery_status"] == entry.status, (entry.what, record["reason"])
        assert (record["reason_code"] if isinstance(record["reason_code"], str) else None) == entry.reason_code, (
            entry.what,
            record["reason"],
        )
        if entry.status != "loaded":
            assert len(record["reason"]) > 40, entry.what  # a sentence that says what to do
            assert str(hostile_run["root"]) not in record["reason"]  # never an internal path


def test_limits_are_named_in_the_reasons(hostile_run):
    log = _log(hostile_run).set_index("source_file")
    assert "max_columns = 1,000" in log.loc["gemeente_den_haag_2021-07.xlsx", "reason"]
    assert "max_cells = 30,000,000" in log.loc["gemeente_den_haag_2021-07_v2.xlsx", "reason"]
    assert "200,000 columns" in log.loc["gemeente_den_haag_2021-08.csv", "reason"]
    assert "'BSN' and 'BSN'" in log.loc["gemeente_den_haag_2021-09.csv", "reason"]


def test_planted_rows_are_quarantined_with_the_column_named_and_the_others_load(hostile_run):
    engine, corpus = hostile_run["engine"], hostile_run["corpus"]
    quarantine = read_table(engine, "quarantine_rows")
    for (partner, source, row), code in corpus.quarantined.items():
        found = quarantine[
            (quarantine["partner_code"] == partner)
            & (quarantine["source_file"] == source)
            & (quarantine["source_row_number"] == row)
        ]
        assert code in set(found["reason_code"]), (source, row, found.to_dict("records"))
        assert (found["columns"] != "").all() and (found["source_columns"] != "").all()
        if code == "ROW_IDENTIFIER_IN_WRONG_COLUMN":
            reason = found.loc[found["reason_code"] == code, "reason"].iloc[0]
            assert "looks like a" in reason or "looks like an" in reason
    log = _log(hostile_run).set_index("source_file")
    # the ordinary row of each identifier file, both UTF-16 files and the rows beside the long cell load
    assert log.loc["gemeente_den_haag_2021-10.csv", "rows_accepted"] == 1
    assert log.loc["roc_zuidwest_2021-Q4.csv", "rows_accepted"] == 1
    assert log.loc["gemeente_den_haag_2021-05.csv", "rows_accepted"] == 2  # UTF-16 with BOM
    assert log.loc["gemeente_den_haag_2021-06.csv", "rows_accepted"] == 2  # UTF-16 without BOM
    assert log.loc["gemeente_den_haag_2021-12.csv", ["rows_read", "rows_accepted"]].tolist() == [3, 2]


def test_every_ordinary_delivery_loads_as_the_generator_says(hostile_run, sample):
    log = _log(hostile_run)
    manifest = sample["manifest"]
    by_path = {
        f"{p}/{s}": status
        for p, s, status in zip(log["partner_code"], log["source_file"], log["delivery_status"], strict=True)
    }
    for f in manifest["files"]:
        relative = f["path"].removeprefix("landing/")
        assert by_path.get(relative) == {"load": "loaded"}.get(f["status"], f["status"]), relative
    hostile = {f"{e.partner_code}/{e.source_file}" for e in hostile_run["corpus"].expected}
    ordinary = log[~(log["partner_code"] + "/" + log["source_file"]).isin(hostile)]
    for feed, table in FEED_STAGING.items():
        staged = read_table(hostile_run["engine"], table, columns=["delivery_id"])
        n = staged["delivery_id"].isin(ordinary["delivery_id"]).sum()
        assert n == manifest["expected_staging_rows"][feed], feed


def test_nothing_is_left_half_read(hostile_run):
    assert read_table(hostile_run["engine"], "read_attempts").empty  # every attempt ended in a log record
    log = _log(hostile_run)
    assert (log["rows_read"] == log["rows_accepted"] + log["rows_quarantined"]).all()


def test_links_are_left_in_place_and_their_targets_untouched(hostile_run):
    landing = hostile_run["landing"]
    for entry in hostile_run["corpus"].expected:
        if entry.reason_code == "FILE_LINK":
            where = (
                landing / entry.partner_code / entry.source_file if entry.partner_code else landing / entry.source_file
            )
            assert where.is_symlink()
    log = _log(hostile_run)
    assert not log["source_file"].str.contains("buiten_de_landingszone|passwd").any()
    staged = read_table(hostile_run["engine"], "stg_municipal_participants", columns=["record_key"])
    assert "T-BUITEN-1" not in set(staged["record_key"])  # the file behind the link was never loaded


def test_a_header_only_delivery_shows_as_empty_in_completeness(hostile_run):
    completeness = read_table(hostile_run["engine"], "fct_delivery_completeness").set_index(
        ["partner_code", "delivery_period"]
    )
    row = completeness.loc[("gemeente_den_haag", "2021-11")]
    assert row["completeness_status"] == "empty" and not bool(row["received"])
    assert completeness.loc[("gemeente_den_haag", "2021-10"), "completeness_status"] in {"on_time", "late"}
