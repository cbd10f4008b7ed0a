"""`dtobs gate`: the policy comes from the spec's `gate:` section; exit 0 pass, 1 fail, 2 cannot decide."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from pathlib import Path

import pytest
from click.testing import CliRunner

from day_trade.observability import contract as c
from dtobs.cli import main

SPEC = """version: dtobs/v1
slos:
  - name: trade_success_slo
    service: trading
    objective: 99.95
    sli: {events: {}}
gate:
  min_error_budget_remaining_percent: 25
  max_burn_rate: 2.0
"""


class _FakePrometheus(http.server.BaseHTTPRequestHandler):
    values: dict[str, float] = {}

    def do_GET(self):  # noqa: N802
        expr = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)["query"][0]
        result = [] if expr not in self.values else [
            {"metric": {c.SLO_LABEL: "trade_success_slo"}, "value": [0, str(self.values[expr])]}]
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def prometheus():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakePrometheus)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _run(tmp_path: Path, url: str):
    spec = tmp_path / "observability.yaml"
    spec.write_text(SPEC)
    return CliRunner().invoke(main, ["gate", str(spec), "--prometheus", url, "--json"])


def test_pass_when_budget_is_healthy(tmp_path, prometheus):
    _FakePrometheus.values = {c.SLO_BUDGET_REMAINING: 0.9, c.SLO_BURN_RATE_1H: 0.5, c.SLO_OBJECTIVE: 0.9995,
                              c.SLO_TIME_TO_EXHAUSTION: 1e9}
    result = _run(tmp_path, prometheus)
    assert result.exit_code == 0, result.output


def test_fail_below_the_spec_budget_threshold(tmp_path, prometheus):
    _FakePrometheus.values = {c.SLO_BUDGET_REMAINING: 0.2, c.SLO_BURN_RATE_1H: 0.5, c.SLO_OBJECTIVE: 0.9995,
                              c.SLO_TIME_TO_EXHAUSTION: 1e9}
    result = _run(tmp_path, prometheus)
    assert result.exit_code == 1, result.output


def test_cannot_decide_without_prometheus(tmp_path):
    result = _run(tmp_path, "http://127.0.0.1:9")
    assert result.exit_code == 2, result.output
