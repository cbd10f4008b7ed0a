"""config/prometheus.yml (+ native variant), the long-term Prometheus, platform alerts and the
5-minute downsampling rules that carry the aggregated history."""

from __future__ import annotations

from dataclasses import dataclass

from day_trade.observability import contract as k
from dtobs.model.stack import Stack, Topology
from dtobs.render import stack_common as c
from dtobs.render.jinja import render_template

RUNBOOK = "https://github.com/day-trade/day-trade-observability/blob/main/docs/runbooks/platform.md#"
DOWNSAMPLE_PREFIX = "agg5m:"
LONGTERM_KEEP = r"slo:.+|agg5m:.+"
MAX_EXEMPLARS = 100000


@dataclass(frozen=True)
class Job:
    name: str
    targets: tuple[str, ...]
    hft: bool
    interval: str
    timeout: str
    comment: str


_SIGNALS = ("spans", "metric_points", "log_records")


def _any_rate_above_zero(by: str, metrics: list[str]) -> str:
    """One `sum by (...) (rate(m[5m])) > 0` per metric, joined with `or`.

    A single rate() over a {__name__=~...} regex fails on Prometheus 2.x ("vector cannot contain
    metrics with the same labelset") once rate() has dropped the metric names.
    """
    return " or ".join(f"sum by ({by}) (rate({m}[5m])) > 0" for m in metrics)


def jobs(stack: Stack, topo: Topology) -> list[Job]:
    e = topo.endpoints

    def job(name: str, target: str, hft: bool, comment: str) -> Job:
        timing = stack.hft if hft else stack.default
        return Job(name, (target,), hft, timing.interval, timing.timeout, comment)

    out = [
        job("trading-app", topo.app_target, True, "HFT: the trading app's own metrics (dtobs_* series)"),
        job("otel-collector-spanmetrics", e["collector_prometheus"].addr, True,
            "HFT: span metrics (RED per operation) with exemplars, from the collector's prometheus exporter"),
        job("otel-collector", e["collector_metrics"].addr, False, "the collector's own telemetry"),
        job("jaeger", e["jaeger_metrics"].addr, False, "Jaeger's own telemetry"),
        job("alertmanager", e["alertmanager"].addr, False, "Alertmanager"),
        job("prometheus", e["prometheus"].addr, False, "this Prometheus"),
    ]
    if topo.with_longterm:
        out.append(job("prometheus-longterm", e["prometheus_longterm"].addr, False, "the long-retention Prometheus"))
    if topo.with_exporters:
        out.append(job("node", e["node_exporter"].addr, False, "host filesystems, memory, CPU (node-exporter)"))
        out.append(job("log-store", e["log_store_exporter"].addr, False,
                       f"{topo.logs_backend} cluster health (elasticsearch-exporter)"))
    return out


def prometheus_context(stack: Stack, topo: Topology) -> dict:
    remote = None
    if topo.with_longterm:
        remote = dict(url=topo.endpoints["prometheus_longterm"].url + "/api/v1/write", keep_regex=c.yq(f"^(?:{LONGTERM_KEEP})$"))
    return dict(
        variant=topo.name,
        retention_full=stack.retention.metrics_full_resolution,
        retention_aggregated=stack.retention.metrics_aggregated,
        remote_write=remote,
        default_interval=stack.default.interval,
        default_timeout=stack.default.timeout,
        evaluation_interval=stack.rule_evaluation_interval,
        max_exemplars=MAX_EXEMPLARS,
        rules_glob=topo.rules_glob,
        alertmanager=topo.endpoints["alertmanager"].addr,
        jobs=jobs(stack, topo),
    )


def _alert(name: str, expr: str, for_: str, severity: str, summary: str, description: str) -> dict:
    return dict(
        record=None, alert=name, expr=c.yq(expr), **{"for": for_},
        labels=[(k.ALERT_LABEL_SEVERITY, severity), ("team", "platform")],
        annotations=[("summary", summary), ("description", description), ("runbook_url", RUNBOOK + name.lower())],
    )


