"""Small hand-drawn SVG charts (no dependencies, no external references)."""

from __future__ import annotations

from html import escape

from report import fmt

FONT = 'font-family="sans-serif"'
GAP = "#bbb"


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    # No xmlns: inline SVG in HTML needs none, and the report holds no URL at all (render adds it for PNGs).
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}" {FONT} font-size="10">' + "".join(body) + "</svg>"
    )


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000):
        if value <= step * 4:
            return float(step * 4)
    return float(value)


def count_ticks(value: float, ticks: int = 4) -> list[int]:
    """Whole-number ticks from 0 covering `value` (counts of persons: never 0,5): 0..4 for anything up to 4,
    then steps of 1, 2, 5, 10, 20, 25, 50, ... so that at most `ticks` steps cover the value."""
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000):
        step = candidate
        if value <= candidate * ticks:
            break
    n = max(1, -(-int(max(value, 0) + 0.999999) // step)) if value > 0 else ticks
    return [i * step for i in range(max(n, 1) + 1)] if value > 0 else list(range(ticks + 1))


def _y_axis(body, x0, x1, y_of, top, fmt_tick, ticks=4, values=None):
    for v in values if values is not None else [top * i / ticks for i in range(ticks + 1)]:
        y = y_of(v)
        body.append(f'<line x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        body.append(f'<text x="{x0 - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#555">{escape(fmt_tick(v))}</text>')


def _path(points: list[tuple[float, float] | None], *, through: bool = False) -> str:
    """A polyline that breaks at None (a suppressed value is a gap), or with `through` runs on from one
    published point to the next (a cumulative line: the hidden month is marked, the line stays whole)."""
    d, pen = [], False
    for p in points:
        if p is None:
            pen = pen and through
            continue
        d.append(f"{'L' if pen else 'M'}{p[0]:.1f},{p[1]:.1f}")
        pen = True
    return " ".join(d)


def line_chart(
    x_labels: list[str],
    series: list[dict],
    *,
    width=340,
    height=170,
    hline: float | None = None,
    hline_label: str = "",
    percent=False,
    label="",
) -> str:
    """series: {name, values (None = gap), color, dash}. x positions are evenly spaced."""
    left, right, top_m, bottom = 44, 10, 10, 24
    values = [v for s in series for v in s["values"] if v is not None] + ([hline] if hline is not None else [])
    tick_values = None if percent else count_ticks(max(values, default=0))
    top = 1.0 if percent or tick_values is None else float(tick_values[-1])
    n = max(len(x_labels), 1)

    def x_of(i: float) -> float:
        return left + (width - left - right) * (i / (n - 1) if n > 1 else 0.5)

    def y_of(v: float) -> float:
        return height - bottom - (height - bottom - top_m) * (v / top)

    body: list[str] = []
    _y_axis(
        body,
        left,
        width - right,
        y_of,
        top,
        (lambda v: fmt.percent(v, 0)) if percent else (lambda v: fmt.number(v)),
        values=tick_values,
    )
    if hline is not None:
        y = y_of(hline)
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#333" stroke-dasharray="2,2"/>'
        )
        body.append(
            f'<text x="{width - right}" y="{y - 3:.1f}" text-anchor="end" fill="#333">{escape(hline_label)}</text>'
        )
    for s in series:
        pts = [None if v is None else (x_of(i), y_of(v)) for i, v in enumerate(s["values"])]
        dash = f' stroke-dasharray="{s["dash"]}"' if s.get("dash") else ""
        d = _path(pts, through=bool(s.get("through")))
        if d:
            body.append(f'<path d="{d}" fill="none" stroke="{s["color"]}" stroke-width="1.8"{dash}/>')
        for i, p in enumerate(pts):  # isolated points would not show as a path
            if p is None:
                continue
            if s.get("through"):
                isolated = sum(q is not None for q in pts) == 1
            else:
                isolated = (i == 0 or pts[i - 1] is None) and (i == len(pts) - 1 or pts[i + 1] is None)
            if isolated:
                body.append(f'<circle cx="{p[0]:.1f}" cy="{p[1]:.1f}" r="2" fill="{s["color"]}"/>')
        for i, v in enumerate(s["values"]):
            if v is None and s.get("mark_gaps"):
                body.append(
                    f'<line x1="{x_of(i):.1f}" x2="{x_of(i):.1f}" y1="{height - bottom}" '
                    f'y2="{height - bottom - 5}" stroke="{GAP}"/>'
                )
    if x_labels:
        body.append(f'<text x="{left}" y="{height - 8}" fill="#555">{escape(x_labels[0])}</text>')
        body.append(
            f'<text x="{width - right}" y="{height - 8}" text-anchor="end" fill="#555">{escape(x_labels[-1])}</text>'
        )
    return _svg(width, height, body, label)


def flow_bars(months: list[str], stacks: list[dict], down: dict, *, width=340, height=180, label="") -> str:
    """Inflow kinds stacked upward, outflow downward, per month. None = suppressed: no bar, a grey tick."""
    left, right, top_m, bottom = 36, 6, 8, 16
    n = max(len(months), 1)
    up_tot = [sum(v for v in (s["values"][i] for s in stacks) if v is not None) for i in range(n)]
    dn_tot = [v or 0 for v in down["values"]] if down["values"] else [0]
    ticks = count_ticks(max(max(up_tot, default=0), max(dn_tot, default=0)), 2)
    scale = float(ticks[-1])
    plot_h = height - top_m - bottom
    mid = top_m + plot_h / 2
    bw = (width - left - right) / n

    def y_of(v: float) -> float:
        return mid - (plot_h / 2) * v / scale

    body = [f'<line x1="{left}" x2="{width - right}" y1="{mid:.1f}" y2="{mid:.1f}" stroke="#999"/>']
    for v in [t for t in ticks if t] + [-t for t in ticks if t]:
        y = y_of(v)
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        body.append(
            f'<text x="{left - 3}" y="{y + 3:.1f}" text-anchor="end" fill="#555">{escape(fmt.number(abs(v)))}</text>'
        )
    for i in range(n):
        x = left + i * bw
        base = 0.0
        for s in stacks:
            v = s["values"][i]
            if v is None:
                body.append(
                    f'<line x1="{x + bw / 2:.1f}" x2="{x + bw / 2:.1f}" y1="{y_of(base):.1f}" '
                    f'y2="{y_of(base) - 4:.1f}" stroke="{GAP}"/>'
                )
                continue
            if v:
                body.append(
                    f'<rect x="{x:.1f}" y="{y_of(base + v):.1f}" width="{max(bw - 0.6, 0.5):.1f}" '
                    f'height="{y_of(base) - y_of(base + v):.1f}" fill="{s["color"]}"/>'
                )
                base += v
        v = down["values"][i] if i < len(down["values"]) else 0
        if v is None:
            body.append(
                f'<line x1="{x + bw / 2:.1f}" x2="{x + bw / 2:.1f}" y1="{mid:.1f}" y2="{mid + 4:.1f}" stroke="{GAP}"/>'
            )
        elif v:
            op = ' fill-opacity="0.45"' if down.get("provisional") and down["provisional"][i] else ""
            body.append(
                f'<rect x="{x:.1f}" y="{mid:.1f}" width="{max(bw - 0.6, 0.5):.1f}" height="{y_of(0) - y_of(v):.1f}" '
                f'fill="{down["color"]}"{op}/>'
            )
    if months:
        body.append(f'<text x="{left}" y="{height - 4}" fill="#555">{escape(months[0])}</text>')
        body.append(
            f'<text x="{width - right}" y="{height - 4}" text-anchor="end" fill="#555">{escape(months[-1])}</text>'
        )
    return _svg(width, height, body, label)


def heat_map(
    rows: list[str],
    columns: int,
    cells: list[dict],
    colors: dict[str, str],
    *,
    cell_w: float = 8,
    cell_h: int = 16,
    label="",
    tick_every: int = 12,
    tick_label=lambda i: "",
) -> str:
    """rows: row keys; columns: count of month slots; cells: {row, start (slot), span (slots), status, title}."""
    left, top_m = 150, 18
    n = columns
    width = int(left + n * cell_w + 10)
    height = top_m + len(rows) * cell_h + 6
    body: list[str] = []
    for i in range(0, n, tick_every):
        x = left + i * cell_w
        body.append(f'<text x="{x:.1f}" y="{top_m - 6}" fill="#555">{escape(tick_label(i))}</text>')
    for r, key in enumerate(rows):
        y = top_m + r * cell_h
        body.append(f'<text x="{left - 6}" y="{y + cell_h - 5}" text-anchor="end" fill="#333">{escape(key)}</text>')
    index = {k: r for r, k in enumerate(rows)}
    for c in cells:
        y = top_m + index[c["row"]] * cell_h
        x = left + c["start"] * cell_w
        body.append(
            f'<rect x="{x:.1f}" y="{y + 1}" width="{c["span"] * cell_w - 1:.1f}" height="{cell_h - 2}" '
            f'fill="{colors.get(c["status"], "#ccc")}"><title>{escape(c["title"])}</title></rect>'
        )
    return _svg(width, height, body, label)
