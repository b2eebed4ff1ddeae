"""The DuckDB SQL references of the benchmark.

bench/reference.sql starts from the pipeline's stg_employment_spells (it checks current records and the
inflow/outflow rules independently of the pandas transforms, not ingest); its comparison with the pipeline
runs in tests/test_pipeline_e2e.py, on the pipeline run that file already makes.

bench/reference_files.py starts from the delivery files themselves (config/partners, config/reference): it
redoes ingest (file decisions, header eras, parsing, validation, duplicates, supersession) in DuckDB SQL, then
inflow/outflow and target attainment.
Its comparison runs here on conftest's statistics sample (three years, a few hundred people; the smaller
`sample` has about ten inflows), once as generated and once with hand-made
deliveries added that hit the rules the generator never produces (edge_cases()).
"""

import csv
import importlib.util
import io
import os
import shutil
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str, file: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH / file)
    assert spec is not None and spec.loader is not None, file
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _reference_module():
    return _load("bench_reference", "reference.py")


def _files_reference_module():
    return _load("bench_reference_files", "reference_files.py")


def test_duckdb_one_year_arithmetic_clips_29_february():
    """reference.sql relies on d - INTERVAL 1 YEAR being the spec's "same date a year earlier"."""
    row = duckdb.sql(
        "SELECT CAST(DATE '2020-02-29' - INTERVAL 1 YEAR AS DATE), CAST(DATE '2020-02-29' + INTERVAL 1 YEAR AS DATE)"
    ).fetchone()
    assert [str(d) for d in row] == ["2019-02-28", "2021-02-28"]


# --- the files reference's parsers agree with the pipeline's, value by value ---------------------------------


def _sql_macros(con) -> None:
    ref = _files_reference_module()
    sql = ref.SQL.read_text()
    con.execute(sql[: sql.index("-- --- 1.")])


def test_files_reference_parses_dates_and_numbers_as_the_pipeline_does():
    import pandas as pd

    from ingest.parse import parse_dates, parse_decimal

    dates = [
        "2020-01-05",
        "2020-1-5",
        "5-1-2020",
        "05/01/2020",
        "05.01.2020",
        "2020-01-05 00:00:00",
        "2020-01-05 10:30:00",
        "05-01-2020 10:30:00",
        "2020-01-05T00:00:00",
        "20200105",
        "43831",
        "43831.0",
        "4.3831e4",
        "19999",
        "80000",
        "80001",
        "43831.5",
        "31-02-2020",
        "2020-02-30",
        "29-02-2021",
        "05-01-20",
        "2020-01-05 10:30",
        "2020-13-01",
        "2020/01/05",
        "43,831",
        "1_000",
        "+43831",
        "0001-01-01",
    ]
    numbers = [
        "32",
        "32,5",
        "32.5",
        "1.234,5",
        "1,234.5",
        "1 234,5",
        "+5",
        "-5",
        ".5",
        "5.",
        "1e3",
        "inf",
        "nan",
        "1_000",
        "0x10",
        "32,5,1",
        "abc",
        "1e400",
    ]
    con = duckdb.connect()
    _sql_macros(con)
    expected_dates, _ = parse_dates(pd.Series(dates, dtype="str"))
    got = dict(con.execute("SELECT t, parse_date(t) FROM unnest(?) u(t)", [dates]).fetchall())
    for text, want in zip(dates, expected_dates):
        assert got[text] == (None if pd.isna(want) else want.to_pydatetime()), text
    expected_numbers, _ = parse_decimal(pd.Series(numbers, dtype="str"))
    got = dict(con.execute("SELECT t, parse_decimal(decimal_text(t)) FROM unnest(?) u(t)", [numbers]).fetchall())
    for text, want in zip(numbers, expected_numbers):
        assert got[text] == (None if pd.isna(want) else want), text