def _record(name: str, expr: str) -> dict:
    return dict(record=name, expr=c.yq(expr))


def platform_groups(stack: Stack) -> list[dict]:
    page, ticket = k.SEVERITY_PAGE, k.SEVERITY_TICKET
    hft_jobs = "trading-app|otel-collector-spanmetrics"
    return [
        dict(name="platform.targets", interval=None, rules=[
            _alert("HFTScrapeTargetDown", f'up{{job=~"{hft_jobs}"}} == 0', "30s", page,
                   "HFT scrape target {{ $labels.job }} ({{ $labels.instance }}) is down",
                   "Prometheus cannot scrape {{ $labels.instance }}: trade latency SLOs go blind."),
            _alert("ScrapeTargetDown", f'up{{job!~"{hft_jobs}"}} == 0', "2m", ticket,
                   "Scrape target {{ $labels.job }} ({{ $labels.instance }}) is down",
                   "Prometheus has not scraped {{ $labels.instance }} for 2 minutes."),
        ]),
        dict(name="platform.collector", interval=None, rules=[
            _alert("CollectorRefusingData",
                   _any_rate_above_zero("job, instance, receiver",
                                        [f"otelcol_receiver_refused_{s}_total" for s in _SIGNALS]),
                   "5m", ticket, "The collector refuses incoming telemetry",
                   "Receiver {{ $labels.receiver }} refuses data (memory_limiter pressure or bad requests)."),
            _alert("CollectorExportFailing",
                   _any_rate_above_zero("job, instance, exporter",
                                        [f"otelcol_exporter_{step}_failed_{s}_total"
                                         for step in ("send", "enqueue") for s in _SIGNALS]),
                   "5m", page, "The collector fails to export to {{ $labels.exporter }}",
                   "Telemetry is being lost between the collector and {{ $labels.exporter }}."),
            _alert("CollectorDroppingData",
                   'sum by (job, instance, processor) (rate(otelcol_processor_incoming_items_total[5m])) - '
                   'sum by (job, instance, processor) (rate(otelcol_processor_outgoing_items_total[5m])) > 0',
                   "10m", ticket, "Collector processor {{ $labels.processor }} drops items",
                   "More items enter {{ $labels.processor }} than leave it (memory limiter or queue drops)."),
            _alert("CollectorExportQueueFull",
                   'max by (job, instance, exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity) > 0.8',
                   "5m", ticket, "Exporter {{ $labels.exporter }} queue is above 80 %",
                   "The backend behind {{ $labels.exporter }} is slow or down; data will be dropped when full."),
        ]),
        dict(name="platform.log_store", interval=None, rules=[
            _alert("LogStoreClusterNotGreen", 'max by (cluster) (elasticsearch_cluster_health_status{color="green"}) == 0',
                   "5m", ticket, "Log store cluster {{ $labels.cluster }} is not green",
                   f"The {stack.logs_backend} cluster has unassigned shards (yellow) or missing primaries (red)."),
            _alert("LogStoreClusterRed", 'max by (cluster) (elasticsearch_cluster_health_status{color="red"}) == 1',
                   "2m", page, "Log store cluster {{ $labels.cluster }} is red",
                   "Primary shards are missing: logs and traces are not being written."),
        ]),
        dict(name="platform.disk", interval=None, rules=[
            _alert("DiskWillFillIn24h",
                   'predict_linear(node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"}[6h], 24 * 3600) < 0 '
                   'and node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"} / node_filesystem_size_bytes < 0.4',
                   "30m", ticket, "Filesystem {{ $labels.mountpoint }} will fill within 24 h",
                   "At the current rate {{ $labels.device }} runs out of space within a day."),
            _alert("DiskAlmostFull",
                   'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"} / node_filesystem_size_bytes < 0.05',
                   "5m", page, "Filesystem {{ $labels.mountpoint }} is above 95 %",
                   "Prometheus, the log store and Jaeger stop writing when the disk is full."),
        ]),
        dict(name="platform.prometheus", interval=None, rules=[
            _alert("PrometheusRuleEvaluationSlow",
                   'prometheus_rule_group_last_duration_seconds > prometheus_rule_group_interval_seconds',
                   "10m", ticket, "Rule group {{ $labels.rule_group }} takes longer than its interval",
                   "SLO and alert rules are evaluated late: burn-rate alerts lag."),
            _alert("PrometheusRuleEvaluationFailing", 'increase(prometheus_rule_evaluation_failures_total[5m]) > 0',
                   "5m", ticket, "Rule evaluations fail in {{ $labels.rule_group }}",
                   "Recording or alerting rules return errors; see the Prometheus log."),
            _alert("PrometheusNotificationsFailing", 'rate(prometheus_notifications_errors_total[5m]) > 0',
                   "5m", page, "Prometheus cannot deliver alerts to Alertmanager",
                   "Alerts fire but nobody is notified."),
            _alert("PrometheusRemoteWriteFailing", 'rate(prometheus_remote_storage_samples_failed_total[5m]) > 0',
                   "15m", ticket, "Remote-write to the long-term Prometheus fails",
                   "The 90-day aggregated history has a gap."),
        ]),
    ]


