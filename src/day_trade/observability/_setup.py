"""initialize_observability(): resource, tracer provider, propagators, exporters, endpoint, logs."""

from __future__ import annotations

import importlib
import logging
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from . import _hft, metrics, structured_logging, telemetry_config
from ._exporter import BackgroundExporter
from ._settings import Settings
from ._stats import STATS

_log = logging.getLogger("day_trade.observability")
_lock = threading.Lock()

_INSTRUMENTORS = {
    "fastapi": ("opentelemetry.instrumentation.fastapi", "FastAPIInstrumentor"),
    "sqlalchemy": ("opentelemetry.instrumentation.sqlalchemy", "SQLAlchemyInstrumentor"),
    "redis": ("opentelemetry.instrumentation.redis", "RedisInstrumentor"),
}


@dataclass
class Runtime:
    """What initialize_observability() set up (returned to the caller, kept for shutdown)."""

    settings: Settings
    resource: Any = None
    tracer_provider: Any = None
    tracer: Any = None
    exporter: BackgroundExporter | None = None
    metrics_server: metrics.MetricsServer | None = None
    instrumented: list[str] = field(default_factory=list)
    stdlib_handler: logging.Handler | None = None
    _batch_processor: Any = None

    @property
    def metrics_port(self) -> int | None:
        return self.metrics_server.port if self.metrics_server and self.metrics_server._server else None

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Export everything buffered now (bounded). True when everything was delivered."""
        ok = True
        if self.exporter is not None:
            ok = self.exporter.flush(timeout_s)
        if self._batch_processor is not None:
            try:
                ok = self._batch_processor.force_flush(int(timeout_s * 1000)) and ok
            except Exception:  # noqa: BLE001
                ok = False
        structured_logging.flush_logs()
        return ok

    def shutdown(self, timeout_s: float = 2.0) -> None:
        if self.exporter is not None:
            self.exporter.shutdown(timeout_s)
            self.exporter = None
        if self.metrics_server is not None:
            self.metrics_server.stop(timeout_s)
            self.metrics_server = None
        if self.tracer_provider is not None:
            try:
                self.tracer_provider.shutdown()
            except Exception:  # noqa: BLE001
                pass
        if self.stdlib_handler is not None:
            logging.getLogger().removeHandler(self.stdlib_handler)
            self.stdlib_handler = None
        structured_logging.flush_logs()


_runtime: Runtime | None = None


def _resource(s: Settings) -> Any:
    from opentelemetry.sdk.resources import Resource

    attrs = {
        "service.name": s.service_name,
        "service.version": s.service_version,
        "deployment.environment": s.environment,
        "deployment.environment.name": s.environment,
        "host.name": socket.gethostname(),
        **s.extra_resource_attributes,
    }
    # Resource.create() also merges OTEL_RESOURCE_ATTRIBUTES; our explicit values win.
    return Resource.create(attrs)


def _propagators() -> None:
    from opentelemetry.baggage.propagation import W3CBaggagePropagator
    from opentelemetry.propagate import set_global_textmap
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    set_global_textmap(CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()]))


def _auto_instrument(tracer_provider: Any) -> list[str]:
    done = []
    for name, (module, cls) in _INSTRUMENTORS.items():
        try:
            mod = importlib.import_module(module)
        except Exception:  # noqa: BLE001 - absent extra: nothing to do
            continue
        try:
            inst = getattr(mod, cls)()
            if not getattr(inst, "is_instrumented_by_opentelemetry", False):
                inst.instrument(tracer_provider=tracer_provider)
            done.append(name)
        except Exception as exc:  # noqa: BLE001
            _log.warning("auto-instrumentation of %s failed: %s", name, exc)
    return done


def initialize_observability(service_name: str | None = None, **settings: Any) -> Runtime | None:
    """Set up tracing, metrics and logs for `service_name`; never raises, returns the Runtime.

    Keyword settings (see `Settings`; each also has a DTOBS_*/OTEL_* variable): service_version,
    environment, otlp_endpoint, export_enabled, hft_tracing, hft_context ("contextvar" or
    "thread"), hft_otel_context (OTel spans opened inside an HFT span become its children; the
    default of trace_span's `otel_context`), span_buffer_size, metrics_port (-1 off, 0 any free port), log_level, log_output,
    log_otlp, debug_sample_every, trade_log_max_per_second, capture_stdlib_logging,
    auto_instrument, processors (extra log processors). Calling it again replaces the previous
    setup.
    """
    global _runtime
    with _lock:
        try:
            hft_context = settings.pop("hft_context", "contextvar")
            processors = settings.pop("processors", None)
            span_exporter_override = settings.pop("span_exporter", None)
            s = Settings.from_env(service_name, **settings)
            if _runtime is not None:
                _runtime.shutdown()
                _runtime = None
            rt = Runtime(settings=s)
            _setup(rt, s, hft_context, processors, span_exporter_override)
            _runtime = rt
            return rt
        except Exception:  # noqa: BLE001 - setup problems are logged, never raised into the app
            STATS.api_errors += 1
            _log.exception("initialize_observability failed; telemetry is degraded")
            return None


def _setup(rt: Runtime, s: Settings, hft_context: str, processors: Any, span_exporter_override: Any) -> None:
    from opentelemetry import trace as otel_trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    rt.resource = _resource(s)
    _propagators()
    _hft.reanchor_clock()
    _hft.configure_buffer(s.span_buffer_size)

    provider = TracerProvider(resource=rt.resource)
    span_exporter = span_exporter_override
    log_exporter = None
    if span_exporter is None and s.export_enabled:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        span_exporter = OTLPSpanExporter(endpoint=s.endpoint("traces"), timeout=s.export_timeout_s)
    if s.export_enabled and s.log_otlp:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        log_exporter = OTLPLogExporter(endpoint=s.endpoint("logs"), timeout=s.export_timeout_s)
    if span_exporter is not None:
        # Plain OTel spans (auto-instrumentation, hft_tracing=False) take the SDK's batch path,
        # with their own exporter instance so a slow export of one path never stalls the other.
        plain_exporter = span_exporter
        if span_exporter_override is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            plain_exporter = OTLPSpanExporter(endpoint=s.endpoint("traces"), timeout=s.export_timeout_s)
        rt._batch_processor = BatchSpanProcessor(plain_exporter)
        provider.add_span_processor(rt._batch_processor)
    rt.tracer_provider = provider
    rt.tracer = provider.get_tracer("day_trade.observability", "0.1.0")
    if isinstance(otel_trace.get_tracer_provider(), otel_trace.ProxyTracerProvider):
        otel_trace.set_tracer_provider(provider)
    telemetry_config._configure(
        "hft" if s.hft_tracing else "otel", rt.tracer, hft_context, otel_context=s.hft_otel_context
    )

    # Logs: pipeline + bounded OTLP queue.
    log_queue: deque[Any] | None = deque() if log_exporter is not None else None
    structured_logging.configure_logging(
        level=s.log_level,
        service=s.service_name,
        output=s.log_output,
        processors=processors,
        otlp_queue=log_queue,
        otlp_cap=s.log_buffer_size,
        debug_sample_every=s.debug_sample_every,
        trade_max_per_second=s.trade_log_max_per_second,
    )
    STATS.log_depth = log_queue.__len__ if log_queue is not None else (lambda: 0)
    if s.capture_stdlib_logging:
        handler = structured_logging.StructuredHandler()
        logging.getLogger().addHandler(handler)
        rt.stdlib_handler = handler

    if span_exporter is not None or log_exporter is not None:
        rt.exporter = BackgroundExporter(
            resource=rt.resource,
            span_exporter=span_exporter,
            log_exporter=log_exporter,
            log_drain=structured_logging.drain_queue(log_queue) if log_queue is not None else None,
            log_convert=structured_logging.make_log_converter(rt.resource) if log_queue is not None else None,
            log_depth=log_queue.__len__ if log_queue is not None else (lambda: 0),
            batch_size=s.export_batch_size,
            interval_s=s.export_interval_s,
            backoff_initial_s=s.export_backoff_initial_s,
            backoff_max_s=s.export_backoff_max_s,
        )
        rt.exporter.start()

    if s.metrics_port >= 0:
        rt.metrics_server = metrics.MetricsServer(s.metrics_host, s.metrics_port)
        if rt.metrics_server.start() is None:
            rt.metrics_server = None

    if s.auto_instrument:
        rt.instrumented = _auto_instrument(provider)


def get_runtime() -> Runtime | None:
    return _runtime


def shutdown_observability(timeout_s: float = 2.0) -> None:
    """Flush (bounded) and stop the exporter thread and the metrics endpoint; never raises."""
    global _runtime
    with _lock:
        try:
            if _runtime is not None:
                _runtime.shutdown(timeout_s)
        except Exception:  # noqa: BLE001
            _log.exception("shutdown_observability failed")
        finally:
            _runtime = None


def flush(timeout_s: float = 5.0) -> bool:
    rt = _runtime
    return rt.flush(timeout_s) if rt is not None else True
