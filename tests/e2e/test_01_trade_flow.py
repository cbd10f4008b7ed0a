"""One synthetic trade reaches every backend: Jaeger, Prometheus (app metrics, span metrics, SLO
rules) and the log store, with the planted secrets masked. Timed figures go to the summary line."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from day_trade.observability import contract
from figures import percentile, record
from helpers import http_json, poll
from queries import jaeger_spans, prom_query, prom_value, search_logs
from synthetic_trade import PLANTED_CARD, PLANTED_PASSWORD, SPAN_NAMES, push_otlp_sum

pytestmark = pytest.mark.e2e

TRACE_TIMEOUT = 20  # s: exporter 50 ms + collector batch 200 ms + Jaeger batch 200 ms, with slack
LOG_TIMEOUT = 30  # s: + OpenSearch refresh (1 s)
METRIC_TIMEOUT = 30  # s: 1 s scrape interval
RULE_TIMEOUT = 120  # s: the 30 s rule group must have run on two scrapes of data
CARD_DIGITS = PLANTED_CARD.replace(" ", "")


@pytest.fixture
def planted_trade(stack):
    """A fresh trade for each test (timings start at its end): its log line carries a card
    number and a password."""
    return stack.trader.trade(planted=True)


def test_trace_reaches_jaeger_with_every_span(stack, planted_trade):
    trade = planted_trade
    spans, _ = poll(f"trace {trade.trace_id} in Jaeger",
                    lambda: (s := jaeger_spans(stack.jaeger_url, trade.trace_id)) and len(s) >= len(SPAN_NAMES) and s,
                    TRACE_TIMEOUT, interval=0.02)
    record("trace_visible_ms", (time.time() - trade.ended_at) * 1000)

    by_name = {s["name"]: s for s in spans}
    assert sorted(by_name) == sorted(SPAN_NAMES), spans
    for name, span in by_name.items():
        assert span["trace_id"] == trade.trace_id
        assert span["span_id"] == trade.span_ids[name]
        assert span["service"] == stack.trader.service_name
        parent = trade.parent_of[name]
        assert span["parent_span_id"] == (trade.span_ids[parent] if parent else None), (name, span)
    assert by_name["order_received"]["attributes"]["order.id"] == trade.order_id


def test_trace_visibility_p95_over_20_traces(stack):
    """Span end → trace visible in Jaeger, 20 trades one after the other (goal: p95 < 500 ms)."""
    delays = []
    for _ in range(20):
        trade = stack.trader.trade()
        _, took = poll(f"trace {trade.trace_id}", lambda: len(jaeger_spans(stack.jaeger_url, trade.trace_id)) >= 3,
                       TRACE_TIMEOUT, interval=0.01)
        delays.append((time.time() - trade.ended_at) * 1000)
    record("trace_visible_p95_ms", percentile(delays, 95))
    record("trace_visible_p50_ms", percentile(delays, 50))
    assert len(delays) == 20


def test_log_line_reaches_the_log_store_masked(stack, planted_trade):
    trade = planted_trade
    marker = "payment card"

    def planted_doc():
        docs = search_logs(stack.opensearch_url, stack.logs_index, trade.correlation_id, stack.logs_auth)
        return [d for d in docs if marker in json.dumps(d)]

    docs, _ = poll(f"log line of {trade.correlation_id} in {stack.logs_index}", planted_doc, LOG_TIMEOUT, 0.05)
    record("log_visible_ms", (time.time() - trade.ended_at) * 1000)

    assert len(docs) == 1, docs
    text = json.dumps(docs[0])
    assert trade.trace_id in text, f"trace id {trade.trace_id} missing: {text}"
    assert trade.span_ids["trade_execution"] in text, "the log line is not linked to the span it was written in"
    assert trade.correlation_id in text
    assert CARD_DIGITS not in text.replace(" ", "").replace("-", ""), f"card number stored in clear: {text}"
    assert PLANTED_PASSWORD not in text, f"password stored in clear: {text}"
    assert "REDACTED" in text


def test_log_visibility_p95_over_10_lines(stack):
    """Span end → its log line searchable in the log store (collector batch 200 ms + refresh 1 s)."""
    delays = []
    for _ in range(10):
        trade = stack.trader.trade()
        poll(f"log of {trade.correlation_id}",
             lambda: search_logs(stack.opensearch_url, stack.logs_index, trade.correlation_id, stack.logs_auth),
             LOG_TIMEOUT, 0.02)
        delays.append((time.time() - trade.ended_at) * 1000)
    record("log_visible_p95_ms", percentile(delays, 95))
    record("log_visible_p50_ms", percentile(delays, 50))


def test_collector_masks_secrets_the_app_did_not(stack):
    """Defence in depth: a raw OTLP log record (no library masking) is masked by the collector."""
    marker = f"rawlog{uuid.uuid4().hex[:12]}"
    trace_id, span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    record_ = {
        "timeUnixNano": str(time.time_ns()), "severityText": "INFO", "severityNumber": 9,
        "body": {"stringValue": f"{marker} card {PLANTED_CARD} password={PLANTED_PASSWORD}"},
        "attributes": [{"key": "password", "value": {"stringValue": PLANTED_PASSWORD}},
                       {"key": "note", "value": {"stringValue": f"card {CARD_DIGITS}"}}],
        "traceId": trace_id, "spanId": span_id,
    }
    http_json(f"{stack.otlp_http_endpoint}/v1/logs", {"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "e2e-raw-sender"}}]},
        "scopeLogs": [{"scope": {"name": "e2e"}, "logRecords": [record_]}]}]})

    docs, _ = poll(f"raw log {marker}", lambda: search_logs(stack.opensearch_url, stack.logs_index, marker,
                                                            stack.logs_auth), LOG_TIMEOUT, 0.1)
    text = json.dumps(docs)
    assert trace_id in text
    assert CARD_DIGITS not in text.replace(" ", "") and PLANTED_PASSWORD not in text, text


def test_trade_metrics_reach_prometheus(stack):
    """The app's trade series from the 1 s scrape, timed from the trade to the first sample."""
    symbol = f"E2E{uuid.uuid4().hex[:6].upper()}"
    trade = stack.trader.trade(symbol=symbol)
    expr = f'{contract.TRADES_TOTAL}{{job="trading-app", {contract.TRADE_LABEL_SYMBOL}="{symbol}", result="success"}}'
    result, _ = poll(f"{expr} in Prometheus", lambda: prom_query(stack.prometheus_url, expr), METRIC_TIMEOUT, 0.05)
    record("metric_visible_ms", (time.time() - trade.ended_at) * 1000)
    assert float(result[0]["value"][1]) == 1.0

    latency = f'{contract.TRADE_LATENCY_SECONDS}_count{{job="trading-app", {contract.TRADE_LABEL_SYMBOL}="{symbol}"}}'
    assert poll(latency, lambda: prom_value(stack.prometheus_url, latency), METRIC_TIMEOUT)[0] == 1.0
    for slo in ("trade_latency_slo", "trade_success_slo"):
        expr = f'{contract.SLI_EVENTS_TOTAL}{{job="trading-app", {contract.SLO_LABEL}="{slo}"}}'
        assert poll(expr, lambda: prom_value(stack.prometheus_url, expr), METRIC_TIMEOUT)[0] > 0


