"""Background OTLP export: real spans and logs to a loopback sink, collector down, recovery."""

from __future__ import annotations

import time

from day_trade.observability import (
    _hft,
    get_runtime,
    get_structured_logger,
    initialize_observability,
    telemetry_config,
)
from day_trade.observability._stats import STATS
from day_trade.observability.testing import OtlpSink, free_loopback_port


def _wait(pred, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


def test_hft_spans_reach_the_collector_with_ids_parents_and_resource(quick_export):
    with OtlpSink() as sink:
        initialize_observability(
            "day-trade-app", otlp_endpoint=sink.endpoint, service_version="1.2.3", environment="prod", **quick_export
        )
        with telemetry_config.trace_span("trade_execution", {"symbol": "AAPL", "quantity": 100}) as outer:
            with telemetry_config.trace_span("send"):
                pass
        assert sink.wait_for_spans(2, timeout_s=10)
    got = {s["name"]: s for s in sink.spans}
    assert got["trade_execution"]["trace_id"] == f"{outer.trace_id:032x}"
    assert got["trade_execution"]["parent_span_id"] == ""
    assert got["send"]["parent_span_id"] == got["trade_execution"]["span_id"]
    assert got["trade_execution"]["attributes"] == {"symbol": "AAPL", "quantity": 100}
    res = got["send"]["resource"]
    assert res["service.name"] == "day-trade-app"
    assert res["service.version"] == "1.2.3"
    assert res["deployment.environment"] == "prod"
    assert res["host.name"]
    assert _wait(lambda: STATS.spans_exported == 2)


def test_logs_reach_the_collector_with_trace_context(quick_export):
    with OtlpSink() as sink:
        initialize_observability("day-trade-app", otlp_endpoint=sink.endpoint, **quick_export)
        log = get_structured_logger()
        with telemetry_config.trace_span("trade") as span:
            log.info("filled", order_id="o-1", password="hunter2")
        assert sink.wait_for_logs(1, timeout_s=10)
    (rec,) = sink.logs
    assert rec["body"] == "filled"
    assert rec["trace_id"] == f"{span.trace_id:032x}"
    assert rec["span_id"] == f"{span.span_id:016x}"
    assert rec["attributes"]["order_id"] == "o-1"
    assert rec["attributes"]["password"] == "[REDACTED]"


def test_collector_down_never_raises_stays_bounded_and_recovers(quick_export):
    port = free_loopback_port()
    endpoint = f"http://127.0.0.1:{port}"
    settings = {**quick_export, "export_timeout_s": 2.0}
    initialize_observability("day-trade-app", otlp_endpoint=endpoint, span_buffer_size=500, **settings)
    for _ in range(2000):  # far more than the buffer holds
        with telemetry_config.trace_span("t"):
            pass
    assert _wait(lambda: STATS.export_errors_traces >= 1, timeout_s=10)
    # bounded: the buffer never exceeds its capacity, the excess is counted, one batch is pending
    assert len(_hft.buffer()) <= 500
    assert STATS.spans_dropped >= 2000 - 500 - get_runtime().settings.export_batch_size
    assert STATS.spans_exported == 0

    with OtlpSink(port=port) as sink:  # the collector comes back on the same port
        kept = 2000 - STATS.spans_dropped
        assert _wait(lambda: STATS.spans_exported == kept, timeout_s=15), STATS.snapshot()
        # OTLP delivery is at-least-once (a timed-out request is retried): count distinct spans
        assert len({s["span_id"] for s in sink.spans}) == kept
        with telemetry_config.trace_span("after-recovery"):
            pass
        assert sink.wait_for_spans(kept + 1, timeout_s=10)


def test_shutdown_is_bounded_when_collector_is_down(quick_export, dead_endpoint):
    from day_trade.observability import shutdown_observability

    initialize_observability("day-trade-app", otlp_endpoint=dead_endpoint, **quick_export)
    for _ in range(10):
        with telemetry_config.trace_span("t"):
            pass
    t0 = time.monotonic()
    shutdown_observability(timeout_s=0.5)
    assert time.monotonic() - t0 < 10  # generous bound: it returns, it does not hang
