"""Partner feedback made for the people who read it: Dutch reasons beside the English ones, the agreed values
for an unknown code, no internal path, typed row numbers, a summary sheet, an overview per partner."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from core.labels import reason_texts
from ingest.feedback import FeedbackContext, write_feedback_reports
from ingest.feedback_text import partner_safe
from ingest.partner_overview import write_partner_overviews

ROOT = Path(__file__).resolve().parents[1]


def emitted_reason_codes() -> set[str]:
    """Every reason code the pipeline's source can write: literal codes, and the f-string families."""
    codes: set[str] = set()
    for path in [*(ROOT / "src").rglob("*.py"), *(ROOT / "pipelines").rglob("*.py")]:
        if "sampledata" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r"[\"']((?:ROW|FILE)_[A-Z_]+)[\"']", text))
        if "ROW_INVALID_{col.kind.upper()}" in text:
            codes |= {"ROW_INVALID_BSN", "ROW_INVALID_ONDERWIJSNUMMER"}
    return codes


def test_every_reason_code_the_code_can_emit_has_dutch_and_english_texts():
    codes = emitted_reason_codes()
    assert {"ROW_UNKNOWN_CODE", "FILE_EMPTY", "ROW_INVALID_BSN", "FILE_TOO_MANY_ROWS"} <= codes
    texts = reason_texts()
    assert sorted(codes - set(texts)) == []
    for code in codes:
        t = texts[code]
        assert t.label_nl and t.label_en and t.reason_nl and t.action_nl and t.action_en, code


@pytest.mark.parametrize(
    "reason",
    [
        "The file has 3,000,001 rows; the limit is max_rows = 2,000,000 (config/ingest_limits.yaml). Split it.",
        "A value is 40,000 characters long (max_cell_chars, config/ingest_limits.yaml). Check the value.",
        "Split it by period, or ask the pipeline team to raise ZORGSTROOM_MAX_FILE_BYTES.",
        "The CSV file cannot be read (Error reading /srv/landing/p/x.csv: bad). Export it again.",
        "See C:\\zorgstroom\\config\\partners.yaml or partner_config.py for details.",
    ],
)
def test_reasons_never_name_an_internal_path(reason):
    safe = partner_safe(reason)
    for internal in ("config/", "/srv", "ZORGSTROOM_", ".yaml", ".py", "C:\\", "()"):
        assert internal not in safe, (internal, safe)
    assert len(safe) >= 15 and safe.endswith(".")  # the rest of the sentence is kept


def _delivery(**kw) -> dict:
    return {
        "delivery_id": "d1",
        "partner_code": "p1",
        "source_file": "p1_2024-01.csv",
        "content_hash": "ab" * 32,
        "delivery_period": "2024-01",
        "delivery_version": 1,
        "received_at": pd.Timestamp("2024-02-10 09:00"),
        "delivery_status": "loaded",
        "rows_read": 10,
        "rows_accepted": 8,
        "rows_quarantined": 2,
        "reason_code": None,
        "reason": None,
        "layout": "2019",
    } | kw


def _quarantine(delivery_id: str = "d1") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "delivery_id": delivery_id,
                "source_row_number": 12,
                "reason_code": "ROW_UNKNOWN_CODE",
                "columns": "contract_type",
                "source_columns": "Soort contract",
                "masked_value": "Z",
                "reason": "Soort contract 'Z' is not one of the agreed values (v, t); send one of them",
                "severity": "row_rejected",
            },
            {
                "delivery_id": delivery_id,
                "source_row_number": 3,
                "reason_code": "ROW_INVALID_DATE",
                "columns": "start_date",
                "source_columns": "Datum in dienst",
                "masked_value": "31-02-2023",
                "reason": "Datum in dienst '31-02-2023' is not a valid date (use dd-mm-yyyy or yyyy-mm-dd)",
                "severity": "row_rejected",
            },
            {
                "delivery_id": delivery_id,
                "source_row_number": 5,
                "reason_code": "ROW_INVALID_POSTCODE",
                "columns": "postcode",
                "source_columns": "Postcode",
                "masked_value": "25**",
                "reason": "Postcode (masked) is not a Dutch postcode",
                "severity": "flagged",
            },
        ]
    )


