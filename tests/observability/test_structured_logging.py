"""Structured logs: JSON shape, trace/correlation ids, masking, sampling, stdlib integration."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re

import pytest

from day_trade.observability import (
    CorrelationIdMiddleware,
    StructuredFormatter,
    StructuredHandler,
    correlation_context,
    correlation_context_from_headers,
    correlation_id_from_headers,
    get_structured_logger,
    structured_logging,
    telemetry_config,
)
from day_trade.observability._masking import luhn_ok
from day_trade.observability._stats import STATS
from day_trade.observability.testing import capture_logs

VALID_CARDS = ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"]
INVALID_CARDS = ["4111 1111 1111 1112", "1234567890123456", "20240101123456789"]
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


def test_trade_log_is_one_json_line_with_ns_timestamp():
    log = get_structured_logger()
    with capture_logs() as logs:
        log.log_trade_execution(symbol="AAPL", side="BUY", quantity=100, price=150.50, latency_us=25.3, success=True)
    (line,) = logs.lines
    ev = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", ev["timestamp"])
    assert ev["level"] == "INFO" and ev["message"] == "trade_execution"
    assert ev["service"]
    assert (ev["symbol"], ev["side"], ev["quantity"], ev["price"], ev["latency_us"], ev["success"]) == (
        "AAPL", "BUY", 100, 150.5, 25.3, True,
    )


def test_failed_trade_logs_a_warning():
    with capture_logs() as logs:
        get_structured_logger().log_trade_execution("AAPL", "SELL", 1, 1.0, 9.0, success=False)
    assert logs.events[0]["level"] == "WARNING"


def test_trace_and_span_ids_of_hft_and_otel_spans():
    from opentelemetry.sdk.trace import TracerProvider

    log = get_structured_logger()
    tracer = TracerProvider().get_tracer("t")
    with capture_logs() as logs:
        log.info("outside")
        with telemetry_config.trace_span("hft") as s:
            log.info("in hft")
        with tracer.start_as_current_span("otel") as o:
            log.info("in otel")
    out, hft, otel = logs.events
    assert "trace_id" not in out
    assert (hft["trace_id"], hft["span_id"]) == (f"{s.trace_id:032x}", f"{s.span_id:016x}")
    sc = o.get_span_context()
    assert (otel["trace_id"], otel["span_id"]) == (f"{sc.trace_id:032x}", f"{sc.span_id:016x}")


def test_correlation_context_and_headers():
    log = get_structured_logger()
    with capture_logs() as logs:
        with log.correlation_context("trade-req-123"):
            log.info("a")
            with correlation_context() as generated:
                log.info("b")
            log.info("c")
        log.info("d")
        with correlation_context_from_headers({"X-Correlation-ID": "from-client"}):
            log.info("e")
    a, b, c, d, e = logs.events
    assert a["correlation_id"] == "trade-req-123" == c["correlation_id"]
    assert b["correlation_id"] == generated and len(generated) == 32
    assert "correlation_id" not in d
    assert e["correlation_id"] == "from-client"
    assert correlation_id_from_headers([(b"x-request-id", b"r-9")]) == "r-9"
    assert correlation_id_from_headers(None) is None


def test_asgi_middleware_sets_and_returns_the_correlation_id():
    seen = {}
    sent = []

    async def app(scope, receive, send):
        seen["cid"] = structured_logging.get_correlation_id()
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def send(msg):
        sent.append(msg)

    mw = CorrelationIdMiddleware(app)
    asyncio.run(mw({"type": "http", "headers": [(b"x-correlation-id", b"abc-1")]}, None, send))
    assert seen["cid"] == "abc-1"
    assert (b"x-correlation-id", b"abc-1") in sent[0]["headers"]


@pytest.mark.parametrize("card", VALID_CARDS)
def test_luhn_valid_card_numbers_are_masked(card):
    with capture_logs() as logs:
        get_structured_logger().info(f"paid with {card} today", note=f"card {card}")
    ev = logs.events[0]
    digits = card.replace(" ", "").replace("-", "")
    assert digits not in logs.lines[0] and card not in logs.lines[0]
    assert f"****{digits[-4:]}" in ev["message"] and f"****{digits[-4:]}" in ev["note"]
    assert STATS.secrets_masked["card"] == 2


@pytest.mark.parametrize("number", INVALID_CARDS)
def test_luhn_invalid_numbers_are_kept(number):
    assert not luhn_ok(number.replace(" ", ""))
    with capture_logs() as logs:
        get_structured_logger().info(f"order {number}", order_id=int(number.replace(" ", "")))
    ev = logs.events[0]
    assert ev["message"] == f"order {number}"
    assert ev["order_id"] == int(number.replace(" ", ""))
    assert STATS.secrets_masked.get("card", 0) == 0


def test_jwt_password_token_and_api_key_are_masked_and_counted():
    log = get_structured_logger()
    with capture_logs() as logs:
        log.info(f"login password=hunter2 with bearer {JWT}")
        log.info("call", api_key="sk_live_123456", headers={"Authorization": "Bearer abcdefghijk"}, user="bob")
        log.info("config", password="", token=None)  # empty values: nothing to hide, not counted
        log.info("num", card_number=4111111111111111)
    first, second, third, fourth = logs.events
    assert "hunter2" not in logs.lines[0] and JWT not in logs.lines[0]
    assert "[REDACTED:jwt]" in first["message"] and "password=[REDACTED]" in first["message"]
    assert second["api_key"] == "[REDACTED]" and second["headers"]["Authorization"] == "[REDACTED]"
    assert second["user"] == "bob"
    assert third["password"] == "" and third["token"] is None
    assert fourth["card_number"] == "[REDACTED]"
    assert STATS.secrets_masked == {"password": 1, "jwt": 1, "api_key": 1, "token": 1, "card": 1}


def test_masked_secrets_are_exposed_as_a_metric():
    from prometheus_client.parser import text_string_to_metric_families

    from day_trade.observability import contract, metrics

    with capture_logs():
        get_structured_logger().info("x", password="p", api_key="k", apikey="k2")
    samples = {
        s.labels["kind"]: s.value
        for fam in text_string_to_metric_families(metrics.generate_latest())
        for s in fam.samples
        if s.name == contract.SELF_SECRETS_MASKED_TOTAL
    }
    assert samples == {"password": 1.0, "api_key": 2.0}


def test_debug_sampling_counts_what_it_drops():
    log = get_structured_logger()
    with capture_logs(level="DEBUG", debug_sample_every=10) as logs:
        for i in range(100):
            log.debug("tick", i=i)
        log.info("kept")
    assert len(logs.events) == 11
    assert STATS.logs_dropped_sampled == 90


def test_trade_log_rate_limit_counts_drops_but_metrics_see_every_trade():
    from day_trade.observability import metrics

    log = get_structured_logger()
    with capture_logs(trade_max_per_second=5) as logs:
        for _ in range(50):
            log.log_trade_execution("MSFT", "BUY", 1, 2.0, 10.0)
    # All 50 within one or two 1-second windows: at most 10 lines, the rest counted.
    assert 5 <= len(logs.events) <= 10
    assert STATS.logs_dropped_rate_limited == 50 - len(logs.events)
    assert metrics.TRADES.labels("MSFT", "BUY", "success").value == 50


def test_level_filter_drops_silently():
    log = get_structured_logger()
    with capture_logs(level="WARNING") as logs:
        log.debug("d")
        log.info("i")
        log.warning("w")
    assert [e["level"] for e in logs.events] == ["WARNING"]
    assert STATS.logs_dropped_sampled == 0


def test_processor_chain_composes_and_can_drop():
    def add_region(name, level, ev):
        ev["region"] = "eu"
        return ev

    def drop_heartbeats(name, level, ev):
        return None if ev["message"] == "heartbeat" else ev

    log = get_structured_logger().bind(desk="equities")
    with capture_logs(processors=(add_region, drop_heartbeats)) as logs:
        log.info("heartbeat")
        log.info("fill")
    (ev,) = logs.events
    assert ev["region"] == "eu" and ev["desk"] == "equities"


def test_stdlib_handler_and_formatter():
    stream = io.StringIO()
    structured_logging.configure_logging(output=stream, level="INFO", service="svc")
    std = logging.getLogger("test.stdlib.structured")
    std.propagate = False
    handler = StructuredHandler()
    std.addHandler(handler)
    std.setLevel(logging.INFO)
    try:
        with correlation_context("c-1"):
            std.info("order %s filled token=%s", "o-7", "abcdefgh12345", extra={"qty": 5})
    finally:
        std.removeHandler(handler)
    ev = json.loads(stream.getvalue())
    assert ev["message"] == "order o-7 filled token=[REDACTED]"
    assert ev["qty"] == 5 and ev["correlation_id"] == "c-1" and ev["service"] == "svc"
    assert ev["logger"] == "test.stdlib.structured"

    rec = logging.LogRecord("fmt", logging.ERROR, __file__, 1, "boom password=x1", (), None)
    line = StructuredFormatter().format(rec)
    assert "\n" not in line
    assert json.loads(line)["message"] == "boom password=[REDACTED]"


def test_logging_never_raises_on_bad_input():
    class Unprintable:
        def __str__(self):
            raise RuntimeError("no")

    with capture_logs() as logs:
        get_structured_logger().info(Unprintable(), x=Unprintable())
    assert logs.lines == []
    assert STATS.api_errors == 1


def test_file_output(tmp_path):
    path = tmp_path / "app.log"
    structured_logging.configure_logging(output=str(path))
    get_structured_logger().info("to file", n=1)
    structured_logging.flush_logs()
    assert json.loads(path.read_text())["n"] == 1


def test_render_json_keeps_non_string_keys_and_non_finite_numbers():
    """The fast renderer skips orjson's non-str-key option; such records still render, via the fallback."""
    import json

    from day_trade.observability.structured_logging import render_json

    line = render_json({"a": 1, 2: "b", "nan": float("nan")})
    assert line.endswith("\n")
    assert json.loads(line) == {"a": 1, "2": "b", "nan": None}