def test_files_reference_strips_and_checks_bsns_as_the_pipeline_does():
    from ingest.pseudonymise import is_valid_bsn

    values = ["\xa0 ab c\u3000\t", "\u2028x\x85", "  ", "é\xa0", "x", " x", "x "]
    bsns = ["123456782", "123.456.782", "12345672", "023456789", "111111110", "000000000", "12345", "1234567890", "abc"]
    con = duckdb.connect()
    _sql_macros(con)
    for v in values:
        assert con.execute("SELECT pystrip(?)", [v]).fetchone()[0] == v.strip(), repr(v)
    for b in bsns:
        s = con.execute(
            "SELECT CASE WHEN length(d) = 9 THEN eleven_sum(d) END FROM "
            "(SELECT bsn_padded(regexp_replace(?, '[^0-9]', '', 'g')) AS d)",
            [b],
        ).fetchone()[0]
        assert (s is not None and s % 11 == 0 and s != 0) == is_valid_bsn(b), b


# --- hand-made deliveries for the rules the generator never produces -------------------------------------------


def _bsns(n: int, start: int = 100_000_000, leading_zero: bool = False) -> list[str]:
    """n valid BSNs (11-check), distinct, none a generator's (those are drawn at random elsewhere)."""
    from ingest.pseudonymise import is_valid_bsn

    out: list[str] = []
    x = (10_000_000 if leading_zero else start) + 7_777
    while len(out) < n:
        s = f"{x:09d}"
        if is_valid_bsn(s):
            out.append(s)
        x += 1
    return out


def _onderwijsnummers(n: int, valid: bool = True) -> list[str]:
    from ingest.pseudonymise import is_valid_onderwijsnummer

    out: list[str] = []
    x = 100_000_000 + 4_242
    while len(out) < n:
        if is_valid_onderwijsnummer(str(x)) == valid:
            out.append(str(x))
        x += 1
    return out


def _read_csv(path: Path, encoding: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""), delimiter=delimiter))


def _write_csv(
    path: Path, rows: list[list[str]], encoding: str, delimiter: str, mtime_after: Path, prefix: str = ""
) -> None:
    buf = io.StringIO()
    buf.write(prefix)
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    later = mtime_after.stat().st_mtime + 86_400
    os.utime(path, (later, later))


