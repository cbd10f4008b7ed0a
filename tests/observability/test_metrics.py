"""Metrics: record_sli series of the contract, trade histogram, self-metrics, /metrics endpoint."""

from __future__ import annotations

import threading
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from day_trade.observability import contract, initialize_observability, metrics, record_sli
from day_trade.observability._stats import STATS


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_record_sli_writes_the_contract_series():
    for v in (3, 20, 25, 25.0001, 400, 2_000_000):
        record_sli("trade_latency_slo", v, success=v <= 25)
    record_sli("api_availability", 1, success=False)
    s = _samples(metrics.generate_latest())
    slo = (("slo", "trade_latency_slo"),)
    assert s[(contract.SLI_EVENTS_TOTAL, slo)] == 6
    assert s[(contract.SLI_ERRORS_TOTAL, slo)] == 3
    assert s[(contract.SLI_ERRORS_TOTAL, (("slo", "api_availability"),))] == 1

    def bucket(le):
        return s[(contract.SLI_VALUE + "_bucket", (("le", contract.format_le(le)), ("slo", "trade_latency_slo")))]

    assert bucket(20) == 2  # 3 and 20: `le` is inclusive
    assert bucket(25) == 3
    assert bucket(50) == 4
    assert bucket(1_000_000) == 5
    assert s[(contract.SLI_VALUE + "_bucket", (("le", "+Inf"), ("slo", "trade_latency_slo")))] == 6
    assert s[(contract.SLI_VALUE + "_count", slo)] == 6
    assert abs(s[(contract.SLI_VALUE + "_sum", slo)] - (3 + 20 + 25 + 25.0001 + 400 + 2_000_000)) < 1e-6
    # every contract bucket is exposed
    les = {k[1][0][1] for k in s if k[0] == contract.SLI_VALUE + "_bucket" and k[1][1][1] == "trade_latency_slo"}
    assert les == {contract.format_le(b) for b in contract.SLI_VALUE_BUCKETS} | {"+Inf"}


def test_record_sli_bad_arguments_never_raise_and_are_counted():
    record_sli("x", "fast")
    record_sli("x", float("nan"))
    record_sli(None, 1)
    record_sli("", 1)
    assert STATS.api_errors == 4
    assert _samples(metrics.generate_latest()).get((contract.SLI_EVENTS_TOTAL, (("slo", "x"),)), 0) == 0


def test_trade_latency_histogram_buckets_are_the_contract_seconds():
    metrics.record_trade("AAPL", "BUY", 25.0)  # exactly on a bound (µs): counted in le=25e-6
    metrics.record_trade("AAPL", "BUY", 26.0, success=False)
    s = _samples(metrics.generate_latest())
    lab = lambda le: (("le", le), ("side", "BUY"), ("symbol", "AAPL"))  # noqa: E731
    assert s[(contract.TRADE_LATENCY_SECONDS + "_bucket", lab("2.5e-05"))] == 1
    assert s[(contract.TRADE_LATENCY_SECONDS + "_bucket", lab("5e-05"))] == 2
    les = {k[1][0][1] for k in s if k[0] == contract.TRADE_LATENCY_SECONDS + "_bucket"}
    assert les == {contract.format_le(b) for b in contract.TRADE_LATENCY_BUCKETS_SECONDS} | {"+Inf"}
    assert abs(s[(contract.TRADE_LATENCY_SECONDS + "_sum", (("side", "BUY"), ("symbol", "AAPL")))] - 51e-6) < 1e-12
    res = lambda r: (("result", r), ("side", "BUY"), ("symbol", "AAPL"))  # noqa: E731
    assert s[(contract.TRADES_TOTAL, res("success"))] == 1
    assert s[(contract.TRADES_TOTAL, res("failure"))] == 1


def test_custom_families_and_label_escaping():
    reg = metrics.Registry()
    c = reg.counter("orders_total", "Orders", ("venue",))
    g = reg.gauge("open_positions", "Open positions")
    h = reg.histogram("fill_us", "Fill latency", ("venue",), buckets=(1, 10, 100))
    c.labels('X"N\\AS\n').inc(2)
    g.set(7)
    h.labels("XNAS").observe(10)
    h.labels("XNAS").observe(1000)
    s = _samples(reg.exposition())
    assert s[("orders_total", (("venue", 'X"N\\AS\n'),))] == 2
    assert s[("open_positions", ())] == 7
    assert s[("fill_us_bucket", (("le", "10.0"), ("venue", "XNAS")))] == 1
    assert s[("fill_us_bucket", (("le", "+Inf"), ("venue", "XNAS")))] == 2


def test_concurrent_writers_lose_no_increment():
    n, threads = 20_000, 4

    def work():
        for _ in range(n):
            record_sli("concurrent", 5, success=False)

    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    s = _samples(metrics.generate_latest())
    assert s[(contract.SLI_EVENTS_TOTAL, (("slo", "concurrent"),))] == n * threads
    assert s[(contract.SLI_ERRORS_TOTAL, (("slo", "concurrent"),))] == n * threads


def test_cardinality_is_capped(monkeypatch):
    monkeypatch.setattr(metrics, "MAX_SERIES_PER_FAMILY", 3)
    fam = metrics.Registry().counter("c", "c", ("k",))
    for i in range(10):
        fam.labels(f"v{i}").inc()
    keys = {k for k, _ in fam._series()}
    assert len(keys) == 4 and (metrics.OVERFLOW_LABEL_VALUE,) in keys
    assert STATS.api_errors == 7


def test_endpoint_serves_contract_and_self_metrics(quick_export):
    rt = initialize_observability("day-trade-app", **{**quick_export, "metrics_port": 0, "export_enabled": False})
    record_sli("trade_latency_slo", 12.5)
    with urllib.request.urlopen(f"http://127.0.0.1:{rt.metrics_port}/metrics", timeout=5) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = resp.read().decode()
    names = {s.name for fam in text_string_to_metric_families(text) for s in fam.samples}
    for name in (
        contract.SLI_EVENTS_TOTAL,
        contract.SELF_SPANS_DROPPED_TOTAL,
        contract.SELF_SPANS_EXPORTED_TOTAL,
        contract.SELF_LOGS_DROPPED_TOTAL,
        contract.SELF_EXPORT_ERRORS_TOTAL,
        contract.SELF_SPAN_BUFFER_DEPTH,
        contract.SELF_LOG_BUFFER_DEPTH,
    ):
        assert name in names, name


def test_endpoint_port_in_use_does_not_raise(quick_export):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        rt = initialize_observability("x", **{**quick_export, "metrics_port": port, "export_enabled": False})
    assert rt is not None and rt.metrics_server is None
