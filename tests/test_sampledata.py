"""Tests of the sample-delivery generator (src/sampledata), against docs/sample_data_spec.md.

The files are read back here independently of the generator's own code: raw bytes, the csv module,
openpyxl and the partner YAML mappings.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import openpyxl
import pytest
import yaml

from sampledata import generate_sample_deliveries

REPO = Path(__file__).resolve().parents[1]
PARTNERS_DIR = REPO / "tests" / "fixtures" / "partners"  # the tests' own mappings (conftest)
SMALL = dict(seed=20191114, scale=0.1, first_period="2022-01", last_period="2022-06")
# a second small range across thuiszorg's switch from serial numbers to date cells (2021-01)
# and zorggroep's layout change (2022-01)
SWITCH = dict(seed=7, scale=0.05, first_period="2020-11", last_period="2022-02")


class FileFormat(TypedDict):
    """How a partner writes its files: csv files carry an encoding, BOM, delimiter and line end."""

    kind: str
    dates: str
    header_row: int
    encoding: NotRequired[str]
    bom: NotRequired[bool]
    delimiter: NotRequired[str]
    newline: NotRequired[str]


FORMATS: dict[str, FileFormat] = {
    "zorggroep_haaglanden": FileFormat(
        kind="csv", encoding="utf-8", bom=True, delimiter=";", newline="\r\n", dates="dmy", header_row=1
    ),
    "thuiszorg_westland": FileFormat(kind="xlsx", dates="excel", header_row=3),
    "vph_delfland": FileFormat(
        kind="csv", encoding="cp1252", bom=False, delimiter=",", newline="\r\n", dates="iso", header_row=1
    ),
    "threewise": FileFormat(kind="xlsx", dates="dmy", header_row=1),
    "roc_zuidwest": FileFormat(
        kind="csv", encoding="cp1252", bom=False, delimiter=";", newline="\r\n", dates="dmy", header_row=1
    ),
    "gemeente_den_haag": FileFormat(
        kind="csv", encoding="utf-8", bom=False, delimiter=",", newline="\n", dates="iso", header_row=1
    ),
}
DATE_COLS = {
    "birth_date",
    "start_date",
    "end_date",
    "planned_end_date",
    "actual_end_date",
    "referral_date",
    "placement_date",
    "placement_end_date",
    "benefit_end_date",
}
BOOL_COLS = {"is_apprenticeship", "has_work_placement_agreement", "civic_integration_required"}
END_START = {"end_date": "start_date", "actual_end_date": "start_date", "placement_end_date": "placement_date"}
INVALID = "<invalid>"


# ----------------------------------------------------------------------------- helpers
def bsn_ok(value: str) -> bool:
    d = re.sub(r"\D", "", value).zfill(9)
    if len(d) != 9:
        return False
    total = sum(w * int(x) for w, x in zip((9, 8, 7, 6, 5, 4, 3, 2, -1), d))
    return total != 0 and total % 11 == 0


def onr_ok(value: str) -> bool:
    d = re.sub(r"\D", "", value)
    total = sum(w * int(x) for w, x in zip((9, 8, 7, 6, 5, 4, 3, 2, -1), d))
    return len(d) == 9 and d.startswith("10") and total % 11 == 5


def load_yaml() -> dict:
    out = {}
    for path in sorted(PARTNERS_DIR.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[raw["partner_code"]] = raw
    return out


YAML = load_yaml()


def layout_for(partner: str, period: str) -> dict:
    month = period if "Q" not in period else f"{period[:4]}-{3 * (int(period[-1]) - 1) + 1:02d}"
    for layout in YAML[partner]["layouts"]:
        if layout.get("valid_from") and month < str(layout["valid_from"]):
            continue
        if layout.get("valid_to") and month > str(layout["valid_to"]):
            continue
        return layout
    raise AssertionError(f"no layout for {partner} {period}")


def read_delivery(path: Path, partner: str) -> tuple[list, list[tuple[int, list]]]:
    """(header, [(spreadsheet row number, cells)]) of the data rows (empty rows skipped)."""
    fmt = FORMATS[partner]
    if fmt["kind"] == "csv":
        text = path.read_bytes().decode(fmt["encoding"])
        if fmt.get("bom"):
            assert text.startswith("\ufeff")
            text = text[1:]
        rows: list[list[Any]] = list(csv.reader(io.StringIO(text, newline=""), delimiter=fmt["delimiter"]))
    else:
        wb = openpyxl.load_workbook(path, read_only=True)
        sheet = wb[YAML[partner]["sheet"]] if YAML[partner].get("sheet") else wb.active  # the sheet the mapping names
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        wb.close()
    header_index = fmt["header_row"] - 1
    header = rows[header_index]
    data = []
    for i, cells in enumerate(rows[header_index + 1 :], start=fmt["header_row"] + 1):
        cells = list(cells) + [None] * (len(header) - len(cells))
        if all(c in (None, "") for c in cells):
            continue
        data.append((i, cells))
    return header, data


def parse_date(cell, style: str):
    if cell in (None, ""):
        return None
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, (int, float)):
        assert style == "excel", f"number {cell} in a date column"
        return date(1899, 12, 30) + timedelta(days=int(cell))
    text = str(cell)
    m = re.fullmatch(r"(\d{2})-(\d{2})-(\d{4})", text) or None
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return INVALID
    return INVALID


def canonical(partner: str, column: str, cell):
    """A cell as the truth files write the canonical value (INVALID when it cannot be mapped)."""
    if cell is None or cell == "":
        return ""
    pattern = YAML[partner].get("patterns", {}).get(column)
    if pattern and isinstance(cell, str):  # a written form the mapping declares ('Niveau 2')
        match = re.fullmatch(pattern, cell.strip(), re.IGNORECASE)
        cell = match.group(1) if match else cell
    values = YAML[partner].get("values", {})
    if column in values:
        labels = {str(k): str(v) for k, v in values[column].items()}
        return labels.get(str(cell), INVALID)
    if column in DATE_COLS:
        d = parse_date(cell, FORMATS[partner]["dates"])
        return d if d == INVALID else d.isoformat()
    if column in BOOL_COLS:
        return {"ja": "true", "nee": "false"}.get(str(cell).lower(), INVALID)
    if column == "hours_per_week":
        return f"{float(str(cell).replace(',', '.')):g}"
    if column in ("mbo_level", "employment_number", "crebo_code"):
        return str(int(cell)) if isinstance(cell, (int, float)) else str(cell)
    if column in ("bsn", "onderwijsnummer"):
        return re.sub(r"\D", "", str(cell))
    if column == "postcode":
        pc = str(cell).replace(" ", "").upper()
        return f"{pc[:4]} {pc[4:]}"
    return str(cell)


def generate(tmp_path_factory, name: str, args: dict) -> Path:
    out = tmp_path_factory.mktemp(name)
    generate_sample_deliveries(out, **args)
    return out


def read_truth(out: Path, name: str) -> list[dict]:
    with (out / "truth" / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def manifest(out: Path) -> dict:
    return json.loads((out / "truth" / "manifest.json").read_text(encoding="utf-8"))


def all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def mapped_rows(out: Path, entry: dict) -> tuple[list, dict[int, dict]]:
    """header and {row_number: {canonical column: canonical text}} of one delivery."""
    partner = entry["partner_code"]
    layout = layout_for(partner, entry["period"])
    first_alias = {aliases[0]: col for col, aliases in layout["columns"].items()}
    header, data = read_delivery(out / entry["path"], partner)
    rows = {}
    for number, cells in data:
        rows[number] = {
            first_alias[h]: canonical(partner, first_alias[h], c) for h, c in zip(header, cells) if h in first_alias
        }
        rows[number]["_raw"] = dict(zip(header, cells))
    return header, rows


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return generate(tmp_path_factory, "small", SMALL)


@pytest.fixture(scope="module")
def switch(tmp_path_factory) -> Path:
    return generate(tmp_path_factory, "switch", SWITCH)


@pytest.fixture(scope="module", params=["small", "switch"])
def sample(request) -> Path:
    return request.getfixturevalue(request.param)


# ----------------------------------------------------------------------------- tests
def test_deterministic(small, tmp_path):
    again = tmp_path / "again"
    generate_sample_deliveries(again, **SMALL)
    first, second = all_files(small), all_files(again)
    assert sorted(first) == sorted(second)
    different = [name for name in first if first[name] != second[name]]
    assert different == []


def test_rerun_into_same_folder_replaces_earlier_output(tmp_path):
    generate_sample_deliveries(tmp_path, seed=1, scale=0.03, first_period="2022-01", last_period="2022-04")
    generate_sample_deliveries(tmp_path, seed=1, scale=0.03, first_period="2022-03", last_period="2022-04")
    names = sorted(p.name for p in (tmp_path / "landing" / "vph_delfland").iterdir())
    # the last period also gets a broken (empty) re-send, see sampledata/broken.py
    assert names == ["vph_delfland_2022-03.csv", "vph_delfland_2022-04.csv", "vph_delfland_2022-04_v2.csv"]


def test_manifest_counts_match_files_and_truth(sample):
    man = manifest(sample)
    files = man["files"]
    on_disk = sorted(p.relative_to(sample).as_posix() for p in (sample / "landing").rglob("*") if p.is_file())
    broken = [f["path"] for f in man["rejected_files"]]
    assert len(broken) == 6
    assert sorted([f["path"] for f in files] + broken) == on_disk
    valid = {}
    for feed in ("employment_spells", "enrolments", "municipal_participants"):
        for row in read_truth(sample, f"valid_{feed}.csv"):
            valid[row["path"]] = valid.get(row["path"], 0) + 1
    bad = {}
    for row in read_truth(sample, "bad_rows.csv"):
        bad[row["path"]] = bad.get(row["path"], 0) + 1
    expected = {"employment_spells": 0, "enrolments": 0, "municipal_participants": 0}
    for f in files:
        _, data = read_delivery(sample / f["path"], f["partner_code"])
        assert f["data_rows"] == len(data), f["path"]
        assert f["valid_rows"] + f["bad_rows"] == f["data_rows"]
        assert bad.get(f["path"], 0) == f["bad_rows"], f["path"]
        if f["status"] == "load":
            assert valid.get(f["path"], 0) == f["valid_rows"], f["path"]
            expected[f["feed"]] += f["valid_rows"]
        else:
            assert f["path"] not in valid
    assert man["expected_staging_rows"] == expected
    total = sum(f["data_rows"] for f in files)
    assert 0 < sum(f["bad_rows"] for f in files) < 0.05 * total
    # every partner delivers every period of the range
    (y1, m1), (y2, m2) = [map(int, man[k].split("-")) for k in ("first_period", "last_period")]
    months = (y2 - y1) * 12 + m2 - m1 + 1
    quarters = (y2 * 4 + (m2 - 1) // 3) - (y1 * 4 + (m1 - 1) // 3) + 1
    for code in YAML:
        got = {f["period"] for f in files if f["partner_code"] == code}
        if code == "roc_zuidwest":
            assert all(re.fullmatch(r"\d{4}-Q[1-4]", p) for p in got)
            assert len(got) == quarters
        else:
            assert len(got) == months


def test_encodings_delimiters_and_line_ends(sample):
    non_utf8_seen = False
    for f in manifest(sample)["files"]:
        fmt = FORMATS[f["partner_code"]]
        raw = (sample / f["path"]).read_bytes()
        if fmt["kind"] == "xlsx":
            assert raw[:4] == b"PK\x03\x04"
            continue
        assert raw.startswith(b"\xef\xbb\xbf") == fmt["bom"], f["path"]
        text = raw.decode(fmt["encoding"])
        if fmt["encoding"] == "cp1252":
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                non_utf8_seen = True
        first_line = text.lstrip("\ufeff").split(fmt["newline"])[0]
        other = "," if fmt["delimiter"] == ";" else ";"
        assert first_line.count(fmt["delimiter"]) >= 10 and other not in first_line
        assert text.endswith(fmt["newline"])
        if fmt["newline"] == "\n":
            assert "\r" not in text
        if f["partner_code"] == "zorggroep_haaglanden":
            tail = text.split("\r\n")[-4:-1]
            empties = [line for line in tail if set(line) == {";"}]
            assert len(empties) >= 2
    assert non_utf8_seen, "cp1252 files should hold accented names"


def test_xlsx_layouts(switch):
    files = manifest(switch)["files"]
    for f in files:
        if f["partner_code"] == "thuiszorg_westland":
            wb = openpyxl.load_workbook(switch / f["path"], read_only=True)
            assert wb.sheetnames == ["Toelichting", "Dienstverbanden"]  # the data on a named sheet of two
            rows = [r + (None,) * (16 - len(r)) for r in wb["Dienstverbanden"].iter_rows(values_only=True)]
            wb.close()
            assert rows[0][0] == f"Export dienstverbanden Thuiszorg Westland periode {f['period']}"
            assert all(c is None for c in rows[1])
            assert rows[2][0] == "medewerker_id"
            starts = [r[rows[2].index("begin_dienstverband")] for r in rows[3:]]
            hours = [r[rows[2].index("uren_pw")] for r in rows[3:]]
            expected_type = int if f["period"] <= "2020-12" else datetime
            typed = [s for s in starts if s is not None and not isinstance(s, str)]
            assert typed and all(isinstance(s, expected_type) for s in typed), f["path"]
            assert all(h is None or isinstance(h, (int, float)) for h in hours)
        if f["partner_code"] == "threewise":
            wb = openpyxl.load_workbook(switch / f["path"], read_only=True)
            rows = [r + (None,) * (18 - len(r)) for r in wb.active.iter_rows(values_only=True)]
            wb.close()
            header = rows[0]
            assert header[0] == "Inschrijvingsnummer"
            for r in rows[1:]:
                assert isinstance(r[header.index("Startdatum")], (str, type(None)))
                level = r[header.index("Niveau")]
                assert level is None or re.fullmatch(r"Niveau [1-4]", level)  # read by the mapping's pattern


def test_headers_are_yaml_aliases(sample):
    seen_layouts = set()
    for f in manifest(sample)["files"]:
        partner = f["partner_code"]
        layout = layout_for(partner, f["period"])
        seen_layouts.add((partner, layout["layout"]))
        header, _ = read_delivery(sample / f["path"], partner)
        expected_first = [aliases[0] for aliases in layout["columns"].values()]
        ignored = YAML[partner].get("ignored_headers", [])
        assert sorted(header) == sorted(expected_first + ignored), f["path"]
    if manifest(sample)["first_period"] == "2020-11":
        assert ("zorggroep_haaglanden", "2019") in seen_layouts
        assert ("zorggroep_haaglanden", "2022") in seen_layouts


def test_valid_rows_read_back_equal_truth(sample):
    man = manifest(sample)
    by_path = {f["path"]: f for f in man["files"]}
    truth_rows = []
    for feed in ("employment_spells", "enrolments", "municipal_participants"):
        truth_rows += read_truth(sample, f"valid_{feed}.csv")
    cache = {}
    for t in truth_rows:
        entry = by_path[t["path"]]
        if t["path"] not in cache:
            cache[t["path"]] = mapped_rows(sample, entry)[1]
        got = cache[t["path"]][int(t["row_number"])]
        for column, expected in t.items():
            if column in ("path", "row_number", "record_key"):
                continue
            assert got.get(column, "") == expected, (t["path"], t["row_number"], column)
        key = (
            f"{got['employee_number']}-{got['employment_number']}"
            if entry["feed"] == "employment_spells"
            else got.get("enrolment_number") or got.get("trajectory_number")
        )
        assert key == t["record_key"]


def test_valid_rows_follow_the_rules(sample):
    codes = {}
    for name, column in [
        ("functions.csv", "function"),
        ("contract_types.csv", "contract_type"),
        ("target_groups.csv", "target_group"),
        ("enrolment_outcomes.csv", "outcome"),
    ]:
        with (REPO / "config" / "reference" / name).open(encoding="utf-8") as fh:
            codes[column] = {
                r[f"{column if column != 'outcome' else 'enrolment_outcome'}_code"] for r in csv.DictReader(fh)
            }
    for feed in ("employment_spells", "enrolments", "municipal_participants"):
        rows = read_truth(sample, f"valid_{feed}.csv")
        assert rows, feed
        for r in rows:
            for end, start in END_START.items():
                if r.get(end) and r.get(start):
                    assert r[end] >= r[start]
            if feed == "employment_spells":
                assert r["bsn"] and r["function"] in codes["function"]
                assert r["contract_type"] in codes["contract_type"]
                assert not r["hours_per_week"] or 0 < float(r["hours_per_week"]) <= 60
                assert r["start_date"] and r["birth_date"]
            elif feed == "enrolments":
                assert r["bsn"] or r["onderwijsnummer"]
                assert re.fullmatch(r"\d{5}", r["crebo_code"]) and r["mbo_level"] in "1234"
                assert r["outcome"] in codes["outcome"] and r["learning_path"] in ("BBL", "BOL")
            else:
                assert r["target_group"] in codes["target_group"] and r["referral_date"]
                assert r["programme"] and r["benefit_type"]


def test_bad_rows_have_exactly_their_fault(sample):
    by_path = {f["path"]: f for f in manifest(sample)["files"]}
    cache = {}
    kinds = set()
    for b in read_truth(sample, "bad_rows.csv"):
        entry = by_path[b["path"]]
        if b["path"] not in cache:
            cache[b["path"]] = mapped_rows(sample, entry)[1]
        row = cache[b["path"]][int(b["row_number"])]
        kind, column = b["kind"], b["column"]
        kinds.add(kind)
        value = row.get(column, "")
        if kind == "invalid_bsn":
            assert value and len(value) == 9 and not bsn_ok(value)
        elif kind == "end_before_start":
            assert value and row[END_START[column]] and value < row[END_START[column]]
        elif kind == "impossible_date":
            assert value == INVALID and column != "birth_date"
        elif kind == "unknown_code":
            assert value == INVALID
        elif kind == "missing_required":
            assert value == ""
        else:
            raise AssertionError(kind)
        # the rest of the row is fine
        others = {c: v for c, v in row.items() if c not in (column, "_raw")}
        assert INVALID not in others.values()
        if kind != "invalid_bsn" and others.get("bsn"):
            assert bsn_ok(others["bsn"])
    assert kinds  # at least one kind in a small run


def test_identifiers_pass_their_checks(sample):
    for feed in ("employment_spells", "enrolments", "municipal_participants"):
        for r in read_truth(sample, f"valid_{feed}.csv"):
            if r["bsn"]:
                assert re.fullmatch(r"\d{9}", r["bsn"]) and bsn_ok(r["bsn"])
            if r.get("onderwijsnummer"):
                assert onr_ok(r["onderwijsnummer"])
    people = read_truth(sample, "people.csv")
    assert len({p["bsn"] for p in people if p["bsn"]}) == sum(1 for p in people if p["bsn"])
    for p in people:
        assert bool(p["bsn"]) != bool(p["onderwijsnummer"])
        assert not p["bsn"] or (bsn_ok(p["bsn"]) and p["bsn"][0] in "89")
        assert not p["onderwijsnummer"] or onr_ok(p["onderwijsnummer"])
        assert not p["postcode"] or re.fullmatch(r"\d{4} [A-Z]{2}", p["postcode"])


def test_threewise_dotted_bsns_and_onderwijsnummer_only_students(tmp_path):
    # one partner only (a partners folder with just its YAML), at scale 1 for enough rows
    partners = tmp_path / "partners"
    partners.mkdir()
    (partners / "threewise.yaml").write_bytes((PARTNERS_DIR / "threewise.yaml").read_bytes())
    out = tmp_path / "out"
    man = generate_sample_deliveries(
        out, scale=1.0, first_period="2022-01", last_period="2022-03", partners_dir=partners
    )
    assert {f["partner_code"] for f in man["files"]} == {"threewise"}
    dotted = onr_only = 0
    for f in man["files"]:
        header, data = read_delivery(out / f["path"], "threewise")
        for _, cells in data:
            raw = dict(zip(header, cells))
            bsn, onr = raw["BSN"], raw["Onderwijsnummer"]
            assert bool(bsn) != bool(onr)
            dotted += bool(bsn) and bool(re.fullmatch(r"\d{3}\.\d{3}\.\d{3}", str(bsn)))
            onr_only += bool(onr)
    assert dotted > 0 and onr_only > 0
    valid = read_truth(out, "valid_enrolments.csv")
    assert all(re.fullmatch(r"\d{9}", r["bsn"]) for r in valid if r["bsn"])


def test_duplicate_is_byte_identical(sample):
    dups = [f for f in manifest(sample)["files"] if f["status"] == "duplicate"]
    assert len(dups) == 1
    dup = dups[0]
    assert dup["partner_code"] == "thuiszorg_westland" and "(kopie)" in dup["path"]
    assert dup["period"].replace("-", "") in Path(dup["path"]).name
    assert (sample / dup["path"]).read_bytes() == (sample / dup["duplicate_of"]).read_bytes()


def test_v2_is_a_corrected_resend(small):
    files = manifest(small)["files"]
    v2 = [f for f in files if f["version"] == 2]
    assert len(v2) == 1
    v2 = v2[0]
    assert v2["path"].endswith(f"gemeente_den_haag_{v2['period'].replace('-', '')}_v2.csv")
    assert v2["period"] == "2022-04"  # the middle of 2022-01..2022-06
    original = next(f for f in files if f["superseded_by"] == v2["path"])
    assert original["status"] == "superseded" and original["version"] == 1
    assert v2["status"] == "load"
    assert original["bad_rows"] >= 2 and v2["bad_rows"] == original["bad_rows"] - 2
    assert v2["data_rows"] == original["data_rows"] - 1

    _, old = mapped_rows(small, original)
    _, new = mapped_rows(small, v2)
    old_by_key = {r["trajectory_number"]: r for r in old.values()}
    new_by_key = {r["trajectory_number"]: r for r in new.values()}
    assert len(set(old_by_key) - set(new_by_key)) == 1 and set(new_by_key) <= set(old_by_key)
    bad_numbers = {int(b["row_number"]) for b in read_truth(small, "bad_rows.csv") if b["path"] == original["path"]}
    bad_keys = {old[n]["trajectory_number"] for n in bad_numbers}
    corrected = [
        k
        for k in bad_keys
        if k in new_by_key and INVALID not in new_by_key[k].values() and new_by_key[k] != old_by_key[k]
    ]
    assert len(corrected) == 2
    changed = [k for k in new_by_key if k not in bad_keys and new_by_key[k] != old_by_key[k]]
    assert len(changed) == 1
    diff = {c for c in new_by_key[changed[0]] if c != "_raw" and new_by_key[changed[0]][c] != old_by_key[changed[0]][c]}
    assert diff == {"placement_result"}


def test_people_linked_across_partners(small):
    mun = {r["bsn"] for r in read_truth(small, "valid_municipal_participants.csv")}
    enr = {r["bsn"] for r in read_truth(small, "valid_enrolments.csv") if r["bsn"]}
    emp = {r["bsn"] for r in read_truth(small, "valid_employment_spells.csv")}
    assert mun & enr and mun & emp
    # the same person carries the same birth date and postcode everywhere
    people = {p["bsn"]: p for p in read_truth(small, "people.csv") if p["bsn"]}
    for feed in ("employment_spells", "enrolments", "municipal_participants"):
        for r in read_truth(small, f"valid_{feed}.csv"):
            if r["bsn"]:
                assert r["birth_date"] == people[r["bsn"]]["birth_date"]
                assert r["postcode"] == people[r["bsn"]]["postcode"]


def test_programme_labels_present(small):
    spells = read_truth(small, "valid_employment_spells.csv")
    enrolments = read_truth(small, "valid_enrolments.csv")
    trajectories = read_truth(small, "valid_municipal_participants.csv")
    assert len({r["programme"] for r in trajectories}) >= 2
    assert all(r["programme"] for r in trajectories)
    assert any(r["programme"] for r in spells)
    assert any(r["programme"] for r in enrolments)


def test_bad_arguments():
    with pytest.raises(ValueError):
        generate_sample_deliveries("/nonexistent-never-written", first_period="2022-13")
    with pytest.raises(ValueError):
        generate_sample_deliveries("/nonexistent-never-written", first_period="2023-01", last_period="2022-01")