def edge_cases(landing: Path) -> None:
    """Add deliveries to a generated landing folder (2022-02..2022-05 delivered) that exercise ingest rules the
    generator does not: a same-version re-send, a byte-identical _v2, a rejected _v3, a copy in a sub-folder,
    a hidden file, a title row, quoted newlines, ragged rows, Unicode whitespace, dotted / 8-digit BSNs,
    Excel serials in CSV, timestamps, schema violations, duplicate record keys, cp1252 punctuation, an xlsx
    _v2 with real dates, times, booleans and numbers; enrolments known by an onderwijsnummer only, levels
    written as decimals, short crebo codes; and municipal trajectories that make the crafted people count
    (or, outside the region, not count) for Brugbanen, Werkoffensief, WEP-trein and Voortraject."""
    zg = landing / "zorggroep_haaglanden"
    original = zg / "zorggroep_haaglanden_2022-03.csv"
    rows = _read_csv(original, "utf-8-sig", ";")
    header, data = rows[0], [r for r in rows[1:] if any(c.strip() for c in r)]
    col = {h: i for i, h in enumerate(header)}
    b = iter(_bsns(40))
    zero = _bsns(2, leading_zero=True)

    def row(emp, **values):
        r = [""] * len(header)
        base = {
            "Personeelsnummer": emp,
            "Dienstverband": "1",
            "BSN": next(b),
            "Geboortedatum": "01-02-1990",
            "Postcode woonadres": "2511 AB",
            "Startdatum": "01-03-2022",
            "Einddatum": "",
            "Functiecode": "F030",
            "Contractsoort": "Vast",
            "Contracturen": "24",
            "BBL-leerling": "nee",
            "Afdeling": "Wijkteam Laak",
        }
        for k, v in {**base, **values}.items():
            r[col[k]] = v
        return r

    shared = next(b)
    crafted = [
        row(
            "900001",
            Startdatum="1-3-2022",
            Functiecode="f030",
            Contractsoort=" Vast ",
            Contracturen="32,5",
            **{"BBL-leerling": "Ja", "Geboortedatum": "01.02.1990"},
        ),
        row(
            "900002",
            BSN=f"{shared[:3]}.{shared[3:6]}.{shared[6:]}",
            Startdatum="2022-03-01 00:00:00",
            Einddatum="31-03-2022",
            **{"Reden vertrek": "Eigen verzoek"},
        ),
        row(
            "900003",
            BSN=zero[0].lstrip("0"),
            Startdatum="44621",
            **{"Postcode woonadres": "0999 AB"},
            Contracturen="60",
        ),
        row("900004", Geboortedatum="01-01-1890"),  # schema: birth year
        row("900005", Contracturen="60,5"),  # schema: hours
        row("900006", Contracturen="-1"),  # schema: hours
        row("900007", Startdatum="02-03-2022"),
        row("900007", Startdatum="03-03-2022"),  # duplicate key: second out
        row("900008", Startdatum="31-02-2022"),
        row("900008", Startdatum="04-03-2022"),  # first invalid: second stays
        row("900009", Contracturen="70"),
        row("900009", Startdatum="05-03-2022"),  # first fails the schema only:
        # the second, valid, stays
        row("\xa0900010\xa0", Startdatum="\u20032022-03-05", Functiecode="F030\t"),
        row("900011", Startdatum="10-03-2022", Einddatum="20-03-2022", **{"Postcode woonadres": "9711AB"}),
        row("900012", **{"Postcode woonadres": "25 11AB"}),
        row("900013", Dienstverband=""),
        row("900014", Einddatum="25-03-2022", **{"Reden vertrek": "Verhuisd"}),  # unknown code
        row("900015", Afdeling="Team\nNoord"),  # quoted newline
        row("900016", Startdatum="2022-03-05 10:00:00", Einddatum="05-03-2022"),  # end before start (time)
        row("900017", Startdatum="06-03-2022", Einddatum="06-03-2022"),  # one day
        row("900018", **{"BBL-leerling": "misschien"}),
        row("900019", BSN="123456789"),  # fails the 11-check
        row("900020", BSN=""),
        row("900021", Dienstverband="1", Startdatum="07-03-2022", **{"Postcode woonadres": "2611 AB"}),
        row("900021", Dienstverband="2", Startdatum="07-03-2022", **{"Postcode woonadres": "2511 AB"}),
        row("900022", Startdatum="08-03-2022", Einddatum="09-03-2022"),
    ]
    crafted[-1][col["BSN"]] = crafted[-2][col["BSN"]]  # same person, two spells
    too_many = [*row("900023"), "x"]  # a value past the header
    trailing = [*row("900024"), "", ""]  # empty values past it
    blank = [""] * len(header)
    kept = [r for i, r in enumerate(data) if i % 7]  # every 7th row withdrawn
    _write_csv(
        zg / "zorggroep_haaglanden_2022-03 (herzien).csv",
        [header, *kept[:5], blank, *kept[5:], *crafted, too_many, trailing],
        "utf-8-sig",
        ";",
        original,
        prefix="Export dienstverbanden maart 2022 (herzien);;\r\n\r\n",
    )

    # a byte-identical _v2 (duplicate), a _v3 without its BSN column (rejected), a copy in a sub-folder, a hidden file
    shutil.copyfile(zg / "zorggroep_haaglanden_2022-04.csv", zg / "zorggroep_haaglanden_2022-04_v2.csv")
    may = _read_csv(zg / "zorggroep_haaglanden_2022-05.csv", "utf-8-sig", ";")
    keep = [i for i, h in enumerate(may[0]) if h != "BSN"]
    _write_csv(
        zg / "zorggroep_haaglanden_2022-05_v3.csv",
        [[r[i] for i in keep if i < len(r)] for r in may],
        "utf-8-sig",
        ";",
        zg / "zorggroep_haaglanden_2022-05.csv",
    )
    (zg / "archief").mkdir()
    shutil.copyfile(zg / "zorggroep_haaglanden_2022-02.csv", zg / "archief" / "zorggroep_haaglanden_2022-02.csv")
    (zg / ".~lock.zorggroep_haaglanden_2022-06.csv#").write_text("lock")

    # vph_delfland: a cp1252 _v2 of 2022-02 with rows withdrawn, a changed end date and cp1252 punctuation
    vph = landing / "vph_delfland"
    feb = _read_csv(vph / "vph_delfland_2022-02.csv", "cp1252", ",")
    vh, vdata = feb[0], [r for r in feb[1:] if any(c.strip() for c in r)]
    vcol = {h: i for i, h in enumerate(vh)}
    vdata = [r for i, r in enumerate(vdata) if i % 5]
    vdata[0][vcol["Naam"]] = "Müller – € ‘test’"  # ignored column
    vdata[1][vcol["Functie"]] = "VIG’"  # unknown code (0x92)
    vdata[2][vcol["Einddatum"]] = "2022-02-15"
    vdata[2][vcol["Vertrekreden"]] = "EV"
    _write_csv(vph / "vph_delfland_2022-02_v2.csv", [vh, *vdata], "cp1252", ",", vph / "vph_delfland_2022-02.csv")

    # thuiszorg_westland: an xlsx _v2 of 2022-05 with title rows, real dates and times, booleans, numbers
    import python_calamine
    from openpyxl import Workbook

    tw = landing / "thuiszorg_westland"
    src = tw / "thuiszorg_westland_202205.xlsx"
    cells = list(python_calamine.CalamineWorkbook.from_path(str(src)).get_sheet_by_name("Dienstverbanden").iter_rows())
    hdr_idx = next(i for i, r in enumerate(cells) if "medewerker_id" in [str(c) for c in r])
    th, tdata = (
        [str(c) for c in cells[hdr_idx]],
        [list(r) for r in cells[hdr_idx + 1 :] if any(str(c).strip() for c in r)],
    )
    tcol = {h: i for i, h in enumerate(th)}
    tb = iter(_bsns(10, start=300_000_000))

    def trow(emp, **values):
        r = [None] * len(th)
        base = {
            "medewerker_id": emp,
            "dienstverband_volgnr": 1,
            "bsn_medewerker": int(next(tb)),
            "geb_datum": datetime(1985, 5, 5),
            "pc_woonadres": "2671AB",
            "functie": "Verzorgende IG",
            "contract": "Onbepaalde tijd",
            "uren_pw": 32.5,
            "bbl": False,
            "begin_dienstverband": datetime(2022, 5, 2),
        }
        for k, v in {**base, **values}.items():
            r[tcol[k]] = v
        return r

    tdata = [r for i, r in enumerate(tdata) if i % 6]
    tdata += [
        trow(800001, bsn_medewerker=int(zero[1])),  # a number: leading zero lost
        trow(800002, begin_dienstverband=datetime(2022, 5, 3, 10, 0), einde_dienstverband=datetime(2022, 5, 2, 8, 0)),
        trow(
            800003,
            begin_dienstverband=datetime(2022, 5, 4, 9, 30),
            einde_dienstverband=datetime(2022, 5, 20),
            reden_einde="Eigen ontslag",
            bbl=True,
        ),
        trow(800004, uren_pw=61.0),
        trow(800005, begin_dienstverband="44686"),  # a serial as text
        trow(800006, functie="Zorgcoördinator"),  # unknown code
    ]
    wb = Workbook()
    ws = wb.active
    ws.title = "Dienstverbanden"
    ws.append(["Export dienstverbanden Thuiszorg Westland periode 2022-05 (gecorrigeerd)"])
    ws.append([])
    ws.append(th)
    for i, r in enumerate(tdata):
        ws.append(r)
        if i == 3:
            ws.append([])  # an empty row in between
    out = tw / "thuiszorg_westland_202205_v2.xlsx"
    wb.save(out)
    later = src.stat().st_mtime + 86_400
    os.utime(out, (later, later))

    # roc_zuidwest: a cp1252 _v2 of 2022-Q2 with onderwijsnummers, decimal levels, short crebo codes
    roc = landing / "roc_zuidwest"
    q2 = _read_csv(roc / "roc_zuidwest_2022-Q2.csv", "cp1252", ";")
    rh, rdata = q2[0], [r for r in q2[1:] if any(c.strip() for c in r)]
    rcol = {h: i for i, h in enumerate(rh)}
    rb = iter(_bsns(12, start=500_000_000))

    def rrow(number, **values):
        r = [""] * len(rh)
        base = {
            "inschrijving_id": number,
            "bsn": next(rb),
            "geboortedatum": "01-01-2004",
            "postcode": "2511AB",
            "crebo_code": "25498",
            "niveau": "2",
            "leerweg": "bbl",
            "project": "VT",
            "datum_inschrijving": "01-05-2022",
            "uitstroomresultaat": "actief",
            "achternaam": "Çelik–Smit",
        }
        for k, v in {**base, **values}.items():
            r[rcol[k]] = v
        return r

    enrolled = [
        rrow("4900001", bsn="", onderwijsnummer=_onderwijsnummers(1)[0]),  # known by an onderwijsnummer only
        rrow("4900002", onderwijsnummer=_onderwijsnummers(1, valid=False)[0]),  # an invalid onderwijsnummer
        rrow("4900003", niveau="2,0"),  # a whole number as a decimal
        rrow("4900004", niveau="2,5"),
        rrow("4900005", niveau="5"),  # schema: level 1..4
        rrow("4900006", crebo_code="2549"),  # schema: five digits
        rrow("4900007", bsn=""),  # neither identifier
        rrow("4900008", datum_uitschrijving="01-04-2022"),  # ends before it starts
        rrow("4900009", leerweg="BBL", project="tb12", niveau="1"),  # labels in another case
        rrow("4900010", postcode="9711AB"),  # lives outside the region
    ]
    _write_csv(
        roc / "roc_zuidwest_2022-Q2_v2.csv",
        [rh, *[r for i, r in enumerate(rdata) if i % 4], *enrolled],
        "cp1252",
        ";",
        roc / "roc_zuidwest_2022-Q2.csv",
    )

    # gemeente_den_haag: a _v2 of 2022-03 whose trajectories make the crafted people count for targets
    gm = landing / "gemeente_den_haag"
    mar = _read_csv(gm / "gemeente_den_haag_202203.csv", "utf-8", ",")
    gh, gdata = mar[0], [r for r in mar[1:] if any(c.strip() for c in r)]
    gcol = {h: i for i, h in enumerate(gh)}
    gb = iter(_bsns(8, start=700_000_000))

    def grow(number, bsn=None, **values):
        r = [""] * len(gh)
        base = {
            "Trajectnummer": number,
            "BSN": bsn or next(gb),
            "Geboortedatum": "1990-01-01",
            "Postcode": "2511 AB",
            "Doelgroep": "Bijstand",
            "Uitkering": "PW",
            "Programma": "Werkoffensief",
            "Datum aanmelding": "2022-02-01",
        }
        for k, v in {**base, **values}.items():
            r[gcol[k]] = v
        return r

    wep = {
        "Programma": "WEP-trein",
        "Datum plaatsing": "2022-02-01",
        "Soort plaatsing": "WEP",
        "Datum einde plaatsing": "2022-03-15",
        "Resultaat plaatsing": "Werkfit",
    }
    trajectories = [
        grow("TRJ-EDGE-1", shared, Programma="Brugbanen", Doelgroep="Pro/vso"),  # starts care 2022-03-01: Brugbanen
        grow("TRJ-EDGE-2", crafted[0][col["BSN"]]),  # bijstand, starts care: Werkoffensief
        grow("TRJ-EDGE-3", **wep),  # WEP-trein
        grow("TRJ-EDGE-4", **{**wep, "Postcode": "9711 AB"}),  # outside the region: not counted
        grow("TRJ-EDGE-5", **{**wep, "Datum einde plaatsing": "2022-01-15"}),  # placement ends before it starts
        grow("TRJ-EDGE-6", Doelgroep="55-plusser"),  # unknown code
        grow("TRJ-EDGE-7", enrolled[2][rcol["bsn"]], Programma="Voortraject"),  # BBL enrolment 2022-05-01: Voortraject
        grow("TRJ-EDGE-8", enrolled[9][rcol["bsn"]], Programma="Voortraject"),  # ... but lives outside the region
    ]
    _write_csv(
        gm / "gemeente_den_haag_202203_v2.csv",
        [gh, *[r for i, r in enumerate(gdata) if i % 9], *trajectories],
        "utf-8",
        ",",
        gm / "gemeente_den_haag_202203.csv",
    )


