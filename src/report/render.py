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
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from report import data as D
from report import fmt, svg

REPORT_NAME = "regionale_rapportage.html"
SVG_NS = 'xmlns="' + "http" + '://www.w3.org/2000/svg"'  # only written into the PNG conversion, never the HTML

STATUS_LABELS = {  # (Dutch, English)
    "achieved": ("behaald", "achieved"),
    "on_track": ("op koers", "on track"),
    "needs_acceleration": ("versnelling nodig", "needs acceleration"),
    "off_track": ("achter op koers", "off track"),
    "not_started": ("nog niet gestart", "not started"),
    None: ("geen doelaantal", "no target number"),
}
KIND_LABELS = {
    "herintreder": "herintreders",
    "zij_instromer": "zij-instromers",
    "overig": "overig",
    "onbekend": "onbekend",
}
KIND_COLORS = {"herintreder": "#1f77b4", "zij_instromer": "#ff7f0e", "overig": "#2ca02c", "onbekend": "#9467bd"}
OUTFLOW_COLOR = "#d62728"
COMPLETENESS_COLORS = {
    "on_time": "#2e9e4f",
    "late": "#f0a800",
    "missing": "#d62728",
    "empty": "#8c564b",
    "not_yet_due": "#c8c8c8",
}
COMPLETENESS_LABELS = {
    "on_time": ("op tijd", "on time"),
    "late": ("te laat", "late"),
    "missing": ("ontbreekt", "missing"),
    "empty": ("leeg bestand", "empty file"),
    "not_yet_due": ("nog niet verwacht", "not yet due"),
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
"""


def _json(payload) -> str:
    # "</" could close the script element; "//" is escaped too so the file holds no "//" at all.
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    return text.replace("</", "<\\/").replace("/", "\\/")


def _bi(nl: str, en: str, tag: str = "div") -> str:
    return f'<{tag}>{escape(nl)}</{tag}><div class="en">{escape(en)}</div>'


def _figure(chart_id: str, kind: str, svg_text: str, payload, caption_html: str, charts: dict[str, str]) -> str:
    charts[chart_id] = svg_text
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


def _targets(attainment: pd.DataFrame, charts: dict) -> str:
    parts = []
    for t in D.target_charts(attainment):
        dates = [p["as_of_date"] for p in t["points"]]
        svg_text = svg.line_chart(
            [fmt.date(d) for d in dates],
            [
                {
                    "name": "behaald",
                    "values": [p["achieved"] for p in t["points"]],
                    "color": "#1f77b4",
                    "mark_gaps": True,
                },
                {
                    "name": "verwacht",
                    "values": [p["expected_to_date"] for p in t["points"]],
                    "color": "#888",
                    "dash": "4,3",
                },
            ],
            hline=t["target_number"],
            hline_label=f"doel {fmt.number(t['target_number'])}" if t["target_number"] is not None else "",
            label=f"{t['target_name']}: behaald en verwacht",
        )
        nl, en = STATUS_LABELS.get(t["status"], (t["status"], t["status"]))
        achieved = "onderdrukt (kleine aantallen)" if t["suppressed"] else fmt.number(t["achieved"])
        caption = (
            f"<b>{escape(t['target_name'])}</b> — stand {escape(fmt.date(t['as_of_date']))}<br>"
            f"behaald / achieved: {escape(achieved)}"
            f" van / of {escape(fmt.number(t['target_number']))} ({escape(fmt.percent(t['share_attained']))})<br>"
            f'status: <b>{escape(nl)}</b> <span class="en">({escape(en)})</span><br>'
            f"prognose / forecast: {escape(fmt.number(t['forecast'], 0))}"
        )
        parts.append(_figure(f"target-{t['target_code']}", "target", svg_text, t, caption, charts))
    return (
        '<section id="doelen">'
        + _bi("Doelen: behaald tegen verwacht", "Targets: achieved against expected to date", "h2")
        + _legend(
            [
                ("behaald / achieved", "#1f77b4"),
                ("verwacht tot nu / expected to date", "#888"),
                ("onderdrukt / suppressed (gap)", svg.GAP),
            ]
        )
        + '<div class="grid">'
        + "".join(parts)
        + "</div></section>"
    )


def _flows(flows: pd.DataFrame, charts: dict) -> str:
    parts = []
    for c in D.sector_flow_charts(flows):
        stacks = [{"name": k, "values": v, "color": KIND_COLORS.get(k, "#17becf")} for k, v in c["inflow"].items()]
        months = [fmt.month(m) for m in c["months"]]
        svg_text = svg.flow_bars(
            months,
            stacks,
            {"values": c["outflow"], "color": OUTFLOW_COLOR, "provisional": c["outflow_provisional"]},
            label=f"{c['area_name']}: instroom en uitstroom per maand",
        )
        caption = f"<b>{escape(c['area_name'])}</b> ({escape(c['area_code'])})"
        parts.append(_figure(f"flows-{c['area_code']}", "sector_flows", svg_text, c, caption, charts))
    legend = [(f"instroom {KIND_LABELS.get(k, k)}", col) for k, col in KIND_COLORS.items()] + [
        ("uitstroom / outflow (licht: voorlopig / light: provisional)", OUTFLOW_COLOR),
        ("onderdrukt / suppressed", svg.GAP),
    ]
    return (
        '<section id="stromen">'
        + _bi(
            "Instroom en uitstroom zorgsector per gemeente, per maand",
            "Care-sector inflow (up, by kind) and outflow (down) per municipality, per month",
            "h2",
        )
        + _legend(legend)
        + '<div class="grid">'
        + "".join(parts)
        + "</div></section>"
    )


def _retention(retention: pd.DataFrame, charts: dict) -> str:
    r = D.retention_chart(retention)
    x = ["start"] + [f"+{h} mnd" for h in r["horizons"]]
    series: list[dict[str, Any]] = [
        {
            "name": str(c["cohort_year"]),
            "values": [1.0] + [p["share"] for p in c["points"]],
            "color": YEAR_COLORS[i % len(YEAR_COLORS)],
        }
        for i, c in enumerate(r["curves"])
    ]
    svg_text = svg.line_chart(x, series, percent=True, width=420, height=220, label="Behoud per cohortjaar")
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
    caption = (
        "Gemiddelde van de gepubliceerde maandaandelen (regio totaal); onderdrukte maanden tellen niet mee."
        '<div class="en">Plain average of the published monthly shares (area ALL); suppressed months are left '
        "out.</div>"
    )
    return (
        '<section id="behoud">'
        + _bi("Behoud van instromers (+6, +12, +24 maanden)", "Retention of inflow cohorts (+6, +12, +24 months)", "h2")
        + _legend([(s["name"], s["color"]) for s in series])
        + _figure("retention", "retention", svg_text, r, caption + table, charts)
        + "</section>"
    )


def _completeness(completeness: pd.DataFrame, charts: dict) -> str:
    c = D.completeness_chart(completeness)
    if not c["cells"]:
        return (
            '<section id="volledigheid">'
            + _bi("Volledigheid leveringen", "Delivery completeness", "h2")
            + "<p>Geen gegevens / no data.</p></section>"
        )
    starts = [pd.Timestamp(x["period_start"]) for x in c["cells"]]
    first = min(starts)

    def slot(ts: pd.Timestamp) -> int:
        return (ts.year - first.year) * 12 + ts.month - first.month

    cells = []
    for x in c["cells"]:
        s, e = pd.Timestamp(x["period_start"]), pd.Timestamp(x["period_end"])
        nl = COMPLETENESS_LABELS.get(x["completeness_status"], (x["completeness_status"],))[0]
        late = f", {fmt.number(x['days_late'])} dagen te laat" if x["days_late"] else ""
        cells.append(
            {
                "row": x["partner_code"],
                "start": slot(s),
                "span": slot(e) - slot(s) + 1,
                "status": x["completeness_status"],
                "title": f"{x['partner_code']} {x['delivery_period']}: {nl}{late}",
            }
        )
    n = max(cc["start"] + cc["span"] for cc in cells)
    month0 = first.month - 1
    svg_text = svg.heat_map(
        c["partners"],
        n,
        cells,
        COMPLETENESS_COLORS,
        label="Volledigheid leveringen per partner en periode",
        tick_every=12,
        tick_label=lambda i: str(first.year + (month0 + i) // 12) if (month0 + i) % 12 == 0 or i == 0 else "",
    )
    legend = [(f"{nl} / {en}", COMPLETENESS_COLORS[k]) for k, (nl, en) in COMPLETENESS_LABELS.items()]
    return (
        '<section id="volledigheid">'
        + _bi(
            "Volledigheid en tijdigheid van leveringen (partner x periode)",
            "Delivery completeness and timeliness (partner x period)",
            "h2",
        )
        + _legend(legend)
        + _figure("completeness", "heat_map", svg_text, c, "", charts)
        + "</section>"
    )


def _quarantine(summary: pd.DataFrame | None, charts: dict) -> str:
    q = D.quarantine_table(
        summary
        if summary is not None
        else pd.DataFrame(columns=["partner_code", "delivery_period", "reason_code", "rows"])
    )
    rows = "".join(
        f"<tr><td>{escape(r['partner_code'])}</td><td>{escape(r['delivery_period'])}</td>"
        f'<td>{escape(r["reason_code"])}</td><td class="n">{escape(fmt.number(r["rows"]))}</td></tr>'
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


def render_report(tables: dict[str, pd.DataFrame], *, cutoff, run_id: str, out_dir, png: bool = True) -> Path:
    """Write the report to `out_dir` and return the HTML file's path.

    tables: pub_target_attainment, pub_sector_flows, pub_retention, fct_delivery_completeness and
    (optional) quarantine_summary (see report.data.quarantine_summary)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    charts: dict[str, str] = {}
    generated = pd.Timestamp.now(tz="Europe/Amsterdam")
    sections = [
        _targets(tables["pub_target_attainment"], charts),
        _flows(tables["pub_sector_flows"], charts),
        _retention(tables["pub_retention"], charts),
        _completeness(tables["fct_delivery_completeness"], charts),
        _quarantine(tables.get("quarantine_summary"), charts),
    ]
    header = (
        _bi(
            "Regionale rapportage arbeidsmarkt zorg en welzijn", "Regional report: care and welfare labour market", "h1"
        )
        + f'<p class="meta" data-cutoff="{pd.Timestamp(cutoff).date().isoformat()}" data-run-id="{escape(run_id)}">'
        f"Peildatum gegevens / data cut-off: <b>{escape(fmt.date(cutoff))}</b> · "
        f"Dagster-run: <code>{escape(run_id)}</code> · gemaakt / generated {escape(fmt.date(generated))}<br>"
        "Kleine aantallen (1 t/m 4 personen) zijn onderdrukt en als gat getoond, niet geschat."
        '<span class="en"> Small counts (1 to 4 persons) are suppressed and shown as gaps, never imputed.</span></p>'
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
        write_pngs(charts, out_dir / "charts")
    return path


def write_pngs(charts: dict[str, str], folder: Path) -> list[Path]:
    """Each chart as a PNG (needs cairosvg; returns [] without it)."""
    try:
        import cairosvg  # optional
    except (ImportError, OSError):  # OSError: cairosvg installed but the system's libcairo missing
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for chart_id, svg_text in charts.items():
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", chart_id) + ".png"
        doc = svg_text.replace("<svg ", f"<svg {SVG_NS} ", 1)
        doc = doc.replace("<svg ", '<svg style="background:#fff" ', 1)
        cairosvg.svg2png(bytestring=doc.encode("utf-8"), write_to=str(folder / name), background_color="white")
        written.append(folder / name)
    return written
