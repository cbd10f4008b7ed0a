"""dtobs report against a real Prometheus (the Debian binary, backfilled with promtool), opened in
headless Chromium."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from _tools import backfilled_prometheus
from day_trade.observability import contract
from dtobs.check.tools import in_ci
from dtobs.model import build_model
from dtobs.report import collect, dump_dom, find_chromium, render_html, write_report
from dtobs.report._svg import line_chart
from dtobs.spec.load import load_spec

SPEC = Path(__file__).parents[1] / "dashboards" / "fixtures" / "observability.yaml"
HOURS = 6
STEP = 60


def _require(tool_found: bool, reason: str) -> None:
    if not tool_found:
        if in_ci():
            pytest.fail(f"{reason} (required under CI=true)")
        pytest.skip(reason)


def _budget_curve(i: int, n: int, start: float, end: float) -> float:
    return start + (end - start) * i / (n - 1)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    """A Prometheus on 127.0.0.1 holding 6 h of budget-remaining series for both fixture SLOs."""
    now = int(time.time()) // STEP * STEP
    first = now - HOURS * 3600
    n = HOURS * 3600 // STEP
    name = contract.SLO_BUDGET_REMAINING
    lines = [f"# TYPE {name} gauge"]
    for slo, (hi, lo) in (("trade_latency_slo", (1.0, 0.6)), ("order_api_availability_slo", (0.9, 0.1))):
        for i in range(n):
            lines.append(f'{name}{{{contract.SLO_LABEL}="{slo}"}} {_budget_curve(i, n, hi, lo):.6f} {first + i * STEP}')
    lines.append("# EOF")
    with backfilled_prometheus(tmp_path_factory.mktemp("prom"), "\n".join(lines) + "\n") as url:
        yield SimpleProm(url, first, now)


class SimpleProm:
    def __init__(self, url: str, first: int, last: int) -> None:
        self.url, self.first, self.last = url, first, last


@pytest.fixture(scope="module")
def model():
    return build_model(load_spec(SPEC))


class TestCollect:
    def test_reads_budget_per_slo(self, prometheus, model):
        """collect() returns each SLO's budget-remaining curve from Prometheus."""
        rep = collect(model, prometheus.url, prometheus.first, prometheus.last, step=STEP)
        by_name = {s.name: s for s in rep.slos}
        assert set(by_name) == {s.name for s in model.slos}
        trade = by_name["trade_latency_slo"]
        assert len(trade.finite) > HOURS * 50
        assert trade.finite[0][1] == pytest.approx(1.0, abs=0.01)
        assert trade.remaining_now == pytest.approx(0.6, abs=0.01)
        assert trade.burned_in_period == pytest.approx(0.4, abs=0.02)
        assert by_name["order_api_availability_slo"].lowest == pytest.approx(0.1, abs=0.01)


class TestRenderInChromium:
    def test_html_and_png_render_with_data(self, prometheus, model, tmp_path):
        """The HTML opens in headless Chromium with a drawn series per SLO; the PNG is written."""
        _require(find_chromium() is not None, "Chromium not installed (apt-get install chromium)")
        rep = collect(model, prometheus.url, prometheus.first, prometheus.last, step=STEP)
        html, png = write_report(rep, tmp_path, png=True)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
        dom = dump_dom(html)
        for slo in model.slos:
            assert f'data-slo="{slo.name}"' in dom
        assert dom.count('<polyline class="series"') == len(model.slos)
        assert "no data" not in dom
        assert "60.0 %" in dom  # trade_latency_slo's budget left at the end


class TestSvg:
    def test_empty_series_says_no_data(self):
        """A chart without points shows 'no data' instead of an empty frame."""
        assert "no data" in line_chart([])

    def test_points_scale_into_the_frame(self):
        """Every polyline point lies inside the SVG."""
        svg = line_chart([(0, 0.0), (60, 0.5), (120, 1.0)], y_min=0, y_max=1)
        pts = svg.split('points="')[1].split('"')[0].split()
        for p in pts:
            x, y = map(float, p.split(","))
            assert 0 <= x <= 720 and 0 <= y <= 240

    def test_html_escapes_names(self):
        """SLO names are escaped in the page."""
        from dtobs.report import Report, SLOReport

        html = render_html(Report(0, 60, 15, "http://x", (SLOReport("<b>", "svc", 99.0, ((0, 1.0),)),)))
        assert "<b>" not in html.split("<body>")[1] and "&lt;b&gt;" in html
