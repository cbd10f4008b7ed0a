"""Inline SVG line charts, drawn in Python: no JavaScript, no CDN, nothing fetched."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from html import escape

WIDTH, HEIGHT = 720, 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 16, 16, 36


def _fmt_time(ts: float, span: float) -> str:
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%H:%M") if span <= 2 * 86400 else dt.strftime("%m-%d")


def line_chart(points: list[tuple[float, float]], *, y_min: float | None = None, y_max: float | None = None,
               y_format=lambda v: f"{v:g}", threshold: float | None = None, label: str = "") -> str:
    """One series as an SVG polyline, with axes, 5 y ticks, 5 time ticks, an optional red threshold."""
    finite = [(t, v) for t, v in points if math.isfinite(v)]
    aria = escape(label or "chart")
    if not finite:
        return (f'<svg class="chart empty" role="img" aria-label="{aria}" width="{WIDTH}" height="{HEIGHT}" '
                f'xmlns="http://www.w3.org/2000/svg"><text x="{WIDTH // 2}" y="{HEIGHT // 2}" '
                f'text-anchor="middle">no data</text></svg>')
    t0, t1 = finite[0][0], finite[-1][0]
    if t1 == t0:
        t1 = t0 + 1
    values = [v for _, v in finite] + ([threshold] if threshold is not None else [])
    lo = min(values) if y_min is None else min(y_min, min(values))
    hi = max(values) if y_max is None else max(y_max, max(values))
    if hi == lo:
        hi = lo + 1
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(t: float) -> float:
        return PAD_LEFT + (t - t0) / (t1 - t0) * plot_w

    def y(v: float) -> float:
        return PAD_TOP + (hi - v) / (hi - lo) * plot_h

    parts = [f'<svg class="chart" role="img" aria-label="{aria}" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">',
             f'<rect x="{PAD_LEFT}" y="{PAD_TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>']
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        parts.append(f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e4e4e4"/>')
        parts.append(f'<text x="{PAD_LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{escape(y_format(v))}</text>')
        t = t0 + (t1 - t0) * i / 4
        parts.append(f'<text x="{x(t):.1f}" y="{HEIGHT - 12}" text-anchor="middle">{_fmt_time(t, t1 - t0)}</text>')
    if threshold is not None:
        parts.append(f'<line class="threshold" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(threshold):.1f}" '
                     f'y2="{y(threshold):.1f}" stroke="#d62728" stroke-dasharray="4 3"/>')
    path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in finite)
    parts.append(f'<polyline class="series" fill="none" stroke="#1f77b4" stroke-width="2" points="{path}"/>')
    parts.append("</svg>")
    return "".join(parts)
