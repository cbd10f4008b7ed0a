"""Run the real validators (promtool, amtool, the built collector, ...) on rendered output.

Each checker takes the output root and returns CheckResults. A validator missing from the machine
is a skip with its reason locally, and a failure under CI=true: `make check` installs them first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

Checker = Callable[[Path], list["CheckResult"]]


@dataclass(frozen=True)
class CheckResult:
    name: str  # e.g. "promtool check rules config/rules/slo-trade_latency_slo.yml"
    ok: bool
    detail: str = ""
    skipped: str = ""  # reason, when the validator is not available here

    @property
    def status(self) -> str:
        return "skip" if self.skipped else ("ok" if self.ok else "FAIL")


def _checkers() -> list[Checker]:
    from dtobs.check import amtool, dashboards, promtool
    from dtobs.check import collector, compose, prometheus_config, stack_files

    return [promtool.check_rules, promtool.run_rule_tests, amtool.check_alertmanager, dashboards.check,
            prometheus_config.check, collector.check, compose.check, stack_files.check]


def run_checks(root: str | Path) -> list[CheckResult]:
    results: list[CheckResult] = []
    for checker in _checkers():
        results.extend(checker(Path(root)))
    return results
