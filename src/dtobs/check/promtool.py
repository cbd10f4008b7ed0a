"""promtool: parse user PromQL at render time, check the rendered rules, run the generated tests."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
import tempfile
from pathlib import Path

import yaml

from dtobs.check import CheckResult
from dtobs.check.tools import find_tool, run_tool

_RULE_ERROR = re.compile(r'rule (\d+), "[^"]*": (.*)$')


def parse_problems(queries: list[tuple[tuple, str]]) -> list[tuple[tuple, str]]:
    """(spec path, PromQL) → (spec path, message) for each expression promtool cannot parse.

    Every expression becomes one recording rule of a throw-away rules file; promtool names the
    rule of each failure, which maps back to the spec field. Without promtool, nothing is checked
    here (`dtobs check` still runs it on the output, and fails under CI when it is missing).
    """
    promtool = find_tool("promtool")
    if promtool is None or not queries:
        return []
    rules = [{"record": f"dtobs:query_{i}", "expr": expr} for i, (_, expr) in enumerate(queries)]
    with tempfile.TemporaryDirectory(prefix="dtobs-promql-") as tmp:
        path = Path(tmp) / "queries.yml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "queries", "rules": rules}]}, width=1 << 16))
        run = run_tool([promtool, "check", "rules", str(path)])
    if run.returncode == 0:
        return []
    problems = []
    for line in run.output.splitlines():
        m = _RULE_ERROR.search(line)
        if m:
            index = int(m.group(1)) - 1
            message = m.group(2).replace("could not parse expression: ", "")
            problems.append((queries[index][0], f"invalid PromQL: {message}"))
    if not problems:  # promtool failed in a way we cannot map: report it whole on the first query
        problems.append((queries[0][0], f"promtool rejected the queries: {run.output.splitlines()[-1]}"))
    return problems


def _rule_files(root: Path) -> list[Path]:
    return sorted((root / "config" / "rules").glob("*.yml"))


def _test_files(root: Path) -> list[Path]:
    return sorted((root / "config" / "tests").glob("*.test.yml"))


def check_rules(root: Path) -> list[CheckResult]:
    files = _rule_files(root)
    promtool = find_tool("promtool")
    if not files:
        return []
    if promtool is None:
        return [CheckResult("promtool check rules", False, skipped="promtool not installed (apt-get install prometheus)")]
    run = run_tool([promtool, "check", "rules", *map(str, files)], cwd=root)
    return [CheckResult(f"promtool check rules ({len(files)} files)", run.returncode == 0,
                        "" if run.returncode == 0 else run.output)]


def run_rule_tests(root: Path) -> list[CheckResult]:
    files = _test_files(root)
    promtool = find_tool("promtool")
    if not files:
        return []
    if promtool is None:
        return [CheckResult("promtool test rules", False, skipped="promtool not installed (apt-get install prometheus)")]

    def one(f: Path) -> CheckResult:
        run = run_tool([promtool, "test", "rules", f.name], cwd=f.parent, timeout=600)
        return CheckResult(f"promtool test rules {f.relative_to(root)}", run.returncode == 0,
                           "" if run.returncode == 0 else run.output)

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return list(pool.map(one, files))
