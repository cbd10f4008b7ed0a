"""`dtobs`: the command line. It only parses arguments and calls the pipeline and friends."""

from __future__ import annotations

import sys

import click

from dtobs.errors import EXIT_BAD_INPUT, EXIT_FAILED, SpecError
from dtobs.pipeline import DEFAULT_SPEC, drift_of, render_to


def _fail_on_spec_error(exc: SpecError) -> None:
    click.echo(f"error: the spec is invalid ({len(exc.problems)} problem(s)); nothing was written", err=True)
    for problem in exc.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(EXIT_BAD_INPUT)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Observability as code for the day-trading system: render, check, run and gate the stack."""


@main.command()
@click.argument("spec", default=DEFAULT_SPEC, type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Where config/, dashboards/ and the compose file are written.")
@click.option("--check", "check_drift", is_flag=True,
              help="Write nothing; exit 1 if the committed output differs from a fresh render.")
def render(spec: str, out_dir: str, check_drift: bool) -> None:
    """Render SPEC (observability.yaml, a Sloth or an OpenSLO spec) into config files."""
    try:
        if check_drift:
            changed = drift_of(spec, out_dir)
            if changed:
                click.echo(f"error: the committed output differs from a fresh render of {spec}:", err=True)
                for path in changed:
                    click.echo(f"  {path}", err=True)
                click.echo("run `make render` and commit the result", err=True)
                sys.exit(EXIT_FAILED)
            click.echo(f"ok: committed output matches a fresh render of {spec}")
            return
        rendered = render_to(spec, out_dir)
    except SpecError as exc:
        _fail_on_spec_error(exc)
    click.echo(f"rendered {len(rendered.files)} files from {spec} into {out_dir}")


@main.command()
@click.option("--root", default=".", show_default=True, type=click.Path(file_okay=False),
              help="The folder holding the rendered config/ and dashboards/.")
def check(root: str) -> None:
    """Run the real validators (promtool, amtool, otelcol validate, ...) on the rendered output."""
    from dtobs.check import run_checks
    from dtobs.check.tools import in_ci

    results = run_checks(root)
    width = max((len(r.name) for r in results), default=10)
    for r in results:
        reason = r.skipped or r.detail
        click.echo(f"{r.status:4}  {r.name:{width}}  {reason.splitlines()[0] if reason else ''}")
        if not r.ok and r.detail and not r.skipped:
            click.echo("\n".join("      " + line for line in r.detail.splitlines()[:40]), err=True)
    failed = [r for r in results if not r.ok and not r.skipped]
    skipped = [r for r in results if r.skipped]
    if skipped and in_ci():
        click.echo(f"error: {len(skipped)} validator(s) missing under CI=true", err=True)
        sys.exit(EXIT_FAILED)
    if failed:
        sys.exit(EXIT_FAILED)
    click.echo(f"{len(results) - len(skipped)} passed, {len(failed)} failed, {len(skipped)} skipped")


__import__("dtobs.cli_backends").cli_backends.register(main)  # backends install, up, down, status
__import__("dtobs.report").report.register(main)  # report: SLO report HTML + PNG



@main.command()
@click.argument("spec", default=DEFAULT_SPEC, type=click.Path(dir_okay=False))
@click.option("--prometheus", "prometheus_url", default=None, envvar="DTOBS_PROMETHEUS_URL",
              help="Prometheus to ask (default http://127.0.0.1:9090).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON instead of a table.")
@click.option("--context", "context", multiple=True, metavar="KEY=VALUE", help="Recorded with the result (e.g. version=1.2.3).")
def gate(spec: str, prometheus_url: str | None, as_json: bool, context: tuple[str, ...]) -> None:
    """Deploy gate: exit 0 pass, 1 fail, 2 cannot decide, by the `gate:` policy of SPEC."""
    from day_trade.observability import gate as runtime_gate
    from dtobs.model.gate import build_gate_policy
    from dtobs.spec.load import load_spec

    try:
        loaded = load_spec(spec)
    except SpecError as exc:
        _fail_on_spec_error(exc)
    if loaded.format != "dtobs/v1":
        click.echo(f"error: {spec} is not a dtobs/v1 spec: it has no gate policy", err=True)
        sys.exit(EXIT_BAD_INPUT)
    p = build_gate_policy(loaded.spec.gate)
    policy = runtime_gate.GatePolicy(min_budget_remaining_pct=p.min_error_budget_remaining_percent,
                                     max_burn_rate=p.max_burn_rate, fail_on_page_alerts=p.block_on_firing_pages,
                                     # Every SLO of the spec, so one with no data in Prometheus
                                     # reads "cannot decide" instead of being left out.
                                     slos=p.slos or tuple(slo.name for slo in loaded.spec.slos) or None)
    ctx = dict(item.split("=", 1) if "=" in item else (item, "") for item in context)
    result = runtime_gate.check_quality_gate(ctx, policy=policy, prometheus_url=prometheus_url)
    click.echo(result.to_json() if as_json else result.to_table())
    sys.exit(result.exit_code)


if __name__ == "__main__":
    main()
