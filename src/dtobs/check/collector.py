"""The collector's and Jaeger's own `validate` on their rendered configs (both variants).

Binaries: `otelcol-dtobs` and `jaeger`, built by `make backends` into the backend cache (found
through dtobs.check.tools.find_tool). Secrets referenced as ${env:...} get placeholder values:
validation parses and builds every component but does not connect anywhere.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dtobs.check import CheckResult

PLACEHOLDER_ENV = {"DTOBS_WRITER_PASSWORD": "placeholder", "OPENSEARCH_WRITER_BASIC_AUTH": "placeholder"}
TARGETS = (
    ("otelcol-dtobs", "config/otel-collector-config.yml"),
    ("otelcol-dtobs", "config/native/otel-collector-config.yml"),
    ("jaeger", "config/jaeger-config.yml"),
    ("jaeger", "config/native/jaeger-config.yml"),
)


def _validate(binary: str, config: str, root: Path) -> tuple[int, str]:
    env = {**os.environ, **PLACEHOLDER_ENV}
    try:
        proc = subprocess.run([binary, "validate", f"--config={config}"], cwd=root, env=env,
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return 124, f"{binary} validate timed out after 120s"
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def check(root: Path) -> list[CheckResult]:
    from dtobs.check.tools import find_tool

    results = []
    for tool, rel in TARGETS:
        name = f"{tool} validate {rel}"
        binary = find_tool(tool)
        if not (root / rel).is_file():
            results.append(CheckResult(name, False, f"{rel} is missing: run `make render`"))
        elif binary is None:
            results.append(CheckResult(name, False, skipped=f"{tool} not built yet (make backends)"))
        else:
            code, output = _validate(binary, rel, root)
            results.append(CheckResult(name, code == 0, output))
    return results
