"""Partner feedback is written once per delivery state: a nightly run rewrites only what changed."""

import pandas as pd

from ingest.feedback import MANIFEST_NAME, reports_due, write_feedback_reports


def log_frame(*records: dict) -> pd.DataFrame:
    base = {
        "partner_code": "p1",
        "delivery_period": "2024-01",
        "reason_code": None,
        "reason": None,
        "rows_read": 3,
        "rows_accepted": 2,
        "rows_quarantined": 1,
        "delivery_status": "loaded",
    }
    return pd.DataFrame([base | r for r in records])


def quarantine_frame(*delivery_ids: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "delivery_id": d,
                "source_row_number": 2,
                "source_columns": "Datum",
                "masked_value": "x",
                "reason": "Datum 'x' is not a valid date",
                "severity": "row_rejected",
                "reason_code": "ROW_INVALID_DATE",
            }
            for d in delivery_ids
        ]
    )


def run(log: pd.DataFrame, quarantine: pd.DataFrame, folder):
    counts = quarantine.groupby("delivery_id").size().to_dict()
    due, current = reports_due(log, counts, folder)
    due_ids = {d["delivery_id"] for d in due}
    written = write_feedback_reports(
        pd.DataFrame(due, columns=log.columns), quarantine[quarantine["delivery_id"].isin(due_ids)], folder
    )
    return written, current


def test_reports_are_written_once_and_again_only_when_their_delivery_changes(tmp_path):
    log = log_frame(
        {"delivery_id": "a", "source_file": "a_2024-01.csv", "content_hash": "a" * 64},
        {"delivery_id": "b", "source_file": "b_2024-02.csv", "content_hash": "b" * 64, "delivery_period": "2024-02"},
        {
            "delivery_id": "c",
            "source_file": "c.pdf",
            "content_hash": "c" * 64,
            "delivery_status": "rejected",
            "reason_code": "FILE_NOT_SPREADSHEET",
            "reason": "not a spreadsheet",
            "rows_read": 0,
            "rows_accepted": 0,
            "rows_quarantined": 0,
        },
        {"delivery_id": "d", "source_file": "d_2024-03.csv", "content_hash": "d" * 64, "rows_quarantined": 0},  # clean
    )
    quarantine = quarantine_frame("a", "b")
    written, current = run(log, quarantine, tmp_path)
    assert (len(written), current) == (3, 0)
    assert (tmp_path / MANIFEST_NAME).is_file()

    written, current = run(log, quarantine, tmp_path)  # nothing changed: nothing written
    assert (written, current) == ([], 3)

    log.loc[log["delivery_id"] == "b", "delivery_status"] = "superseded"  # b's state changes
    (tmp_path / "p1" / "c_cccccccc_feedback.xlsx").unlink()  # and c's report is deleted
    written, current = run(log, quarantine, tmp_path)
    assert sorted(p.name for p in written) == ["b_2024-02_bbbbbbbb_feedback.xlsx", "c_cccccccc_feedback.xlsx"]
    assert current == 1
    assert (tmp_path / "p1" / "c_cccccccc_feedback.xlsx").is_file()


def test_reports_are_written_again_when_the_code_changes(tmp_path, monkeypatch):
    """A fix in how values are masked or reasons worded reaches every report: the code version is part
    of what a report was written from."""
    import ingest.feedback as feedback

    log = log_frame({"delivery_id": "a", "source_file": "a_2024-01.csv", "content_hash": "a" * 64})
    quarantine = quarantine_frame("a")
    assert len(run(log, quarantine, tmp_path)[0]) == 1
    assert run(log, quarantine, tmp_path) == ([], 1)
    monkeypatch.setattr(feedback, "code_version", lambda: "another version")
    written, current = run(log, quarantine, tmp_path)
    assert (len(written), current) == (1, 0)
