"""Check the rendered Grafana dashboards (dashboards/*.json).

Three checks per dashboard, each a CheckResult:
  - schema: the JSON loads into grafana-foundation-sdk's typed Dashboard model (the types Grafana
    generates from its own dashboard schema) and serializes back without losing or changing a
    field — a misspelt or misplaced key is lost on the way and reported;
  - structure: unique panel ids, grid positions inside the 24 columns and not overlapping,
    unique refIds per panel, every datasource uid one the stack provisions (contract.py);
  - PromQL: every Prometheus expression, Grafana variables substituted, parses — written as
    recording rules into a temporary rules file and run through `promtool check rules`;
  - and every `slo:*` recording rule a panel reads is recorded by the rendered config/rules.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from day_trade.observability import contract
from dtobs.check import CheckResult
from dtobs.check.tools import find_tool, run_tool

GRID_COLUMNS = 24
PROVISIONED_UIDS = frozenset({
    contract.DATASOURCE_UID_PROMETHEUS,
    contract.DATASOURCE_UID_JAEGER,
    contract.DATASOURCE_UID_LOGS,
    contract.DATASOURCE_UID_ALERTMANAGER,
})
GRAFANA_BUILTIN_UIDS = frozenset({"grafana", "-- Grafana --", "-- Mixed --", "-- Dashboard --"})


def _panels(panels: list[dict[str, Any]]):
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])


# --------------------------------------------------------------------------- schema

def _compare(original: Any, round_trip: Any, path: str, problems: list[str]) -> None:
    if isinstance(original, dict) and isinstance(round_trip, dict):
        for key in original:
            if key not in round_trip:
                problems.append(f"{path}.{key}: not a field of the Grafana dashboard schema here (dropped)")
            else:
                _compare(original[key], round_trip[key], f"{path}.{key}", problems)
    elif isinstance(original, list) and isinstance(round_trip, list):
        if len(original) != len(round_trip):
            problems.append(f"{path}: {len(original)} items became {len(round_trip)}")
        for i, (a, b) in enumerate(zip(original, round_trip)):
            _compare(a, b, f"{path}[{i}]", problems)
    elif original != round_trip and not (isinstance(original, (int, float)) and original == round_trip):
        problems.append(f"{path}: {original!r} read back as {round_trip!r}")


def schema_problems(model: dict[str, Any]) -> list[str]:
    """Fields the SDK's typed Dashboard model drops or changes (empty: the JSON fits the schema)."""
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models.dashboard import Dashboard

    register_default_plugins()
    try:
        typed = Dashboard.from_json(model)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        return [f"does not load as a Grafana dashboard: {type(exc).__name__}: {exc}"]
    round_trip = json.loads(json.dumps(typed, cls=JSONEncoder))
    problems: list[str] = []
    _compare(model, round_trip, "$", problems)
    return problems


# --------------------------------------------------------------------------- structure

def structure_problems(model: dict[str, Any], provisioned: frozenset[str] = PROVISIONED_UIDS) -> list[str]:
    problems = []
    if not model.get("uid") or not 1 <= len(model["uid"]) <= 40:
        problems.append("dashboard uid must be 1-40 characters")
    seen_ids: dict[int, str] = {}
    cells: dict[tuple[int, int], str] = {}
    for panel in _panels(model.get("panels", [])):
        title = panel.get("title", "?")
        pid = panel.get("id")
        if not isinstance(pid, int) or pid <= 0:
            problems.append(f"panel {title!r}: id {pid!r} is not a positive integer")
        elif pid in seen_ids:
            problems.append(f"panel {title!r}: id {pid} already used by {seen_ids[pid]!r}")
        else:
            seen_ids[pid] = title
        pos = panel.get("gridPos") or {}
        x, y, w, h = (pos.get(k) for k in ("x", "y", "w", "h"))
        if not all(isinstance(v, int) for v in (x, y, w, h)) or w <= 0 or h <= 0 or x < 0 or y < 0:
            problems.append(f"panel {title!r}: bad gridPos {pos}")
        elif x + w > GRID_COLUMNS:
            problems.append(f"panel {title!r}: gridPos x+w = {x + w} is wider than {GRID_COLUMNS} columns")
        elif not panel.get("collapsed") or panel.get("type") != "row":
            for cx in range(x, x + w):
                for cy in range(y, y + h):
                    if (cx, cy) in cells:
                        problems.append(f"panel {title!r} overlaps {cells[(cx, cy)]!r} at column {cx}, row {cy}")
                        break
                    cells[(cx, cy)] = title
                else:
                    continue
                break
        refs = [t.get("refId") for t in panel.get("targets", [])]
        if any(not r for r in refs) or len(set(refs)) != len(refs):
            problems.append(f"panel {title!r}: refIds must be set and unique, got {refs}")
        for ds in [panel.get("datasource")] + [t.get("datasource") for t in panel.get("targets", [])]:
            if ds and ds.get("uid") not in provisioned | GRAFANA_BUILTIN_UIDS:
                problems.append(f"panel {title!r}: datasource uid {ds.get('uid')!r} is not provisioned "
                                f"(known: {sorted(provisioned)})")
        if panel.get("type") != "row" and not panel.get("targets"):
            problems.append(f"panel {title!r}: no query")
    for var in (model.get("templating") or {}).get("list", []):
        ds = var.get("datasource")
        if ds and ds.get("uid") not in provisioned:
            problems.append(f"variable {var.get('name')!r}: datasource uid {ds.get('uid')!r} is not provisioned")
    return problems


