"""Structured JSON logs: a fast logger of our own plus a stdlib `logging` Handler/Formatter pair.

Every record is one JSON object per line with: `timestamp` (UTC, ns precision), `level`,
`service`, `logger`, `message`, `trace_id`/`span_id` of the current span (HFT or
OpenTelemetry), `correlation_id` (from `correlation_context` or an incoming
`X-Correlation-ID` header), then the fields. A processor chain (structlog style: each processor
takes `(logger_name, level_name, event_dict)` and returns the dict, or None to drop it) is
settled at setup into a tuple; the default chain masks secrets. Debug records can be sampled
(1 in N) and trade records rate limited (N per second); what is dropped is counted in
dtobs_logs_dropped_total{reason}. Records also go, bounded and off the hot path, to the OTLP logs
pipeline when export is on.

Configuration is resolved at setup into one `_Pipeline` object that the loggers read; setup
rebinds it as a whole, so a logger never sees half a configuration.
"""

from __future__ import annotations

import contextvars
import io
import json
import logging
import math
import sys
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TextIO

from . import _hft, _masking, metrics
from ._stats import STATS

DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50
LEVEL_NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARNING: "WARNING", ERROR: "ERROR", CRITICAL: "CRITICAL"}
_NAME_TO_LEVEL = {v: k for k, v in LEVEL_NAMES.items()} | {"WARN": WARNING, "FATAL": CRITICAL}
CORRELATION_HEADER = "X-Correlation-ID"
_FALLBACK_HEADERS = ("x-correlation-id", "x-request-id", "correlation-id", "request-id")

Processor = Callable[[str, str, dict[str, Any]], "dict[str, Any] | None"]

# ---------------------------------------------------------------------------------------------
# Correlation ids

_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar("dtobs_correlation_id", default=None)
_corr_get = _correlation.get


class correlation_context:  # noqa: N801 - used like a function: `with correlation_context(id):`
    """Make `correlation_id` (a new uuid4 hex when None) current for the records inside."""

    __slots__ = ("correlation_id", "_token")

    def __init__(self, correlation_id: str | None = None) -> None:
        if correlation_id is None or correlation_id == "":
            correlation_id = uuid.uuid4().hex
        self.correlation_id = str(correlation_id)[:128]

    def __enter__(self) -> str:
        self._token = _correlation.set(self.correlation_id)
        return self.correlation_id

    def __exit__(self, *exc: object) -> bool:
        try:
            _correlation.reset(self._token)
        except ValueError:  # exited in another context: restore "none" instead of raising
            _correlation.set(None)
        return False


def get_correlation_id() -> str | None:
    return _corr_get()


def correlation_id_from_headers(headers: Mapping[str, str] | Iterable[tuple[Any, Any]] | None) -> str | None:
    """The correlation id an incoming request carries (X-Correlation-ID, then X-Request-ID)."""
    if not headers:
        return None
    try:
        items = headers.items() if hasattr(headers, "items") else headers  # type: ignore[union-attr]
        lowered = {}
        for k, v in items:
            k = k.decode("latin-1") if isinstance(k, bytes) else str(k)
            v = v.decode("latin-1") if isinstance(v, bytes) else str(v)
            lowered[k.lower()] = v
    except Exception:  # noqa: BLE001
        STATS.api_errors += 1
        return None
    for name in _FALLBACK_HEADERS:
        v = lowered.get(name)
        if v:
            return v.strip()[:128]
    return None


def correlation_context_from_headers(headers: Any) -> correlation_context:
    """`with correlation_context_from_headers(request.headers): ...` (new id when absent)."""
    return correlation_context(correlation_id_from_headers(headers))


