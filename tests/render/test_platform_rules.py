"""The rendered platform alerts evaluate on real series (promtool test rules), not only parse."""

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from _tools import require_tool
from dtobs.render.stack_prometheus import RUNBOOK

RULES = Path(__file__).parents[2] / "config" / "rules" / "platform.rules.yml"


@pytest.fixture
def promtool() -> str:
    return require_tool("promtool")


def _run(promtool: str, tmp_path: Path, tests: str) -> subprocess.CompletedProcess:
    shutil.copy(RULES, tmp_path / "platform.rules.yml")
    (tmp_path / "test.yml").write_text(textwrap.dedent(tests).replace("RUNBOOK#", RUNBOOK))
    return subprocess.run([promtool, "test", "rules", "test.yml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


class TestCollectorAlerts:
    def test_refusals_of_two_signals_with_the_same_labels_fire_one_alert(self, promtool, tmp_path):
        # Two metric names with one label set: a regex over __name__ made this an evaluation error.
        proc = _run(promtool, tmp_path, """\
            rule_files: [platform.rules.yml]
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
                  - series: 'otelcol_receiver_refused_spans_total{job="otel-collector",instance="c:8888",receiver="otlp"}'
                    values: '0+10x20'
                  - series: 'otelcol_receiver_refused_log_records_total{job="otel-collector",instance="c:8888",receiver="otlp"}'
                    values: '0+10x20'
                alert_rule_test:
                  - eval_time: 15m
                    alertname: CollectorRefusingData
                    exp_alerts:
                      - exp_labels: {job: otel-collector, instance: "c:8888", receiver: otlp, severity: ticket, team: platform}
                        exp_annotations:
                          summary: The collector refuses incoming telemetry
                          description: Receiver otlp refuses data (memory_limiter pressure or bad requests).
                          runbook_url: RUNBOOK#collectorrefusingdata
            """)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    def test_send_failures_page(self, promtool, tmp_path):
        proc = _run(promtool, tmp_path, """\
            rule_files: [platform.rules.yml]
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
                  - series: 'otelcol_exporter_send_failed_spans_total{job="otel-collector",instance="c:8888",exporter="otlp/jaeger"}'
                    values: '0+5x20'
                  - series: 'otelcol_exporter_enqueue_failed_spans_total{job="otel-collector",instance="c:8888",exporter="otlp/jaeger"}'
                    values: '0+5x20'
                alert_rule_test:
                  - eval_time: 15m
                    alertname: CollectorExportFailing
                    exp_alerts:
                      - exp_labels: {job: otel-collector, instance: "c:8888", exporter: otlp/jaeger, severity: page, team: platform}
                        exp_annotations:
                          summary: The collector fails to export to otlp/jaeger
                          description: Telemetry is being lost between the collector and otlp/jaeger.
                          runbook_url: RUNBOOK#collectorexportfailing
            """)
        assert proc.returncode == 0, proc.stdout + proc.stderr


class TestRunbooks:
    def test_every_platform_alert_links_to_a_section_of_the_runbook(self):
        import yaml

        runbook = (RULES.parents[2] / "docs" / "runbooks" / "platform.md").read_text()
        sections = {line[3:].strip() for line in runbook.splitlines() if line.startswith("## ")}
        rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r]
        assert rules
        for rule in rules:
            url = rule["annotations"]["runbook_url"]
            assert url.startswith(RUNBOOK), url
            assert url.removeprefix(RUNBOOK) in sections, f"{rule['alert']}: no section {url}"
