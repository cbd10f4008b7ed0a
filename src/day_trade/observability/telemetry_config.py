"""Tracing entry points: `telemetry_config.trace_span(name, attributes)`.

`trace_span` is bound at setup: the HFT tracer (default; sub-microsecond spans recorded into a
bounded buffer and exported by a background thread) or, with `hft_tracing=False` /
`DTOBS_HFT_TRACING=0`, the plain OpenTelemetry SDK (`tracer.start_as_current_span`). Call it
through the module (`telemetry_config.trace_span(...)`) so a later setup is picked up.

    from day_trade.observability import telemetry_config
    with telemetry_config.trace_span("trade_execution", {"symbol": "AAPL", "quantity": 100}):
        ...

`trace_span(name, attributes, otel_context=True)` (keyword, default False; the default becomes
True with `initialize_observability(hft_otel_context=True)` / `DTOBS_HFT_OTEL_CONTEXT=1`): the
HFT span is also made the current OpenTelemetry span while it is open (a NonRecordingSpan with
the ids it is exported with), so OTel spans started inside it (auto-instrumented Redis or
SQLAlchemy calls, `tracer.start_as_current_span`) become its children instead of siblings under
the enclosing OTel span. About 2.5 µs per span; spans without it pay nothing. Ignored in
plain OpenTelemetry mode, where spans are OTel spans already.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from opentelemetry import propagate as _propagate
from opentelemetry import trace as _otel_trace

from . import _hft

HftSpan = _hft.HftSpan
ThreadHftSpan = _hft.ThreadHftSpan

# Rebound by initialize_observability(); the HFT tracer until then (its buffer is bounded, so an
# application that never calls setup only fills and then counts drops).
trace_span: Any = _hft.HftSpan

_tracer: Any = None
_mode = "hft"
_hft_context = "contextvar"
_hft_otel_context = False


def _plain_span(name: str, attributes: dict[str, Any] | None = None, otel_context: bool = False) -> Any:
    """trace_span in plain OpenTelemetry mode (`otel_context` is moot: it is an OTel span)."""
    tracer = _tracer or _otel_trace.get_tracer("day_trade.observability")
    return tracer.start_as_current_span(name, attributes=attributes)


def _configure(mode: str, tracer: Any, context: str = "contextvar", otel_context: bool = False) -> None:
    """Bind trace_span (setup only): mode "hft" or "otel"; context "contextvar" or "thread";
    otel_context: the default of trace_span's `otel_context` in HFT mode."""
    global trace_span, _tracer, _mode, _hft_context, _hft_otel_context
    _tracer = tracer
    _mode = mode
    _hft_context, _hft_otel_context = context, bool(otel_context)
    if mode == "otel":
        trace_span = _plain_span
    else:
        trace_span = _hft.span_class(context, bool(otel_context))


def tracing_mode() -> str:
    return _mode


def get_tracer(name: str = "day_trade") -> Any:
    """An OpenTelemetry tracer from the library's provider (for code outside the hot path)."""
    if _tracer is not None and name == "day_trade":
        return _tracer
    return _otel_trace.get_tracer(name)


def current_trace_ids() -> tuple[str, str] | None:
    """(trace_id, span_id) in hex of the current span, HFT or OpenTelemetry; None outside one."""
    tid, sid = _hft.current_ids()
    if not tid:
        return None
    return f"{tid:032x}", f"{sid:016x}"


def inject_context(carrier: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """W3C `traceparent` (+ baggage) of the current span into `carrier` (outgoing requests).

    The current HFT span is propagated too, so a downstream service continues the same trace.
    """
    carrier = {} if carrier is None else carrier
    try:
        sc = _hft.current_span_context()
        ctx = None
        if sc is not None and _hft.current_hft_span() is not None:
            ctx = _otel_trace.set_span_in_context(_otel_trace.NonRecordingSpan(sc))
        _propagate.inject(carrier, context=ctx)
    except Exception:  # noqa: BLE001 - never raise into the app
        pass
    return carrier


def extract_context(carrier: MutableMapping[str, str]) -> Any:
    """OpenTelemetry Context from incoming W3C headers (attach it, or pass it as `context=`)."""
    try:
        return _propagate.extract(carrier)
    except Exception:  # noqa: BLE001
        return None