# --- the files reference against the pipeline ---------------------------------------------------------------------


def _run_pipeline(landing: Path, root: Path) -> Path:
    """Staging, facts, dimensions, the sector flows and the target facts of `landing`, in a fresh DuckDB file;
    returns its path."""
    import dagster as dg

    from pipelines.definitions import all_assets
    from pipelines.resources import IngestResource, WarehouseResource

    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    path = root / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(home))
        result = dg.materialize(
            all_assets,
            selection=dg.AssetSelection.assets(
                "fct_sector_inflow",
                "fct_sector_outflow",
                "fct_internal_mobility",
                "fct_target_persons",
                "fct_target_attainment",
            ).upstream(),
            instance=dg.DagsterInstance.get(),
            resources={
                "warehouse": WarehouseResource(url=f"duckdb:///{path}"),
                "ingest": IngestResource(
                    environment="test", landing_dir=str(landing), feedback_dir=str(root / "feedback")
                ),
            },
        )
    assert result.success
    return path


@pytest.fixture(scope="module")
def generated_run(stats_sample, tmp_path_factory):
    """The statistics sample of conftest (2021-01..2023-12, scale 0.4) as generated, through the pipeline
    (module scope: the tests only read)."""
    root = tmp_path_factory.mktemp("files_reference")
    return stats_sample["landing"], _run_pipeline(stats_sample["landing"], root)


