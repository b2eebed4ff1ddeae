"""The regional report: one self-contained HTML file whose charts carry exactly the published values."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from browser import chromium_path, visit

from report.data import quarantine_summary
from report.render import REPORT_NAME, render_report

NaN = float("nan")
D = pd.Timestamp


#: as_of_date, achieved, expected_to_date, status, forecast, suppressed
AttainmentPoint = tuple[pd.Timestamp, int | None, float, str | None, float | None, bool]


def _attainment() -> pd.DataFrame:
    rows = []
    targets: list[tuple[str, str, float, list[AttainmentPoint]]] = [
        (
            "doel_a",
            "Doel A",
            10.0,
            [
                (D("2024-10-31"), 5, 2.5, "on_track", 15.0, False),
                (D("2024-11-30"), None, 5.0, "needs_acceleration", None, True),
                (D("2024-12-31"), 1234, 7.5, "achieved", 1500.5, False),
            ],
        ),
        ("doel_b", "Doel B", NaN, [(D("2024-12-31"), 8, NaN, None, NaN, False)]),
    ]
    for code, name, target, series in targets:
        for i, (as_of, achieved, expected, status, forecast, hidden) in enumerate(series):
            rows.append(
                {
                    "target_code": code,
                    "target_name": name,
                    "as_of_date": as_of,
                    "is_latest": i == len(series) - 1,
                    "window_start": D("2024-10-01"),
                    "window_end": D("2025-12-31"),
                    "target_number": target,
                    "achieved": achieved,
                    "share_attained": (achieved / target) if achieved and target == target else NaN,
                    "expected_to_date": expected,
                    "status": status,
                    "forecast": forecast,
                    "required_monthly_rate": NaN,
                    "suppressed": hidden,
                    "suppression_reason": "small_count" if hidden else None,
                }
            )
    df = pd.DataFrame(rows)
    df["achieved"] = df["achieved"].astype("Int64")
    return df


def _flows() -> pd.DataFrame:
    rows = []

    def add(
        month, code, name, measure, breakdown, value, persons, hidden=False, provisional=False, level="municipality"
    ):
        rows.append(
            {
                "period_month": D(month),
                "period_quarter": "2024-Q4",
                "period_year": 2024,
                "area_level": level,
                "area_code": code,
                "area_name": name,
                "measure": measure,
                "breakdown": breakdown,
                "breakdown_value": value,
                "persons": None if hidden else persons,
                "is_provisional": provisional,
                "suppressed": hidden,
                "suppression_reason": "small_count" if hidden else None,
            }
        )

    for code, name in [("GM0518", "'s-Gravenhage"), ("GM0603", "Rijswijk")]:
        add("2024-11-01", code, name, "inflow", "total", "total", 20)
        add("2024-11-01", code, name, "inflow", "inflow_kind", "herintreder", 12)
        add("2024-11-01", code, name, "inflow", "inflow_kind", "zij_instromer", None, hidden=True)
        add("2024-11-01", code, name, "inflow", "inflow_kind", "overig", None, hidden=True)
        add("2024-11-01", code, name, "outflow", "total", "total", 9, provisional=True)
        add("2024-12-01", code, name, "inflow", "total", "total", 7)
        add("2024-12-01", code, name, "inflow", "inflow_kind", "overig", 7)  # no herintreder/zij_instromer row: 0
    add("2024-11-01", "ALL", "Alle", "inflow", "total", "total", 40, level="all")
    for month in ("2024-11-01", "2024-12-01"):  # Delft: nothing publishable
        add(month, "GM0503", "Delft", "inflow", "total", "total", None, hidden=True)
        add(month, "GM0503", "Delft", "outflow", "total", "total", None, hidden=True)
    df = pd.DataFrame(rows)
    df["persons"] = df["persons"].astype("Int64")
    return df


def _retention() -> pd.DataFrame:
    rows = []
    cases: list[tuple[str, int, int | None, float | None, bool]] = [
        ("2022-01-01", 6, 100, 0.9, False),
        ("2022-02-01", 6, 50, 0.8, False),
        ("2022-03-01", 6, None, None, True),
        ("2022-01-01", 12, 100, 0.75, False),
        ("2022-01-01", 24, 100, 0.6, False),
        ("2023-01-01", 6, 40, 0.875, False),
        ("2022-01-01", 36, 100, 0.5, False),
    ]
    for month, h, cohort, share, hidden in cases:
        retained = None
        if not hidden:
            assert cohort is not None and share is not None
            retained = round(cohort * share)
        rows.append(
            {
                "cohort_month": D(month),
                "cohort_quarter": "x",
                "cohort_year": D(month).year,
                "area_level": "all",
                "area_code": "ALL",
                "area_name": "Alle",
                "horizon_months": h,
                "cohort_persons": cohort,
                "retained_persons": retained,
                "retained_share": share,
                "suppressed": hidden,
                "suppression_reason": "secondary" if hidden else None,
            }
        )
    rows.append({**rows[0], "area_level": "municipality", "area_code": "GM0518", "retained_share": 0.1})
    return pd.DataFrame(rows)


def _completeness() -> pd.DataFrame:
    rows = [
        ("p_maand", "2024-11", "2024-11-01", "2024-11-30", 0, "on_time"),
        ("p_maand", "2024-12", "2024-12-01", "2024-12-31", 3, "late"),
        ("p_kwartaal", "2024-Q4", "2024-10-01", "2024-12-31", 40, "missing"),
    ]
    return pd.DataFrame(
        [
            {
                "partner_code": p,
                "delivery_period": per,
                "period_start": D(s),
                "period_end": D(e),
                "due_date": D(e) + pd.Timedelta(days=10),
                "received": st != "missing",
                "first_received_at": pd.NaT,
                "days_late": late,
                "completeness_status": st,
                "as_of_date": D("2025-02-01"),
            }
            for p, per, s, e, late, st in rows
        ]
    )


def _quarantine() -> pd.DataFrame:
    log = pd.DataFrame(
        {
            "delivery_id": ["d1", "d2", "d3"],
            "partner_code": ["p_maand", "p_maand", "p_kwartaal"],
            "delivery_period": ["2024-11", "2024-12", "2024-Q3"],
        }
    )
    rows = pd.DataFrame(
        {
            "delivery_id": ["d1", "d2", "d2", "d2", "d3"],
            "source_row_number": [1, 2, 3, 4, 5],
            "masked_value": ["secret1"] * 5,
            "reason_code": ["ROW_INVALID_BSN", "ROW_INVALID_DATE", "ROW_INVALID_DATE", "ROW_UNKNOWN_CODE", "ROW_X"],
        }
    )
    return quarantine_summary(rows, log)


def _tables() -> dict[str, pd.DataFrame]:
    return {
        "pub_target_attainment": _attainment(),
        "pub_sector_flows": _flows(),
        "pub_retention": _retention(),
        "fct_delivery_completeness": _completeness(),
        "quarantine_summary": _quarantine(),
        "dim_partner": pd.DataFrame(
            {"partner_code": ["p_maand", "p_kwartaal"], "partner_name": ["Zorg Maandelijks", "Zorg Per Kwartaal"]}
        ),
    }


@pytest.fixture
def rendered(tmp_path) -> Path:
    return render_report(
        _tables(), cutoff=D("2024-12-31"), run_id="run-4711-abcd", out_dir=tmp_path / "report", png=False
    )


def _charts(html: str) -> dict[str, object]:
    found = re.findall(r'<script type="application/json" data-chart-data="([^"]+)">(.*?)</script>', html, re.S)
    return {name: json.loads(text) for name, text in found}


def test_one_self_contained_file(rendered):
    assert [p.name for p in rendered.parent.iterdir()] == [REPORT_NAME]
    html = rendered.read_text(encoding="utf-8")
    for forbidden in ("http://", "https://", "//", "src=", "@import", "url("):
        assert forbidden not in html, forbidden
    assert html.startswith("<!DOCTYPE html>")


def test_every_chart_present_with_its_data(rendered):
    html = rendered.read_text(encoding="utf-8")
    figures = set(re.findall(r'data-chart="([^"]+)"', html))
    expected = {
        "target-doel_a",
        "target-doel_b",
        "flows-GM0518",
        "flows-GM0603",
        "retention",
        "completeness",
        "quarantine",
    }
    assert figures == expected
    assert set(_charts(html)) == expected
    for chart in expected - {"quarantine"}:
        figure = re.search(rf'<figure data-chart="{chart}".*?</figure>', html, re.S).group(0)
        assert "<svg" in figure


def test_chart_data_equals_the_published_values(rendered):
    charts = _charts(rendered.read_text(encoding="utf-8"))
    a = charts["target-doel_a"]
    assert [(p["as_of_date"], p["achieved"], p["expected_to_date"]) for p in a["points"]] == [
        ("2024-10-31", 5, 2.5),
        ("2024-11-30", None, 5),
        ("2024-12-31", 1234, 7.5),
    ]
    assert (a["status"], a["forecast"], a["target_number"], a["achieved"]) == ("achieved", 1500.5, 10, 1234)
    b = charts["target-doel_b"]
    assert (b["target_number"], b["status"], b["points"][0]["achieved"]) == (None, None, 8)

    f = charts["flows-GM0518"]
    assert f["months"] == ["2024-11-01", "2024-12-01"]
    assert f["inflow"] == {"herintreder": [12, 0], "zij_instromer": [None, 0], "overig": [None, 7]}
    assert f["inflow_total"] == [20, 7] and f["outflow"] == [9, 0] and f["outflow_provisional"] == [True, False]

    r = charts["retention"]
    cells = {(c["cohort_month"], c["horizon_months"]): c["retained_share"] for c in r["cells"]}
    assert cells == {
        ("2022-01-01", 6): 0.9,
        ("2022-02-01", 6): 0.8,
        ("2022-03-01", 6): None,
        ("2022-01-01", 12): 0.75,
        ("2022-01-01", 24): 0.6,
        ("2023-01-01", 6): 0.875,
    }  # area ALL; no +36
    y2022 = next(c for c in r["curves"] if c["cohort_year"] == 2022)["points"]
    assert [(p["horizon_months"], p["share"], p["cohort_months"]) for p in y2022] == [
        (6, pytest.approx(0.85), 2),
        (12, 0.75, 1),
        (24, 0.6, 1),
    ]  # the suppressed month is left out, not imputed

    c = charts["completeness"]
    assert {(x["partner_code"], x["delivery_period"], x["completeness_status"]) for x in c["cells"]} == {
        ("p_maand", "2024-11", "on_time"),
        ("p_maand", "2024-12", "late"),
        ("p_kwartaal", "2024-Q4", "missing"),
    }

    q = charts["quarantine"]
    assert q["rows"] == [  # each partner's latest period only; counts, no identifiers or values
        {"partner_code": "p_kwartaal", "delivery_period": "2024-Q3", "reason_code": "ROW_X", "rows": 1},
        {"partner_code": "p_maand", "delivery_period": "2024-12", "reason_code": "ROW_INVALID_DATE", "rows": 2},
        {"partner_code": "p_maand", "delivery_period": "2024-12", "reason_code": "ROW_UNKNOWN_CODE", "rows": 1},
    ]


def test_cutoff_run_id_and_dutch_formats(rendered):
    html = rendered.read_text(encoding="utf-8")
    assert "31-12-2024" in html and "2024-12-31" not in re.sub(
        r"<script.*?</script>|data-cutoff=\"[^\"]*\"", "", html, flags=re.S
    )
    assert "run-4711-abcd" in html
    assert "1.234" in html  # achieved, thousands with a dot
    assert "1.500" in html  # forecast (rounded)
    assert "12.340,0%" in html  # share attained 1234 / 10
    assert "85,0%" in html  # yearly average retention
    assert "Peildatum" in html and "data cut-off" in html
    assert "secret1" not in html


def test_pngs_beside_the_report(tmp_path):
    pytest.importorskip("cairosvg", reason="PNG charts need cairosvg (optional)")
    path = render_report(_tables(), cutoff=D("2024-12-31"), run_id="r1", out_dir=tmp_path)
    pngs = sorted(p.name for p in (path.parent / "charts").glob("*.png"))
    assert "retention.png" in pngs and "completeness.png" in pngs and len(pngs) == 6
    assert all((path.parent / "charts" / n).read_bytes()[:4] == b"\x89PNG" for n in pngs)


ARTIFACTS = Path(__file__).resolve().parents[1] / "data" / "test-artifacts"


#: In the browser: per chart figure, how many marks it draws (bars, lines, points, cells) that are data,
#: not grid, gap ticks or axes; and the page's visible text.
PROBES = {
    "marks": (
        "Array.from(document.querySelectorAll('figure[data-chart] svg')).map(svg => ["
        "svg.closest('figure').dataset.chart,"
        "Array.from(svg.querySelectorAll('rect, path, circle')).filter(el => {"
        " const fill = el.getAttribute('fill'), stroke = el.getAttribute('stroke');"
        " const b = el.getBBox(); if (b.width <= 0 && b.height <= 0) return false;"
        " return (fill && fill !== 'none' && fill !== '#bbb') || (el.tagName === 'path' && stroke); }).length])"
    ),
    "text": "document.body.innerText",
}
DUTCH_LABELS = [
    "Doelen: behaald tegen verwacht",
    "Instroom en uitstroom zorgsector per gemeente",
    "Behoud van instromers",
    "Volledigheid en tijdigheid van leveringen",
    "Quarantaine in de laatste periode per partner",
    "Geen publiceerbare cijfers",  # the municipality with nothing to show: one line, no empty chart
    "behaald",
    "geen doelaantal",
    "ongeldige datum",
    "Zorg Maandelijks",  # partner names, not codes
    "te laat",
    "Peildatum",
]


@pytest.mark.slow
def test_report_renders_in_headless_chromium_without_errors_or_network(rendered, tmp_path):
    """Every chart rendered and none empty, no console error, no request beyond the file itself, the Dutch labels
    on the page; a screenshot is kept as a test artifact (data/test-artifacts/, git-ignored)."""
    browser = chromium_path()
    if browser is None:
        if os.environ.get("ZORGSTROOM_REQUIRE_CHROMIUM") == "1":
            pytest.fail("ZORGSTROOM_REQUIRE_CHROMIUM=1 but no chromium found (apt-get install chromium)")
        pytest.skip(
            "chromium not installed (/usr/bin/chromium); set ZORGSTROOM_REQUIRE_CHROMIUM=1 to make this a failure"
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report-screenshot.png"
    seen = visit(browser, rendered.as_uri(), tmp_path / "profile", shot, "figure[data-chart]", PROBES)
    charts = rendered.read_text(encoding="utf-8").count("<figure data-chart=")
    assert charts >= 7 and seen["count"] == charts and seen["rendered"] == charts
    marks = dict(seen["probes"]["marks"])
    assert len(marks) == charts - 1  # every figure but the quarantine table draws a chart
    assert {chart: n for chart, n in marks.items() if n == 0} == {}  # no empty chart
    text = seen["probes"]["text"]
    assert [label for label in DUTCH_LABELS if label not in text] == []
    assert "ROW_INVALID_DATE" not in text and "p_maand" not in text  # no codes where words belong
    assert seen["console_errors"] == [] and seen["exceptions"] == []
    assert seen["requests"] == [rendered.as_uri()]  # the page itself, nothing from the network
    assert shot.stat().st_size > 20_000
