"""Background export of HFT spans and log records over OTLP, off the hot path.

One daemon thread drains the span buffer and the log queue in batches, turns the records into
SDK objects (`ReadableSpan`, `ReadableLogRecord`) and hands them to the OTLP/HTTP exporters.
A failed batch is kept (one per signal) and retried with exponential backoff; while it waits,
new records pile up in the bounded buffers, whose overflow is dropped and counted by the hot
path. Nothing here blocks or raises into the application; export resumes by itself when the
collector comes back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind
from opentelemetry.trace.status import Status, StatusCode

from . import _hft
from ._stats import STATS

_log = logging.getLogger("day_trade.observability")

SCOPE = InstrumentationScope("day_trade.observability.hft", "0.1.0")
_UNSET = Status(StatusCode.UNSET)
_OK = Status(StatusCode.OK)
_PRIMITIVES = (str, bool, int, float)


def clean_attributes(attrs: Any) -> dict[str, Any] | None:
    """OTel-valid attributes: primitives and homogeneous sequences kept, anything else str()."""
    if not attrs:
        return None
    out: dict[str, Any] = {}
    try:
        items = attrs.items()
    except AttributeError:
        return None
    for k, v in items:
        if v is None:
            continue
        if isinstance(v, _PRIMITIVES):
            out[str(k)] = v
        elif isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
            out[str(k)] = tuple(v)
        elif isinstance(v, (list, tuple)) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            out[str(k)] = tuple(v)
        else:
            out[str(k)] = str(v)
    return out


def hft_to_readable(s: _hft.HftSpan, resource: Resource, offset_ns: int | None = None) -> ReadableSpan:
    """Turn one finished HFT span into an SDK ReadableSpan with its ids and parent resolved."""
    off = _hft.epoch_offset_ns() if offset_ns is None else offset_ns
    trace = s.trace
    ctx = _hft.span_context_of(s)  # the ids an otel_context=True span attached while open
    trace_id = ctx.trace_id
    if s.parent is not None:
        parent: SpanContext | None = SpanContext(trace_id, _hft.span_id_of(s.parent.seq), False, _hft.SAMPLED)
    elif type(trace) is int:
        parent = None
    else:
        parent = trace  # the OpenTelemetry span the root was opened in
    end = s.end + off
    events: Sequence[Event] = ()
    status = _UNSET
    exc = getattr(s, "exc", None)
    st = getattr(s, "status", None)
    if exc is not None:
        status = Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
        events = (
            Event(
                "exception",
                {"exception.type": type(exc).__qualname__, "exception.message": str(exc)},
                end,
            ),
        )
    elif st is not None:
        status = _OK if st[0] else Status(StatusCode.ERROR, st[1])
    return ReadableSpan(
        name=str(s.name),
        context=ctx,
        parent=parent,
        resource=resource,
        attributes=clean_attributes(s.attrs),
        events=events,
        kind=SpanKind.INTERNAL,
        status=status,
        start_time=s.start + off,
        end_time=end,
        instrumentation_scope=SCOPE,
    )


def convert_spans(records: list[_hft.HftSpan], resource: Resource) -> list[ReadableSpan]:
    off = _hft.epoch_offset_ns()
    out = []
    for r in records:
        try:
            out.append(hft_to_readable(r, resource, off))
        except Exception:  # noqa: BLE001 - one bad record must not stop the pipeline
            STATS.api_errors += 1
    return out


class _Signal:
    """Export state of one signal: source drain, converter, exporter, pending batch, backoff."""

    def __init__(
        self,
        name: str,
        drain: Callable[[int], list[Any]],
        convert: Callable[[list[Any]], list[Any]],
        exporter: Any,
        on_success: Callable[[int], None],
        on_error: Callable[[], None],
        depth: Callable[[], int],
    ) -> None:
        self.depth = depth
        self.name = name
        self.drain = drain
        self.convert = convert
        self.exporter = exporter
        self.on_success = on_success
        self.on_error = on_error
        self.pending: list[Any] | None = None
        self.backoff = 0.0
        self.next_try = 0.0


def _export_ok(result: Any) -> bool:
    # SpanExportResult.SUCCESS / LogRecordExportResult.SUCCESS both have value 0.
    return getattr(result, "value", result) == 0 or getattr(result, "name", "") == "SUCCESS"


class BackgroundExporter:
    """The `dtobs-exporter` daemon thread."""

    def __init__(
        self,
        *,
        resource: Resource,
        span_exporter: Any | None,
        log_exporter: Any | None = None,
        log_drain: Callable[[int], list[Any]] | None = None,
        log_convert: Callable[[list[Any]], list[Any]] | None = None,
        log_depth: Callable[[], int] = lambda: 0,
        batch_size: int = 512,
        interval_s: float = 0.05,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 5.0,
    ) -> None:
        self.resource = resource
        self.batch_size = batch_size
        self.interval_s = interval_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self._signals: list[_Signal] = []
        if span_exporter is not None:
            self._signals.append(
                _Signal(
                    "traces",
                    _hft.drain,
                    lambda recs: convert_spans(recs, resource),
                    span_exporter,
                    self._spans_ok,
                    self._spans_err,
                    lambda: len(_hft.buffer()),
                )
            )
        if log_exporter is not None and log_drain is not None and log_convert is not None:
            self._signals.append(
                _Signal("logs", log_drain, log_convert, log_exporter, self._logs_ok, self._logs_err, log_depth)
            )
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._busy = threading.RLock()  # one export cycle at a time (thread vs. flush())
        self._thread: threading.Thread | None = None
        self._last_warning = -1e9
        # The OTLP client logs every failed attempt; we count them and warn once a minute instead.
        for name in ("opentelemetry.exporter.otlp.common.http", "opentelemetry.exporter.otlp.proto.http"):
            lg = logging.getLogger(name)
            if lg.level == logging.NOTSET:
                lg.setLevel(logging.CRITICAL)

    # counters -----------------------------------------------------------------------------
    @staticmethod
    def _spans_ok(n: int) -> None:
        STATS.spans_exported += n

    @staticmethod
    def _spans_err() -> None:
        STATS.export_errors_traces += 1

    @staticmethod
    def _logs_ok(n: int) -> None:
        STATS.logs_exported += n

    @staticmethod
    def _logs_err() -> None:
        STATS.export_errors_logs += 1

    # lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="dtobs-exporter", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self._cycle()
            except Exception:  # noqa: BLE001 - the thread must survive anything
                _log.exception("dtobs exporter cycle failed")
                worked = False
            if not worked:
                self._wake.wait(self.interval_s)
                self._wake.clear()

    def _cycle(self, ignore_backoff: bool = False) -> bool:
        worked = False
        with self._busy:
            for sig in self._signals:
                worked |= self._pump(sig, ignore_backoff)
        return worked

    def _pump(self, sig: _Signal, ignore_backoff: bool) -> bool:
        now = time.monotonic()
        if sig.pending is None:
            recs = sig.drain(self.batch_size)
            if not recs:
                return False
            sig.pending = sig.convert(recs)
            if not sig.pending:
                sig.pending = None
                return True
        if not ignore_backoff and now < sig.next_try:
            return False
        try:
            ok = _export_ok(sig.exporter.export(sig.pending))
        except Exception:  # noqa: BLE001
            ok = False
        if ok:
            sig.on_success(len(sig.pending))
            sig.pending = None
            sig.backoff = 0.0
            return True
        sig.on_error()
        if now - self._last_warning >= 60.0:
            self._last_warning = now
            _log.warning(
                "dtobs: %s export failing (retrying with backoff; see dtobs_export_errors_total)", sig.name
            )
        sig.backoff = min(self.backoff_max_s, sig.backoff * 2 if sig.backoff else self.backoff_initial_s)
        sig.next_try = time.monotonic() + sig.backoff
        return False

    def pending_count(self) -> int:
        return sum(len(s.pending or ()) for s in self._signals)

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Export everything buffered now (bounded by timeout_s). True when all was delivered."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        while time.monotonic() < deadline:
            self._cycle(ignore_backoff=True)
            if all(sig.pending is None and sig.depth() == 0 for sig in self._signals):
                return True
            time.sleep(0.005)
        return False

    def shutdown(self, timeout_s: float = 2.0) -> None:
        """Final bounded flush, then stop the thread and the exporters."""
        try:
            self.flush(timeout_s)
        finally:
            self._stop.set()
            self._wake.set()
            for sig in self._signals:
                try:
                    sig.exporter.shutdown()
                except Exception:  # noqa: BLE001
                    pass
            if self._thread is not None:
                self._thread.join(timeout_s)
                self._thread = None
