"""Collect the report's data from Prometheus and render it as HTML."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from day_trade.observability import contract
from dtobs.report._prom import query_range
from dtobs.report._svg import line_chart

MAX_POINTS = 720  # per chart: enough for a smooth line, small enough for a chat PNG


@dataclass(frozen=True)
class SLOReport:
    name: str
    service: str
    objective_percent: float
    points: tuple[tuple[float, float], ...]  # (unix s, budget remaining ratio)

    @property
    def finite(self) -> list[tuple[float, float]]:
        return [(t, v) for t, v in self.points if math.isfinite(v)]

    @property
    def remaining_now(self) -> float | None:
        return self.finite[-1][1] if self.finite else None

    @property
    def lowest(self) -> float | None:
        return min(v for _, v in self.finite) if self.finite else None

    @property
    def burned_in_period(self) -> float | None:
        f = self.finite
        return f[0][1] - f[-1][1] if f else None


@dataclass(frozen=True)
class Report:
    start: float
    end: float
    step: float
    prometheus_url: str
    slos: tuple[SLOReport, ...]
    min_budget_percent: float | None = None  # the deploy gate's floor, drawn on every chart


def default_step(start: float, end: float) -> float:
    return max(15.0, math.ceil((end - start) / MAX_POINTS))


def collect(model, prometheus_url: str, start: float, end: float, step: float | None = None) -> Report:
    """Query SLO_BUDGET_REMAINING for every SLO of the model over [start, end]."""
    step = step or default_step(start, end)
    slos = []
    for slo in model.slos:
        expr = f'{contract.SLO_BUDGET_REMAINING}{{{contract.SLO_LABEL}="{slo.name}"}}'
        series = query_range(prometheus_url, expr, start, end, step)
        points = tuple(sorted(p for s in series[:1] for p in s.points))
        slos.append(SLOReport(slo.name, slo.service, float(slo.objective), points))
    gate = getattr(model, "gate", None)
    floor = getattr(gate, "min_error_budget_remaining_percent", None)
    return Report(start, end, step, prometheus_url, tuple(slos), float(floor) if floor is not None else None)


def _pct(v: float | None) -> str:
    return "no data" if v is None else f"{v * 100:.1f} %"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


_CSS = """
body{font-family:sans-serif;margin:24px;color:#222;max-width:780px}
h1{font-size:20px;margin:0 0 4px} .period{color:#666;margin:0 0 16px}
table{border-collapse:collapse;margin-bottom:20px;width:100%} th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}
td.num{text-align:right} .bad{color:#d62728;font-weight:bold} .ok{color:#2ca02c}
section.slo{margin-bottom:18px} h2{font-size:15px;margin:12px 0 4px}
"""


def render_html(report: Report) -> str:
    floor = report.min_budget_percent / 100 if report.min_budget_percent is not None else None
    rows, sections = [], []
    for s in report.slos:
        now = s.remaining_now
        status = "" if now is None else ("bad" if now <= (floor if floor is not None else 0) else "ok")
        rows.append(
            f'<tr data-slo="{escape(s.name)}"><td>{escape(s.name)}</td><td>{escape(s.service)}</td>'
            f'<td class="num">{s.objective_percent:g} %</td><td class="num {status}">{_pct(now)}</td>'
            f'<td class="num">{_pct(s.lowest)}</td><td class="num">{_pct(s.burned_in_period)}</td></tr>'
        )
        chart = line_chart(list(s.points), y_min=0.0, y_max=1.0, y_format=lambda v: f"{v * 100:.0f} %",
                           threshold=floor, label=f"error budget remaining of {s.name}")
        sections.append(
            f'<section class="slo" data-slo="{escape(s.name)}" data-points="{len(s.finite)}">'
            f"<h2>{escape(s.name)} — error budget remaining</h2>{chart}</section>"
        )
    floor_note = (f"<p>Dashed red line: the deploy gate's floor ({report.min_budget_percent:g} % of the budget).</p>"
                  if floor is not None else "")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>SLO report</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>SLO report: error budget burn</h1>"
        f'<p class="period">{_when(report.start)} → {_when(report.end)} · step {report.step:g}s · '
        f"source {escape(report.prometheus_url)}</p>"
        "<table><thead><tr><th>SLO</th><th>Service</th><th>Objective</th><th>Budget left now</th>"
        "<th>Lowest</th><th>Burned in period</th></tr></thead><tbody>"
        + "".join(rows) + "</tbody></table>" + floor_note + "".join(sections) + "</body></html>\n"
    )


def write_report(report: Report, out_dir: str | Path, png: bool = True) -> list[Path]:
    """Write slo-report.html (and slo-report.png via headless Chromium); returns the paths."""
    from dtobs.report._chromium import screenshot

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html = out / "slo-report.html"
    html.write_text(render_html(report), encoding="utf-8")
    paths = [html]
    if png:
        height = 240 + 300 * max(1, len(report.slos))
        paths.append(screenshot(html, out / "slo-report.png", height=height))
    return paths
