"""An inline SVG bar chart: curator's measured scores (with 95% intervals) against the card's claims.

Plain SVG text, no script and no external assets, so the HTML report stays one file that
renders the same in a browser, in print and in a PDF.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

WIDTH, LABEL_W, ROW_H, TOP, PLOT_RIGHT_PAD = 720, 210, 30, 28, 130
VERDICT_COLOUR = {"ok": "#2e7d32", "passed": "#2e7d32", "understated": "#2e7d32", "gap": "#ef8f00",
                  "not-reproduced": "#c62828", "unchecked": "#9e9e9e", "measured": "#1565c0"}


def _axis_max(rows: list[dict[str, Any]]) -> float:
    values = [v for r in rows for v in (r.get("claimed"), r.get("high"), r.get("measured"))
              if isinstance(v, int | float)]
    top = float(max(values, default=1.0))
    if top <= 1.0:
        return 1.0
    step = 10.0 ** math.floor(math.log10(top))
    return float(math.ceil(top / step) * step)


def eval_chart(rows: list[dict[str, Any]], title: str = "Measured vs claimed") -> str:
    """SVG for rows of ``{task, metric, measured, low, high, claimed, verdict}``; "" when empty."""
    rows = [r for r in rows if isinstance(r.get("measured"), int | float) or isinstance(r.get("claimed"),
                                                                                          int | float)]
    if not rows:
        return ""
    plot_w = WIDTH - LABEL_W - PLOT_RIGHT_PAD
    top = _axis_max(rows)
    height = TOP + ROW_H * len(rows) + 46

    def x(value: float) -> float:
        return LABEL_W + max(0.0, min(value, top)) / top * plot_w

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{WIDTH}" '
             f'height="{height}" viewBox="0 0 {WIDTH} {height}" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             '<desc>Bars: curator\'s measured score; whiskers: 95% confidence interval; '
             'black diamonds: the score the model card claims.</desc>',
             f'<text x="{LABEL_W}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i in range(6):  # grid and axis labels
        value = top * i / 5
        gx = x(value)
        parts.append(f'<line x1="{gx:.1f}" y1="{TOP - 4}" x2="{gx:.1f}" y2="{TOP + ROW_H * len(rows)}" '
                     'stroke="#ddd" stroke-width="1"/>')
        parts.append(f'<text x="{gx:.1f}" y="{TOP + ROW_H * len(rows) + 14}" font-size="10" '
                     f'text-anchor="middle" fill="#555">{value:g}</text>')
    for n, row in enumerate(rows):
        y = TOP + n * ROW_H
        mid = y + ROW_H / 2
        label = f"{row.get('task')} · {row.get('metric')}"
        parts.append(f'<text x="{LABEL_W - 8}" y="{mid + 4:.1f}" font-size="11" text-anchor="end">'
                     f"{escape(label[:38])}</text>")
        colour = VERDICT_COLOUR.get(str(row.get("verdict", "measured")), "#1565c0")
        measured = row.get("measured")
        if isinstance(measured, int | float):
            parts.append(f'<rect x="{LABEL_W}" y="{y + 7}" width="{x(measured) - LABEL_W:.1f}" '
                         f'height="{ROW_H - 14}" fill="{colour}" fill-opacity="0.75">'
                         f"<title>measured {measured:.4f}</title></rect>")
            low, high = row.get("low"), row.get("high")
            if isinstance(low, int | float) and isinstance(high, int | float):
                x1, x2 = x(low), x(high)
                parts.append(f'<path d="M{x1:.1f} {mid:.1f}H{x2:.1f}M{x1:.1f} {mid - 5:.1f}V{mid + 5:.1f}'
                             f'M{x2:.1f} {mid - 5:.1f}V{mid + 5:.1f}" stroke="#222" stroke-width="1.3" '
                             f'fill="none"><title>95% interval {low:.4f} to {high:.4f}</title></path>')
        claimed = row.get("claimed")
        if isinstance(claimed, int | float):
            cx = x(claimed)
            parts.append(f'<path d="M{cx:.1f} {mid - 7:.1f}L{cx + 6:.1f} {mid:.1f}L{cx:.1f} {mid + 7:.1f}'
                         f'L{cx - 6:.1f} {mid:.1f}Z" fill="#111"><title>claimed {claimed:.4f}</title></path>')
        note = f"{measured:.3f}" if isinstance(measured, int | float) else "not measured"
        if isinstance(claimed, int | float):
            note += f" / claims {claimed:.3f}"
        parts.append(f'<text x="{WIDTH - PLOT_RIGHT_PAD + 4}" y="{mid + 4:.1f}" font-size="10" '
                     f'fill="#333">{escape(note[:28])}</text>')
    ly = TOP + ROW_H * len(rows) + 32
    lx = LABEL_W
    parts.append(f'<rect x="{lx}" y="{ly - 9}" width="14" height="10" fill="#1565c0" fill-opacity="0.75"/>'
                 f'<text x="{lx + 18}" y="{ly}" font-size="10">measured (colour = verdict)</text>'
                 f'<path d="M{lx + 190} {ly - 4}h24M{lx + 190} {ly - 9}v10M{lx + 214} {ly - 9}v10"'
                 ' stroke="#222" fill="none"/>'
                 f'<text x="{LABEL_W + 220}" y="{ly}" font-size="10">95% interval</text>'
                 f'<path d="M{LABEL_W + 310} {ly - 10}l6 6l-6 6l-6 -6z" fill="#111"/>'
                 f'<text x="{LABEL_W + 320}" y="{ly}" font-size="10">claimed by the card</text>')
    parts.append("</svg>")
    return "".join(parts)
