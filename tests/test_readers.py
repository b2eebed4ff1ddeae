"""Readers, mapping and parsing on real files the generator wrote: every encoding, delimiter and
date style, xlsx with a title row, Excel serial dates, decimal commas. Each accepted row is
compared value by value with what the generator says it put in, and each rejected row with the
generator's list of bad rows."""

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import TEST_KEY

from ingest.deliveries import describe_file, parse_period_and_version
from ingest.partner_config import load_partner_configs
from ingest.process import process_delivery
from ingest.pseudonymise import pseudonym
from ingest.readers import ROW_NUMBER, read_delivery_file
from ingest.reference import OUTSIDE_REGION, Reference
from sampledata import generate_sample_deliveries

REF = Reference()
PARTNERS = load_partner_configs(reference=REF)
# Spans thuiszorg_westland's switch from Excel serial numbers to date cells (2021-01) and
# zorggroep_haaglanden's new header layout (2022-01).
SWITCH = {"first_period": "2020-11", "last_period": "2022-02", "scale": 0.05, "seed": 11}


@pytest.fixture(scope="module")
def switch_sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("switch")
    generate_sample_deliveries(out, **SWITCH)
    return out


def _truth(sample_dir: Path, feed: str) -> pd.DataFrame:
    return pd.read_csv(sample_dir / "truth" / f"valid_{feed}.csv", dtype=str, keep_default_na=False)


def _bad_rows(sample_dir: Path) -> pd.DataFrame:
    return pd.read_csv(sample_dir / "truth" / "bad_rows.csv", dtype=str, keep_default_na=False)


def _process(sample_dir: Path, rel_path: str):
    path = sample_dir / rel_path
    partner_code = path.parent.name
    delivery = describe_file(path, partner_code, path.parent)
    period, version = parse_period_and_version(delivery.source_file)
    return process_delivery(delivery, PARTNERS[partner_code], period, version, REF, TEST_KEY)


def _expected_municipality(postcode: str):
    if not postcode:
        return None
    return REF.pc4_lookup.get(int(postcode[:4]), OUTSIDE_REGION)


def _values(series: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in series]


def _check_against_truth(result, truth: pd.DataFrame, feed: str):
    got = result.accepted.sort_values("source_row_number").reset_index(drop=True)
    want = truth.sort_values("row_number", key=lambda s: s.astype(int)).reset_index(drop=True)
    assert got["source_row_number"].astype(int).tolist() == want["row_number"].astype(int).tolist()
    assert got["record_key"].tolist() == want["record_key"].tolist()
    ids = [
        pseudonym("bsn", b, TEST_KEY) if b else pseudonym("onderwijsnummer", o, TEST_KEY)
        for b, o in zip(want["bsn"], want.get("onderwijsnummer", pd.Series([""] * len(want))))
    ]
    assert got["person_id"].tolist() == ids
    assert got["birth_year"].astype(int).tolist() == [int(d[:4]) for d in want["birth_date"]]
    assert _values(got["residence_municipality_code"]) == [_expected_municipality(p) for p in want["postcode"]]
    dates = {
        "employment_spells": ["start_date", "end_date"],
        "enrolments": ["start_date", "actual_end_date"],
        "municipal_participants": ["referral_date", "placement_end_date"],
    }[feed]
    for col in dates:
        shown = got[col].dt.strftime("%Y-%m-%d").fillna("").tolist()
        assert shown == want[col].tolist(), col
    if feed == "employment_spells":
        assert got["function_code"].tolist() == want["function"].tolist()
        assert got["contract_type_code"].tolist() == want["contract_type"].tolist()
        hours = [float(h) if h else None for h in want["hours_per_week"]]
        assert _values(got["hours_per_week"]) == hours
        assert _values(got["is_apprenticeship"]) == [
            None if b == "" else b == "true" for b in want["is_apprenticeship"]
        ]
    if feed == "enrolments":
        assert got["mbo_level"].astype(int).tolist() == want["mbo_level"].astype(int).tolist()
        assert got["learning_path_code"].tolist() == want["learning_path"].tolist()
        assert got["enrolment_outcome_code"].tolist() == want["outcome"].tolist()
    if feed == "municipal_participants":
        assert got["target_group_code"].tolist() == want["target_group"].tolist()
        assert got["programme_code"].tolist() == want["programme"].tolist()


def _files(sample_dir: Path, partner: str) -> list[dict]:
    manifest = json.loads((sample_dir / "truth" / "manifest.json").read_text())
    return [f for f in manifest["files"] if f["partner_code"] == partner and f["status"] == "load"]


