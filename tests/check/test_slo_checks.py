"""The real validators on the committed SLO output: promtool check/test rules, amtool."""

from __future__ import annotations

from pathlib import Path

import pytest

from dtobs.check import amtool, promtool
from dtobs.check.tools import find_tool

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "slo"
needs_promtool = pytest.mark.skipif(find_tool("promtool") is None, reason="promtool not installed")
needs_amtool = pytest.mark.skipif(find_tool("amtool") is None, reason="amtool not installed")


@needs_promtool
@pytest.mark.parametrize("root", [ROOT] + sorted(p / "out" for p in GOLDEN.iterdir() if (p / "out").is_dir()),
                         ids=lambda p: p.parent.name if p.name == "out" else "repo")
def test_promtool_check_rules(root: Path):
    results = promtool.check_rules(root)
    assert results and all(r.ok for r in results), [r.detail for r in results]


@needs_promtool
def test_promtool_unit_tests_of_the_default_slos_pass():
    results = promtool.run_rule_tests(ROOT)
    assert len(results) == 5 and all(r.ok for r in results), [r.detail[:2000] for r in results if not r.ok]


@needs_promtool
def test_promtool_finds_broken_promql():
    problems = promtool.parse_problems([(("a",), "sum(rate(x[5m]))"), (("b",), "sum(rate(x[5m])")])
    assert [p for p, _ in problems] == [("b",)]


@needs_amtool
def test_amtool_config_and_routes():
    results = amtool.check_alertmanager(ROOT)
    assert len(results) == 2 and all(r.ok for r in results), [r.detail for r in results]
