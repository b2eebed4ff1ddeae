"""The regional report: one self-contained HTML file (charts as inline SVG, no URL of any kind) from the
published statistics, fct_delivery_completeness and a per-partner quarantine count; PNGs beside it when
cairosvg is installed.

Each chart is a `<figure data-chart="...">` holding its SVG and its data as
`<script type="application/json" data-chart-data="...">` (the published values; suppressed = null).
Labels are Dutch with English below; numbers and dates in Dutch format.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from core.labels import label, reason_text
from report import data as D
from report import fmt, svg

REPORT_NAME = "regionale_rapportage.html"
SVG_NS = 'xmlns="' + "http" + '://www.w3.org/2000/svg"'  # only written into the PNG conversion, never the HTML

#: Size of a chart on a slide (PNG), and the drawing's own size inside it (scaled 2x: readable type).
SLIDE_W, SLIDE_H = 1600, 900
PLOT_W, PLOT_H = 760, 330
STATUS_COLORS = {
    "achieved": "#2e9e4f",
    "on_track": "#2e9e4f",
    "needs_acceleration": "#f0a800",
    "off_track": "#d62728",
    "not_started": "#888",
}


def status_words(status) -> tuple[str, str]:
    return label("target_status", status)


def suppression_words(reason) -> tuple[str, str]:
    """The right words for why a cell is hidden: a small count, or hidden to protect other cells."""
    if reason is None:
        return ("onderdrukt", "suppressed")
    return label("suppression_reason", reason)


KIND_COLORS = {"herintreder": "#1f77b4", "zij_instromer": "#ff7f0e", "overig": "#2ca02c", "onbekend": "#9467bd"}
OUTFLOW_COLOR = "#d62728"
HIDDEN_KIND_COLOR = "#9aa5b1"
COMPLETENESS_COLORS = {
    "on_time": "#2e9e4f",
    "late": "#f0a800",
    "missing": "#d62728",
    "empty": "#8c564b",
    "not_yet_due": "#c8c8c8",
}
YEAR_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

CSS = """
body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}
h1{margin-bottom:0} h2{margin-top:32px;margin-bottom:0;border-bottom:1px solid #ddd}
.en{color:#666;font-size:.85em;margin:2px 0 8px}
.grid{display:flex;flex-wrap:wrap;gap:14px}
figure{margin:0;padding:8px;border:1px solid #e3e3e3;border-radius:4px;background:#fff}
figcaption{font-size:.85em;margin-top:4px}
.legend span{display:inline-block;margin-right:12px;font-size:.85em}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
table{border-collapse:collapse;font-size:.9em} td,th{border:1px solid #ddd;padding:3px 8px} td.n{text-align:right}
.meta{font-size:.9em;color:#444}
.cards{display:flex;flex-wrap:wrap;gap:14px;margin:10px 0}
.card{border:1px solid #ddd;border-left:6px solid #888;border-radius:4px;padding:8px 12px;min-width:230px}
.card{background:#fafafa;width:270px}
.card .big{font-size:1.6em;font-weight:bold} .card .st{font-weight:bold}
.leeg{color:#555;font-style:italic}
"""


@dataclass
class Chart:
    """One chart of the report, as a slide needs it: its titles, legend, source, the drawing at slide size,
    and its data as a table (the CSV beside the PNG)."""

    chart_id: str
    title: str
    title_en: str
    legend: list[tuple[str, str]]
    source: str
    slide_svg: str
    data: pd.DataFrame = field(default_factory=pd.DataFrame)


def _json(payload) -> str:
    # "</" could close the script element; "//" is escaped too so the file holds no "//" at all.
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    return text.replace("</", "<\\/").replace("/", "\\/")


def _bi(nl: str, en: str, tag: str = "div") -> str:
    return f'<{tag}>{escape(nl)}</{tag}><div class="en">{escape(en)}</div>'


def _figure(chart: Chart, kind: str, svg_text: str, payload, caption_html: str, charts: list[Chart]) -> str:
    charts.append(chart)
    chart_id = chart.chart_id
    return (
        f'<figure data-chart="{escape(chart_id)}" data-chart-kind="{kind}">{svg_text}'
        f'<script type="application/json" data-chart-data="{escape(chart_id)}">{_json(payload)}</script>'
        f"<figcaption>{caption_html}</figcaption></figure>"
    )


def _legend(items: list[tuple[str, str]]) -> str:
    return (
        '<div class="legend">'
        + "".join(f'<span><i style="background:{c}"></i>{escape(t)}</span>' for t, c in items)
        + "</div>"
    )


def _target_svg(t: dict, width: int, height: int) -> str:
    dates = [p["as_of_date"] for p in t["points"]]
    return svg.line_chart(
        [fmt.date(d) for d in dates],
        [
            {
                "name": "behaald",
                "values": [p["achieved"] for p in t["points"]],
                "color": "#1f77b4",
                "mark_gaps": True,
                "through": True,
            },
            {
                "name": "verwacht",
                "values": [p["expected_to_date"] for p in t["points"]],
                "color": "#888",
                "dash": "4,3",
                "through": True,
            },
        ],
        hline=t["target_number"],
        hline_label=f"doel {fmt.number(t['target_number'])}" if t["target_number"] is not None else "",
        label=f"{t['target_name']}: behaald en verwacht",
        width=width,
        height=height,
    )


def _card(t: dict) -> str:
    """What a manager reads in five seconds: achieved of target, status, forecast, required per month, trend."""
    nl, en = status_words(t["status"])
    color = STATUS_COLORS.get(t["status"] or "", "#888")
    detail_nl = ""
    if t["suppressed"]:
        why_nl, why_en = suppression_words(t["suppression_reason"])
        achieved, detail_nl, achieved_en = "onderdrukt", why_nl, f"suppressed: {why_en}"
        shown = [p for p in t["points"] if p["achieved"] is not None]
        if shown:
            value, on = fmt.number(shown[-1]["achieved"]), fmt.date(shown[-1]["as_of_date"])
            detail_nl += f"; laatst gepubliceerd {value} op {on}"
            achieved_en += f"; last published {value} on {on}"
    else:
        achieved = fmt.number(t["achieved"]) + (
            f" van {fmt.number(t['target_number'])}" if t["target_number"] is not None else ""
        )
        achieved_en = "achieved" + (" of target" if t["target_number"] is not None else " (no target number)")
    trend_nl, trend_en = label("trend", t["trend"]) if t["trend"] else ("–", "too few months")
    lines = [
        f'<div class="card" data-target-card="{escape(t["target_code"])}" style="border-left-color:{color}">',
        f"<div><b>{escape(t['target_name'])}</b></div>",
        f'<div class="big">{escape(achieved)}</div>'
        + (f"<div>{escape(detail_nl)}</div>" if detail_nl else "")
        + f'<div class="en">{escape(achieved_en)}</div>',
        f'<div class="st" style="color:{color}">{escape(nl)}</div><div class="en">{escape(en)}</div>',
    ]
    if t["target_number"] is not None:
        lines.append(
            f"<div>prognose {escape(fmt.number(t['forecast'], 0))} · nodig per maand "
            f"{escape(fmt.number(t['required_monthly_rate'], 1))}</div>"
            f'<div class="en">forecast · required per month</div>'
        )
    lines.append(f'<div>tempo: {escape(trend_nl)}</div><div class="en">pace: {escape(trend_en)}</div></div>')
    return "".join(lines)


def _target_frame(t: dict) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "peildatum": [p["as_of_date"] for p in t["points"]],
            "behaald": [p["achieved"] for p in t["points"]],
            "verwacht_tot_nu": [p["expected_to_date"] for p in t["points"]],
            "doelaantal": t["target_number"],
            "onderdrukt": [p["suppressed"] for p in t["points"]],
            "reden_onderdrukking": [p["suppression_reason"] for p in t["points"]],
        }
    )


def _targets(attainment: pd.DataFrame, charts: list[Chart]) -> str:
    parts, cards = [], []
    legend = [
        ("behaald / achieved", "#1f77b4"),
        ("verwacht tot nu / expected to date", "#888"),
        ("maand onderdrukt / month suppressed", svg.GAP),
    ]
    for t in D.target_charts(attainment):
        cards.append(_card(t))
        svg_text = _target_svg(t, 340, 170)
        nl, en = status_words(t["status"])
        if t["suppressed"]:
            achieved = "onderdrukt: " + suppression_words(t["suppression_reason"])[0]
        else:
            achieved = fmt.number(t["achieved"])
        caption = (
            f"<b>{escape(t['target_name'])}</b> — stand {escape(fmt.date(t['as_of_date']))}<br>"
            f"behaald / achieved: {escape(achieved)}"
            f" van / of {escape(fmt.number(t['target_number']))} ({escape(fmt.percent(t['share_attained']))})<br>"
            f'status: <b>{escape(nl)}</b> <span class="en">({escape(en)})</span><br>'
            f"prognose / forecast: {escape(fmt.number(t['forecast'], 0))}"
        )
        chart = Chart(
            f"target-{t['target_code']}",
            f"{t['target_name']}: behaald tegen verwacht",
            f"{t['target_name']}: achieved against expected to date",
            legend,
            "pub_target_attainment",
            _target_svg(t, PLOT_W, PLOT_H),
            _target_frame(t),
        )
        parts.append(_figure(chart, "target", svg_text, t, caption, charts))
    return (
        '<section id="doelen">'
        + _bi("Doelen: behaald tegen verwacht", "Targets: achieved against expected to date", "h2")
        + '<div class="cards">'
        + "".join(cards)
        + "</div>"
        + _legend(legend)
        + '<div class="grid">'
        + "".join(parts)
        + "</div></section>"
    )


GRAIN_WORDS = {
    "month": ("per maand", "per month"),
    "quarter": ("per kwartaal", "per quarter"),
    "year": ("per jaar", "per year"),
}


def _period_label(key: str, grain: str) -> str:
    return fmt.month(key) if grain == "month" else str(key)


def _flow_svg(c: dict, width: int, height: int) -> str:
    stacks = [{"name": k, "values": v, "color": KIND_COLORS.get(k, "#17becf")} for k, v in c["inflow"].items()]
    stacks.append({"name": "hidden", "values": [v or 0 for v in c["inflow_kind_hidden"]], "color": HIDDEN_KIND_COLOR})
    return svg.flow_bars(
        [_period_label(p, c["grain"]) for p in c["periods"]],
        stacks,
        {"values": c["outflow"], "color": OUTFLOW_COLOR, "provisional": c["outflow_provisional"]},
        label=f"{c['area_name']}: instroom en uitstroom {GRAIN_WORDS[c['grain']][0]}",
        width=width,
        height=height,
    )


def _flow_frame(c: dict) -> pd.DataFrame:
    df = pd.DataFrame({"periode": c["periods"]})
    for k, v in c["inflow"].items():
        df[f"instroom_{k}"] = v
    df["instroom_soort_onderdrukt"] = c["inflow_kind_hidden"]
    df["instroom_totaal"] = c["inflow_total"]
    df["uitstroom"] = c["outflow"]
    df["uitstroom_voorlopig"] = c["outflow_provisional"]
    return df


def _flows(flows: pd.DataFrame, charts: list[Chart]) -> str:
    parts, empty = [], []
    legend = [
        (f"instroom {label('inflow_kind', k)[0]} / inflow {label('inflow_kind', k)[1]}", col)
        for k, col in KIND_COLORS.items()
    ] + [
        ("instroom, soort onderdrukt / inflow, kind suppressed", HIDDEN_KIND_COLOR),
        ("uitstroom / outflow (licht: voorlopig / light: provisional)", OUTFLOW_COLOR),
        ("onderdrukt / suppressed", svg.GAP),
    ]
    for c in D.sector_flow_charts(flows):
        if c["empty"]:
            empty.append(c["area_name"])
            continue
        nl, en = GRAIN_WORDS[c["grain"]]
        caption = f"<b>{escape(c['area_name'])}</b> ({escape(c['area_code'])}) · {escape(nl)} / {escape(en)}"
        chart = Chart(
            f"flows-{c['area_code']}",
            f"{c['area_name']}: instroom en uitstroom zorgsector {nl}",
            f"{c['area_name']}: care-sector inflow and outflow {en}",
            legend,
            "pub_sector_flows",
            _flow_svg(c, PLOT_W, PLOT_H),
            _flow_frame(c),
        )
        parts.append(_figure(chart, "sector_flows", _flow_svg(c, 340, 180), c, caption, charts))
    note = ""
    if empty:
        note = (
            '<p class="leeg" data-no-publishable="flows">Geen publiceerbare cijfers (alle cellen onderdrukt): '
            + escape(", ".join(empty))
            + '.<span class="en"> Nothing publishable (every cell suppressed): '
            + escape(", ".join(empty))
            + ".</span></p>"
        )
    return (
        '<section id="stromen">'
        + _bi(
            "Instroom en uitstroom zorgsector per gemeente",
            "Care-sector inflow (up, by kind) and outflow (down) per municipality; months, or quarters or years "
            "where months are too small to publish",
            "h2",
        )
        + _legend(legend)
        + '<div class="grid">'
        + "".join(parts)
        + "</div>"
        + note
        + "</section>"
    )


def _retention_series(r: dict) -> list[dict[str, Any]]:
    return [
        {
            "name": str(c["cohort_year"]),
            "values": [1.0] + [p["share"] for p in c["points"]],
            "color": YEAR_COLORS[i % len(YEAR_COLORS)],
            "through": True,
        }
        for i, c in enumerate(r["curves"])
        if any(p["share"] is not None for p in c["points"])  # a cohort with nothing published draws no curve
    ]


def _retention(retention: pd.DataFrame, charts: list[Chart]) -> str:
    r = D.retention_chart(retention)
    x = ["start"] + [f"+{h} mnd" for h in r["horizons"]]
    series = _retention_series(r)
    quarters = r["cohorts"] == "quarter"
    title_nl = "Behoud per cohortkwartaal" if quarters else "Behoud per cohortjaar"
    title_en = "Retention per cohort quarter" if quarters else "Retention per cohort year"
    if not any(v is not None for s in series for v in s["values"][1:]):
        return (
            '<section id="behoud">'
            + _bi("Behoud van instromers", "Retention of inflow cohorts", "h2")
            + '<p class="leeg">Geen publiceerbare behoudcijfers.<span class="en"> Nothing publishable.</span></p>'
            + "</section>"
        )
    svg_text = svg.line_chart(x, series, percent=True, width=420, height=220, label=title_nl)
    rows = "".join(
        f"<tr><td>{c['cohort_year']}</td>"
        + "".join(
            f'<td class="n">{escape(fmt.percent(p["share"]))} <small>({p["cohort_months"]} mnd)</small></td>'
            for p in c["points"]
        )
        + "</tr>"
        for c in r["curves"]
    )
    table = (
        "<table><tr><th>cohort</th>"
        + "".join(f"<th>+{h} mnd</th>" for h in r["horizons"])
        + "</tr>"
        + rows
        + "</table>"
    )
    if quarters:
        caption = (
            "Gepubliceerde aandelen per kwartaalcohort (regio totaal)."
            '<div class="en">Published shares of quarter cohorts (area ALL).</div>'
        )
    else:
        caption = (
            "Gemiddelde van de gepubliceerde maandaandelen (regio totaal); onderdrukte maanden tellen niet mee."
            '<div class="en">Plain average of the published monthly shares (area ALL); suppressed months are left '
            "out.</div>"
        )
    legend = [(s["name"], s["color"]) for s in series]
    data = pd.DataFrame(
        [
            {"cohort": c["cohort_year"], "horizon_maanden": p["horizon_months"], "behouden_aandeel": p["share"]}
            for c in r["curves"]
            for p in c["points"]
        ]
    )
    chart = Chart(
        "retention",
        title_nl,
        title_en,
        legend,
        "pub_retention",
        svg.line_chart(x, series, percent=True, width=PLOT_W, height=PLOT_H, label=title_nl),
        data,
    )
    return (
        '<section id="behoud">'
        + _bi("Behoud van instromers (+6, +12, +24 maanden)", "Retention of inflow cohorts (+6, +12, +24 months)", "h2")
        + _legend(legend)
        + _figure(chart, "retention", svg_text, r, caption + table, charts)
        + "</section>"
    )


def _completeness(completeness: pd.DataFrame, names: dict[str, str], charts: list[Chart]) -> str:
    c = D.completeness_chart(completeness)
    if not c["cells"]:
        return (
            '<section id="volledigheid">'
            + _bi("Volledigheid leveringen", "Delivery completeness", "h2")
            + '<p class="leeg">Nog geen leveringen.<span class="en"> No deliveries yet.</span></p></section>'
        )
    starts = [pd.Timestamp(x["period_start"]) for x in c["cells"]]
    first = min(starts)

    def slot(ts: pd.Timestamp) -> int:
        return (ts.year - first.year) * 12 + ts.month - first.month

    cells = []
    for x in c["cells"]:
        s, e = pd.Timestamp(x["period_start"]), pd.Timestamp(x["period_end"])
        nl = label("completeness_status", x["completeness_status"])[0]
        late = f", {fmt.number(x['days_late'])} dagen te laat" if x["days_late"] else ""
        name = names.get(x["partner_code"], x["partner_code"])
        cells.append(
            {
                "row": name,
                "start": slot(s),
                "span": slot(e) - slot(s) + 1,
                "status": x["completeness_status"],
                "title": f"{name} {x['delivery_period']}: {nl}{late}",
            }
        )
    n = max(cc["start"] + cc["span"] for cc in cells)
    month0 = first.month - 1
    rows = [names.get(p, p) for p in c["partners"]]

    def draw(cell_w: float) -> str:
        return svg.heat_map(
            rows,
            n,
            cells,
            COMPLETENESS_COLORS,
            label="Volledigheid leveringen per partner en periode",
            tick_every=12,
            cell_w=cell_w,
            tick_label=lambda i: str(first.year + (month0 + i) // 12) if (month0 + i) % 12 == 0 or i == 0 else "",
        )

    legend = [("{} / {}".format(*label("completeness_status", k)), color) for k, color in COMPLETENESS_COLORS.items()]
    data = pd.DataFrame(c["cells"]).assign(partner=lambda d: d["partner_code"].map(lambda p: names.get(p, p)))
    chart = Chart(
        "completeness",
        "Volledigheid en tijdigheid van leveringen",
        "Delivery completeness and timeliness",
        legend,
        "fct_delivery_completeness",
        draw(max(4.0, min(12.0, (PLOT_W - 160) / max(n, 1)))),
        data,
    )
    return (
        '<section id="volledigheid">'
        + _bi(
            "Volledigheid en tijdigheid van leveringen (partner x periode)",
            "Delivery completeness and timeliness (partner x period)",
            "h2",
        )
        + _legend(legend)
        + _figure(chart, "heat_map", draw(8), c, "", charts)
        + "</section>"
    )


def _quarantine(summary: pd.DataFrame | None, names: dict[str, str]) -> str:
    q = D.quarantine_table(
        summary
        if summary is not None
        else pd.DataFrame(columns=["partner_code", "delivery_period", "reason_code", "rows"])
    )
    rows = "".join(
        f"<tr><td>{escape(names.get(r['partner_code'], r['partner_code']))}</td>"
        f"<td>{escape(r['delivery_period'])}</td>"
        f"<td>{escape(reason_text(r['reason_code']).label_nl)}"
        f'<div class="en">{escape(reason_text(r["reason_code"]).label_en)}</div></td>'
        f'<td class="n">{escape(fmt.number(r["rows"]))}</td></tr>'
        for r in q["rows"]
    )
    body = (
        "<table><tr><th>partner</th><th>periode / period</th><th>reden / reason</th><th>rijen / rows</th></tr>"
        + (rows or '<tr><td colspan="4">geen / none</td></tr>')
        + "</table>"
    )
    return (
        '<section id="quarantaine">'
        + _bi(
            "Quarantaine in de laatste periode per partner",
            "Quarantined rows in each partner's latest period (counts only)",
            "h2",
        )
        + f'<figure data-chart="quarantine" data-chart-kind="table">{body}'
        f'<script type="application/json" data-chart-data="quarantine">{_json(q)}</script></figure></section>'
    )


def _partner_names(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    partners = tables.get("dim_partner")
    if partners is None or partners.empty:
        return {}
    return dict(zip(partners["partner_code"].astype(str), partners["partner_name"].astype(str), strict=True))


def render_report(
    tables: dict[str, pd.DataFrame],
    *,
    cutoff,
    run_id: str,
    out_dir,
    png: bool = True,
    workbook: str | None = None,
) -> Path:
    """Write the report to `out_dir` and return the HTML file's path.

    tables: pub_target_attainment, pub_sector_flows, pub_retention, fct_delivery_completeness and
    (optional) quarantine_summary (see report.data.quarantine_summary) and dim_partner (names). `workbook`:
    the file name of the published tables' workbook beside the report, linked from it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    charts: list[Chart] = []
    names = _partner_names(tables)
    generated = pd.Timestamp.now(tz="Europe/Amsterdam")
    sections = [
        _targets(tables["pub_target_attainment"], charts),
        _flows(tables["pub_sector_flows"], charts),
        _retention(tables["pub_retention"], charts),
        _completeness(tables["fct_delivery_completeness"], names, charts),
        _quarantine(tables.get("quarantine_summary"), names),
    ]
    downloads = ""
    if workbook or png:
        links = []
        if workbook:
            links.append(
                f'<a href="{escape(workbook)}" download>alle gepubliceerde tabellen (xlsx)</a>'
                '<span class="en"> all published tables (xlsx)</span>'
            )
        if png:
            links.append(
                "grafieken voor presentaties: map <code>charts/</code> (PNG 1600x900, met de cijfers als CSV)"
                '<span class="en"> charts for slides: folder charts/ (PNG 1600x900, data as CSV beside)</span>'
            )
        downloads = '<p class="meta" id="downloads">Downloads: ' + " · ".join(links) + "</p>"
    header = (
        _bi(
            "Regionale rapportage arbeidsmarkt zorg en welzijn", "Regional report: care and welfare labour market", "h1"
        )
        + f'<p class="meta" data-cutoff="{pd.Timestamp(cutoff).date().isoformat()}" data-run-id="{escape(run_id)}">'
        f"Peildatum gegevens / data cut-off: <b>{escape(fmt.date(cutoff))}</b> · "
        f"Dagster-run: <code>{escape(run_id)}</code> · gemaakt / generated {escape(fmt.date(generated))}<br>"
        "Kleine aantallen (1 t/m 4 personen) zijn onderdrukt, en cellen waaruit ze terug te rekenen zijn ook; "
        "ze zijn als gat getoond, niet geschat."
        '<span class="en"> Small counts (1 to 4 persons) are suppressed, and so are cells they could be worked out '
        "from; they are shown as gaps, never imputed.</span></p>" + downloads
    )
    html = (
        '<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8">'
        "<title>Regionale rapportage zorg en welzijn</title>"
        f"<style>{CSS}</style></head><body>{header}{''.join(sections)}</body></html>"
    )
    path = out_dir / REPORT_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    if png:
        write_pngs(charts, out_dir / "charts", cutoff=cutoff, run_id=run_id)
    return path


def slide_svg(chart: Chart, *, cutoff, run_id: str) -> str:
    """The chart on a 1600x900 slide: title (Dutch, English below), legend, the drawing scaled 2x, and a source
    line with the cut-off date."""
    body = [
        f'<rect width="{SLIDE_W}" height="{SLIDE_H}" fill="#fff"/>',
        f'<text x="40" y="62" font-size="38" font-weight="bold" fill="#222">{escape(chart.title)}</text>',
        f'<text x="40" y="100" font-size="24" fill="#666">{escape(chart.title_en)}</text>',
    ]
    x, y = 40.0, 140.0
    for text, color in chart.legend:
        width = 34 + 11.5 * len(text)
        if x + width > SLIDE_W - 40:
            x, y = 40.0, y + 34
        body.append(f'<rect x="{x:.0f}" y="{y - 18:.0f}" width="20" height="20" fill="{color}"/>')
        body.append(f'<text x="{x + 28:.0f}" y="{y:.0f}" font-size="21" fill="#333">{escape(text)}</text>')
        x += width + 24
    plot_top = y + 24
    plot_h = SLIDE_H - 70 - plot_top
    inner = chart.slide_svg
    m = re.search(r'viewBox="0 0 (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)"', inner)
    vb = f"0 0 {m.group(1)} {m.group(2)}" if m else f"0 0 {PLOT_W} {PLOT_H}"
    inner = re.sub(r'<svg width="[^"]*" height="[^"]*"', "<svg", inner, count=1)
    inner = inner.replace("<svg ", f'<svg x="40" y="{plot_top:.0f}" width="{SLIDE_W - 80}" height="{plot_h:.0f}" ', 1)
    inner = re.sub(r'viewBox="[^"]*"', f'viewBox="{vb}" preserveAspectRatio="xMidYMid meet"', inner, count=1)
    body.append(inner)
    source = (
        f"Bron: zorgstroom, {chart.source} · peildatum {fmt.date(cutoff)} · run {run_id} · "
        "kleine aantallen onderdrukt / small counts suppressed"
    )
    body.append(f'<text x="40" y="{SLIDE_H - 28}" font-size="20" fill="#555">{escape(source)}</text>')
    return (
        f'<svg {SVG_NS} width="{SLIDE_W}" height="{SLIDE_H}" viewBox="0 0 {SLIDE_W} {SLIDE_H}" '
        f'font-family="sans-serif">' + "".join(body) + "</svg>"
    )


def _whole_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts as whole numbers in the CSV ('7', never '7.0'); an empty cell stays empty."""
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if pd.api.types.is_float_dtype(values) and ((values.dropna() % 1) == 0).all():
            out[col] = values.astype("Int64")
    return out


def write_pngs(charts: list[Chart], folder: Path, *, cutoff, run_id: str) -> list[Path]:
    """Each chart as a 1600x900 PNG for slides with its data as CSV beside it (`;`, UTF-8 with BOM). The CSVs
    are written always; the PNGs need cairosvg (without it: none)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import cairosvg  # optional
    except (ImportError, OSError):  # OSError: cairosvg installed but the system's libcairo missing
        cairosvg = None
    written = []
    names = {re.sub(r"[^A-Za-z0-9_.-]", "_", chart.chart_id) for chart in charts}
    for old in [*folder.glob("*.png"), *folder.glob("*.csv")]:  # a chart no longer drawn leaves no stale slide
        if old.stem not in names:
            old.unlink()
    for chart in charts:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", chart.chart_id)
        _whole_numbers(chart.data).to_csv(folder / f"{name}.csv", sep=";", index=False, encoding="utf-8-sig")
        if cairosvg is None:
            continue
        doc = slide_svg(chart, cutoff=cutoff, run_id=run_id)
        cairosvg.svg2png(
            bytestring=doc.encode("utf-8"),
            write_to=str(folder / f"{name}.png"),
            output_width=SLIDE_W,
            output_height=SLIDE_H,
            background_color="white",
        )
        written.append(folder / f"{name}.png")
    return written