class CorrelationIdMiddleware:
    """Pure ASGI middleware: X-Correlation-ID in -> correlation context -> X-Correlation-ID out."""

    def __init__(self, app: Any, header: str = CORRELATION_HEADER) -> None:
        self.app = app
        self.header = header.lower().encode("latin-1")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        cid = correlation_id_from_headers(scope.get("headers") or ()) or uuid.uuid4().hex
        header = self.header

        async def send_with_header(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(header, cid.encode("latin-1", "replace"))]
            await send(message)

        with correlation_context(cid):
            await self.app(scope, receive, send_with_header)


# ---------------------------------------------------------------------------------------------
# Timestamps: ISO 8601 UTC with nanoseconds, the seconds part cached.

_ts_cache: tuple[int, str] = (-1, "")


def iso_ns(ns: int) -> str:
    global _ts_cache
    sec, frac = divmod(ns, 1_000_000_000)
    cached = _ts_cache
    if cached[0] != sec:
        cached = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
        _ts_cache = cached
    return f"{cached[1]}.{frac:09d}Z"


# ---------------------------------------------------------------------------------------------
# Rendering

try:  # the C string escaper of the stdlib json module
    from json.encoder import encode_basestring_ascii as _enc_str  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    _enc_str = json.dumps  # type: ignore[assignment]

_key_cache: dict[str, str] = {}


def _enc_key(k: str) -> str:
    e = _key_cache.get(k)
    if e is None:
        e = _enc_str(str(k)) + ":"
        if len(_key_cache) < 4096:
            _key_cache[k] = e
    return e


def _json_default(o: Any) -> Any:
    return str(o)


def render_json_stdlib(event: dict[str, Any]) -> str:
    """One JSON line (with its newline), stdlib only. Primitives inline, others via json."""
    parts = []
    append = parts.append
    for k, v in event.items():
        t = type(v)
        if t is str:
            append(_key_cache.get(k) or _enc_key(k))
            append(_enc_str(v))
        elif t is int:
            append(_key_cache.get(k) or _enc_key(k))
            append(int.__repr__(v))
        elif t is float:
            append(_key_cache.get(k) or _enc_key(k))
            append(float.__repr__(v) if v - v == 0.0 else "null")
        elif v is None or t is bool:
            append(_key_cache.get(k) or _enc_key(k))
            append("null" if v is None else ("true" if v else "false"))
        else:
            append(_key_cache.get(k) or _enc_key(k))
            try:
                append(json.dumps(v, default=_json_default, ensure_ascii=True, allow_nan=False))
            except ValueError:
                append(_enc_str(str(v)))
        append(",")
    if parts:
        parts[-1] = "}\n"
        return "{" + "".join(parts)
    return "{}\n"


try:  # orjson when installed (the `dev` extra has it): ~10x faster than the stdlib encoders
    import orjson as _orjson

    # No OPT_NON_STR_KEYS: it costs ~160 ns a line and keys are str by construction (keyword
    # arguments); a record with another key type falls back to the stdlib renderer below.
    _OR_OPTS = _orjson.OPT_APPEND_NEWLINE

    def render_json(event: dict[str, Any]) -> str:
        """One JSON line (with its newline), via orjson; NaN/inf become null."""
        try:
            return _orjson.dumps(event, default=_json_default, option=_OR_OPTS).decode()
        except TypeError:
            return render_json_stdlib(event)

    JSON_RENDERER = "orjson"
except ImportError:  # pragma: no cover - depends on the environment
    render_json = render_json_stdlib
    JSON_RENDERER = "stdlib"


# ---------------------------------------------------------------------------------------------
# Processors (structlog style)


def mask_secrets(logger_name: str, level: str, event: dict[str, Any]) -> dict[str, Any]:
    """Processor: mask card numbers (Luhn-valid), JWTs, passwords, tokens, API keys everywhere.

    The pipeline already masks the message and the fields of every call before the chain runs
    (`mask=True`, the default); add this processor after your own processors that inject text.
    """
    return _masking.mask_fields(event)


