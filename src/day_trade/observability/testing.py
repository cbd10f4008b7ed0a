"""Helpers for the tests of applications that use the library.

    from day_trade.observability.testing import capture_logs, capture_spans

    def test_trade_is_logged():
        with capture_logs() as logs:
            place_order(...)
        assert logs.events[-1]["message"] == "trade_execution"

    def test_trade_is_traced():
        with capture_spans() as spans:
            place_order(...)
        assert [s.name for s in spans.finished()] == ["trade_execution"]
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import _exporter, _hft, _setup, structured_logging, telemetry_config
from ._stats import STATS


class CapturedLogs:
    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    @property
    def lines(self) -> list[str]:
        return [line for line in self._stream.getvalue().splitlines() if line]

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]

    def clear(self) -> None:
        self._stream.seek(0)
        self._stream.truncate()


@contextmanager
def capture_logs(level: str | int = "DEBUG", **pipeline_kwargs: Any) -> Iterator[CapturedLogs]:
    """Send the structured logs to memory (JSON lines, as rendered) inside the block."""
    old = structured_logging._P
    stream = io.StringIO()
    kwargs: dict[str, Any] = {
        "level": level,
        "service": old.service,
        "processors": old.processors,
        "debug_sample_every": 1,
    }
    kwargs.update(pipeline_kwargs)
    structured_logging._P = structured_logging._Pipeline(output=stream, **kwargs)
    try:
        yield CapturedLogs(stream)
    finally:
        structured_logging._P = old


class CapturedSpans:
    """Finished spans of both tracers, as SDK ReadableSpans (an InMemorySpanExporter)."""

    def __init__(self, exporter: Any, resource: Any) -> None:
        self.exporter = exporter
        self.resource = resource

    def finished(self) -> list[Any]:
        """Convert the HFT spans buffered so far, then return every finished span."""
        recs = _hft.drain(1 << 30)
        if recs:
            self.exporter.export(_exporter.convert_spans(recs, self.resource))
        return list(self.exporter.get_finished_spans())

    def by_name(self, name: str) -> list[Any]:
        return [s for s in self.finished() if s.name == name]

    def clear(self) -> None:
        _hft.drain(1 << 30)
        self.exporter.clear()


@contextmanager
def capture_spans(mode: str | None = None) -> Iterator[CapturedSpans]:
    """Capture spans in memory inside the block; the background exporter is paused meanwhile.

    mode: None keeps the current tracing mode; "hft" or "otel" forces one for the block.
    """
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    mem = InMemorySpanExporter()
    rt = _setup.get_runtime()
    old_ring = _hft.buffer()
    old_cap = _hft.buffer_capacity()
    old_mode, old_tracer = telemetry_config._mode, telemetry_config._tracer
    old_span = telemetry_config.trace_span
    # A fresh buffer for the block; the old one (and what it held) is put back afterwards.
    _hft.configure_buffer(old_cap)
    if rt is not None and rt.tracer_provider is not None:
        provider = rt.tracer_provider
        resource = rt.resource
    else:
        provider = TracerProvider()
        resource = provider.resource
    processor = SimpleSpanProcessor(mem)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("day_trade.observability.testing")
    paused = rt.exporter if rt is not None else None
    if paused is not None:
        paused._busy.acquire()  # the exporter thread waits for the lock: it cannot drain ours
    try:
        if mode is not None:
            telemetry_config._configure(mode, tracer)
        elif telemetry_config._mode == "otel":
            telemetry_config._configure("otel", tracer)
        yield CapturedSpans(mem, resource)
    finally:
        if paused is not None:
            paused._busy.release()
        telemetry_config._mode, telemetry_config._tracer = old_mode, old_tracer
        telemetry_config.trace_span = old_span
        # Remove our processor (the SDK has no public API for it).
        try:
            multi = provider._active_span_processor
            multi._span_processors = tuple(p for p in multi._span_processors if p is not processor)
        except AttributeError:
            pass
        ring = _hft.configure_buffer(old_cap)
        ring.extend(old_ring)


def reset_self_metrics() -> None:
    """Zero the library's self-metrics (drops, exports, masked secrets...)."""
    span_depth, log_depth = STATS.span_depth, STATS.log_depth
    STATS.reset()
    STATS.span_depth, STATS.log_depth = span_depth, log_depth


def self_metrics() -> dict[str, object]:
    return STATS.snapshot()
