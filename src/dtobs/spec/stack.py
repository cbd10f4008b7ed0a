"""The `stack:` section of the spec: backends, ports, retention, scrape jobs, resource limits.

Every field has a default, so `stack: {}` renders the reference stack. A complete example:

    stack:
      logs_backend: opensearch          # elasticsearch | opensearch (both first-class)
      bind_address: 127.0.0.1           # host address every published port binds to
      expose_publicly: false            # must be true to bind 0.0.0.0 / ::
      ports:                            # host ports: published by compose, listened on natively
        prometheus: 9090
        otlp_grpc: 4317
      scrape:
        hft: {interval: 1s, timeout: 800ms}        # trading app + collector span metrics
        default: {interval: 15s, timeout: 10s}     # everything else
        rule_evaluation_interval: 15s
      retention:
        metrics_full_resolution: 30d    # main Prometheus TSDB
        metrics_aggregated: 90d         # 5-minute recording rules, long-term Prometheus
        logs: {hot: 7d, warm: 30d, delete: 365d}
        traces: {full: 7d, sampled: 30d}
      resources:
        elasticsearch: {memory_mb: 2048, heap_mb: 1024}
        otel_collector: {memory_mb: 512}
      collector:
        spanmetrics_buckets: [100us, 250us, 500us, 1ms, 2ms, 5ms, 10ms, 50ms, 100ms, 1s]
        resource_attributes: {deployment.environment: dev}

Durations use the Prometheus syntax (`800ms`, `1s`, `30d`, plus `us` for bucket bounds).
Cross-field rules (port clashes, timeout above interval, retention shorter than an SLO period,
phase ordering) are checked while the model is built: see dtobs.model.stack.
"""

from __future__ import annotations

import re

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from dtobs.spec.base import StrictModel

_DURATION = re.compile(r"^([0-9]+(us|ms|s|m|h|d|w|y))+$")


def _check_duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(f"not a duration like 800ms, 15s or 30d (got {value!r})")
    return value


Duration = Annotated[str, AfterValidator(_check_duration)]


Port = int


class PortsSpec(StrictModel):
    """Host ports. Compose publishes these on bind_address; the native stack listens on them."""

    prometheus: Port = Field(9090, ge=1, le=65535)
    prometheus_longterm: Port = Field(9091, ge=1, le=65535)
    alertmanager: Port = Field(9093, ge=1, le=65535)
    grafana: Port = Field(3000, ge=1, le=65535)
    jaeger_query: Port = Field(16686, ge=1, le=65535)
    jaeger_otlp_grpc: Port = Field(14317, ge=1, le=65535)  # native only: the collector owns 4317
    jaeger_otlp_http: Port = Field(14318, ge=1, le=65535)
    jaeger_metrics: Port = Field(14269, ge=1, le=65535)  # native only: Jaeger's own telemetry
    jaeger_health: Port = Field(14270, ge=1, le=65535)  # native only
    otlp_grpc: Port = Field(4317, ge=1, le=65535)
    otlp_http: Port = Field(4318, ge=1, le=65535)
    collector_health: Port = Field(13133, ge=1, le=65535)
    collector_prometheus: Port = Field(8889, ge=1, le=65535)  # span metrics (+ exemplars)
    collector_metrics: Port = Field(8888, ge=1, le=65535)  # the collector's own telemetry
    log_store: Port = Field(9200, ge=1, le=65535)  # Elasticsearch or OpenSearch HTTP
    log_ui: Port = Field(5601, ge=1, le=65535)  # Kibana or OpenSearch Dashboards
    logstash: Port = Field(5044, ge=1, le=65535)  # JSON lines over TCP
    app_metrics: Port = Field(9464, ge=1, le=65535)  # the trading app's Prometheus endpoint


class ScrapeTiming(StrictModel):
    interval: Duration
    timeout: Duration


class ScrapeSpec(StrictModel):
    hft: ScrapeTiming = ScrapeTiming(interval="1s", timeout="800ms")
    default: ScrapeTiming = ScrapeTiming(interval="15s", timeout="10s")
    rule_evaluation_interval: Duration = "15s"
    # Where Prometheus finds the trading app. None: host.docker.internal (compose) / 127.0.0.1 (native).
    app_host: str | None = None


class LogsRetention(StrictModel):
    hot: Duration = "7d"
    warm: Duration = "30d"
    delete: Duration = "365d"


class TracesRetention(StrictModel):
    full: Duration = "7d"
    sampled: Duration = "30d"


class RetentionSpec(StrictModel):
    metrics_full_resolution: Duration = "30d"
    metrics_aggregated: Duration = "90d"
    logs: LogsRetention = LogsRetention()
    traces: TracesRetention = TracesRetention()


class ResourceSpec(StrictModel):
    memory_mb: int = Field(ge=64)
    heap_mb: int | None = Field(None, ge=32)  # JVM heap (ES/OpenSearch/Logstash); else derived


ServiceName = Literal[
    "otel_collector", "jaeger", "prometheus", "prometheus_longterm", "alertmanager", "grafana",
    "elasticsearch", "opensearch", "kibana", "opensearch_dashboards", "logstash",
    "node_exporter", "log_store_exporter",
]


class CollectorSpec(StrictModel):
    spanmetrics_buckets: list[Duration] = [
        "100us", "250us", "500us", "1ms", "2ms", "5ms", "10ms", "25ms", "50ms", "100ms", "250ms", "1s",
    ]
    spanmetrics_flush_interval: Duration = "1s"
    resource_attributes: dict[str, str] = {"deployment.environment": "dev"}


class StackSpec(StrictModel):
    logs_backend: Literal["elasticsearch", "opensearch"] = "elasticsearch"
    bind_address: str = "127.0.0.1"
    expose_publicly: bool = False
    ports: PortsSpec = PortsSpec()
    scrape: ScrapeSpec = ScrapeSpec()
    retention: RetentionSpec = RetentionSpec()
    resources: dict[ServiceName, ResourceSpec] = {}
    collector: CollectorSpec = CollectorSpec()
