"""How much the native stack takes on this machine without losing anything.

Starts its own native stack (rendered from observability.yaml on free loopback ports, like the
e2e tests), then sends OTLP/HTTP protobuf traces (3 spans per trade) and logs (one line per trade)
to the collector at increasing rates, each step for --step-seconds. After each step it waits
(bounded) until everything drained and checks, end to end:

    spans: sent by the generator == stored by Jaeger (its storage exporter's sent counter)
    logs:  sent by the generator == documents in OpenSearch (after a refresh)

and that the generator kept the target rate (>= 95 %) with no request refused. It stops at the
first step that loses anything (or cannot be driven), prints one row per step with the CPU and
memory (RSS) of every backend, and a final line with the highest lossless rate. Loopback only;
the whole run is bounded by --max-seconds, and the stack is always stopped at the end.

    .venv/bin/python benchmarks/bench_native_stack.py [--rates 1000,2000,5000,10000,20000]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

import stacks  # noqa: E402
from helpers import WebhookReceiver  # noqa: E402
from queries import count_docs, scrape  # noqa: E402

SPANS_PER_TRADE = 3
TRADES_PER_REQUEST = 150  # 450 spans / 150 log lines per request
POOL = 48  # distinct pre-built requests per signal (building protobufs is not what we measure)
RESULT_FILE = REPO / ".dtobs" / "bench-native-stack.txt"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- payloads ------------------------------------------------------------------------------------

def build_payloads(n: int) -> tuple[list[bytes], list[bytes]]:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    def kv(key: str, value) -> KeyValue:
        v = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=str(value))
        return KeyValue(key=key, value=v)

    resource = [kv("service.name", "bench-trader"), kv("host.name", "bench")]
    traces, logs = [], []
    rnd = random.Random(42)
    for _ in range(n):
        treq, lreq = ExportTraceServiceRequest(), ExportLogsServiceRequest()
        rs = treq.resource_spans.add()
        rs.resource.attributes.extend(resource)
        ss = rs.scope_spans.add()
        ss.scope.name = "bench"
        rl = lreq.resource_logs.add()
        rl.resource.attributes.extend(resource)
        sl = rl.scope_logs.add()
        sl.scope.name = "bench"
        now = time.time_ns()
        for _ in range(TRADES_PER_REQUEST):
            trace_id = rnd.getrandbits(128).to_bytes(16, "big")
            root_id = rnd.getrandbits(64).to_bytes(8, "big")
            symbol = rnd.choice(("AAPL", "MSFT", "NVDA", "TSLA"))
            for i, name in enumerate(("order_received", "risk_check", "trade_execution")):
                span = ss.spans.add()
                span.trace_id = trace_id
                span.span_id = root_id if i == 0 else rnd.getrandbits(64).to_bytes(8, "big")
                if i:
                    span.parent_span_id = root_id
                span.name = name
                span.kind = Span.SPAN_KIND_INTERNAL
                span.start_time_unix_nano = now + i * 1000
                span.end_time_unix_nano = now + i * 1000 + 800
                span.attributes.extend([kv("symbol", symbol), kv("quantity", 100)])
            record = sl.log_records.add()
            record.time_unix_nano = now
            record.severity_number = 9
            record.severity_text = "INFO"
            record.body.string_value = f"trade_execution symbol={symbol} quantity=100 price=187.5"
            record.trace_id = trace_id
            record.span_id = root_id
            record.attributes.extend([kv("symbol", symbol), kv("order_id", rnd.getrandbits(48)),
                                      kv("correlation_id", f"bench-{rnd.getrandbits(64):x}")])
        traces.append(treq.SerializeToString())
        logs.append(lreq.SerializeToString())
    return traces, logs


# --- measuring -------------------------------------------------------------------------------------

def counter_sum(metrics: dict[str, float], name: str, **labels: str) -> float:
    total = 0.0
    for series, value in metrics.items():
        base = series.split("{", 1)[0]
        if base not in (name, name + "_total"):
            continue
        if all(f'{k}="{v}"' in series for k, v in labels.items()):
            total += value
    return total


def jaeger_stored_spans(stack) -> float:
    m = scrape(f"http://127.0.0.1:{stack.ports['jaeger_metrics']}/metrics")
    return counter_sum(m, "otelcol_exporter_sent_spans", exporter="jaeger_storage_exporter")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = int(fields[11]) + int(fields[12])  # utime, stime
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            cf = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(cf[11]) + int(cf[12])
        return total / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


class Sender:
    """One keep-alive HTTP connection to the collector's OTLP/HTTP receiver."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.errors = 0

    def post(self, path: str, body: bytes) -> bool:
        try:
            self.conn.request("POST", path, body, {"Content-Type": "application/x-protobuf"})
            resp = self.conn.getresponse()
            resp.read()
            ok = resp.status == 200
        except (OSError, http.client.HTTPException):
            self.conn.close()
            ok = False
        if not ok:
            self.errors += 1
        return ok