def add_fields(**static: Any) -> Processor:
    """Processor factory: add constant fields (e.g. region, pod) to every record."""

    def add(logger_name: str, level: str, event: dict[str, Any]) -> dict[str, Any]:
        for k, v in static.items():
            event.setdefault(k, v)
        return event

    return add


def drop_below(level: int | str) -> Processor:
    """Processor factory: drop records below `level` (for chains on stdlib handlers)."""
    threshold = _level_no(level)

    def drop(logger_name: str, level_name: str, event: dict[str, Any]) -> dict[str, Any] | None:
        return event if _NAME_TO_LEVEL.get(level_name, INFO) >= threshold else None

    return drop


DEFAULT_PROCESSORS: tuple[Processor, ...] = ()


# ---------------------------------------------------------------------------------------------
# Pipeline


class _Pipeline:
    __slots__ = (
        "min_level",
        "service",
        "processors",
        "render",
        "write",
        "flush",
        "otlp_queue",
        "otlp_cap",
        "debug_every",
        "debug_n",
        "trade_max_per_s",
        "trade_window",
        "trade_count",
        "stream",
        "mask",
        "_owned_file",
    )

    def __init__(
        self,
        *,
        level: int | str = INFO,
        service: str = "day-trade-app",
        output: str | TextIO | None = "stderr",
        processors: Iterable[Processor] | None = None,
        renderer: Callable[[dict[str, Any]], str] = render_json,
        otlp_queue: deque[Any] | None = None,
        otlp_cap: int = 8192,
        debug_sample_every: int = 1,
        trade_max_per_second: int = 0,
        mask: bool = True,
    ) -> None:
        self.mask = bool(mask)
        self.min_level = _level_no(level)
        self.service = service
        self.processors = tuple(DEFAULT_PROCESSORS if processors is None else processors)
        self.render = renderer
        self._owned_file: TextIO | None = None
        self.stream = self._open(output)
        self.write = self.stream.write if self.stream is not None else None
        self.flush = self.stream.flush if self.stream is not None else (lambda: None)
        self.otlp_queue = otlp_queue
        self.otlp_cap = max(1, int(otlp_cap))
        self.debug_every = max(1, int(debug_sample_every))
        self.debug_n = 0
        self.trade_max_per_s = max(0, int(trade_max_per_second))
        self.trade_window = -1
        self.trade_count = 0

    def _open(self, output: str | TextIO | None) -> TextIO | None:
        if output is None or output == "none":
            return None
        if not isinstance(output, str):
            return output
        if output == "stderr":
            return sys.stderr
        if output == "stdout":
            return sys.stdout
        try:
            f = open(output, "a", encoding="utf-8", buffering=1 << 16)  # noqa: SIM115 - owned, closed on close()
        except OSError as exc:
            logging.getLogger("day_trade.observability").warning("log file %s: %s; using stderr", output, exc)
            return sys.stderr
        self._owned_file = f
        return f

    def close(self) -> None:
        if self._owned_file is not None:
            try:
                self._owned_file.close()
            except Exception:  # noqa: BLE001
                pass


def _level_no(level: int | str) -> int:
    if isinstance(level, int):
        return level
    return _NAME_TO_LEVEL.get(str(level).upper(), INFO)


_P = _Pipeline()


def configure_logging(**kwargs: Any) -> None:
    """Settle the log pipeline (level, output, processors, sampling...). Called by setup."""
    global _P
    old = _P
    _P = _Pipeline(**kwargs)
    if old is not _P:
        try:
            old.flush()
        except Exception:  # noqa: BLE001
            pass
        old.close()


def pipeline() -> _Pipeline:
    return _P


def flush_logs() -> None:
    try:
        _P.flush()
    except Exception:  # noqa: BLE001
        pass


_cur_span = _hft._cur_get
_tls = _hft._tls
_otel_ctx_get = _hft._otel_ctx_get
_SPAN_KEY = _hft._SPAN_KEY
_trace_id_of = _hft.trace_id_of
_span_id_of = _hft.span_id_of
_mask_text = _masking.mask_text
_mask_fields = _masking.mask_fields
_time_ns = time.time_ns


