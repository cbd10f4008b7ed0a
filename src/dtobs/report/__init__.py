"""`dtobs report`: an SLO report from Prometheus data — error budget burn over a period.

For each SLO of the spec it reads contract.SLO_BUDGET_REMAINING with query_range and writes
  slo-report.html  summary table + one inline SVG chart per SLO (no JavaScript, nothing fetched)
  slo-report.png   the same page screenshotted by headless Chromium, for chat
"""

from dtobs.report._build import Report, SLOReport, collect, render_html, write_report
from dtobs.report._chromium import ChromiumError, dump_dom, find_chromium, screenshot
from dtobs.report._prom import PrometheusError, Series, query_range

__all__ = sorted([
    "ChromiumError",
    "PrometheusError",
    "Report",
    "SLOReport",
    "Series",
    "collect",
    "dump_dom",
    "find_chromium",
    "query_range",
    "register",
    "render_html",
    "screenshot",
    "write_report",
])


def register(main) -> None:
    """Add the `report` command to the dtobs CLI group."""
    from dtobs.report._cli import report

    main.add_command(report)
