"""The collector we build accepts the native config, and rejects a broken one."""

from __future__ import annotations

import subprocess
from pathlib import Path


def test_built_collector_validates_fixture_config(require_binary, native_configs) -> None:
    otelcol = require_binary("otelcol-dtobs")
    config_dir, _ = native_configs
    proc = subprocess.run([otelcol, "validate", f"--config={config_dir / 'otel-collector-config.yml'}"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_built_collector_rejects_unknown_component(require_binary, native_configs, tmp_path: Path) -> None:
    otelcol = require_binary("otelcol-dtobs")
    config_dir, _ = native_configs
    broken = tmp_path / "broken.yml"
    broken.write_text((config_dir / "otel-collector-config.yml").read_text().replace(
        "exporters: [opensearch]", "exporters: [kafka]"))
    proc = subprocess.run([otelcol, "validate", f"--config={broken}"], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "kafka" in proc.stderr


def test_built_collector_has_the_compose_components(require_binary) -> None:
    otelcol = require_binary("otelcol-dtobs")
    out = subprocess.run([otelcol, "components"], capture_output=True, text=True, timeout=60, check=True).stdout
    for name in ("otlp", "spanmetrics", "opensearch", "elasticsearch", "prometheus", "redaction",
                 "health_check", "memory_limiter", "batch"):
        assert f"name: {name}\n" in out, name