def _emit(
    P: _Pipeline,
    name: str,
    level: int,
    msg: Any,
    bound: dict[str, Any] | None,
    fields: dict[str, Any],
    premasked: bool = False,
) -> None:
    """Build, process, render and write one record (the level and sampling checks are done)."""
    global _ts_cache
    try:
        ns = _time_ns()
        sec, frac = divmod(ns, 1_000_000_000)
        cached = _ts_cache
        if cached[0] != sec:
            cached = _ts_cache = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
        lname = LEVEL_NAMES.get(level) or str(level)
        ev = {
            "timestamp": f"{cached[1]}.{frac:09d}Z",
            "level": lname,
            "service": P.service,
            "logger": name,
            "message": msg if type(msg) is str else str(msg),
        }
        s = _cur_span() or _tls.cur
        if s is not None:
            ev["trace_id"] = f"{_trace_id_of(s.trace):032x}"
            ev["span_id"] = f"{_span_id_of(s.seq):016x}"
        else:
            osp = _otel_ctx_get().get(_SPAN_KEY)
            if osp is not None:
                sc = osp.get_span_context()
                if sc.is_valid:
                    ev["trace_id"] = f"{sc.trace_id:032x}"
                    ev["span_id"] = f"{sc.span_id:016x}"
        cid = _corr_get()
        if cid is not None:
            ev["correlation_id"] = cid
        if P.mask and not premasked:
            if type(msg) is str and len(msg) >= 8:
                ev["message"] = _mask_text(msg)
            if bound:
                ev.update(_mask_fields(dict(bound)))
            if fields:
                ev.update(_mask_fields(fields))
        else:
            if bound:
                ev.update(bound)
            if fields:
                ev.update(fields)
        for proc in P.processors:
            ev = proc(name, lname, ev)  # type: ignore[assignment]
            if ev is None:
                return
        w = P.write
        if w is not None:
            w(P.render(ev))
        q = P.otlp_queue
        if q is not None:
            if len(q) < P.otlp_cap:
                q.append((ns, level, ev))
            else:
                STATS.logs_dropped_queue_full += 1
    except Exception:  # noqa: BLE001 - logging never raises into the app
        STATS.api_errors += 1


