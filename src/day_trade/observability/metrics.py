"""Hot-path metrics: counters, gauges and histograms with a Prometheus text endpoint.

Design (no prometheus_client on the hot path):

* A series is a slotted object holding plain Python numbers; a histogram series holds a
  preallocated list of per-bucket counts (non-cumulative) and a sum. `observe` is one
  `bisect` plus two in-place adds. Under the CPython GIL an in-place add on a list item or
  attribute has no eval-breaker check between its load and its store, so concurrent writers
  do not lose increments, and no lock is taken.
* Labelled series are cached in a dict keyed by the label values; the cardinality of a family is
  capped (extra label sets are counted as API errors and folded into one overflow series).
* The exposition copies each series (`list(counts)`) and renders cumulative buckets from the
  copy, so a scrape never blocks a writer.
"""

from __future__ import annotations

import abc
import http.server
import logging
import math
import threading
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence

from . import contract
from ._stats import STATS

_log = logging.getLogger("day_trade.observability")

MAX_SERIES_PER_FAMILY = 10_000
OVERFLOW_LABEL_VALUE = "__overflow__"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _fmt(v: float) -> str:
    if isinstance(v, int):
        return str(v)
    if v == math.inf:
        return "+Inf"
    if v == -math.inf:
        return "-Inf"
    if v != v:
        return "NaN"
    return repr(float(v))


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels_text(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_esc(str(v))}"' for n, v in zip(names, values)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class _Family(abc.ABC):
    """A metric family: its series by label values, and their exposition. Subclasses say what a
    series holds (`_new_child`) and how it is written (`_expose_child`)."""

    kind = "untyped"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._children: dict[tuple[str, ...], object] = {}
        self._lock = threading.Lock()  # creation of a new series only (cold)
        if not self.labelnames:
            self._unlabelled = self._new_child()
            self._children[()] = self._unlabelled

    @abc.abstractmethod
    def _new_child(self) -> object: ...

    def labels(self, *values: object) -> object:
        """The series for these label values (cached; create on first use)."""
        child = self._children.get(values)
        if child is not None:
            return child
        return self._create(values)

    def _create(self, values: tuple[object, ...]) -> object:
        if len(values) != len(self.labelnames):
            STATS.api_errors += 1
            values = tuple(list(values[: len(self.labelnames)]) + [""] * (len(self.labelnames) - len(values)))
        key = tuple(str(v) for v in values)
        with self._lock:
            child = self._children.get(key)
            if child is None:
                if len(self._children) >= MAX_SERIES_PER_FAMILY:
                    STATS.api_errors += 1
                    key = (OVERFLOW_LABEL_VALUE,) * len(self.labelnames)
                    child = self._children.get(key)
                if child is None:
                    child = self._new_child()
                    self._children[key] = child
            # Cache the caller's own tuple too (e.g. non-str values) so the next lookup hits.
            if values != key and len(self._children) < MAX_SERIES_PER_FAMILY:
                try:
                    self._children[values] = child
                except TypeError:
                    pass
        return child

    def _series(self) -> list[tuple[tuple[str, ...], object]]:
        seen: set[int] = set()
        out = []
        for key, child in list(self._children.items()):
            if id(child) in seen or not all(type(k) is str for k in key):
                continue
            seen.add(id(child))
            out.append((key, child))
        return out

    def expose(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.documentation}"
        yield f"# TYPE {self.name} {self.kind}"
        for key, child in self._series():
            yield from self._expose_child(key, child)

    @abc.abstractmethod
    def _expose_child(self, key: tuple[str, ...], child: object) -> Iterable[str]: ...


class _CounterChild:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def inc(self, amount: float = 1) -> None:
        if amount < 0:
            STATS.api_errors += 1
            return
        self.value += amount


