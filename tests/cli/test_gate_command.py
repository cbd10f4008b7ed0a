"""`dtobs gate` against a real Prometheus (Debian's binary on a free loopback port, its data
backfilled with `promtool tsdb create-blocks-from openmetrics`).

The backfilled series are the contract series the gate queries (gate.fetch_samples): the SLO
budget left, the 1h burn rate, the objective, the time to exhaustion (label `slo`) and `ALERTS`.
Each SLO holds one situation; the spec's `gate.slos` picks the SLOs a test looks at, and the
policy (min budget 25 %, max burn 2.0, block on pages) comes from the spec's `gate:` section.
Exit codes: 0 pass, 1 fail, 2 cannot decide. The pure decision (gate.evaluate) is tested in
tests/observability/test_gate.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from _tools import backfilled_prometheus, free_loopback_port
from day_trade.observability import contract as c
from dtobs.cli import main

STEP_S = 60
HISTORY_S = 30 * 60

# slo -> (budget remaining ratio, 1h burn rate, objective ratio)
SITUATIONS = {
    "trade_latency_slo": (0.90, 0.5, 0.999),  # healthy
    "system_availability_slo": (0.99, 0.1, 0.9999),  # healthy; a pending page + a firing ticket
    "trade_success_slo": (0.20, 0.8, 0.9995),  # budget below the 25 % policy
    "api_latency_slo": (0.95, 3.5, 0.999),  # burning faster than 2.0
    "error_rate_slo": (0.80, 0.3, 0.999),  # numbers fine, but a page alert is firing
}
NO_DATA_SLO = "settlement_slo"  # declared in the spec, never in Prometheus

ALERTS = [  # (labels, value): only the firing page may block
    ({"alertname": c.ALERT_SLO_BURN, "alertstate": "firing", c.ALERT_LABEL_SEVERITY: c.SEVERITY_PAGE,
      c.ALERT_LABEL_SLO: "error_rate_slo", c.ALERT_LABEL_TIER: "page"}, 1),
    ({"alertname": c.ALERT_SLO_BURN, "alertstate": "pending", c.ALERT_LABEL_SEVERITY: c.SEVERITY_PAGE,
      c.ALERT_LABEL_SLO: "system_availability_slo", c.ALERT_LABEL_TIER: "page"}, 1),
    ({"alertname": c.ALERT_SLO_BURN, "alertstate": "firing", c.ALERT_LABEL_SEVERITY: c.SEVERITY_TICKET,
      c.ALERT_LABEL_SLO: "system_availability_slo", c.ALERT_LABEL_TIER: "ticket"}, 1),
]


def _labels(d: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in d.items()) + "}"


def _openmetrics(now: int) -> str:
    stamps = range(now - HISTORY_S, now + 1, STEP_S)
    lines: list[str] = []
    for name, idx in ((c.SLO_BUDGET_REMAINING, 0), (c.SLO_BURN_RATE_1H, 1), (c.SLO_OBJECTIVE, 2),
                      (c.SLO_TIME_TO_EXHAUSTION, None)):
        lines.append(f"# TYPE {name} gauge")
        for slo, values in SITUATIONS.items():
            if idx is None:
                value = max(values[0], 0) * 30 * 86400 / values[1]
            else:
                value = values[idx]
            for ts in stamps:
                lines.append(f'{name}{{{c.SLO_LABEL}="{slo}"}} {value} {ts}')
    lines.append("# TYPE ALERTS gauge")
    for labels, value in ALERTS:
        for ts in stamps:
            lines.append(f"ALERTS{_labels(labels)} {value} {ts}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory) -> str:
    now = int(time.time())  # instant queries read the last sample within the 5 min lookback
    with backfilled_prometheus(tmp_path_factory.mktemp("gate-prom"), _openmetrics(now)) as url:
        yield url


def _spec(tmp_path: Path, slos: list[str] | None = None, block_on_pages: bool = True,
          declared: list[str] | None = None) -> Path:
    names = declared or [*SITUATIONS, NO_DATA_SLO]
    body = ["version: dtobs/v1", "slos:"]
    for name in names:
        body += [f"  - name: {name}", "    service: trading", "    objective: 99.9", "    sli: {events: {}}"]
    body += ["gate:", "  min_error_budget_remaining_percent: 25", "  max_burn_rate: 2.0",
             f"  block_on_firing_pages: {'true' if block_on_pages else 'false'}"]
    if slos is not None:
        body.append(f"  slos: [{', '.join(slos)}]")
    spec = tmp_path / "observability.yaml"
    spec.write_text("\n".join(body) + "\n")
    return spec


def _gate(spec: Path, url: str, *extra: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["gate", str(spec), "--prometheus", url, "--json", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.output)


class TestGateAgainstRealPrometheus:
    def test_healthy_budgets_pass(self, prometheus, tmp_path):
        """Healthy SLOs pass; a pending page and a firing ticket do not block; the numbers shown
        are the ones stored in Prometheus."""
        code, out = _gate(_spec(tmp_path, ["trade_latency_slo", "system_availability_slo"]), prometheus)
        assert code == 0, out
        assert out["status"] == "pass" and out["passed"] is True and out["exit_code"] == 0
        by_slo = {v["slo"]: v for v in out["slos"]}
        assert set(by_slo) == {"trade_latency_slo", "system_availability_slo"}
        assert by_slo["trade_latency_slo"]["budget_remaining_pct"] == pytest.approx(90.0)
        assert by_slo["trade_latency_slo"]["burn_rate_1h"] == pytest.approx(0.5)
        assert by_slo["system_availability_slo"]["objective"] == pytest.approx(0.9999)
        assert out["firing_page_alerts"] == []

    def test_budget_below_policy_fails_naming_the_slo(self, prometheus, tmp_path):
        code, out = _gate(_spec(tmp_path, ["trade_latency_slo", "trade_success_slo"]), prometheus)
        assert code == 1, out
        assert out["status"] == "fail"
        assert any("trade_success_slo" in r and "20.00% < 25%" in r for r in out["reasons"]), out["reasons"]
        assert not any("trade_latency_slo" in r for r in out["reasons"]), out["reasons"]

    def test_burn_rate_above_policy_fails(self, prometheus, tmp_path):
        code, out = _gate(_spec(tmp_path, ["api_latency_slo"]), prometheus)
        assert code == 1, out
        assert any("api_latency_slo" in r and "burn rate 3.50 > 2" in r for r in out["reasons"]), out["reasons"]

    def test_firing_page_fails(self, prometheus, tmp_path):
        """error_rate_slo's numbers are within policy: the firing page alone fails the gate."""
        code, out = _gate(_spec(tmp_path, ["error_rate_slo"]), prometheus)
        assert code == 1, out
        assert [v["status"] for v in out["slos"]] == ["pass"]
        assert [a[c.ALERT_LABEL_SLO] for a in out["firing_page_alerts"]] == ["error_rate_slo"]
        assert any("page alert firing" in r and "slo=error_rate_slo" in r for r in out["reasons"]), out["reasons"]

    def test_firing_page_does_not_block_when_the_policy_says_so(self, prometheus, tmp_path):
        code, out = _gate(_spec(tmp_path, ["error_rate_slo"], block_on_pages=False), prometheus)
        assert code == 0, out

    def test_a_spec_slo_without_data_cannot_be_decided_even_when_the_rest_pass(self, prometheus, tmp_path):
        code, out = _gate(_spec(tmp_path, declared=["trade_latency_slo", NO_DATA_SLO]), prometheus)
        assert code == 2, out
        assert {v["slo"]: v["status"] for v in out["slos"]} == {"trade_latency_slo": "pass", NO_DATA_SLO: "cannot_decide"}

    def test_all_slos_fail_with_every_reason(self, prometheus, tmp_path):
        """Without `gate.slos` the gate judges every SLO of the spec: one that Prometheus has no
        data for is "cannot decide" (never silently left out), and failures still win."""
        code, out = _gate(_spec(tmp_path), prometheus)
        assert code == 1, out
        assert {v["slo"] for v in out["slos"]} == {*SITUATIONS, NO_DATA_SLO}
        failing = {v["slo"] for v in out["slos"] if v["status"] == "fail"}
        assert failing == {"trade_success_slo", "api_latency_slo"}
        assert [v["status"] for v in out["slos"] if v["slo"] == NO_DATA_SLO] == ["cannot_decide"]
        reasons = "\n".join(out["reasons"])
        assert "slo=error_rate_slo" in reasons
        assert "trade_latency_slo" not in reasons and "system_availability_slo" not in reasons

    def test_slo_without_data_cannot_decide(self, prometheus, tmp_path):
        """An SLO Prometheus has no series for is never a pass."""
        code, out = _gate(_spec(tmp_path, ["trade_latency_slo", NO_DATA_SLO]), prometheus)
        assert code == 2, out
        assert out["status"] == "cannot_decide"
        assert any(NO_DATA_SLO in r for r in out["reasons"]), out["reasons"]

    def test_table_output_and_process_exit_code(self, prometheus, tmp_path):
        """The installed entry point, as CI runs it: table on stdout, exit code of the process."""
        spec = _spec(tmp_path, ["trade_success_slo"])
        proc = subprocess.run([sys.executable, "-m", "dtobs.cli", "gate", str(spec), "--prometheus", prometheus,
                               "--context", "version=1.2.3"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert proc.stdout.startswith("quality gate: FAIL (exit 1)  [version=1.2.3]")
        assert "trade_success_slo" in proc.stdout


def test_cannot_decide_when_prometheus_is_unreachable(tmp_path):
    """A free loopback port with nothing listening: exit 2, JSON still parses."""
    code, out = _gate(_spec(tmp_path), f"http://127.0.0.1:{free_loopback_port()}")
    assert code == 2, out
    assert out["status"] == "cannot_decide" and out["passed"] is False
    assert any("Prometheus unreachable" in r for r in out["reasons"]), out["reasons"]