class StructuredLogger:
    """The library's logger: `logger.info("event", key=value)`, `log_trade_execution(...)`."""

    __slots__ = ("name", "_bound")

    def __init__(self, name: str = "day_trade", bound: dict[str, Any] | None = None) -> None:
        self.name = name
        self._bound = bound

    def bind(self, **fields: Any) -> StructuredLogger:
        """A logger that adds `fields` to every record."""
        return StructuredLogger(self.name, {**(self._bound or {}), **fields})

    def debug(self, msg: Any, **fields: Any) -> None:
        P = _P
        if P.min_level > DEBUG:
            return
        if P.debug_every > 1:
            n = P.debug_n = P.debug_n + 1
            if n % P.debug_every:
                STATS.logs_dropped_sampled += 1
                return
        _emit(P, self.name, DEBUG, msg, self._bound, fields)

    def info(self, msg: Any, **fields: Any) -> None:
        P = _P
        if P.min_level > INFO:
            return
        _emit(P, self.name, INFO, msg, self._bound, fields)

    def warning(self, msg: Any, **fields: Any) -> None:
        P = _P
        if P.min_level > WARNING:
            return
        _emit(P, self.name, WARNING, msg, self._bound, fields)

    warn = warning

    def error(self, msg: Any, **fields: Any) -> None:
        P = _P
        if P.min_level > ERROR:
            return
        _emit(P, self.name, ERROR, msg, self._bound, fields)

    def critical(self, msg: Any, **fields: Any) -> None:
        P = _P
        if P.min_level > CRITICAL:
            return
        _emit(P, self.name, CRITICAL, msg, self._bound, fields)

    def exception(self, msg: Any, **fields: Any) -> None:
        P = _P
        if P.min_level > ERROR:
            return
        fields["exception"] = traceback.format_exc()
        _emit(P, self.name, ERROR, msg, self._bound, fields)

    def log(self, level: int | str, msg: Any, **fields: Any) -> None:
        lv = _level_no(level)
        if lv == DEBUG:
            self.debug(msg, **fields)
            return
        P = _P
        if P.min_level > lv:
            return
        _emit(P, self.name, lv, msg, self._bound, fields)

    def is_enabled_for(self, level: int | str) -> bool:
        return _P.min_level <= _level_no(level)

    def log_trade_execution(
        self,
        symbol: str,
        side: str,
        quantity: float,
        price: float,
        latency_us: float,
        success: bool = True,
        **fields: Any,
    ) -> None:
        """Record the trade in the metrics (always) and log it (subject to rate limiting)."""
        metrics.record_trade(symbol, side, latency_us, success)
        P = _P
        level = INFO if success else WARNING
        if P.min_level > level:
            return
        if P.trade_max_per_s:
            window = time.perf_counter_ns() // 1_000_000_000
            if window != P.trade_window:
                P.trade_window = window
                P.trade_count = 0
            P.trade_count += 1
            if P.trade_count > P.trade_max_per_s:
                STATS.logs_dropped_rate_limited += 1
                return
        bound = self._bound
        if P.mask:
            # Only the free-form values can hold a secret; numbers and flags are checked by type.
            if fields:
                _mask_fields(fields)
            if bound:
                bound = _mask_fields(dict(bound))
            if type(symbol) is not str or len(symbol) >= 8:
                symbol = _masking.mask_value("symbol", symbol)
            if type(side) is not str or len(side) >= 8:
                side = _masking.mask_value("side", side)
            if type(quantity) is int and quantity > 999_999_999_999:
                quantity = _masking.mask_value("quantity", quantity)
        fields["symbol"] = symbol
        fields["side"] = side
        fields["quantity"] = quantity
        fields["price"] = price
        fields["latency_us"] = latency_us
        fields["success"] = success
        _emit(P, self.name, level, "trade_execution", bound, fields, True)

    def correlation_context(self, correlation_id: str | None = None) -> correlation_context:
        """`with logger.correlation_context("trade-req-123"): ...`"""
        return correlation_context(correlation_id)


_loggers: dict[str, StructuredLogger] = {}


def get_structured_logger(name: str = "day_trade") -> StructuredLogger:
    """The structured logger called `name` (one instance per name)."""
    lg = _loggers.get(name)
    if lg is None:
        lg = _loggers.setdefault(name, StructuredLogger(name))
    return lg


# ---------------------------------------------------------------------------------------------
# stdlib logging integration

_STD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime", "taskName"}
)


def _event_from_record(record: logging.LogRecord) -> tuple[int, str, dict[str, Any]]:
    fields = {k: v for k, v in record.__dict__.items() if k not in _STD_ATTRS and not k.startswith("_")}
    if record.exc_info and record.exc_info[0] is not None:
        fields["exception"] = "".join(traceback.format_exception(*record.exc_info))
    try:
        msg = record.getMessage()
    except Exception:  # noqa: BLE001
        msg = str(record.msg)
    return record.levelno, msg, fields


class _Collect:
    """A one-shot pipeline view that returns the rendered line instead of writing it."""

    __slots__ = ("line",)

    def __init__(self) -> None:
        self.line = ""

    def __call__(self, s: str) -> None:
        self.line = s


