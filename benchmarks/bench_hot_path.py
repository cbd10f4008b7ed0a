"""Hot-path benchmark of day_trade.observability against its peers, in one run.

Each row: the median over BATCHES batches of the mean ns/op of a batch of N calls
(time.perf_counter_ns around a plain loop; the loop's own cost is not subtracted, and peers pay
it too). Run: `.venv/bin/python benchmarks/bench_hot_path.py [--write] [--quick]`.
`--write` also saves the table to benchmarks/results/hot_path.md.

Export throughput: spans/s the background exporter delivers to a loopback OTLP/HTTP sink
(`export_throughput(endpoint=...)` can aim at a real collector instead).
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import pathlib
import platform
import statistics
import sys
import time
from bisect import bisect_left

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from day_trade.observability import (  # noqa: E402
    _hft,
    contract,
    get_structured_logger,
    initialize_observability,
    metrics,
    record_sli,
    shutdown_observability,
    structured_logging,
    telemetry_config,
)
from day_trade.observability._stats import STATS  # noqa: E402
from day_trade.observability.testing import OtlpSink, free_loopback_port  # noqa: E402

BATCHES = 21
N = 3000
pc = time.perf_counter_ns


def bench(fn, n: int = N, batches: int = BATCHES, setup=None) -> float:
    """Median over batches of the mean ns/op; fn(n) runs the loop itself."""
    fn(min(n, 500))  # warm up
    res = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(batches):
            if setup is not None:
                setup()
            t = pc()
            fn(n)
            res.append((pc() - t) / n)
    finally:
        if gc_was:
            gc.enable()
    return statistics.median(res)


# --- ours --------------------------------------------------------------------------------------

ATTRS = {"symbol": "AAPL", "quantity": 100}


def ours_span(n):
    ts = telemetry_config
    for _ in range(n):
        with ts.trace_span("trade_execution", {"symbol": "AAPL", "quantity": 100}):
            pass


def ours_span_thread(n):
    span = _hft.ThreadHftSpan
    for _ in range(n):
        with span("trade_execution", {"symbol": "AAPL", "quantity": 100}):
            pass


def ours_sli(n):
    for _ in range(n):
        record_sli("trade_latency_slo", 25.3, success=True)


def ours_hist_child(n):
    child = metrics.TRADE_LATENCY.labels("AAPL", "BUY")
    for _ in range(n):
        child.observe(25.3)


def ours_hist_labels(n):
    h = metrics.TRADE_LATENCY
    for _ in range(n):
        h.labels("AAPL", "BUY").observe(25.3)


def ours_log_dropped_level(n):
    log = get_structured_logger()
    for _ in range(n):
        log.debug("tick", i=1)


def ours_log_dropped_sampled(n):
    log = get_structured_logger()
    for _ in range(n):
        log.debug("tick", i=1)


def ours_trade_log(n):
    log = get_structured_logger()
    for _ in range(n):
        log.log_trade_execution(symbol="AAPL", side="BUY", quantity=100, price=150.50, latency_us=25.3, success=True)


BOUNDS = tuple(float(b) for b in contract.SLI_VALUE_BUCKETS)


def baseline(n):
    counts = [0] * (len(BOUNDS) + 1)
    for _ in range(n):
        t0 = pc()
        t1 = pc()
        counts[bisect_left(BOUNDS, (t1 - t0) / 1000)] += 1


# --- peers -------------------------------------------------------------------------------------


def make_peers(closed_port: int):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from prometheus_client import CollectorRegistry
    from prometheus_client import Histogram as PHistogram

    tp = TracerProvider()
    tp.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"http://127.0.0.1:{closed_port}/v1/traces", timeout=1))
    )
    tracer = tp.get_tracer("peer")

    def otel_span(n):
        for _ in range(n):
            with tracer.start_as_current_span("trade_execution", attributes={"symbol": "AAPL", "quantity": 100}):
                pass

    reg = CollectorRegistry()
    ph = PHistogram(
        "peer_trade_latency_seconds", "x", ["symbol"], buckets=contract.TRADE_LATENCY_BUCKETS_SECONDS, registry=reg
    )

    def prom_labels(n):
        for _ in range(n):
            ph.labels("AAPL").observe(25.3e-6)

    pchild = ph.labels("AAPL")

    def prom_child(n):
        for _ in range(n):
            pchild.observe(25.3e-6)

    mp = MeterProvider(metric_readers=[InMemoryMetricReader()])
    oh = mp.get_meter("peer").create_histogram("peer_latency", unit="us")

    def otel_hist(n):
        for _ in range(n):
            oh.record(25.3, {"symbol": "AAPL"})

    import orjson
    import structlog

    sink = io.StringIO()
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(serializer=lambda o, **kw: orjson.dumps(o).decode()),
        ],
        logger_factory=structlog.WriteLoggerFactory(file=sink),
        cache_logger_on_first_use=True,
    )
    slog = structlog.get_logger()

    def structlog_trade(n):
        for _ in range(n):
            slog.info("trade_execution", symbol="AAPL", side="BUY", quantity=100, price=150.50, latency_us=25.3, success=True)

    def reset_sink():
        sink.seek(0)
        sink.truncate()

    return {
        "otel_span": otel_span,
        "prom_labels": prom_labels,
        "prom_child": prom_child,
        "otel_hist": otel_hist,
        "structlog_trade": (structlog_trade, reset_sink),
        "_shutdown": tp.shutdown,
    }


# --- export throughput ---------------------------------------------------------------------------


def export_throughput(endpoint: str | None = None, spans: int = 20_000, batch_size: int = 512, timeout_s: float = 60.0):
    """Spans/s the background exporter delivers to `endpoint` (a loopback sink when None).

    Returns (spans_per_s, dropped, delivered, hot_path_ns_while_exporting).
    """
    sink = OtlpSink(keep=False) if endpoint is None else None
    target = endpoint or sink.endpoint
    try:
        STATS.reset()
        initialize_observability(
            "bench",
            otlp_endpoint=target,
            span_buffer_size=spans * 4,
            export_batch_size=batch_size,
            export_interval_s=0.005,
            metrics_port=-1,
            log_output="none",
            log_otlp=False,
            auto_instrument=False,
            export_timeout_s=10,
        )
        for _ in range(spans):  # enqueue everything, then time the drain
            with telemetry_config.trace_span("trade_execution", ATTRS):
                pass
        t0 = time.perf_counter()
        deadline = t0 + timeout_s
        while STATS.spans_exported < spans and time.perf_counter() < deadline:
            time.sleep(0.005)
        elapsed = time.perf_counter() - t0
        delivered = STATS.spans_exported
        dropped = STATS.spans_dropped
        rate = delivered / elapsed if elapsed > 0 else float("nan")
        # hot-path cost while the exporter is busy: enqueue a fresh backlog, measure meanwhile
        for _ in range(spans // 2):
            with telemetry_config.trace_span("trade_execution", ATTRS):
                pass
        busy_ns = bench(ours_span, n=N, batches=11)
        return rate, dropped, delivered, busy_ns
    finally:
        shutdown_observability(timeout_s=5)
        if sink is not None:
            sink.close()


# --- table ---------------------------------------------------------------------------------------


def fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="also write benchmarks/results/hot_path.md")
    ap.add_argument("--quick", action="store_true", help="fewer batches (smoke run)")
    ap.add_argument("--otlp-endpoint", default=None, help="export throughput against this OTLP/HTTP base URL")
    args = ap.parse_args()
    global BATCHES, N
    if args.quick:
        BATCHES, N = 7, 1000

    import logging

    # The peer's BatchSpanProcessor exports to a closed port: keep its retry chatter quiet.
    logging.getLogger("opentelemetry").setLevel(logging.CRITICAL)
    closed = free_loopback_port()
    initialize_observability(
        "bench",
        otlp_endpoint=f"http://127.0.0.1:{closed}",
        export_enabled=False,  # hot-path rows: the buffer is cleared between batches
        metrics_port=-1,
        log_output="none",
        auto_instrument=False,
    )
    ring = _hft.configure_buffer(1 << 30)
    clear = ring.clear
    peers = make_peers(closed)

    rows = []

    def row(name, ours_ns, peer_name, peer_ns, goal, met):
        ratio = (peer_ns / ours_ns) if (peer_ns and ours_ns) else None
        rows.append((name, ours_ns, peer_name, peer_ns, ratio, goal, met(ours_ns, ratio)))

    span_ns = bench(ours_span, setup=clear)
    span_thr_ns = bench(ours_span_thread, setup=clear)
    otel_ns = bench(peers["otel_span"])
    row("trace_span (HFT, contextvar)", span_ns, "OTel start_as_current_span+BatchSpanProcessor", otel_ns,
        "< 1000 ns, >= 20x", lambda o, r: o < 1000 and (r or 0) >= 20)
    row("trace_span (HFT, thread-local opt-in)", span_thr_ns, "OTel start_as_current_span+BatchSpanProcessor",
        otel_ns, "< 1000 ns, >= 20x", lambda o, r: o < 1000 and (r or 0) >= 20)

    sli_ns = bench(ours_sli)
    prom_ns = bench(peers["prom_labels"])
    prom_child_ns = bench(peers["prom_child"])
    otel_h_ns = bench(peers["otel_hist"])
    row("record_sli", sli_ns, "prometheus_client labels().observe", prom_ns, "< 500 ns, >= 5x",
        lambda o, r: o < 500 and (r or 0) >= 5)
    row("record_sli", sli_ns, "prometheus_client child.observe", prom_child_ns, "(info)", lambda o, r: None)
    row("record_sli", sli_ns, "OTel Histogram.record (1 attr)", otel_h_ns, "< 500 ns, >= 10x",
        lambda o, r: o < 500 and (r or 0) >= 10)
    lab_ns = bench(ours_hist_labels)
    child_ns = bench(ours_hist_child)
    row("Histogram.labels(sym, side).observe", lab_ns, "prometheus_client labels().observe", prom_ns,
        "< 500 ns, >= 5x", lambda o, r: o < 500 and (r or 0) >= 5)
    row("Histogram child.observe", child_ns, "prometheus_client child.observe", prom_child_ns, "(info)",
        lambda o, r: None)

    sink = io.StringIO()

    def reset():
        sink.seek(0)
        sink.truncate()

    structured_logging.configure_logging(output=sink, level="INFO")
    drop_level_ns = bench(ours_log_dropped_level)
    structured_logging.configure_logging(output=sink, level="DEBUG", debug_sample_every=1_000_000_000)
    drop_sample_ns = bench(ours_log_dropped_sampled)
    structured_logging.configure_logging(output=sink, level="INFO")
    trade_ns = bench(ours_trade_log, setup=reset)
    sl_fn, sl_reset = peers["structlog_trade"]
    structlog_ns = bench(sl_fn, setup=sl_reset)
    row("log dropped by level", drop_level_ns, "-", None, "< 300 ns", lambda o, r: o < 300)
    row("log dropped by sampling (counted)", drop_sample_ns, "-", None, "< 300 ns", lambda o, r: o < 300)
    row(f"log_trade_execution -> JSON line ({structured_logging.JSON_RENDERER})", trade_ns,
        "structlog JSONRenderer+orjson", structlog_ns, "< 3000 ns, faster", lambda o, r: o < 3000 and (r or 0) > 1)

    base_ns = bench(baseline)
    row("baseline: 2x perf_counter_ns + bisect", base_ns, "-", None, "(reference)", lambda o, r: None)

    peers["_shutdown"]()
    shutdown_observability(timeout_s=1)
    rate, dropped, delivered, busy_ns = export_throughput(endpoint=args.otlp_endpoint)

    try:
        load = os.getloadavg()
        load_txt = f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    except OSError:
        load_txt = "n/a"
    head = (
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load_txt}; median of {BATCHES} batches x {N} calls."
    )
    lines = [
        head,
        "",
        "| name | median ns | peer | peer median ns | ratio | goal | met? |",
        "|---|---:|---|---:|---:|---|---|",
    ]
    for name, o, pn, pv, r, goal, met in rows:
        m = "-" if met is None else ("yes" if met else "NO")
        lines.append(f"| {name} | {fmt(o)} | {pn} | {fmt(pv)} | {'-' if r is None else f'{r:.1f}x'} | {goal} | {m} |")
    lines += [
        "",
        "| export (background thread -> loopback OTLP/HTTP sink) | value |",
        "|---|---:|",
        f"| spans delivered | {delivered:,} |",
        f"| spans dropped | {dropped:,} |",
        f"| export throughput (spans/s) | {rate:,.0f} |",
        f"| trace_span median while the exporter drains (ns) | {busy_ns:,.0f} |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        out = ROOT / "benchmarks" / "results" / "hot_path.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("# Hot-path benchmark (`make bench`)\n\n" + text)
        print(f"written: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