CONTEXT = FeedbackContext(
    partner_names={"p1": "Zorggroep Proef"},
    agreed_values=lambda delivery: lambda column: {"v": "vast", "t": "tijdelijk"} if column == "contract_type" else {},
)


def test_a_delivery_report_summarises_first_then_lists_rows_in_dutch_and_english(tmp_path):
    (xlsx,) = write_feedback_reports(pd.DataFrame([_delivery()]), _quarantine(), tmp_path, CONTEXT)
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["Samenvatting", "Rijen", "Afgesproken waarden"]
    summary = {r[0]: r[1:] for r in book["Samenvatting"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Partner"][0] == "Zorggroep Proef"  # the name, not the code
    assert (summary["Rijen gelezen (rows read)"][0], summary["Geaccepteerd (accepted)"][0]) == (10, 8)
    assert (summary["Afgewezen (rejected)"][0], summary["Geladen met opmerking (flagged)"][0]) == (2, 1)
    assert summary["Aangehouden (held)"][0] == "nee (no)"
    top = [k for k in summary if k.startswith(("onbekende code", "ongeldige datum", "postcode onleesbaar"))]
    assert len(top) == 3  # the top reasons, in Dutch, with their row counts
    assert all(summary[k][0] == 1 for k in top)

    rows = book["Rijen"]
    header = [c.value for c in rows[1]]
    assert header[:4] == ["Rij (row)", "Kolom (column)", "Waarde (value, identifiers masked)", "Reden"]
    assert "Reason (English)" in header and "Wat te doen" in header
    assert [c.value for c in rows["A"][1:]] == [3, 5, 12]  # sorted, as numbers
    assert all(c.data_type == "n" for c in rows["A"][1:])
    assert rows.freeze_panes == "A2"
    widths = {k: v.width for k, v in rows.column_dimensions.items()}
    assert widths["D"] > widths["A"] and widths["D"] >= 40  # sized to the content
    line = {h: c.value for h, c in zip(header, rows[4], strict=True)}
    assert line["Reden"].startswith("Soort contract: 'Z' is geen van de afgesproken waarden")
    assert "'v' (vast)" in line["Reden"] and "'t' (tijdelijk)" in line["Reden"]  # the agreed codes listed
    assert line["Reason (English)"].startswith("Soort contract 'Z' is not one of the agreed values")
    date_line = {h: c.value for h, c in zip(header, rows[2], strict=True)}
    assert (
        date_line["Reden"] == "Datum in dienst: '31-02-2023' is geen geldige datum (gebruik dd-mm-jjjj of jjjj-mm-dd)"
    )
    assert [r[1:3] for r in book["Afgesproken waarden"].iter_rows(min_row=2, values_only=True)] == [
        ("v", "vast"),
        ("t", "tijdelijk"),
    ]

    with xlsx.with_suffix(".csv").open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh, delimiter=";"))
    assert table[0][:4] == header[:4]
    assert [r[0] for r in table[1:]] == ["3", "5", "12"]  # whole numbers, never '3.0'


