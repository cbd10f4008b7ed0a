"""Quality gate: pure evaluate() cases, Prometheus answers from fixture files, unreachable."""

from __future__ import annotations

import http.server
import json
import pathlib
import threading
import urllib.parse

import pytest

from day_trade.observability import check_quality_gate, contract
from day_trade.observability.gate import (
    CANNOT_DECIDE,
    FAIL,
    PASS,
    GatePolicy,
    GateResult,
    Samples,
    SloSample,
    evaluate,
)

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "observability"


def samples(*slos: SloSample, pages=()) -> Samples:
    return Samples({s.slo: s for s in slos}, list(pages))


def test_healthy_slos_pass():
    r = evaluate(samples(SloSample("trade_latency", 0.8, 0.5, 0.999), SloSample("api", 0.5, 1.0)), GatePolicy())
    assert r.status == PASS and r and r.exit_code == 0


def test_budget_below_policy_fails():
    r = evaluate(samples(SloSample("trade_latency", 0.05, 0.1)), GatePolicy(min_budget_remaining_pct=10))
    assert r.status == FAIL and not r and r.exit_code == 1
    assert "trade_latency: error budget left 5.00% < 10%" in r.reasons


def test_burn_rate_above_policy_fails():
    r = evaluate(samples(SloSample("api", 0.9, 14.4)), GatePolicy(max_burn_rate=2))
    assert r.status == FAIL and any("burn rate 14.40 > 2" in x for x in r.reasons)


def test_firing_page_alert_fails_unless_policy_says_otherwise():
    page = {"alertname": "TradeLatencyFastBurn", "slo": "trade_latency", "severity": "page"}
    s = samples(SloSample("trade_latency", 0.9, 0.1), pages=[page])
    assert evaluate(s, GatePolicy()).status == FAIL
    assert evaluate(s, GatePolicy(fail_on_page_alerts=False)).status == PASS


def test_no_data_is_cannot_decide_never_pass():
    assert evaluate(Samples(), GatePolicy()).status == CANNOT_DECIDE
    r = evaluate(samples(SloSample("api", None, 0.1)), GatePolicy())
    assert r.status == CANNOT_DECIDE and r.exit_code == 2 and not r
    assert evaluate(samples(SloSample("api", float("nan"), 0.1)), GatePolicy()).status == CANNOT_DECIDE


def test_fail_wins_over_missing_data():
    r = evaluate(samples(SloSample("a", None), SloSample("b", 0.0)), GatePolicy())
    assert r.status == FAIL


def test_policy_slo_selection_and_missing_selected_slo():
    s = samples(SloSample("a", 0.0), SloSample("b", 0.9))
    assert evaluate(s, GatePolicy(slos=("b",))).status == PASS
    assert evaluate(s, GatePolicy(slos=("b", "c"))).status == CANNOT_DECIDE


def test_policy_from_env():
    p = GatePolicy.from_env({"DTOBS_GATE_MIN_BUDGET_PCT": "25", "DTOBS_GATE_MAX_BURN_RATE": "1.5", "DTOBS_GATE_SLOS": "a, b"})
    assert (p.min_budget_remaining_pct, p.max_burn_rate, p.slos) == (25.0, 1.5, ("a", "b"))


def test_result_renderings():
    r = evaluate(samples(SloSample("trade_latency", 0.05, 3.0, 0.999)), GatePolicy(), {"version": "1.2.3"})
    d = json.loads(r.to_json())
    assert d["status"] == "fail" and d["exit_code"] == 1 and d["context"] == {"version": "1.2.3"}
    table = r.to_table()
    assert "FAIL (exit 1)" in table and "trade_latency" in table and "5.00" in table
    assert isinstance(r, GateResult)


class _FakePrometheus:
    """Loopback Prometheus answering /api/v1/query from the JSON files of a fixture directory."""

    def __init__(self, scenario: str):
        answers = json.loads((FIXTURES / f"prometheus_{scenario}.json").read_text())
        self.queries: list[str] = []
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)["query"][0]
                fake.queries.append(q)
                key = q.split("{", 1)[0]
                result = answers.get(key, [])
                body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(("scenario", "status"), [("healthy", PASS), ("burning", FAIL)])
def test_check_quality_gate_against_prometheus(scenario, status, monkeypatch):
    prom = _FakePrometheus(scenario)
    try:
        monkeypatch.setenv("DTOBS_PROMETHEUS_URL", prom.url)
        r = check_quality_gate({"version": "1.2.3", "env": "prod"}, policy=GatePolicy())
    finally:
        prom.close()
    assert r.status == status, r.reasons
    assert {q.split("{")[0] for q in prom.queries} >= {
        contract.SLO_BUDGET_REMAINING,
        contract.SLO_BURN_RATE_1H,
        "ALERTS",
    }
    assert any(f'{contract.ALERT_LABEL_SEVERITY}="{contract.SEVERITY_PAGE}"' in q for q in prom.queries)


def test_prometheus_unreachable_cannot_decide(dead_endpoint):
    r = check_quality_gate({"version": "1.2.3"}, prometheus_url=dead_endpoint, timeout_s=2)
    assert r.status == CANNOT_DECIDE and r.exit_code == 2 and not r
    assert "unreachable" in r.reasons[0]


def test_bad_context_does_not_raise(dead_endpoint):
    r = check_quality_gate(12345, prometheus_url=dead_endpoint, timeout_s=1)  # type: ignore[arg-type]
    assert r.exit_code == 2