@pytest.fixture(scope="module")
def edge_run(stats_sample, tmp_path_factory):
    """The same sample plus edge_cases(), through the pipeline."""
    root = tmp_path_factory.mktemp("files_reference_edge")
    landing = root / "landing"
    shutil.copytree(stats_sample["landing"], landing)  # copy2: keeps the files' times (arrival order)
    edge_cases(landing)
    return landing, _run_pipeline(landing, root)


def _assert_equal(result: dict) -> None:
    assert result["differences"] == [], result["differences"][:20]
    assert result["target_differences"] == [], result["target_differences"][:20]
    assert result["delivery_differences"] == [], result["delivery_differences"][:20]
    assert result["verdict"] == "EQUAL" and result["targets_verdict"] == "EQUAL"


@pytest.mark.slow
def test_files_reference_equals_the_pipeline_on_the_generated_sample(generated_run):
    landing, warehouse = generated_run
    result = _files_reference_module().compare(landing, warehouse)
    _assert_equal(result)
    assert result["totals"]["reference_inflow"]["persons_summed"] > 100
    assert result["totals"]["reference_outflow"]["persons_summed"] > 100
    assert result["files"]["employment_spells/rejected"] >= 2  # the generator's empty _v2 and corrupt xlsx _v2
    assert sum(t["achieved"] for t in result["targets_latest"]) > 50
    flows_only = _files_reference_module().compare(landing, warehouse, targets=False)  # the other feeds' rows unread
    assert flows_only["differences"] == [] and flows_only["delivery_differences"] == []
    assert flows_only["totals"] == result["totals"]