def test_a_rejected_file_gets_dutch_and_english_and_no_internal_path(tmp_path):
    delivery = _delivery(
        delivery_period=float("nan"),  # as delivery_log holds a file with no period in its name
        delivery_status="rejected",
        rows_read=0,
        rows_accepted=0,
        rows_quarantined=0,
        reason_code="FILE_TOO_MANY_ROWS",
        reason="The file has 3,000,001 rows; the limit is max_rows = 2,000,000 (config/ingest_limits.yaml). "
        "Delete empty rows. If the export is right as it is, ask the pipeline team to raise the limit.",
    )
    (xlsx,) = write_feedback_reports(pd.DataFrame([delivery]), _quarantine().head(0), tmp_path, CONTEXT)
    book = openpyxl.load_workbook(xlsx)
    text = "\n".join(str(c) for ws in book.worksheets for r in ws.iter_rows(values_only=True) for c in r if c)
    assert "Het bestand heeft meer rijen dan toegestaan." in text
    summary = {r[0]: r[1] for r in book["Samenvatting"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Periode (period)"] == "onbekend" and summary["Status"] == "afgewezen (rejected)"
    assert "The file has 3,000,001 rows" in text
    assert "config/" not in text and "ingest_limits" not in text
    assert "config/" not in xlsx.with_suffix(".csv").read_text(encoding="utf-8-sig")


def test_a_held_delivery_gets_a_report_that_says_so(tmp_path):
    delivery = _delivery(delivery_status="held", rows_quarantined=0, rows_accepted=10)
    (xlsx,) = write_feedback_reports(pd.DataFrame([delivery]), _quarantine().head(0), tmp_path, CONTEXT)
    summary = {r[0]: r[1] for r in openpyxl.load_workbook(xlsx)["Samenvatting"].iter_rows(values_only=True) if r[0]}
    assert summary["Aangehouden (held)"] == "ja (yes)"
    assert summary["Status"] == "aangehouden (held)"


def test_an_overview_per_partner_across_its_deliveries(tmp_path):
    log = pd.DataFrame(
        [
            _delivery(),
            _delivery(
                delivery_id="d2",
                source_file="p1_2024-02.csv",
                content_hash="cd" * 32,
                delivery_period="2024-02",
                rows_read=20,
                rows_accepted=20,
                rows_quarantined=0,
            ),
            _delivery(
                delivery_id="d3",
                source_file="p1_2024-03.pdf",
                content_hash="ef" * 32,
                delivery_period="2024-03",
                delivery_status="rejected",
                rows_read=0,
                rows_accepted=0,
                rows_quarantined=0,
                reason_code="FILE_NOT_SPREADSHEET",
                reason="The file is not a spreadsheet export (.pdf).",
            ),
        ]
    )
    reasons = pd.DataFrame(
        {"delivery_id": ["d1", "d1"], "reason_code": ["ROW_INVALID_DATE", "ROW_UNKNOWN_CODE"], "severity": "x"}
        | {"rows": [1, 3]}
    )
    completeness = pd.DataFrame(
        {
            "partner_code": "p1",
            "delivery_period": ["2024-01", "2024-02", "2024-03"],
            "period_start": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
            "completeness_status": ["on_time", "late", "missing"],
            "days_late": [0, 4, 20],
        }
    )
    written, current = write_partner_overviews(log, reasons, completeness, tmp_path, CONTEXT)
    assert [p.name for p in written] == ["p1_overzicht.xlsx"] and current == 0
    book = openpyxl.load_workbook(written[0])
    assert book.sheetnames == ["Overzicht", "Per periode", "Leveringen"]
    periods = list(book["Per periode"].iter_rows(values_only=True))
    header = periods[0]
    got = [dict(zip(header, r, strict=True)) for r in periods[1:]]
    assert [g["Volledigheid (completeness)"] for g in got] == [
        "op tijd (on time)",
        "te laat (late)",
        "ontbreekt (missing)",
    ]
    assert [g["Deel afgewezen (share rejected)"] for g in got] == [0.2, 0, None]
    assert got[0]["Belangrijkste reden (main reason)"] == "onbekende code"
    assert got[1]["Dagen te laat (days late)"] == 4
    files = [
        dict(zip(*[list(book["Leveringen"].iter_rows(values_only=True))[i] for i in (0, j)], strict=True))
        for j in (1, 2, 3)
    ]
    assert [f["Status"] for f in files] == ["geladen (loaded)", "geladen (loaded)", "afgewezen (rejected)"]
    assert files[2]["Belangrijkste reden (main reason)"] == "geen spreadsheet (not a spreadsheet)"
    assert isinstance(files[0]["Ontvangen (received)"], pd.Timestamp | __import__("datetime").datetime)

    assert write_partner_overviews(log, reasons, completeness, tmp_path, CONTEXT) == ([], 1)  # unchanged
    log.loc[1, "rows_quarantined"] = 1
    assert len(write_partner_overviews(log, reasons, completeness, tmp_path, CONTEXT)[0]) == 1
