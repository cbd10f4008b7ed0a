"""HFT tracer: parent/child links with OpenTelemetry spans, buffer overflow, errors, modes."""

from __future__ import annotations

import asyncio
import threading

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from day_trade.observability import _hft, telemetry_config
from day_trade.observability._stats import STATS
from day_trade.observability.testing import capture_spans


def test_nested_hft_spans_share_trace_and_link_parents():
    with capture_spans("hft") as spans:
        with telemetry_config.trace_span("order", {"symbol": "AAPL"}) as outer:
            with telemetry_config.trace_span("risk_check"):
                pass
            with telemetry_config.trace_span("route"):
                pass
        got = {s.name: s for s in spans.finished()}
    assert set(got) == {"order", "risk_check", "route"}
    order = got["order"]
    assert order.parent is None
    assert order.context.trace_id == outer.trace_id
    for child in ("risk_check", "route"):
        assert got[child].context.trace_id == order.context.trace_id
        assert got[child].parent.span_id == order.context.span_id
    assert got["risk_check"].context.span_id != got["route"].context.span_id
    assert order.start_time <= got["risk_check"].start_time <= got["risk_check"].end_time <= order.end_time


def test_hft_span_is_child_of_current_otel_span():
    """An HFT root opened inside an OpenTelemetry span (e.g. an instrumented request)."""
    mem = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(mem))
    tracer = provider.get_tracer("test")
    with capture_spans("hft") as spans:
        with tracer.start_as_current_span("POST /orders") as request:
            with telemetry_config.trace_span("trade_execution"):
                with telemetry_config.trace_span("send_to_exchange"):
                    pass
        hft = {s.name: s for s in spans.finished()}
    req = mem.get_finished_spans()[0]
    assert req.context.span_id == request.get_span_context().span_id
    trade, send = hft["trade_execution"], hft["send_to_exchange"]
    assert trade.context.trace_id == req.context.trace_id
    assert trade.parent.span_id == req.context.span_id
    assert send.parent.span_id == trade.context.span_id
    assert send.context.trace_id == req.context.trace_id


def test_span_ids_unique_and_nonzero():
    with capture_spans("hft") as spans:
        for _ in range(2000):
            with telemetry_config.trace_span("t"):
                pass
        finished = spans.finished()
    ids = {s.context.span_id for s in finished}
    assert len(ids) == 2000 and 0 not in ids
    assert len({s.context.trace_id for s in finished}) == 2000


def test_exception_sets_error_status_and_is_not_swallowed():
    with capture_spans("hft") as spans:
        with pytest.raises(ValueError):
            with telemetry_config.trace_span("bad"):
                raise ValueError("rejected by exchange")
        (span,) = spans.finished()
    assert span.status.status_code is StatusCode.ERROR
    assert "rejected by exchange" in span.status.description
    assert span.events[0].name == "exception"


def test_set_status_and_attributes_after_start():
    with capture_spans("hft") as spans:
        with telemetry_config.trace_span("t") as span:
            span.set_attribute("venue", "XNAS")
            span.set_attribute("fill", {"not": "primitive"})
            span.set_status(False, "partial fill")
        (s,) = spans.finished()
    assert s.attributes["venue"] == "XNAS"
    assert isinstance(s.attributes["fill"], str)
    assert s.status.status_code is StatusCode.ERROR


def test_buffer_full_drops_and_counts_without_blocking():
    _hft.configure_buffer(100)
    for _ in range(250):
        with telemetry_config.trace_span("t"):
            pass
    assert len(_hft.buffer()) == 100
    assert STATS.spans_dropped == 150
    # the current span was restored on every exit, even for dropped spans
    assert _hft.current_hft_span() is None


def test_context_is_restored_and_threads_are_independent():
    seen = {}

    def worker(name):
        with telemetry_config.trace_span(name) as s:
            seen[name] = _hft.current_hft_span() is s

    with telemetry_config.trace_span("main") as main_span:
        threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert _hft.current_hft_span() is main_span
    assert all(seen.values()) and len(seen) == 4
    assert _hft.current_hft_span() is None


def test_asyncio_tasks_get_their_own_parent():
    async def leg(name):
        with telemetry_config.trace_span(name):
            await asyncio.sleep(0)
            with telemetry_config.trace_span(name + ".inner"):
                await asyncio.sleep(0)

    async def main():
        with telemetry_config.trace_span("request"):
            await asyncio.gather(leg("a"), leg("b"))

    with capture_spans("hft") as spans:
        asyncio.run(main())
        got = {s.name: s for s in spans.finished()}
    assert got["a.inner"].parent.span_id == got["a"].context.span_id
    assert got["b.inner"].parent.span_id == got["b"].context.span_id
    assert got["a"].parent.span_id == got["request"].context.span_id


def test_thread_context_mode_links_parents():
    with capture_spans() as spans:
        telemetry_config._configure("hft", None, context="thread")
        with telemetry_config.trace_span("outer"):
            with telemetry_config.trace_span("inner"):
                pass
        got = {s.name: s for s in spans.finished()}
    assert got["inner"].parent.span_id == got["outer"].context.span_id


def test_plain_otel_mode_uses_the_sdk():
    with capture_spans("otel") as spans:
        with telemetry_config.trace_span("trade_execution", {"symbol": "AAPL"}):
            with telemetry_config.trace_span("child"):
                pass
        got = {s.name: s for s in spans.finished()}
    assert got["child"].parent.span_id == got["trade_execution"].context.span_id
    assert got["trade_execution"].instrumentation_scope.name != "day_trade.observability.hft"


def test_inject_context_propagates_the_hft_span():
    with telemetry_config.trace_span("t") as s:
        headers = telemetry_config.inject_context({})
    assert headers["traceparent"] == f"00-{s.trace_id:032x}-{s.span_id:016x}-01"
    assert telemetry_config.current_trace_ids() is None
