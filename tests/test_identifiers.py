"""Identifiers where they do not belong (ingest/identifiers.py): found vectorised, without false alarms on what
partners honestly send, and never shown as themselves."""

import pandas as pd
from conftest import TEST_KEY
from hypothesis import given, settings
from hypothesis import strategies as st
from test_bad_input import PARTNERS, REF, ROW_T1, municipal_file

from ingest.identifiers import eleven_checks, identifier_kinds, mask_identifiers
from ingest.pseudonymise import is_valid_bsn, is_valid_onderwijsnummer
from pipelines.metadata import markdown_preview
from warehouse.db import make_engine, read_table
from warehouse.ingest_feed import ingest_feed


def kinds(values, **options) -> list:
    out = identifier_kinds(pd.Series(values, dtype="str"), **options)
    return [None if pd.isna(k) else k for k in out]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 999_999_999), min_size=1, max_size=50))
def test_the_vectorised_checks_agree_with_the_scalar_ones(numbers):
    digits = pd.Series([f"{n:09d}" for n in numbers], dtype="str")
    bsn, onr = eleven_checks(digits)
    assert bsn.tolist() == [is_valid_bsn(d) for d in digits]
    assert onr.tolist() == [is_valid_onderwijsnummer(d) for d in digits]


def test_what_counts_as_which_identifier():
    assert kinds(["111222333", "111 222 333", "123.456.782", "100000004", "2511 AB", "2511ab", "14-03-1987",
                  "1987-03-14", "1987-03-14 00:00:00"]) == [
        "bsn", "bsn", "bsn", "onderwijsnummer", "postcode", "postcode", "birth_date", "birth_date", "birth_date",
    ]  # fmt: skip


def test_no_false_alarm_on_honest_values():
    honest = ["T1", "100101", "4500001", "12345678", "123456789", "E000123", "TW-2022-00001", "32,5", "Bijstand",
              "WEP-trein", "25480", "ja", "", None, "2022", "1234567890"]  # fmt: skip
    assert kinds(honest) == [None] * len(honest)
    # eight digits are never padded (record keys of eight digits are common; one in eleven would pass)
    assert is_valid_bsn("12345672") and kinds(["12345672"]) == [None]


def test_a_date_in_a_date_column_is_not_a_birth_date_but_a_bsn_there_is_caught():
    assert kinds(["2021-10-04", "04-10-2021", "111222333"], dates=False) == [None, None, "bsn"]


def test_free_text_is_searched_and_company_names_are_not_postcodes():
    found = kinds(
        ["Zorghuis, stagiair bsn 111 222 333", "geboren 1-2-1990", "Kraamzorg 2511 AB Den Haag", "Zorg 2000 BV",
         "Stichting 1990 NV", "Zorggroep West", "tel 0612345678"],
        search=True,
    )  # fmt: skip
    assert found == ["bsn", "birth_date", "postcode", None, None, None, None]


def test_headers_are_masked_only_when_they_look_like_an_identifier():
    assert mask_identifiers(["BSN", "Postcode", "111222333"]) == ["BSN", "Postcode", "(masked: looks like a BSN)"]


def test_a_row_with_an_identifier_in_its_key_or_a_code_is_quarantined_and_shown_masked(tmp_path):
    folder = tmp_path / "landing" / "gemeente_den_haag"
    rows = [
        ROW_T1.replace("T1,111222333", "111222333,111222333", 1),  # the BSN as trajectory number
        ROW_T1.replace("T1", "T2", 1).replace("Bijstand", "2511 AB"),  # a postcode as target group
        ROW_T1.replace("T1", "T3", 1).replace("Bijstand", "Jan Quaadvliet"),  # a name as target group
        *[ROW_T1.replace("T1", f"T{i}", 1).replace("Bijstand", "Bijstnd") for i in range(4, 9)],  # a typo, 5 times
    ]
    municipal_file(folder, "gemeente_den_haag_202201.csv", *rows)
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    ingest_feed(engine, "municipal_participants", PARTNERS, tmp_path / "landing", REF, TEST_KEY)
    q = read_table(engine, "quarantine_rows")
    by_row = dict(tuple(q.groupby("source_row_number")))
    assert set(by_row[2]["reason_code"]) == {"ROW_IDENTIFIER_IN_WRONG_COLUMN"}
    assert "Trajectnummer: the value (masked) looks like a BSN" in by_row[2]["reason"].iloc[0]
    assert "ROW_IDENTIFIER_IN_WRONG_COLUMN" in set(by_row[3]["reason_code"])
    assert "looks like a postcode" in " ".join(by_row[3]["reason"])
    assert set(by_row[4]["reason_code"]) == {"ROW_UNKNOWN_CODE"}
    text = q.to_csv()
    for raw in ("111222333", "2511 AB", "Quaadvliet"):
        assert raw not in text
    assert "Doelgroep 'Bijstnd' is not one of the agreed values" in text  # shared by 5 rows: shown, not a name
    staged = read_table(engine, "stg_municipal_participants")
    assert "111222333" not in set(staged["record_key"])
    preview = markdown_preview(pd.DataFrame({"record_key": ["T1", "111222333"], "x": [1, 2]}))
    assert "111222333" not in preview and "T1" not in preview  # previews never show record keys
