"""trace_span(..., otel_context=True): OpenTelemetry spans opened inside an HFT span are its children."""

from __future__ import annotations

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from day_trade.observability import _hft, initialize_observability, telemetry_config
from day_trade.observability._settings import Settings
from day_trade.observability._stats import STATS
from day_trade.observability.testing import capture_spans


@pytest.fixture()
def otel():
    """A separate SDK provider for the 'instrumented library' spans, with its own memory."""
    mem = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(mem))
    return provider.get_tracer("redis-like"), mem


def _by_name(spans):
    return {s.name: s for s in spans}


def test_otel_span_inside_is_child_of_the_exported_hft_span(otel):
    tracer, mem = otel
    with capture_spans("hft") as spans:
        with telemetry_config.trace_span("trade_execution", {"symbol": "AAPL"}, otel_context=True) as trade:
            with tracer.start_as_current_span("redis GET"):
                pass
            with telemetry_config.trace_span("risk_check"):
                with tracer.start_as_current_span("SELECT limits"):
                    pass
        hft = _by_name(spans.finished())
    assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN
    got = _by_name(mem.get_finished_spans())
    exported = hft["trade_execution"]
    assert exported.parent is None  # an HFT-rooted trace, as without the flag
    assert exported.context.span_id == trade.span_id
    for name in ("redis GET", "SELECT limits"):
        # the attached context is the outer span's: a plain HFT child does not attach one
        assert got[name].parent.span_id == exported.context.span_id
        assert got[name].context.trace_id == exported.context.trace_id
        assert got[name].parent.trace_flags.sampled
    assert hft["risk_check"].parent.span_id == exported.context.span_id


def test_hft_parent_linkage_is_unchanged_inside_a_request(otel):
    tracer, mem = otel
    with capture_spans("hft") as spans:
        with tracer.start_as_current_span("POST /orders") as request:
            with telemetry_config.trace_span("trade_execution", otel_context=True):
                with telemetry_config.trace_span("send_to_exchange", otel_context=True):
                    with tracer.start_as_current_span("redis SET"):
                        pass
            assert otel_trace.get_current_span() is request
        hft = _by_name(spans.finished())
    got = _by_name(mem.get_finished_spans())
    req, trade, send = got["POST /orders"], hft["trade_execution"], hft["send_to_exchange"]
    assert trade.parent.span_id == req.context.span_id
    assert trade.context.trace_id == req.context.trace_id
    assert send.parent.span_id == trade.context.span_id
    assert got["redis SET"].parent.span_id == send.context.span_id
    assert got["redis SET"].context.trace_id == req.context.trace_id


def test_without_the_flag_otel_spans_attach_to_the_enclosing_otel_span(otel):
    tracer, mem = otel
    with capture_spans("hft") as spans:
        with tracer.start_as_current_span("POST /orders"):
            with telemetry_config.trace_span("trade_execution") as trade:
                assert type(trade) is _hft.HftSpan
                with tracer.start_as_current_span("redis GET"):
                    pass
        with telemetry_config.trace_span("lonely"):
            with tracer.start_as_current_span("root GET"):
                pass
        spans.finished()
    got = _by_name(mem.get_finished_spans())
    assert got["redis GET"].parent.span_id == got["POST /orders"].context.span_id
    assert got["root GET"].parent is None


def test_exception_inside_still_detaches(otel):
    tracer, mem = otel
    with capture_spans("hft") as spans:
        with tracer.start_as_current_span("POST /orders") as request:
            with pytest.raises(ValueError):
                with telemetry_config.trace_span("trade_execution", otel_context=True):
                    with tracer.start_as_current_span("redis GET"):
                        raise ValueError("rejected")
            assert otel_trace.get_current_span() is request
            assert _hft.current_hft_span() is None
        with pytest.raises(KeyError):
            with telemetry_config.trace_span("root", otel_context=True):
                raise KeyError("x")
        assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN
        hft = _by_name(spans.finished())
    assert hft["trade_execution"].status.status_code is StatusCode.ERROR
    redis = _by_name(mem.get_finished_spans())["redis GET"]
    assert redis.parent.span_id == hft["trade_execution"].context.span_id
    assert STATS.api_errors == 0


def test_thread_context_mode_supports_the_flag(otel):
    tracer, mem = otel
    with capture_spans() as spans:
        telemetry_config._configure("hft", None, context="thread")
        with telemetry_config.trace_span("outer", otel_context=True) as outer:
            assert isinstance(outer, _hft.ThreadHftSpan)
            with telemetry_config.trace_span("inner"):
                with tracer.start_as_current_span("redis GET"):
                    pass
        hft = _by_name(spans.finished())
    assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN
    assert hft["inner"].parent.span_id == hft["outer"].context.span_id
    assert _by_name(mem.get_finished_spans())["redis GET"].parent.span_id == hft["outer"].context.span_id


def test_attach_and_detach_failures_are_counted_not_raised(otel, monkeypatch):
    tracer, mem = otel

    def boom(*_a):
        raise RuntimeError("context runtime broken")

    with capture_spans("hft") as spans:
        monkeypatch.setattr(_hft, "_otel_attach", boom)
        with telemetry_config.trace_span("a", otel_context=True):
            pass
        monkeypatch.undo()
        real_detach = _hft._otel_detach

        def detach_then_boom(token):
            real_detach(token)  # do not leak the context into the next tests
            boom()

        monkeypatch.setattr(_hft, "_otel_detach", detach_then_boom)
        with telemetry_config.trace_span("b", otel_context=True):
            pass
        monkeypatch.undo()
        assert [s.name for s in spans.finished()] == ["a", "b"]
    assert STATS.api_errors == 2
    assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN
    assert _hft.current_hft_span() is None


def test_global_setting_and_per_span_opt_out(monkeypatch, quick_export):
    monkeypatch.setenv("DTOBS_HFT_OTEL_CONTEXT", "1")
    assert Settings.from_env().hft_otel_context is True
    monkeypatch.delenv("DTOBS_HFT_OTEL_CONTEXT")
    assert Settings.from_env().hft_otel_context is False

    rt = initialize_observability("t", hft_otel_context=True, export_enabled=False, **quick_export)
    assert rt is not None and rt.settings.hft_otel_context
    with capture_spans("hft"):  # forcing HFT mode keeps the configured flavour
        with telemetry_config.trace_span("linked") as linked:
            assert otel_trace.get_current_span().get_span_context() == _hft.span_context_of(linked)
        with telemetry_config.trace_span("plain", otel_context=False) as plain:
            assert type(plain) is _hft.HftSpan
            assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN


def test_plain_otel_mode_accepts_the_keyword():
    with capture_spans("otel") as spans:
        with telemetry_config.trace_span("t", {"k": 1}, otel_context=True):
            pass
        assert [s.name for s in spans.finished()] == ["t"]