def downsample_groups(stack: Stack) -> list[dict]:
    p = DOWNSAMPLE_PREFIX
    return [dict(name="downsample.5m", interval="5m", rules=[
        _record(f"{p}{k.TRADE_LATENCY_SECONDS}_bucket:rate5m",
                f"sum by (symbol, side, le) (rate({k.TRADE_LATENCY_SECONDS}_bucket[5m]))"),
        _record(f"{p}{k.TRADES_TOTAL}:rate5m", f"sum by (symbol, side, result) (rate({k.TRADES_TOTAL}[5m]))"),
        _record(f"{p}{k.SLI_EVENTS_TOTAL}:rate5m", f"sum by (slo) (rate({k.SLI_EVENTS_TOTAL}[5m]))"),
        _record(f"{p}{k.SLI_ERRORS_TOTAL}:rate5m", f"sum by (slo) (rate({k.SLI_ERRORS_TOTAL}[5m]))"),
        _record(f"{p}traces_span_metrics_calls:rate5m",
                "sum by (service_name, span_name, status_code) (rate(traces_span_metrics_calls_total[5m]))"),
        _record(f"{p}traces_span_metrics_duration_milliseconds_bucket:rate5m",
                "sum by (service_name, span_name, le) (rate(traces_span_metrics_duration_milliseconds_bucket[5m]))"),
        _record(f"{p}up:avg5m", "avg by (job) (avg_over_time(up[5m]))"),
    ])]


def render(model) -> dict[str, str]:
    stack = model.stack
    if stack is None:
        return {}
    longterm = dict(retention=stack.retention.metrics_aggregated, interval="1m",
                    self_target=f"localhost:{stack.compose.listen_ports['prometheus_longterm']}")
    return {
        "config/prometheus.yml": render_template("stack/prometheus.yml.j2", **prometheus_context(stack, stack.compose)),
        "config/native/prometheus.yml": render_template("stack/prometheus.yml.j2", **prometheus_context(stack, stack.native)),
        "config/prometheus-longterm.yml": render_template("stack/prometheus-longterm.yml.j2", **longterm),
        "config/rules/platform.rules.yml": render_template(
            "stack/rules.yml.j2", title="Platform alerts: targets, collector, log store, disks, Prometheus itself.",
            groups=platform_groups(stack)),
        "config/rules/downsample.rules.yml": render_template(
            "stack/rules.yml.j2",
            title=f"5-minute aggregates, remote-written to the long-term Prometheus and kept {stack.retention.metrics_aggregated}.",
            groups=downsample_groups(stack)),
    }
