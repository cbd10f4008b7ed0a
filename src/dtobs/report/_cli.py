"""The `dtobs report` command: parse arguments, call collect → write_report."""

from __future__ import annotations

import os
import sys
import time

import click

from dtobs.dashboards._slo_view import seconds as parse_duration

DEFAULT_PROMETHEUS = "http://127.0.0.1:9090"


@click.command()
@click.argument("spec", default="observability.yaml", type=click.Path(dir_okay=False))
@click.option("--prometheus", "prometheus_url", default=lambda: os.environ.get("DTOBS_PROMETHEUS_URL", DEFAULT_PROMETHEUS),
              show_default="$DTOBS_PROMETHEUS_URL or " + DEFAULT_PROMETHEUS, help="Prometheus base URL.")
@click.option("--period", default="7d", show_default=True, help="How far back the report looks (Prometheus duration).")
@click.option("-o", "--out", "out_dir", default=".dtobs/report", show_default=True, type=click.Path(file_okay=False))
@click.option("--png/--no-png", default=True, show_default=True, help="Also screenshot the page with headless Chromium.")
def report(spec: str, prometheus_url: str, period: str, out_dir: str, png: bool) -> None:
    """SLO report (HTML with budget-burn charts, PNG for chat) from Prometheus data."""
    from dtobs.errors import EXIT_BAD_INPUT, EXIT_FAILED, SpecError
    from dtobs.model import build_model
    from dtobs.report._build import collect, write_report
    from dtobs.report._chromium import ChromiumError
    from dtobs.report._prom import PrometheusError
    from dtobs.spec.load import load_spec

    try:
        model = build_model(load_spec(spec))
        seconds = parse_duration(period)
    except SpecError as exc:
        click.echo(f"error: the spec is invalid:\n{exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except ValueError as exc:
        click.echo(f"error: --period: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    end = time.time()
    try:
        rep = collect(model, prometheus_url, end - seconds, end)
        paths = write_report(rep, out_dir, png=png)
    except (PrometheusError, ChromiumError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    for s in rep.slos:
        left = "no data" if s.remaining_now is None else f"{s.remaining_now * 100:.1f} % left"
        click.echo(f"{s.name}: {left}")
    for p in paths:
        click.echo(f"wrote {p}")