def run_step(stack, sender: Sender, traces: list[bytes], logs: list[bytes], spans_per_s: float,
             seconds: float, drain_timeout: float) -> dict:
    pids = stack.pids()
    cpu0 = {s: cpu_seconds(p) for s, p in pids.items()}
    stored0 = jaeger_stored_spans(stack)
    docs0 = count_docs(stack.opensearch_url, stack.logs_index)
    spans_per_req = TRADES_PER_REQUEST * SPANS_PER_TRADE
    interval = spans_per_req / spans_per_s
    sent_spans = sent_logs = 0
    errors0 = sender.errors
    t0 = time.monotonic()
    next_at = t0
    i = 0
    while time.monotonic() - t0 < seconds:
        if sender.post("/v1/traces", traces[i % len(traces)]):
            sent_spans += spans_per_req
        if sender.post("/v1/logs", logs[i % len(logs)]):
            sent_logs += TRADES_PER_REQUEST
        i += 1
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    elapsed = time.monotonic() - t0
    # Drain: bounded wait until Jaeger and OpenSearch have everything (or stop moving).
    deadline = time.monotonic() + drain_timeout
    stored = docs = 0.0
    while time.monotonic() < deadline:
        stored = jaeger_stored_spans(stack) - stored0
        _refresh(stack)
        docs = count_docs(stack.opensearch_url, stack.logs_index) - docs0
        if stored >= sent_spans and docs >= sent_logs:
            break
        time.sleep(1)
    drain_s = time.monotonic() - t0 - elapsed
    wall = time.monotonic() - t0
    cpu = {s: (cpu_seconds(p) - cpu0.get(s, 0.0)) / wall * 100 for s, p in pids.items()}
    rss = {s: stacks.rss_mib(p) for s, p in pids.items()}
    return dict(target=spans_per_s, spans_per_s=sent_spans / elapsed, logs_per_s=sent_logs / elapsed,
                sent_spans=sent_spans, stored_spans=stored, sent_logs=sent_logs, stored_logs=docs,
                errors=sender.errors - errors0, drain_s=drain_s, cpu=cpu, rss=rss)


def _refresh(stack) -> None:
    req = urllib.request.Request(f"{stack.opensearch_url}/{stack.logs_index}/_refresh?ignore_unavailable=true",
                                 method="POST")
    try:
        urllib.request.urlopen(req, timeout=10).read()
    except OSError:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description="Lossless load of the native stack (loopback only).")
    parser.add_argument("--rates", default="2000,5000,10000,20000,30000,40000,60000", help="spans/s per step")
    parser.add_argument("--step-seconds", type=float, default=10)
    parser.add_argument("--drain-timeout", type=float, default=30)
    parser.add_argument("--warmup-seconds", type=float, default=5)
    parser.add_argument("--max-seconds", type=float, default=600, help="bound on the whole run")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    started = time.monotonic()

    traces, logs = build_payloads(POOL)
    with WebhookReceiver() as hook:
        try:
            stack = stacks.start_native(hook.url, timeout=240, echo=lambda line: None)
        except stacks.StackUnavailable as exc:
            print(f"bench_native_stack: skipped: {exc}")
            return 0
        try:
            print(f"native stack up in {stack.startup_s:.1f}s on {os.cpu_count()} CPU(s); "
                  f"{TRADES_PER_REQUEST * SPANS_PER_TRADE} spans + {TRADES_PER_REQUEST} log lines per request pair")
            sender = Sender(stack.ports["otlp_http"])
            # Warm-up (index creation, mappings, JIT) for --warmup-seconds at the first rate: not counted.
            run_step(stack, sender, traces, logs, rates[0], args.warmup_seconds, args.drain_timeout)
            services = list(stack.pids())
            print(f"{'target':>8} {'spans/s':>8} {'logs/s':>7} {'lost spans':>10} {'lost logs':>9} {'drain':>6}  "
                  + "  ".join(f"{s[:6]:>6}%cpu/MiB" for s in services))
            best = None
            for rate in rates:
                if time.monotonic() - started + args.step_seconds + args.drain_timeout > args.max_seconds:
                    print(f"stopping: --max-seconds {args.max_seconds:.0f} reached")
                    break
                r = run_step(stack, sender, traces, logs, rate, args.step_seconds, args.drain_timeout)
                lost_spans = r["sent_spans"] - r["stored_spans"]
                lost_logs = r["sent_logs"] - r["stored_logs"]
                kept_rate = r["spans_per_s"] >= 0.95 * rate
                print(f"{rate:8.0f} {r['spans_per_s']:8.0f} {r['logs_per_s']:7.0f} {lost_spans:10.0f} "
                      f"{lost_logs:9.0f} {r['drain_s']:5.1f}s  "
                      + "  ".join(f"{r['cpu'].get(s, 0):5.0f}%/{r['rss'].get(s, 0):5.0f}" for s in services)
                      + ("" if kept_rate else "  (generator could not keep the rate)")
                      + (f"  ({r['errors']} refused requests)" if r["errors"] else ""), flush=True)
                if lost_spans > 0 or lost_logs > 0 or r["errors"]:
                    break
                best = r  # lossless at the rate actually sent
                if not kept_rate:  # the generator (sharing the CPUs) is the limit: stop here
                    break
            if best is None:
                line = "bench_native_stack: no lossless step"
            else:
                bound = " (generator-bound)" if best["spans_per_s"] < 0.95 * best["target"] else ""
                line = (f"bench_native_stack: lossless spans_per_s={best['spans_per_s']:.0f} "
                        f"logs_per_s={best['logs_per_s']:.0f}{bound} "
                        + " ".join(f"rss_{s}_mib={best['rss'][s]:.0f}" for s in services)
                        + f" cpus={os.cpu_count()}")
            print(line)
            RESULT_FILE.parent.mkdir(parents=True, exist_ok=True)
            RESULT_FILE.write_text(line + "\n")
        finally:
            stack.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