class Counter(_Family):
    kind = "counter"

    def _new_child(self) -> _CounterChild:
        return _CounterChild()

    def inc(self, amount: float = 1) -> None:
        self._unlabelled.inc(amount)

    def _expose_child(self, key, child):
        yield f"{self.name}{_labels_text(self.labelnames, key)} {_fmt(child.value)}"


class _GaugeChild:
    __slots__ = ("value", "fn")

    def __init__(self) -> None:
        self.value = 0.0
        self.fn: Callable[[], float] | None = None

    def set(self, value: float) -> None:
        self.value = value

    def inc(self, amount: float = 1) -> None:
        self.value += amount

    def dec(self, amount: float = 1) -> None:
        self.value -= amount

    def set_function(self, fn: Callable[[], float]) -> None:
        self.fn = fn

    def get(self) -> float:
        if self.fn is not None:
            try:
                return float(self.fn())
            except Exception:  # noqa: BLE001 - a callback must not break a scrape
                return math.nan
        return self.value


class Gauge(_Family):
    kind = "gauge"

    def _new_child(self) -> _GaugeChild:
        return _GaugeChild()

    def set(self, value: float) -> None:
        self._unlabelled.set(value)

    def inc(self, amount: float = 1) -> None:
        self._unlabelled.inc(amount)

    def dec(self, amount: float = 1) -> None:
        self._unlabelled.dec(amount)

    def set_function(self, fn: Callable[[], float]) -> None:
        self._unlabelled.set_function(fn)

    def _expose_child(self, key, child):
        yield f"{self.name}{_labels_text(self.labelnames, key)} {_fmt(child.get())}"


class _HistogramChild:
    __slots__ = ("counts", "sum", "bounds")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # last slot: above the highest bound (+Inf)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        if value != value:  # NaN
            STATS.api_errors += 1
            return
        try:
            self.counts[bisect_left(self.bounds, value)] += 1
        except TypeError:
            STATS.api_errors += 1
            return
        self.sum += value

    def snapshot(self) -> tuple[list[int], float]:
        return list(self.counts), self.sum


class Histogram(_Family):
    """A histogram whose `le` bounds are `buckets` (`v <= le` counts, as in Prometheus).

    `scale` converts the unit of `observe` to the unit exposed (e.g. observe in µs, expose
    seconds with `scale=1e-6` and `exposed_buckets=contract.TRADE_LATENCY_BUCKETS_SECONDS`):
    bucketing happens in the observed unit, so 25 µs lands in le="2.5e-05" exactly.
    """

    kind = "histogram"

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = contract.SLI_VALUE_BUCKETS,
        *,
        scale: float = 1.0,
        exposed_buckets: Sequence[float] | None = None,
    ) -> None:
        bounds = tuple(float(b) for b in buckets if b != math.inf)
        if list(bounds) != sorted(set(bounds)):
            raise ValueError("histogram buckets must be strictly increasing")
        self.bounds = bounds
        self.scale = scale
        exposed = tuple(exposed_buckets) if exposed_buckets is not None else bounds
        if len(exposed) != len(bounds):
            raise ValueError("exposed_buckets must match buckets one to one")
        self._le = [contract.format_le(b) for b in exposed] + ["+Inf"]
        super().__init__(name, documentation, labelnames)

    def _new_child(self) -> _HistogramChild:
        return _HistogramChild(self.bounds)

    def observe(self, value: float) -> None:
        self._unlabelled.observe(value)

    def _expose_child(self, key, child):
        counts, total = child.snapshot()
        base = _labels_text(self.labelnames, key)
        cum = 0
        for le, c in zip(self._le, counts):
            cum += c
            lbl = _labels_text(self.labelnames, key, 'le="' + le + '"')
            yield f"{self.name}_bucket{lbl} {cum}"
        yield f"{self.name}_sum{base} {_fmt(total * self.scale if self.scale != 1.0 else total)}"
        yield f"{self.name}_count{base} {cum}"


