"""HFT tracing: sub-microsecond spans recorded into a bounded buffer, exported off the hot path.

Hot path (`with trace_span(name, attrs):`):

* `__init__` stores name and attributes (the caller's dict, not copied);
* `__enter__` reads the current HFT span from a ContextVar (correct under threads *and*
  asyncio), takes a sequence number from `itertools.count` (a C call, atomic under the GIL),
  makes itself current and reads `perf_counter_ns`;
* `__exit__` reads `perf_counter_ns`, restores the parent, and appends itself to a bounded
  deque (`len` check then `append`: both C calls, no lock). When the buffer is full the span is
  dropped and counted, never blocked on.

Ids, wall-clock times and the OpenTelemetry parent are worked out at export time: span ids are
a bijective 64-bit mix of the sequence number (unique in the process, random-looking), the
trace id of an HFT-rooted trace is a per-process random high half plus the mixed sequence of
its root, and a root opened inside an OpenTelemetry span (e.g. an auto-instrumented request)
keeps that span's SpanContext as its parent and trace.

OpenTelemetry spans opened inside an HFT span (auto-instrumented Redis/SQLAlchemy calls,
`tracer.start_as_current_span`) see only the OTel context, so by default they attach to the
enclosing OTel span. Opt in per span with `trace_span(name, attrs, otel_context=True)` (or
globally with `hft_otel_context=True`): the span then also attaches an OTel context whose current
span is a NonRecordingSpan carrying exactly the ids the exporter gives it (`span_context_of`),
so those OTel spans become its children. The default classes are untouched by this: `__init__`
swaps the instance's class to an `OtelLinked*` subclass only when asked.
"""

from __future__ import annotations

import contextvars
import itertools
import random
import threading
import time
from collections import deque
from typing import Any

from opentelemetry import context as _otel_context
from opentelemetry import trace as _otel_trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from opentelemetry.trace.propagation import _SPAN_KEY

from ._stats import STATS

_MASK64 = (1 << 64) - 1
_SALT64 = random.SystemRandom().getrandbits(64)
_TRACE_HI = random.SystemRandom().getrandbits(64) | 1  # never an all-zero trace id
SAMPLED = TraceFlags(TraceFlags.SAMPLED)

_current: contextvars.ContextVar[HftSpan | None] = contextvars.ContextVar("dtobs_hft_span", default=None)
_cur_get = _current.get
_cur_set = _current.set
_next_seq = itertools.count(1).__next__
_perf = time.perf_counter_ns

try:  # the OTel runtime context is a ContextVar holding a Context (a dict): read it directly
    _otel_ctx_get = _otel_context._RUNTIME_CONTEXT._current_context.get  # type: ignore[attr-defined]
    _otel_ctx_get()
except Exception:  # noqa: BLE001 - another runtime context implementation
    _otel_ctx_get = _otel_context.get_current

try:  # attach/detach that raise on failure (the public detach logs a traceback instead)
    _otel_attach = _otel_context._RUNTIME_CONTEXT.attach  # type: ignore[attr-defined]
    _otel_detach = _otel_context._RUNTIME_CONTEXT.detach  # type: ignore[attr-defined]
except Exception:  # noqa: BLE001
    _otel_attach = _otel_context.attach
    _otel_detach = _otel_context.detach

# The bounded span buffer. Rebound by `configure_buffer` at setup (module globals are read on
# every call, so already-imported references to `trace_span` see the new buffer).
_ring: deque[HftSpan] = deque()
_ring_append = _ring.append
_cap = 65_536

# perf_counter_ns -> Unix epoch ns, anchored at setup.
_epoch_offset_ns = time.time_ns() - time.perf_counter_ns()


def reanchor_clock() -> None:
    global _epoch_offset_ns
    _epoch_offset_ns = time.time_ns() - time.perf_counter_ns()


def epoch_offset_ns() -> int:
    return _epoch_offset_ns


def configure_buffer(size: int) -> deque[HftSpan]:
    """Replace the span buffer (setup only). Returns the new buffer."""
    global _ring, _ring_append, _cap
    ring: deque[HftSpan] = deque()
    _ring, _ring_append, _cap = ring, ring.append, max(1, int(size))
    STATS.span_depth = ring.__len__
    return ring