class StructuredFormatter(logging.Formatter):
    """stdlib Formatter producing the same JSON line as the structured logger (no newline)."""

    def format(self, record: logging.LogRecord) -> str:
        level, msg, fields = _event_from_record(record)
        P = _P
        view = _Pipeline.__new__(_Pipeline)
        for slot in _Pipeline.__slots__:
            setattr(view, slot, getattr(P, slot))
        collect = _Collect()
        view.write = collect
        view.otlp_queue = None
        _emit(view, record.name, level, msg, None, fields)
        return collect.line.rstrip("\n")


class StructuredHandler(logging.Handler):
    """stdlib Handler sending records through the pipeline (sampling, masking, sink, OTLP)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level, msg, fields = _event_from_record(record)
            P = _P
            if level < P.min_level:
                return
            if level <= DEBUG and P.debug_every > 1:
                n = P.debug_n = P.debug_n + 1
                if n % P.debug_every:
                    STATS.logs_dropped_sampled += 1
                    return
            _emit(P, record.name, level, msg, None, fields)
        except Exception:  # noqa: BLE001
            STATS.api_errors += 1


# ---------------------------------------------------------------------------------------------
# OTLP conversion (exporter thread)

_SEVERITY = {DEBUG: 5, INFO: 9, WARNING: 13, ERROR: 17, CRITICAL: 21}
_NOT_ATTRS = frozenset(("timestamp", "level", "message", "trace_id", "span_id"))


def make_log_converter(resource: Any) -> Callable[[list[Any]], list[Any]]:
    """A function turning queued records into SDK ReadableLogRecords (imports are lazy)."""
    from opentelemetry._logs import LogRecord, SeverityNumber
    from opentelemetry.sdk._logs import ReadableLogRecord
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

    from ._exporter import clean_attributes

    scope = InstrumentationScope("day_trade.observability.logs", "0.1.0")

    def convert(items: list[Any]) -> list[Any]:
        out = []
        for ns, level, ev in items:
            try:
                ctx = None
                tid, sid = ev.get("trace_id"), ev.get("span_id")
                if tid and sid:
                    sc = SpanContext(int(tid, 16), int(sid, 16), False, TraceFlags(TraceFlags.SAMPLED))
                    ctx = set_span_in_context(NonRecordingSpan(sc))
                attrs = clean_attributes({k: v for k, v in ev.items() if k not in _NOT_ATTRS}) or {}
                rec = LogRecord(
                    timestamp=ns,
                    observed_timestamp=ns,
                    context=ctx if ctx is not None else set_span_in_context(NonRecordingSpan(_INVALID)),
                    severity_text=LEVEL_NAMES.get(level, str(level)),
                    severity_number=SeverityNumber(_SEVERITY.get(level, 9)),
                    body=str(ev.get("message", "")),
                    attributes=attrs,
                )
                out.append(ReadableLogRecord(log_record=rec, resource=resource, instrumentation_scope=scope))
            except Exception:  # noqa: BLE001
                STATS.api_errors += 1
        return out

    from opentelemetry.trace import INVALID_SPAN_CONTEXT as _INVALID

    return convert


def drain_queue(q: deque[Any]) -> Callable[[int], list[Any]]:
    pop = q.popleft

    def drain(n: int) -> list[Any]:
        out = []
        for _ in range(min(n, len(q))):
            try:
                out.append(pop())
            except IndexError:
                break
        return out

    return drain


def null_sink() -> io.StringIO:
    """An in-memory sink (benchmarks)."""
    return io.StringIO()


__all__ = [
    "CORRELATION_HEADER",
    "CorrelationIdMiddleware",
    "StructuredFormatter",
    "StructuredHandler",
    "StructuredLogger",
    "configure_logging",
    "correlation_context",
    "correlation_context_from_headers",
    "correlation_id_from_headers",
    "get_correlation_id",
    "get_structured_logger",
    "iso_ns",
    "add_fields",
    "drop_below",
    "mask_secrets",
    "render_json",
    "render_json_stdlib",
]

_ = math  # (kept for float checks in renderers users plug in)