def test_span_metrics_of_the_trade_service(stack):
    """The collector's spanmetrics connector → prometheus exporter → scraped every second."""
    service = stack.trader.service_name
    for span_name in SPAN_NAMES:
        expr = f'traces_span_metrics_calls_total{{service_name="{service}", span_name="{span_name}"}}'
        value, _ = poll(expr, lambda: prom_value(stack.prometheus_url, expr), METRIC_TIMEOUT, 0.2)
        assert value > 0
    expr = f'traces_span_metrics_duration_milliseconds_count{{service_name="{service}", span_name="trade_execution"}}'
    assert poll(expr, lambda: prom_value(stack.prometheus_url, expr), METRIC_TIMEOUT)[0] > 0


@pytest.mark.parametrize("slo", ["trade_latency_slo", "trade_success_slo"])
def test_slo_recording_rules_produce_values(stack, slo):
    """The generated rules (contract names, label slo) turn the SLIs into burn rates: 0 while every
    trade succeeds inside the 50 µs latency objective."""
    burn_5m = contract.SLO_BURN_RATE.format(window="5m")
    for name in (burn_5m, contract.SLO_BURN_RATE_1H):
        expr = f'{name}{{{contract.SLO_LABEL}="{slo}"}}'
        value, took = poll(f"{expr} has a value", lambda: (v := prom_value(stack.prometheus_url, expr)) is not None
                           and (v,), RULE_TIMEOUT, 0.5)
        assert value[0] == pytest.approx(0.0, abs=1e-9), f"{expr} = {value[0]}: healthy trades should not burn budget"
    total = f'{contract.SLO_SLI_TOTAL_TILE.format(window="30s")}{{{contract.SLO_LABEL}="{slo}"}}'
    assert poll(total, lambda: prom_value(stack.prometheus_url, total), RULE_TIMEOUT, 0.5)[0] > 0


def test_otlp_metrics_reach_prometheus_through_the_collector(stack):
    """The collector's metrics pipeline: OTLP in → prometheus exporter → scraped by Prometheus."""
    name = f"e2e_otlp_pushes_{uuid.uuid4().hex[:8]}"
    push_otlp_sum(stack.otlp_http_endpoint, name, 3, "e2e-otlp-metrics")
    expr = f'{name}_total{{service_name="e2e-otlp-metrics"}}'
    value, _ = poll(f"{expr} in Prometheus", lambda: prom_value(stack.prometheus_url, expr), METRIC_TIMEOUT, 0.2)
    assert value == 3.0
