"""The report made for the people who read it: no empty chart, whole-number ticks, lines through the published
points, the right words per suppression reason, Dutch labels and partner names, a card per target, quarter and
year views from a grain column, slides (1600x900 PNG + CSV), and one xlsx workbook of the published tables."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import struct

import openpyxl
import pandas as pd
import pytest
from test_report import _attainment, _flows, _retention, _tables

from report import data as D
from report.render import REPORT_NAME, render_report
from report.workbook import WORKBOOK_NAME, published_tables, write_published_workbook
from schemas.tables import TABLES

CUTOFF = pd.Timestamp("2024-12-31")


def _render(tmp_path, tables=None, png=False, workbook=None):
    return render_report(
        tables or _tables(), cutoff=CUTOFF, run_id="run-1", out_dir=tmp_path / "r", png=png, workbook=workbook
    )


def _figure(html: str, chart_id: str) -> str:
    found = re.search(rf'<figure data-chart="{re.escape(chart_id)}".*?</figure>', html, re.S)
    assert found is not None, chart_id
    return found.group(0)


def test_a_municipality_with_nothing_publishable_is_one_dutch_line_not_an_empty_chart(tmp_path):
    html = _render(tmp_path).read_text(encoding="utf-8")
    assert 'data-chart="flows-GM0503"' not in html
    line = re.search(r'<p class="leeg" data-no-publishable="flows">(.*?)</p>', html, re.S).group(1)
    assert line.startswith("Geen publiceerbare cijfers") and "Delft" in line
    for chart_id in ("flows-GM0518", "flows-GM0603"):  # every chart drawn has a bar
        assert re.search(r'<rect x="[^"]+" y="[^"]+" width="[^"]+" height="[^"]+" fill="#', _figure(html, chart_id))


def test_a_published_total_whose_kinds_are_hidden_still_shows(tmp_path):
    flows = _flows()
    chart = next(c for c in D.sector_flow_charts(flows) if c["area_code"] == "GM0518")
    # Nov: total 20, herintreder 12 published, the other kinds hidden: 8 drawn as 'kind suppressed'; Dec: 7 - 7 = 0
    assert chart["inflow_kind_hidden"] == [8, 0]


def _tick_labels(svg_text: str) -> list[str]:
    found = re.findall(r'<text x="[^"]+" y="[^"]+" text-anchor="end" fill="#555">([^<]*)</text>', svg_text)
    return [t for t in found if not re.search(r"[a-z-]", t)]  # the y axis (not the last x label)


def test_count_axes_have_whole_number_ticks(tmp_path):
    small = _flows()
    small = small[small["area_code"] == "GM0603"].copy()
    small.loc[small["persons"].notna(), "persons"] = 1  # a chart whose largest count is 1
    tables = _tables() | {"pub_sector_flows": small}
    html = _render(tmp_path, tables).read_text(encoding="utf-8")
    ticks = _tick_labels(_figure(html, "flows-GM0603"))
    assert ticks and all(re.fullmatch(r"\d+(\.\d{3})*", t) for t in ticks), ticks
    assert ticks == ["1", "1"]  # 1 up (inflow), 1 down (outflow): never '1, 0 ... 0, 1'
    assert "," not in "".join(ticks)
    target_ticks = _tick_labels(_figure(html, "target-doel_a"))
    assert all(re.fullmatch(r"\d+(\.\d{3})*", t) for t in target_ticks), target_ticks


def test_the_progress_line_runs_through_the_published_points(tmp_path):
    html = _render(tmp_path).read_text(encoding="utf-8")
    figure = _figure(html, "target-doel_a")  # its middle month is suppressed
    achieved = re.search(r'<path d="([^"]+)" fill="none" stroke="#1f77b4"', figure).group(1)
    assert achieved.count("M") == 1 and achieved.count("L") == 1  # one line from the first to the last point
    assert 'stroke="#bbb"' in figure  # the hidden month is marked


@pytest.mark.parametrize(
    ("reason", "words", "wrong"),
    [
        ("secondary", "verborgen om andere cellen te beschermen", "klein aantal"),
        ("small_count", "klein aantal (1 t/m 4 personen)", "andere cellen"),
    ],
)
def test_a_hidden_headline_says_why_it_is_hidden(tmp_path, reason, words, wrong):
    attainment = _attainment()
    last = attainment.index[(attainment["target_code"] == "doel_b") & attainment["is_latest"]]
    attainment.loc[last, ["suppressed", "suppression_reason"]] = [True, reason]
    attainment.loc[last, "achieved"] = pd.NA
    html = _render(tmp_path, _tables() | {"pub_target_attainment": attainment}).read_text(encoding="utf-8")
    card = re.search(r'<div class="card" data-target-card="doel_b".*?</div></div>', html, re.S).group(0)
    assert words in card and wrong not in card


def test_a_card_per_target_a_manager_reads_in_five_seconds(tmp_path):
    html = _render(tmp_path).read_text(encoding="utf-8")
    cards = dict(re.findall(r'<div class="card" data-target-card="([^"]+)"(.*?)</div></div>', html, re.S))
    assert set(cards) == {"doel_a", "doel_b"}
    a = cards["doel_a"]
    assert "1.234 van 10" in a and "behaald" in a  # achieved of target, status in Dutch
    assert "prognose 1.50" in a and "nodig per maand" in a and "tempo" in a
    assert "geen doelaantal" in cards["doel_b"]  # no target number: the count, no status


def test_dutch_labels_and_partner_names_in_the_tables(tmp_path):
    html = _render(tmp_path).read_text(encoding="utf-8")
    quarantine = _figure(html, "quarantine")
    assert "Zorg Maandelijks" in quarantine and "Zorg Per Kwartaal" in quarantine
    assert "ongeldige datum" in quarantine and "onbekende code" in quarantine  # Dutch, English below
    assert '<div class="en">invalid date</div>' in quarantine
    assert ">ROW_INVALID_DATE<" not in quarantine
    completeness = _figure(html, "completeness")
    assert "Zorg Maandelijks" in completeness and "te laat" in completeness


def test_coarser_grains_where_months_are_too_small():
    """A pub table with a grain column: an area whose months are all hidden shows its quarters."""
    months = _flows()
    months = months[months["area_code"] == "GM0503"].assign(grain="month")
    quarter = months.iloc[:2].copy()
    quarter["grain"], quarter["period_month"], quarter["period_quarter"] = "quarter", pd.NaT, "2024-Q4"
    quarter["persons"], quarter["suppressed"], quarter["suppression_reason"] = pd.array([11, 6], "Int64"), False, None
    chart = D.sector_flow_charts(pd.concat([months, quarter], ignore_index=True))[0]
    assert (chart["grain"], chart["periods"], chart["empty"]) == ("quarter", ["2024-Q4"], False)
    assert (chart["inflow_total"], chart["outflow"]) == ([11], [6])

    without = D.sector_flow_charts(_flows().drop(columns=[], errors="ignore"))  # no grain column: months
    assert {c["grain"] for c in without} == {"month"}


def test_retention_by_quarter_cohorts_when_published():
    monthly = _retention().assign(grain="month")
    q = monthly[monthly["area_level"] == "all"].iloc[[0, 3, 4]].copy()  # 2022-01 cohort at +6, +12, +24
    q["grain"], q["cohort_quarter"] = "quarter", "2022-Q1"
    q["retained_share"] = [0.88, 0.7, 0.55]
    chart = D.retention_chart(pd.concat([monthly, q], ignore_index=True))
    assert chart["cohorts"] == "quarter"
    assert chart["curves"] == [
        {
            "cohort_year": "2022-Q1",
            "points": [
                {"horizon_months": 6, "share": 0.88, "cohort_months": 3},
                {"horizon_months": 12, "share": 0.7, "cohort_months": 3},
                {"horizon_months": 24, "share": 0.55, "cohort_months": 3},
            ],
        }
    ]
    assert len(chart["cells"]) == 6  # the month cells are the months only
    assert D.retention_chart(_retention())["cohorts"] == "year"  # no grain column: yearly averages of months


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_every_chart_is_a_slide_with_its_data_beside_it(tmp_path):
    pytest.importorskip("cairosvg", reason="PNG charts need cairosvg (optional)")
    stale = tmp_path / "r" / "charts" / "flows-GM0503.png"  # a chart of an earlier run, not drawn now
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    path = _render(tmp_path, png=True)
    folder = path.parent / "charts"
    assert not stale.exists()
    pngs = sorted(folder.glob("*.png"))
    html = path.read_text(encoding="utf-8")
    drawn = set(re.findall(r'data-chart="([^"]+)" data-chart-kind="(?!table)', html))
    assert {p.stem for p in pngs} == drawn and len(pngs) == 6
    for png in pngs:
        width, height = _png_size(png)
        assert width >= 1600 and height >= 900
        assert png.with_suffix(".csv").is_file()
    with (folder / "flows-GM0518.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert [r["periode"] for r in rows] == ["2024-11-01", "2024-12-01"]
    assert [r["instroom_totaal"] for r in rows] == ["20", "7"] and [r["uitstroom"] for r in rows] == ["9", "0"]
    assert [r["instroom_zij_instromer"] for r in rows] == ["", "0"]  # suppressed stays empty, never imputed


def test_the_slide_has_title_legend_source_and_cutoff():
    from report.render import Chart, slide_svg

    chart = Chart("x", "Titel NL", "Title EN", [("behaald / achieved", "#123456")], "pub_x", "<svg width='1'></svg>")
    text = slide_svg(chart, cutoff=CUTOFF, run_id="run-9")
    assert 'width="1600" height="900"' in text
    for part in ("Titel NL", "Title EN", "behaald / achieved", "#123456", "Bron: zorgstroom, pub_x", "31-12-2024"):
        assert part in text


def test_one_workbook_of_the_published_tables_linked_from_the_report(tmp_path):
    tables = {
        "pub_sector_flows": _flows(),
        "pub_retention": _retention(),
        "pub_target_attainment": _attainment(),
    }
    path = write_published_workbook(tables, tmp_path / "r" / WORKBOOK_NAME, cutoff=CUTOFF, run_id="run-1")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Toelichting", "pub_sector_flows", "pub_retention", "pub_target_attainment"]
    flows = book["pub_sector_flows"]
    header = [c.value for c in flows[1]]
    assert header == TABLES["pub_sector_flows"].column_names  # follows the table's definition
    first = dict(zip(header, [c.value for c in flows[2]], strict=True))
    assert isinstance(first["period_month"], dt.datetime) and flows["A2"].number_format == "dd-mm-yyyy"
    assert isinstance(first["period_year"], int) and isinstance(first["suppressed"], bool)
    persons = [c.value for c in flows["J"][1:]]
    assert any(isinstance(v, int) for v in persons) and None in persons  # counts typed; suppressed empty
    assert flows.freeze_panes == "A2" and flows.column_dimensions["F"].width >= len("area_name")
    intro = list(book["Toelichting"].iter_rows(values_only=True))
    explained = {(r[0], r[1]) for r in intro if r and r[0] in tables}
    expected = {(t.name, c) for t in published_tables() if t.name in tables for c in t.column_names}
    assert explained == expected
    descriptions = {r[1]: r[5] for r in intro if r and r[0] == "pub_sector_flows"}
    assert descriptions["persons"] == TABLES["pub_sector_flows"].column("persons").field.description

    html = render_report(_tables(), cutoff=CUTOFF, run_id="r", out_dir=tmp_path / "r", png=False, workbook=path.name)
    assert f'href="{WORKBOOK_NAME}"' in html.read_text(encoding="utf-8") and html.name == REPORT_NAME


def test_chart_data_json_is_still_the_published_values(tmp_path):
    html = _render(tmp_path).read_text(encoding="utf-8")
    payload = json.loads(
        re.search(r'data-chart-data="flows-GM0518">(.*?)</script>', html, re.S).group(1).replace("\\/", "/")
    )
    assert payload["grain"] == "month" and payload["inflow_total"] == [20, 7]