@pytest.mark.parametrize("partner", sorted(PARTNERS))
def test_every_partner_style_reads_exactly_what_was_written(sample, partner):
    sample_dir = sample["dir"]
    feed = PARTNERS[partner].feed
    truth, bad = _truth(sample_dir, feed), _bad_rows(sample_dir)
    files = _files(sample_dir, partner)
    assert files
    for f in files:
        result = _process(sample_dir, f["path"])
        _check_against_truth(result, truth[truth["path"] == f["path"]], feed)
        rejected = result.quarantine[result.quarantine["severity"] == "row_rejected"]
        assert sorted(set(rejected["source_row_number"].astype(int))) == sorted(
            bad.loc[bad["path"] == f["path"], "row_number"].astype(int)
        )
        assert result.rows_read == f["data_rows"]
        assert len(result.accepted) == f["valid_rows"]


def test_encodings_delimiters_and_header_rows_detected(sample):
    landing = sample["landing"]
    expect = {
        "zorggroep_haaglanden": ("csv", "utf-8-sig", ";", 1),
        "vph_delfland": ("csv", "cp1252", ",", 1),
        "roc_zuidwest": ("csv", "cp1252", ";", 1),
        "gemeente_den_haag": ("csv", "utf-8", ",", 1),
        "thuiszorg_westland": ("xlsx", None, None, 3),  # title row and an empty row above the header
        "threewise": ("xlsx", None, None, 1),
    }
    for partner, (fmt, enc, delim, header_row) in expect.items():
        path = sorted((landing / partner).iterdir())[0]
        sheet = None  # a workbook's data is on the sheet its layout names
        if fmt == "xlsx":
            sheet = PARTNERS[partner].layout_for(parse_period_and_version(path.name)[0].start_month).sheet
        raw = read_delivery_file(path, PARTNERS[partner].known_headers, sheet=sheet)
        assert (raw.file_format, raw.encoding, raw.delimiter, raw.header_row_number) == (fmt, enc, delim, header_row), (
            partner
        )


def test_windows_1252_names_are_read_but_never_reach_canonical_columns(sample):
    path = sorted((sample["landing"] / "vph_delfland").iterdir())[0]
    raw = read_delivery_file(path, PARTNERS["vph_delfland"].known_headers)
    names = " ".join(raw.frame["Naam"])
    assert any(ch in names for ch in "éëïüöçâêôû"), "expected accented names decoded from cp1252"
    result = _process(sample["dir"], f"landing/vph_delfland/{path.name}")
    assert "Naam" not in result.accepted.columns


def test_excel_serial_dates_and_date_cells_and_layout_switch(switch_sample):
    truth = _truth(switch_sample, "employment_spells")
    for name in ("thuiszorg_westland_202012.xlsx", "thuiszorg_westland_202101.xlsx"):
        rel = f"landing/thuiszorg_westland/{name}"
        _check_against_truth(_process(switch_sample, rel), truth[truth["path"] == rel], "employment_spells")
    for name in ("zorggroep_haaglanden_2021-12.csv", "zorggroep_haaglanden_2022-01.csv"):
        rel = f"landing/zorggroep_haaglanden/{name}"
        result = _process(switch_sample, rel)
        assert result.layout == ("2019" if "2021" in name else "2022")
        _check_against_truth(result, truth[truth["path"] == rel], "employment_spells")


def test_decimal_commas_in_the_raw_file_are_parsed(sample):
    path = sorted((sample["landing"] / "zorggroep_haaglanden").iterdir())[0]
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header = rows[0]
    hours_col = next(i for i, h in enumerate(header) if h in ("Uren per week", "Contracturen"))
    with_comma = [r for r in rows[1:] if len(r) > hours_col and "," in r[hours_col]]
    assert with_comma, "the sample should hold hours with a decimal comma"
    result = _process(sample["dir"], f"landing/zorggroep_haaglanden/{path.name}")
    assert (result.accepted["hours_per_week"] % 1 != 0).any()


@pytest.mark.parametrize("ragged", [False, True])
def test_empty_rows_are_skipped_and_row_numbers_stay_those_of_the_file(tmp_path, ragged):
    """Rows of only delimiters (or nothing) are not data, in a regular file and in a ragged one alike."""
    lines = [
        "Naam;BSN;Datum",
        "a;1;2020-01-01",
        ";;",
        "b;2;2020-01-02",
        "   ;  ;",
        "c;3" + (";" if not ragged else ""),
        "",
    ]
    path = tmp_path / "x.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    raw = read_delivery_file(path, {"naam", "bsn", "datum"})
    assert list(raw.frame["Naam"]) == ["a", "b", "c"]
    assert list(raw.frame[ROW_NUMBER]) == [2, 4, 6]
    assert raw.frame["Datum"].iloc[2] == "" and raw.row_issues == []
