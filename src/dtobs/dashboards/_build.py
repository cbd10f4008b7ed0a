"""Build every dashboard from the model; write them; list their queries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

from dtobs.dashboards import hft, platform, security, slo

# name → module with build(model); the name is the file name under dashboards/.
DASHBOARDS = {m.NAME: m for m in (hft, slo, platform, security)}
OUT_DIR = "dashboards"


def build_dashboards(model) -> dict[str, dict[str, Any]]:
    """name → Grafana dashboard JSON model. Empty for imported Sloth/OpenSLO specs (no stack)."""
    if model.stack is None:
        return {}
    return {name: module.build(model) for name, module in DASHBOARDS.items()}


def dashboard_path(name: str) -> str:
    return f"{OUT_DIR}/{name}.json"


def generate_dashboards(spec_path: str | Path = "observability.yaml", out_dir: str | Path | None = None
                        ) -> dict[str, dict[str, Any]]:
    """Dashboards for a spec; with out_dir, also writes <out_dir>/<name>.json (the committed form)."""
    from dtobs.dashboards._common import to_text
    from dtobs.model import build_model
    from dtobs.spec.load import load_spec

    dashboards = build_dashboards(build_model(load_spec(spec_path)))
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, model in dashboards.items():
            (out / f"{name}.json").write_text(to_text(model), encoding="utf-8")
    return dashboards


class Query(NamedTuple):
    dashboard: str
    panel: str
    datasource_uid: str
    expr: str  # PromQL for Prometheus targets, Lucene for the logs datasource


def _panels(panels: list[dict[str, Any]]):
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])


def dashboard_queries(dashboards: dict[str, dict[str, Any]]) -> list[Query]:
    """Every query of every panel: (dashboard name, panel title, datasource uid, expression)."""
    out = []
    for name, model in sorted(dashboards.items()):
        for panel in _panels(model.get("panels", [])):
            for target in panel.get("targets", []):
                uid = (target.get("datasource") or panel.get("datasource") or {}).get("uid", "")
                expr = target.get("expr", target.get("query", ""))
                out.append(Query(name, panel.get("title", ""), uid, expr))
    return out


# Grafana's built-in interval variables, replaced by values a query over a 1 h range at a 15 s
# scrape interval would get, so the expression can be parsed (promtool) or run (e2e).
BUILTIN_VARIABLES = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
    "__interval_ms": "15000",
    "__range_s": "3600",
}
_VAR = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")


def template_values(model: dict[str, Any]) -> dict[str, str]:
    """What each dashboard variable stands for when checking: `.*` for multi/all, else its default."""
    values = dict(BUILTIN_VARIABLES)
    for var in (model.get("templating") or {}).get("list", []):
        if var.get("includeAll") or var.get("multi"):
            values[var["name"]] = var.get("allValue") or ".*"
        else:
            values[var["name"]] = str(var.get("query") or (var.get("current") or {}).get("value") or ".*")
    return values


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replace $var / ${var} / ${var:fmt}; unknown variables are left in place (the checker flags them)."""
    def repl(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        return values.get(name, m.group(0))
    return _VAR.sub(repl, expr)


def resolved_queries(dashboards: dict[str, dict[str, Any]]) -> list[Query]:
    """dashboard_queries with every Grafana variable substituted: ready for promtool or /api/v1/query."""
    values = {name: template_values(model) for name, model in dashboards.items()}
    return [q._replace(expr=substitute(q.expr, values[q.dashboard])) for q in dashboard_queries(dashboards)]