def buffer() -> deque[HftSpan]:
    return _ring


def buffer_capacity() -> int:
    return _cap


def span_id_of(seq: int) -> int:
    """splitmix64 finaliser of seq+salt: a bijection, so distinct spans get distinct ids."""
    z = (seq + _SALT64) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    return z or 1


def trace_id_of(trace: int | SpanContext) -> int:
    if type(trace) is int:
        return (_TRACE_HI << 64) | span_id_of(trace ^ 0x5DEECE66D)
    return trace.trace_id  # type: ignore[union-attr]


def span_context_of(s: HftSpan) -> SpanContext:
    """The SpanContext of an HFT span: the single id mapping used by the exporter, the
    `otel_context=True` attach and `get_span_context` (valid once the span was entered)."""
    return SpanContext(trace_id_of(s.trace), span_id_of(s.seq), False, SAMPLED)


class HftSpan:
    """A span of the HFT tracer; use as a context manager (`with trace_span(...) as span`).

    `otel_context=True` makes OpenTelemetry spans opened inside it its children (see the module
    docstring); it costs about 2.5 µs per span (mostly deriving the ids), the default path nothing.
    """

    __slots__ = ("name", "attrs", "parent", "trace", "seq", "start", "end", "exc", "status", "otel_token")

    _linked: type[HftSpan]  # the otel_context=True variant of this class (set below)

    def __init__(
        self, name: str, attributes: dict[str, Any] | None = None, otel_context: bool = False
    ) -> None:
        self.name = name
        self.attrs = attributes
        if otel_context:
            self.__class__ = self._linked

    def __enter__(self) -> HftSpan:
        p = _cur_get()
        self.parent = p
        seq = self.seq = _next_seq()
        if p is not None:
            self.trace = p.trace
        else:
            osp = _otel_ctx_get().get(_SPAN_KEY)
            if osp is None:
                self.trace = seq
            else:
                sc = osp.get_span_context()
                self.trace = sc if sc.is_valid else seq
        _cur_set(self)
        self.start = _perf()
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> bool:
        self.end = _perf()
        _cur_set(self.parent)
        if et is not None:
            self.exc = ev
        if len(_ring) < _cap:
            _ring_append(self)
        else:
            STATS.spans_dropped += 1
        return False

    # --- the OTel-like span API (cold) ------------------------------------------------------
    def set_attribute(self, key: str, value: Any) -> None:
        if self.attrs is None:
            self.attrs = {}
        self.attrs[key] = value

    def set_attributes(self, attributes: dict[str, Any]) -> None:
        if self.attrs is None:
            self.attrs = {}
        self.attrs.update(attributes)

    def record_exception(self, exc: BaseException) -> None:
        self.exc = exc

    def set_status(self, ok: bool, description: str | None = None) -> None:
        """`set_status(False, "rejected")` marks the span as an error."""
        self.status = (bool(ok), description)

    def is_recording(self) -> bool:
        return True

    @property
    def trace_id(self) -> int:
        return trace_id_of(self.trace)

    @property
    def span_id(self) -> int:
        return span_id_of(self.seq)

    def get_span_context(self) -> SpanContext:
        return span_context_of(self)


class _ThreadCurrent(threading.local):
    cur: HftSpan | None = None


_tls = _ThreadCurrent()


class ThreadHftSpan(HftSpan):
    """HFT span whose parent link is a thread-local instead of a ContextVar.

    About 200 ns cheaper per span (no Context copy on set), but it does not follow asyncio tasks:
    spans that stay open across an `await` can get the wrong parent. Opt in with
    `hft_context="thread"` for synchronous, thread-per-core hot loops only.
    """

    __slots__ = ()

    # Deliberately a copy of HftSpan.__enter__ with the parent read from a thread-local: a shared
    # helper would cost a Python call (~60 ns) on the hot path.
    def __enter__(self) -> HftSpan:
        tls = _tls
        p = tls.cur
        self.parent = p
        seq = self.seq = _next_seq()
        if p is not None:
            self.trace = p.trace
        else:
            osp = _otel_ctx_get().get(_SPAN_KEY)
            if osp is None:
                self.trace = seq
            else:
                sc = osp.get_span_context()
                self.trace = sc if sc.is_valid else seq
        tls.cur = self
        self.start = _perf()
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> bool:
        self.end = _perf()
        _tls.cur = self.parent
        if et is not None:
            self.exc = ev
        if len(_ring) < _cap:
            _ring_append(self)
        else:
            STATS.spans_dropped += 1
        return False


