"""A synthetic trading app for the end-to-end tests, built on day_trade.observability only.

One trade = one trace of three HFT spans

    order_received (root)
    ├── risk_check
    └── trade_execution      ← a structured log line inside it, with a planted card number
                               and password (the library and the collector must mask both)

plus the trade metrics (`log_trade_execution` → dtobs_trades_total, dtobs_trade_latency_seconds)
and the SLIs of the trade SLOs (`record_sli` for trade_latency_slo and trade_success_slo; the API
and error-rate SLOs get a healthy event too, so every SLO of the spec has data).

`SyntheticTrader.run()` trades at a steady rate on a background thread; `failing = True`
turns every trade into a failure (the outage of the page-alert test). The slowest call of the
hot path is kept (`max_call_ms`) for the fault tests.

Run it by hand against a running stack:  python tests/e2e/synthetic_trade.py --otlp http://127.0.0.1:4318
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
import urllib.request
import uuid
from collections import deque
from dataclasses import dataclass, field

from day_trade.observability import (get_structured_logger, initialize_observability, record_sli,
                                     shutdown_observability, telemetry_config)
from day_trade.observability import get_runtime, record_trade

SERVICE = "day-trade-e2e"
SPAN_NAMES = ("order_received", "risk_check", "trade_execution")
PLANTED_CARD = "4111 1111 1111 1111"  # Luhn-valid test Visa number
PLANTED_PASSWORD = "hunter2-e2e-Secret"
SYMBOLS = ("AAPL", "MSFT", "NVDA")


@dataclass
class Trade:
    trace_id: str  # 32 hex
    span_ids: dict[str, str]  # span name → 16 hex
    parent_of: dict[str, str | None]  # span name → parent span name
    correlation_id: str
    order_id: str
    ended_at: float  # time.time() when the root span ended
    ok: bool


@dataclass
class SyntheticTrader:
    otlp_endpoint: str
    metrics_port: int
    metrics_host: str = "127.0.0.1"
    service_name: str = SERVICE
    span_buffer_size: int = 4096
    log_buffer_size: int = 2048
    log_every_trade: bool = True
    failing: bool = False
    trades: int = 0
    failures: int = 0
    max_call_ms: float = 0.0
    call_ms: deque = field(default_factory=lambda: deque(maxlen=20_000))  # recent call durations
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _pusher: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "SyntheticTrader":
        rt = initialize_observability(
            self.service_name, otlp_endpoint=self.otlp_endpoint, metrics_port=self.metrics_port,
            metrics_host=self.metrics_host,
            log_output="none", auto_instrument=False, span_buffer_size=self.span_buffer_size,
            log_buffer_size=self.log_buffer_size, environment="e2e",
        )
        if rt is None or rt.metrics_port != self.metrics_port:
            raise RuntimeError(f"initialize_observability failed (metrics port {self.metrics_port})")
        self.log = get_structured_logger("day_trade.e2e")
        return self

    def trade(self, ok: bool | None = None, planted: bool = False, symbol: str | None = None) -> Trade:
        """One synthetic trade: a three-span trace, a log line inside, trade metrics and SLIs."""
        ok = (not self.failing) if ok is None else ok
        symbol = symbol or random.choice(SYMBOLS)
        side = random.choice(("buy", "sell"))
        order_id = uuid.uuid4().hex[:16]
        ids: dict[str, str] = {}
        span = telemetry_config.trace_span
        with self.log.correlation_context(f"e2e-{order_id}") as correlation_id:
            with span("order_received", {"symbol": symbol, "side": side, "order.id": order_id}) as root:
                ids["order_received"] = f"{root.span_id:016x}"
                trace_id = f"{root.trace_id:032x}"
                with span("risk_check", {"symbol": symbol, "limit.ok": True}) as risk:
                    ids["risk_check"] = f"{risk.span_id:016x}"
                with span("trade_execution", {"symbol": symbol, "quantity": 100}) as execution:
                    ids["trade_execution"] = f"{execution.span_id:016x}"
                    # Simulated venue latency (µs): inside the 50 µs trade latency SLO.
                    latency_us = random.uniform(5.0, 40.0)
                    if not ok:
                        execution.set_status(False, "rejected by venue")
                    if planted:
                        self.log.info(f"payment card {PLANTED_CARD} charged, password={PLANTED_PASSWORD}",
                                      order_id=order_id, card_number=PLANTED_CARD, password=PLANTED_PASSWORD)
                    if self.log_every_trade or planted:
                        self.log.log_trade_execution(symbol, side, 100, 187.5, latency_us, success=ok,
                                                     order_id=order_id)
                    else:
                        record_trade(symbol, side, latency_us, ok)
                    record_sli("trade_latency_slo", latency_us, success=latency_us <= 50)
                    record_sli("trade_success_slo", 1, success=ok)
                    record_sli("api_latency_slo", random.uniform(1.0, 20.0), success=True)  # ms
                    record_sli("error_rate_slo", 1, success=True)
        ended_at = time.time()
        with self._lock:
            self.trades += 1
            self.failures += 0 if ok else 1
        return Trade(trace_id, ids, {"order_received": None, "risk_check": "order_received",
                                     "trade_execution": "order_received"},
                     correlation_id, order_id, ended_at, ok)

    # steady background trading ---------------------------------------------------------------
    def run(self, rate_per_s: float) -> "SyntheticTrader":
        """Trade at rate_per_s on a daemon thread until stop()."""
        interval = 1.0 / rate_per_s

        def loop() -> None:
            next_at = time.perf_counter()
            while not self._stop.is_set():
                t0 = time.perf_counter()
                self.trade()
                call_ms = (time.perf_counter() - t0) * 1000
                self.call_ms.append(call_ms)
                if call_ms > self.max_call_ms:
                    self.max_call_ms = call_ms
                next_at += interval
                delay = next_at - time.perf_counter()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    next_at = time.perf_counter()  # behind: do not burst to catch up

        self._stop.clear()
        self._thread = threading.Thread(target=loop, name="synthetic-trader", daemon=True)
        self._thread.start()
        return self

    def push_otlp_metrics(self, every_s: float = 5.0) -> "SyntheticTrader":
        """Also push a small OTLP metric (trades so far) to the collector every `every_s`, on its
        own thread: the collector's OTLP metrics pipeline carries data too, as with a service
        instrumented by an OpenTelemetry SDK metrics exporter. Failures (collector down) are ignored."""

        def loop() -> None:
            while not self._stop.wait(every_s):
                try:
                    push_otlp_sum(self.otlp_endpoint, "e2e_trades_pushed", self.trades, self.service_name)
                except OSError:
                    pass

        self._pusher = threading.Thread(target=loop, name="synthetic-otlp-metrics", daemon=True)
        self._pusher.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in (self._thread, self._pusher):
            if thread is not None:
                thread.join(timeout)
        self._thread = self._pusher = None

    def flush(self, timeout: float = 5.0) -> bool:
        rt = get_runtime()
        return rt.flush(timeout) if rt is not None else False

    def close(self) -> None:
        self.stop()
        shutdown_observability(2.0)


def push_otlp_sum(otlp_endpoint: str, name: str, value: int, service: str, timeout: float = 2.0) -> None:
    """POST one cumulative monotonic sum over OTLP/HTTP JSON (loopback only)."""
    assert otlp_endpoint.startswith("http://127.0.0.1"), "loopback only"
    now = time.time_ns()
    body = {"resourceMetrics": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeMetrics": [{"scope": {"name": "e2e"}, "metrics": [{
            "name": name, "unit": "1",
            "sum": {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [
                {"asInt": str(int(value)), "startTimeUnixNano": str(_STARTED_NS), "timeUnixNano": str(now)}]}}]}]}]}
    req = urllib.request.Request(f"{otlp_endpoint}/v1/metrics", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        resp.read()


_STARTED_NS = time.time_ns()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--otlp", default="http://127.0.0.1:4318")
    parser.add_argument("--metrics-port", type=int, default=9464)
    parser.add_argument("--rate", type=float, default=0, help="trades/s for --seconds (0: one trade)")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    trader = SyntheticTrader(args.otlp, args.metrics_port).start()
    try:
        trade = trader.trade(planted=True)
        print(f"trace_id={trade.trace_id} correlation_id={trade.correlation_id}")
        if args.rate > 0:
            trader.run(args.rate)
            time.sleep(max(0.0, min(args.seconds, 3600)))
        trader.flush()
    finally:
        trader.close()


if __name__ == "__main__":
    main()