# --------------------------------------------------------------------------- PromQL

def promql_rules_file(exprs: list[tuple[str, str]]) -> str:
    """A Prometheus rules file with one recording rule per (where, expr): promtool parses each."""
    rules = [{"record": f"dtobs:dashboard_check:{i}", "expr": expr, "labels": {"where": where[:200]}}
             for i, (where, expr) in enumerate(exprs)]
    return yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, sort_keys=False,
                          allow_unicode=True)


def leftover_variables(exprs: list[tuple[str, str]]) -> list[str]:
    return [f"{where}: unresolved Grafana variable in {expr!r}" for where, expr in exprs if "$" in expr]


def check_promql(exprs: list[tuple[str, str]], promtool: str | None = None) -> CheckResult:
    name = f"promtool check rules <{len(exprs)} dashboard queries>"
    leftovers = leftover_variables(exprs)
    if leftovers:
        return CheckResult(name, False, "\n".join(leftovers))
    promtool = promtool or find_tool("promtool")
    if not promtool:
        return CheckResult(name, False, skipped="promtool not found (apt-get install prometheus)")
    with tempfile.TemporaryDirectory(prefix="dtobs-dash-") as tmp:
        path = Path(tmp) / "dashboard-queries.yml"
        path.write_text(promql_rules_file(exprs), encoding="utf-8")
        run = run_tool([promtool, "check", "rules", str(path)], timeout=60)
    detail = run.output
    if run.returncode != 0:
        # promtool names a failing rule by its index; map it back to dashboard/panel.
        detail += "\n\nrule index → query:\n" + "\n".join(f"  {i}: {w}: {e}" for i, (w, e) in enumerate(exprs))
    return CheckResult(name, run.returncode == 0, detail)


# --------------------------------------------------------------------------- recording rules

_RULE_NAME = re.compile(r"\b(slo:[a-zA-Z0-9_:]+)")


def unrecorded_rules(exprs: list[tuple[str, str]], root: Path) -> list[str] | None:
    """`slo:*` series the dashboards read that no rendered rules file records (None: no rules here)."""
    files = sorted((Path(root) / "config" / "rules").glob("*.yml"))
    if not files:
        return None
    recorded = set()
    for f in files:
        for group in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("groups", []):
            recorded.update(r["record"] for r in group.get("rules", []) if "record" in r)
    return [f"{where}: reads {name}, which no config/rules/*.yml records"
            for where, expr in exprs for name in _RULE_NAME.findall(expr) if name not in recorded]


# --------------------------------------------------------------------------- entry point

def load_dashboards(root: Path) -> dict[str, dict[str, Any]]:
    folder = Path(root) / "dashboards"
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


def check(root: Path) -> list[CheckResult]:
    from dtobs.dashboards import resolved_queries

    try:
        dashboards = load_dashboards(root)
    except (OSError, json.JSONDecodeError) as exc:
        return [CheckResult("dashboards/*.json load", False, str(exc))]
    if not dashboards:
        return []
    results = []
    uids: dict[str, str] = {}
    for name, model in dashboards.items():
        problems = structure_problems(model)
        if model.get("uid") in uids:
            problems.append(f"dashboard uid {model['uid']!r} also used by {uids[model['uid']]}")
        uids[model.get("uid", "")] = name
        results.append(CheckResult(f"dashboard structure dashboards/{name}.json", not problems, "\n".join(problems)))
        schema = schema_problems(model)
        results.append(CheckResult(f"dashboard schema (grafana-foundation-sdk) dashboards/{name}.json", not schema,
                                   "\n".join(schema)))
    exprs = [(f"{q.dashboard}/{q.panel}", q.expr) for q in resolved_queries(dashboards)
             if q.datasource_uid == contract.DATASOURCE_UID_PROMETHEUS]
    results.append(check_promql(exprs))
    unrecorded = unrecorded_rules(exprs, root)
    if unrecorded is not None:
        results.append(CheckResult("dashboard SLO series are recorded by config/rules", not unrecorded,
                                   "\n".join(unrecorded)))
    return results
