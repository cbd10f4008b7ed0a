"""The original design's calls, verbatim (issue 4): they must run as written."""

from __future__ import annotations

from day_trade.observability import get_runtime
from day_trade.observability.testing import capture_logs, capture_spans


def test_design_snippets_run_verbatim(monkeypatch, dead_endpoint):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", dead_endpoint)
    monkeypatch.setenv("DTOBS_METRICS_PORT", "0")
    monkeypatch.setenv("DTOBS_PROMETHEUS_URL", dead_endpoint)
    monkeypatch.setenv("DTOBS_EXPORT_TIMEOUT", "0.3")
    latency_us = 25.3

    # --- verbatim -------------------------------------------------------------------------
    from day_trade.observability import initialize_observability, get_structured_logger, record_sli, check_quality_gate, generate_dashboards
    from day_trade.observability import telemetry_config
    initialize_observability("day-trade-app")
    with capture_spans() as spans, capture_logs() as logs:
        with telemetry_config.trace_span("trade_execution", {"symbol": "AAPL", "quantity": 100}): ...
        logger = get_structured_logger()
        logger.log_trade_execution(symbol="AAPL", side="BUY", quantity=100, price=150.50, latency_us=25.3, success=True)
        with logger.correlation_context("trade-req-123"): ...
        record_sli("trade_latency_slo", latency_us, success=True)
        result = check_quality_gate({"version": "1.2.3", "env": "prod"})
        generated = generate_dashboards()
        # --------------------------------------------------------------------------------------
        finished = spans.finished()

    assert get_runtime() is not None
    assert [s.name for s in finished] == ["trade_execution"]
    assert dict(finished[0].attributes) == {"symbol": "AAPL", "quantity": 100}
    assert logs.events[0]["message"] == "trade_execution"
    assert logs.events[0]["symbol"] == "AAPL"
    # Prometheus is not there: the gate cannot decide, and that is never a pass.
    assert not result
    assert result.exit_code == 2
    assert isinstance(generated, dict)


def test_telemetry_config_is_importable_both_ways():
    import day_trade.observability as obs
    from day_trade.observability import telemetry_config

    assert obs.telemetry_config is telemetry_config
    assert callable(telemetry_config.trace_span)


def test_library_import_pulls_no_generator_dependencies():
    import subprocess
    import sys

    code = (
        "import sys, day_trade.observability, day_trade.observability.testing;"
        "bad=[m for m in ('yaml','jinja2','pydantic','dtobs') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_all_is_sorted_and_complete():
    import day_trade.observability as obs

    assert obs.__all__ == sorted(obs.__all__)
    for name in obs.__all__:
        assert hasattr(obs, name), name