class _OtelLinked:
    """Mixin of the `otel_context=True` variants: attach an OTel context naming this span as
    the current span on enter (after the HFT parent and trace are fixed, so those are unchanged),
    detach it on exit, exceptions included. Failures are counted, never raised."""

    __slots__ = ()

    _unlinked: type[HftSpan]

    def __init__(
        self, name: str, attributes: dict[str, Any] | None = None, otel_context: bool = True
    ) -> None:
        self.name = name  # type: ignore[misc]
        self.attrs = attributes  # type: ignore[misc]
        if not otel_context:
            self.__class__ = self._unlinked

    def __enter__(self) -> HftSpan:
        span: HftSpan = super().__enter__()  # type: ignore[misc]
        try:
            self.otel_token = _otel_attach(  # type: ignore[misc]
                _otel_trace.set_span_in_context(NonRecordingSpan(span_context_of(span)))
            )
        except Exception:  # noqa: BLE001 - never raise into the app
            self.otel_token = None  # type: ignore[misc]
            STATS.api_errors += 1
        span.start = _perf()  # the attach is not part of the span's duration
        return span

    def __exit__(self, et: Any, ev: Any, tb: Any) -> bool:
        try:
            return super().__exit__(et, ev, tb)  # type: ignore[misc]  # reads the end time first
        finally:
            token = self.otel_token  # type: ignore[misc]
            if token is not None:
                self.otel_token = None  # type: ignore[misc]
                try:
                    _otel_detach(token)
                except Exception:  # noqa: BLE001 - e.g. exited in another asyncio context
                    STATS.api_errors += 1


class OtelLinkedHftSpan(_OtelLinked, HftSpan):
    """HftSpan with `otel_context=True`: OpenTelemetry spans opened inside are its children."""

    __slots__ = ()


class OtelLinkedThreadHftSpan(_OtelLinked, ThreadHftSpan):
    """ThreadHftSpan with `otel_context=True`."""

    __slots__ = ()


HftSpan._linked = OtelLinkedHftSpan
ThreadHftSpan._linked = OtelLinkedThreadHftSpan
OtelLinkedHftSpan._linked = OtelLinkedHftSpan
OtelLinkedThreadHftSpan._linked = OtelLinkedThreadHftSpan
OtelLinkedHftSpan._unlinked = HftSpan
OtelLinkedThreadHftSpan._unlinked = ThreadHftSpan


def span_class(context: str = "contextvar", otel_context: bool = False) -> type[HftSpan]:
    """The HFT span class for a parent-tracking `context` ("contextvar"/"thread")."""
    base = ThreadHftSpan if context == "thread" else HftSpan
    return base._linked if otel_context else base


def current_hft_span() -> HftSpan | None:
    s = _cur_get()
    return s if s is not None else _tls.cur


def current_ids() -> tuple[int, int]:
    """(trace_id, span_id) of the current span, HFT first, then OpenTelemetry; (0, 0) if none."""
    s = _cur_get() or _tls.cur
    if s is not None:
        return trace_id_of(s.trace), span_id_of(s.seq)
    osp = _otel_ctx_get().get(_SPAN_KEY)
    if osp is None:
        return 0, 0
    sc = osp.get_span_context()
    if not sc.is_valid:
        return 0, 0
    return sc.trace_id, sc.span_id


def current_span_context() -> SpanContext | None:
    """The SpanContext to propagate: the current HFT span's, else the current OTel span's."""
    s = _cur_get() or _tls.cur
    if s is not None:
        return s.get_span_context()
    sc = _otel_trace.get_current_span().get_span_context()
    return sc if sc.is_valid else None


def drain(max_items: int) -> list[HftSpan]:
    """Pop up to max_items finished spans (consumer side; popleft is atomic)."""
    ring = _ring
    out = []
    pop = ring.popleft
    for _ in range(min(max_items, len(ring))):
        try:
            out.append(pop())
        except IndexError:
            break
    return out
