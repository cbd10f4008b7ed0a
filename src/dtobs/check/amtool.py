"""amtool: check the rendered Alertmanager config and that every SLO × severity routes right."""

from __future__ import annotations

from pathlib import Path

import yaml

from day_trade.observability import contract as c
from dtobs.check import CheckResult
from dtobs.check.tools import find_tool, run_tool

EXPECTED_RECEIVER = {c.SEVERITY_PAGE: "oncall", c.SEVERITY_TICKET: "chat"}


def _slos(root: Path) -> list[str]:
    names = set()
    for f in sorted((root / "config" / "rules").glob("slo-*.yml")):
        for group in (yaml.safe_load(f.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                slo = rule.get("labels", {}).get(c.ALERT_LABEL_SLO)
                if slo:
                    names.add(slo)
    return sorted(names)


def check_alertmanager(root: Path) -> list[CheckResult]:
    config = root / "config" / "alertmanager.yml"
    if not config.is_file():
        return []
    amtool = find_tool("amtool")
    if amtool is None:
        return [CheckResult("amtool check-config", False, skipped="amtool not installed (apt-get install prometheus-alertmanager)")]
    run = run_tool([amtool, "check-config", str(config)])
    results = [CheckResult("amtool check-config config/alertmanager.yml", run.returncode == 0,
                           "" if run.returncode == 0 else run.output)]
    wrong = []
    slos = _slos(root)
    for slo in slos:
        for severity, receiver in EXPECTED_RECEIVER.items():
            labels = [f"{c.ALERT_LABEL_SLO}={slo}", f"{c.ALERT_LABEL_SEVERITY}={severity}", "alertname=SLOErrorBudgetBurn"]
            run = run_tool([amtool, "config", "routes", "test", f"--config.file={config}", *labels])
            lines = [ln.strip() for ln in run.output.splitlines() if ln.strip() and not ln.startswith("Warning")]
            got = lines[-1] if lines else ""
            if run.returncode != 0 or got != receiver:
                wrong.append(f"{' '.join(labels)} → {got or run.output!r}, expected {receiver}")
    results.append(CheckResult(f"amtool config routes test ({len(slos)} SLOs × {len(EXPECTED_RECEIVER)} severities)",
                               not wrong, "\n".join(wrong)))
    return results