@pytest.mark.slow
def test_files_reference_equals_the_pipeline_on_hand_made_edge_cases(edge_run):
    landing, warehouse = edge_run
    result = _files_reference_module().compare(landing, warehouse)
    _assert_equal(result)
    files = result["files"]
    assert files["employment_spells/duplicate"] >= 2  # the identical _v2 and the copy in archief/
    assert files["employment_spells/superseded"] >= 3  # 2022-03 by the re-send, vph 2022-02 and thuiszorg 202205 by _v2
    assert result["transcode_s"] > 0  # the cp1252 re-sends hold bytes 0x80-0x9F (DuckDB's latin-1 refuses them)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rejected = con.sql(
            "SELECT count(*) FROM quarantine_rows WHERE source_file LIKE '%herzien%' AND severity = 'row_rejected'"
        ).fetchone()[0]
    assert rejected >= 12  # the crafted rows were really put to the test


@pytest.mark.slow
def test_files_reference_leaves_a_file_out_on_request(generated_run):
    landing, _ = generated_run
    ref = _files_reference_module()
    last = sorted((landing / "zorggroep_haaglanden").glob("*.csv"))[-1]
    full = ref.compute(landing, targets=False)
    without = ref.compute(landing, {f"zorggroep_haaglanden/{last.name}"}, targets=False)
    assert without["files"]["employment_spells/loaded"] == full["files"]["employment_spells/loaded"] - 1
