"""Read what reached each backend: Jaeger (API v3), Prometheus (HTTP API), the log store (search).

Loopback only (helpers.http_json refuses anything else). Each function answers once; the tests
wrap them in helpers.poll for bounded waits.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from helpers import http_json


# --- Jaeger -----------------------------------------------------------------------------------

def _hex_id(value: str) -> str:
    """OTLP/JSON ids are hex; some gateways emit base64: accept both."""
    if len(value) in (16, 32) and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    return base64.b64decode(value).hex()


def jaeger_spans(jaeger_url: str, trace_id: str) -> list[dict]:
    """Every span Jaeger has for the trace (GET /api/v3/traces/{id}); [] when not there yet."""
    try:
        body = http_json(f"{jaeger_url}/api/v3/traces/{trace_id}", timeout=5)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return []
        raise
    spans = []
    for rs in (body or {}).get("result", {}).get("resourceSpans", []):
        resource = {a["key"]: _value(a["value"]) for a in rs.get("resource", {}).get("attributes", [])}
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                spans.append({
                    "name": span["name"],
                    "trace_id": _hex_id(span["traceId"]),
                    "span_id": _hex_id(span["spanId"]),
                    "parent_span_id": _hex_id(span["parentSpanId"]) if span.get("parentSpanId") else None,
                    "service": resource.get("service.name"),
                    "attributes": {a["key"]: _value(a["value"]) for a in span.get("attributes", [])},
                    "status": span.get("status", {}),
                })
    return spans


def _value(v: dict) -> Any:
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in v:
            return v[key]
    if "intValue" in v:
        return int(v["intValue"])
    return v


# --- Prometheus -----------------------------------------------------------------------------------

def prom_query(prometheus_url: str, expr: str) -> list[dict]:
    q = urllib.parse.urlencode({"query": expr})
    body = http_json(f"{prometheus_url}/api/v1/query?{q}", timeout=10)
    assert body["status"] == "success", body
    return body["data"]["result"]


def prom_value(prometheus_url: str, expr: str) -> float | None:
    """The value of the first series of an instant query, or None when it returns nothing."""
    result = prom_query(prometheus_url, expr)
    return float(result[0]["value"][1]) if result else None


def prom_rules(prometheus_url: str) -> list[dict]:
    return http_json(f"{prometheus_url}/api/v1/rules", timeout=10)["data"]["groups"]


def prom_alerts(prometheus_url: str) -> list[dict]:
    return http_json(f"{prometheus_url}/api/v1/alerts", timeout=10)["data"]["alerts"]


# --- the log store ------------------------------------------------------------------------------

def search_logs(store_url: str, index: str, text: str, auth: tuple[str, str] | None = None,
                size: int = 20) -> list[dict]:
    """Documents of `index` (a name or pattern) containing the exact token `text` in any field."""
    assert store_url.startswith("http://127.0.0.1"), "loopback only"
    query = {"size": size, "query": {"query_string": {"query": json.dumps(text), "default_field": "*"}}}
    req = urllib.request.Request(f"{store_url}/{index}/_search?ignore_unavailable=true",
                                 data=json.dumps(query).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:  # the index is created by the first write
            return []
        raise
    return [hit["_source"] for hit in body.get("hits", {}).get("hits", [])]


def count_docs(store_url: str, index: str, auth: tuple[str, str] | None = None) -> int:
    assert store_url.startswith("http://127.0.0.1"), "loopback only"
    req = urllib.request.Request(f"{store_url}/{index}/_count?ignore_unavailable=true")
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(json.loads(resp.read())["count"])
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return 0
        raise


def scrape(url: str) -> dict[str, float]:
    """A Prometheus text endpoint as {series text: value} (e.g. 'dtobs_spans_dropped_total')."""
    assert url.startswith("http://127.0.0.1"), "loopback only"
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        try:
            out[series] = float(value)
        except ValueError:
            pass
    return out
