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
    old_flavour = telemetry_config._hft_context, telemetry_config._hft_otel_context
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
        if mode is not None:  # the configured HFT flavour (context, otel_context) is kept
            telemetry_config._configure(mode, tracer, *old_flavour)
        elif telemetry_config._mode == "otel":
            telemetry_config._configure("otel", tracer)
        yield CapturedSpans(mem, resource)
    finally:
        if paused is not None:
            paused._busy.release()
        telemetry_config._mode, telemetry_config._tracer = old_mode, old_tracer
        telemetry_config._hft_context, telemetry_config._hft_otel_context = old_flavour
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


class OtlpSink:
    """A loopback OTLP/HTTP receiver (protobuf) counting what it gets: a stand-in collector.

        with OtlpSink() as sink:                       # 127.0.0.1, a free port
            initialize_observability("t", otlp_endpoint=sink.endpoint)
            ...
            sink.wait_for_spans(10, timeout_s=5)

    keep=True stores the decoded spans (`sink.spans`: dicts with name, trace_id, span_id,
    parent_span_id, attributes) and log records (`sink.logs`); counting only is cheaper.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, keep: bool = True) -> None:
        import http.server
        import threading

        self.keep = keep
        self.span_count = 0
        self.log_count = 0
        self.requests = 0
        self.spans: list[dict[str, Any]] = []
        self.logs: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                if self.headers.get("Content-Encoding") == "gzip":
                    import gzip

                    body = gzip.decompress(body)
                try:
                    sink._ingest(self.path, body)
                    code = 200
                except Exception:  # noqa: BLE001
                    code = 400
                self.send_response(code)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = http.server.ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        """Base URL for `otlp_endpoint=` (the exporters append /v1/traces, /v1/logs)."""
        return f"http://{self.host}:{self.port}"

    def _ingest(self, path: str, body: bytes) -> None:
        if path.endswith("/v1/traces"):
            from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

            req = ExportTraceServiceRequest()
            req.ParseFromString(body)
            got = []
            n = 0
            for rs in req.resource_spans:
                res = {kv.key: _any_value(kv.value) for kv in rs.resource.attributes}
                for ss in rs.scope_spans:
                    n += len(ss.spans)
                    if self.keep:
                        for sp in ss.spans:
                            got.append(
                                {
                                    "name": sp.name,
                                    "trace_id": sp.trace_id.hex(),
                                    "span_id": sp.span_id.hex(),
                                    "parent_span_id": sp.parent_span_id.hex(),
                                    "attributes": {kv.key: _any_value(kv.value) for kv in sp.attributes},
                                    "status_code": sp.status.code,
                                    "resource": res,
                                }
                            )
            with self._cond:
                self.requests += 1
                self.span_count += n
                self.spans.extend(got)
                self._cond.notify_all()
        elif path.endswith("/v1/logs"):
            from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

            req = ExportLogsServiceRequest()
            req.ParseFromString(body)
            got = []
            n = 0
            for rl in req.resource_logs:
                for sl in rl.scope_logs:
                    n += len(sl.log_records)
                    if self.keep:
                        for lr in sl.log_records:
                            got.append(
                                {
                                    "body": _any_value(lr.body),
                                    "severity_text": lr.severity_text,
                                    "trace_id": lr.trace_id.hex(),
                                    "span_id": lr.span_id.hex(),
                                    "attributes": {kv.key: _any_value(kv.value) for kv in lr.attributes},
                                }
                            )
            with self._cond:
                self.requests += 1
                self.log_count += n
                self.logs.extend(got)
                self._cond.notify_all()
        else:
            raise ValueError(path)

    def wait_for_spans(self, n: int, timeout_s: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.span_count >= n, timeout=timeout_s)

    def wait_for_logs(self, n: int, timeout_s: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.log_count >= n, timeout=timeout_s)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(2.0)

    def __enter__(self) -> OtlpSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _any_value(v: Any) -> Any:
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    val = getattr(v, kind)
    if kind == "array_value":
        return [_any_value(x) for x in val.values]
    if kind == "kvlist_value":
        return {kv.key: _any_value(kv.value) for kv in val.values}
    return val


def free_loopback_port() -> int:
    """A loopback port with nothing listening (bound then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
