"""`promtool check config` on both Prometheus configs (compose and native) and the long-term one."""

from __future__ import annotations

from pathlib import Path

from dtobs.check import CheckResult
from dtobs.check.tools import find_tool, run_tool

CONFIGS = ("config/prometheus.yml", "config/native/prometheus.yml", "config/prometheus-longterm.yml")


def check(root: Path) -> list[CheckResult]:
    promtool = find_tool("promtool")
    results = []
    for rel in CONFIGS:
        name = f"promtool check config {rel}"
        if not (root / rel).is_file():
            results.append(CheckResult(name, False, f"{rel} is missing: run `make render`"))
        elif promtool is None:
            results.append(CheckResult(name, False, skipped="promtool not found (apt-get install -y prometheus)"))
        else:
            run = run_tool([promtool, "check", "config", rel], cwd=root, timeout=60)
            results.append(CheckResult(name, run.returncode == 0, run.output))
    return results