class Registry:
    def __init__(self) -> None:
        self._families: dict[str, _Family] = {}
        self._collectors: list[Callable[[], Iterable[str]]] = []
        self._lock = threading.Lock()

    def register(self, family: _Family) -> _Family:
        with self._lock:
            existing = self._families.get(family.name)
            if existing is not None:
                return existing
            self._families[family.name] = family
        return family

    def counter(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> Counter:
        return self.register(Counter(name, documentation, labelnames))  # type: ignore[return-value]

    def gauge(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> Gauge:
        return self.register(Gauge(name, documentation, labelnames))  # type: ignore[return-value]

    def histogram(self, name: str, documentation: str, labelnames: Sequence[str] = (), **kw) -> Histogram:
        return self.register(Histogram(name, documentation, labelnames, **kw))  # type: ignore[return-value]

    def add_collector(self, fn: Callable[[], Iterable[str]]) -> None:
        self._collectors.append(fn)

    def get(self, name: str) -> _Family | None:
        return self._families.get(name)

    def exposition(self) -> str:
        lines: list[str] = []
        for fam in list(self._families.values()):
            lines.extend(fam.expose())
        for fn in list(self._collectors):
            try:
                lines.extend(fn())
            except Exception:  # noqa: BLE001
                _log.exception("metrics collector failed")
        return "\n".join(lines) + "\n"


REGISTRY = Registry()

# ---------------------------------------------------------------------------------------------
# SLI series of the naming contract: record_sli(slo, value, success)


class _SliSeries:
    __slots__ = ("counts", "sum", "errors")

    def __init__(self, nbuckets: int) -> None:
        self.counts = [0] * (nbuckets + 1)
        self.sum = 0.0
        self.errors = 0


_SLI_BOUNDS: tuple[float, ...] = tuple(float(b) for b in contract.SLI_VALUE_BUCKETS)
_SLI_LE = [contract.format_le(b) for b in _SLI_BOUNDS] + ["+Inf"]
_SLI: dict[str, _SliSeries] = {}
_SLI_LOCK = threading.Lock()


def _new_sli(name: object) -> _SliSeries | None:
    if not isinstance(name, str) or not name:
        STATS.api_errors += 1
        return None
    with _SLI_LOCK:
        s = _SLI.get(name)
        if s is None:
            if len(_SLI) >= MAX_SERIES_PER_FAMILY:
                STATS.api_errors += 1
                return None
            s = _SliSeries(len(_SLI_BOUNDS))
            _SLI[name] = s
    return s


def record_sli(name: str, value: float, success: bool = True) -> None:
    """Record one SLI event: `value` in the SLO's own unit (µs for trade latency).

    Feeds dtobs_sli_events_total, dtobs_sli_errors_total (success=False) and the
    dtobs_sli_value histogram, all labelled slo=<name>. Never raises.
    """
    s = _SLI.get(name)
    if s is None:
        s = _new_sli(name)
        if s is None:
            return
    if value != value:
        STATS.api_errors += 1
        return
    try:
        s.counts[bisect_left(_SLI_BOUNDS, value)] += 1
    except TypeError:
        STATS.api_errors += 1
        return
    s.sum += value
    if not success:
        s.errors += 1


def _expose_sli() -> Iterable[str]:
    snap = []
    for name, s in list(_SLI.items()):
        errors = s.errors  # read before the counts: errors <= events in every scrape
        snap.append((name, list(s.counts), s.sum, errors))
    L = contract.SLO_LABEL
    yield f"# HELP {contract.SLI_EVENTS_TOTAL} SLI events recorded by record_sli"
    yield f"# TYPE {contract.SLI_EVENTS_TOTAL} counter"
    for name, counts, _, _ in snap:
        yield f'{contract.SLI_EVENTS_TOTAL}{{{L}="{_esc(name)}"}} {sum(counts)}'
    yield f"# HELP {contract.SLI_ERRORS_TOTAL} SLI events recorded with success=False"
    yield f"# TYPE {contract.SLI_ERRORS_TOTAL} counter"
    for name, _, _, errors in snap:
        yield f'{contract.SLI_ERRORS_TOTAL}{{{L}="{_esc(name)}"}} {errors}'
    yield f"# HELP {contract.SLI_VALUE} SLI values in the SLO's own unit"
    yield f"# TYPE {contract.SLI_VALUE} histogram"
    for name, counts, total, _ in snap:
        n = _esc(name)
        cum = 0
        for le, c in zip(_SLI_LE, counts):
            cum += c
            yield f'{contract.SLI_VALUE}_bucket{{{L}="{n}",le="{le}"}} {cum}'
        yield f'{contract.SLI_VALUE}_sum{{{L}="{n}"}} {_fmt(total)}'
        yield f'{contract.SLI_VALUE}_count{{{L}="{n}"}} {cum}'


REGISTRY.add_collector(_expose_sli)

# ---------------------------------------------------------------------------------------------
# Trade series: latency histogram (observed in µs, exposed in seconds) and trade counter.

TRADE_LATENCY = REGISTRY.histogram(
    contract.TRADE_LATENCY_SECONDS,
    "Trade execution latency",
    (contract.TRADE_LABEL_SYMBOL, contract.TRADE_LABEL_SIDE),
    buckets=tuple(round(b * 1e6, 6) for b in contract.TRADE_LATENCY_BUCKETS_SECONDS),
    scale=1e-6,
    exposed_buckets=contract.TRADE_LATENCY_BUCKETS_SECONDS,
)
TRADES = REGISTRY.counter(
    contract.TRADES_TOTAL,
    "Trades executed",
    (contract.TRADE_LABEL_SYMBOL, contract.TRADE_LABEL_SIDE, contract.TRADE_LABEL_RESULT),
)


class _TradeSeries:
    __slots__ = ("latency", "ok", "failed")

    def __init__(self, symbol: str, side: str) -> None:
        self.latency = TRADE_LATENCY.labels(symbol, side)
        self.ok = TRADES.labels(symbol, side, "success")
        self.failed = TRADES.labels(symbol, side, "failure")


_TRADE: dict[tuple[object, object], _TradeSeries] = {}


def record_trade(symbol: str, side: str, latency_us: float, success: bool = True) -> None:
    """Record one trade: latency (µs) into dtobs_trade_latency_seconds and dtobs_trades_total."""
    t = _TRADE.get((symbol, side))
    if t is None:
        if len(_TRADE) >= MAX_SERIES_PER_FAMILY:
            STATS.api_errors += 1
            symbol = side = OVERFLOW_LABEL_VALUE
        t = _TradeSeries(str(symbol), str(side))
        _TRADE[(symbol, side)] = t
    t.latency.observe(latency_us)
    if success:
        t.ok.value += 1
    else:
        t.failed.value += 1


# ---------------------------------------------------------------------------------------------
# Self-metrics of the library


def _expose_self() -> Iterable[str]:
    s = STATS
    c = contract

    def fam(name: str, kind: str, doc: str) -> list[str]:
        return [f"# HELP {name} {doc}", f"# TYPE {name} {kind}"]

    out = fam(c.SELF_SPANS_DROPPED_TOTAL, "counter", "HFT spans dropped because the ring buffer was full")
    out.append(f"{c.SELF_SPANS_DROPPED_TOTAL} {s.spans_dropped}")
    out += fam(c.SELF_SPANS_EXPORTED_TOTAL, "counter", "HFT spans delivered to the OTLP endpoint")
    out.append(f"{c.SELF_SPANS_EXPORTED_TOTAL} {s.spans_exported}")
    out += fam(c.SELF_LOGS_DROPPED_TOTAL, "counter", "Log records dropped, by reason")
    R = c.SELF_LABEL_REASON
    out.append(f'{c.SELF_LOGS_DROPPED_TOTAL}{{{R}="sampled"}} {s.logs_dropped_sampled}')
    out.append(f'{c.SELF_LOGS_DROPPED_TOTAL}{{{R}="rate_limited"}} {s.logs_dropped_rate_limited}')
    out.append(f'{c.SELF_LOGS_DROPPED_TOTAL}{{{R}="queue_full"}} {s.logs_dropped_queue_full}')
    out += fam(c.SELF_LOGS_EXPORTED_TOTAL, "counter", "Log records delivered to the OTLP endpoint")
    out.append(f"{c.SELF_LOGS_EXPORTED_TOTAL} {s.logs_exported}")
    out += fam(c.SELF_EXPORT_ERRORS_TOTAL, "counter", "Failed OTLP export attempts, by signal")
    S = c.SELF_LABEL_SIGNAL
    out.append(f'{c.SELF_EXPORT_ERRORS_TOTAL}{{{S}="traces"}} {s.export_errors_traces}')
    out.append(f'{c.SELF_EXPORT_ERRORS_TOTAL}{{{S}="logs"}} {s.export_errors_logs}')
    out += fam(c.SELF_SECRETS_MASKED_TOTAL, "counter", "Secrets masked in logs, by kind")
    K = c.SELF_LABEL_KIND
    for kind, n in sorted(s.secrets_masked.items()):
        out.append(f'{c.SELF_SECRETS_MASKED_TOTAL}{{{K}="{_esc(kind)}"}} {n}')
    out += fam(c.SELF_API_ERRORS_TOTAL, "counter", "Bad arguments handed to the library (ignored)")
    out.append(f"{c.SELF_API_ERRORS_TOTAL} {s.api_errors}")
    out += fam(c.SELF_SPAN_BUFFER_DEPTH, "gauge", "HFT spans waiting in the ring buffer")
    out.append(f"{c.SELF_SPAN_BUFFER_DEPTH} {s.span_depth()}")
    out += fam(c.SELF_LOG_BUFFER_DEPTH, "gauge", "Log records waiting for OTLP export")
    out.append(f"{c.SELF_LOG_BUFFER_DEPTH} {s.log_depth()}")
    return out


REGISTRY.add_collector(_expose_self)


def generate_latest(registry: Registry | None = None) -> str:
    """The Prometheus text exposition (format 0.0.4) of a registry."""
    return (registry or REGISTRY).exposition()


# ---------------------------------------------------------------------------------------------
# /metrics endpoint


class _Handler(http.server.BaseHTTPRequestHandler):
    registry: Registry = REGISTRY

    def do_GET(self) -> None:  # noqa: N802
        if self.path.split("?", 1)[0] not in ("/metrics", "/"):
            self.send_error(404)
            return
        try:
            body = self.registry.exposition().encode("utf-8")
        except Exception:  # noqa: BLE001
            _log.exception("exposition failed")
            self.send_error(500)
            return
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class MetricsServer:
    """Serves /metrics on host:port from a daemon thread (port 0 = any free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 9464, registry: Registry | None = None) -> None:
        self.host = host
        self.port = port
        self.registry = registry or REGISTRY
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int | None:
        """Bind and serve; returns the bound port, or None (logged, never raised) on failure."""
        handler = type("_BoundHandler", (_Handler,), {"registry": self.registry})
        try:
            server = http.server.ThreadingHTTPServer((self.host, self.port), handler)
        except OSError as exc:
            _log.warning("metrics endpoint %s:%s not started: %s", self.host, self.port, exc)
            STATS.api_errors += 1
            return None
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="dtobs-metrics", daemon=True
        )
        self._thread.start()
        return self.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def stop(self, timeout: float = 2.0) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def _reset_for_tests() -> None:
    """Forget every recorded value (tests only)."""
    _SLI.clear()
    _TRADE.clear()
    for fam in list(REGISTRY._families.values()):
        fam._children.clear()
        if not fam.labelnames:
            fam._unlabelled = fam._new_child()
            fam._children[()] = fam._unlabelled
