"""Platform dashboard: the telemetry pipeline itself — collector, the library's own drops,
Prometheus, the log store, Alertmanager."""

from __future__ import annotations

from grafana_foundation_sdk.builders import stat, timeseries
from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from day_trade.observability import contract
from dtobs.dashboards._common import DASHBOARD_TAGS, finish, logs_count_query, prom

NAME = "platform"
UID = "dtobs-platform"

RATE = "[$__rate_interval]"


def collector_counter(name: str) -> str:
    """A collector internal counter, whichever way its Prometheus reader names it.

    The collector pinned in versions.yaml (v0.139) exposes `otelcol_receiver_accepted_spans` on its
    default Prometheus reader (without_type_suffix), but `otelcol_receiver_accepted_spans_total`
    when service::telemetry::metrics::readers is configured explicitly without that option
    (collector CHANGELOG v0.119, issue #12458). Matching both keeps the panel right either way.
    """
    return f'{{__name__=~"{name}(_total)?"}}'


def _rate_by(by: str, selector: str, extra: str = "") -> str:
    sel = selector[:-1] + (", " + extra if extra else "") + "}"
    return f"sum by ({by}) (rate({sel}{RATE}))"


def _or_zero(expr: str) -> str:
    # Failure counters: no series yet means nothing failed; show 0 rather than "no data".
    return f"({expr}) or on() vector(0)"


def build(model) -> dict:
    logs_backend = model.stack.logs_backend
    signals = (("spans", "spans"), ("logs", "log_records"), ("metrics", "metric_points"))
    d = (
        Dashboard("Day trading / Platform")
        .uid(UID)
        .tags(list(DASHBOARD_TAGS) + ["platform"])
        .description("Health of the telemetry pipeline: collector, library self-metrics, Prometheus, log store, Alertmanager.")
        .refresh("10s")
        .time("now-1h", "now")
        .timezone("utc")
        .with_row(Row("Collector"))
    )
    for signal, unit_name in signals:
        p = timeseries.Panel().title(f"Collector {signal}: accepted / refused / failed").unit("cps").span(8).height(8)
        p = p.with_target(prom(_rate_by("receiver", collector_counter(f"otelcol_receiver_accepted_{unit_name}")),
                               "A", "accepted {{receiver}}"))
        p = p.with_target(prom(_or_zero(_rate_by("receiver", collector_counter(f"otelcol_receiver_refused_{unit_name}"))),
                               "B", "refused {{receiver}}"))
        p = p.with_target(prom(_or_zero(_rate_by("exporter", collector_counter(f"otelcol_exporter_send_failed_{unit_name}"))),
                               "C", "send failed {{exporter}}"))
        p = p.with_target(prom(_or_zero(_rate_by("exporter", collector_counter(f"otelcol_exporter_enqueue_failed_{unit_name}"))),
                               "D", "dropped (queue full) {{exporter}}"))
        d = d.with_panel(p)
    d = (
        d.with_panel(
            timeseries.Panel().title("Exporter queue size / capacity").span(12).height(8)
            .with_target(prom("sum by (exporter) (otelcol_exporter_queue_size)", "A", "size {{exporter}}"))
            .with_target(prom("sum by (exporter) (otelcol_exporter_queue_capacity)", "B", "capacity {{exporter}}"))
        )
        .with_panel(
            timeseries.Panel().title("Collector spans sent by exporter").unit("cps").span(12).height(8)
            .with_target(prom(_rate_by("exporter", collector_counter("otelcol_exporter_sent_spans")), legend="{{exporter}}"))
        )
        .with_row(Row("Instrumentation library (in the trading app)"))
        .with_panel(
            timeseries.Panel().title("Library spans exported / dropped").unit("cps").span(12).height(8)
            .with_target(prom(f"sum(rate({contract.SELF_SPANS_EXPORTED_TOTAL}{RATE}))", "A", "exported"))
            .with_target(prom(_or_zero(f"sum(rate({contract.SELF_SPANS_DROPPED_TOTAL}{RATE}))"), "B", "dropped"))
        )
        .with_panel(
            timeseries.Panel().title("Library logs dropped / export errors").unit("cps").span(12).height(8)
            .with_target(prom(_or_zero(f"sum(rate({contract.SELF_LOGS_DROPPED_TOTAL}{RATE}))"), "A", "logs dropped"))
            .with_target(prom(_or_zero(f"sum(rate({contract.SELF_EXPORT_ERRORS_TOTAL}{RATE}))"), "B", "export errors"))
        )
        .with_row(Row("Prometheus"))
        .with_panel(
            timeseries.Panel().title("Scrape duration by job").unit("s").span(8).height(8)
            .with_target(prom("max by (job) (scrape_duration_seconds)", legend="{{job}}"))
        )
        .with_panel(
            timeseries.Panel().title("Targets up by job").span(8).height(8).min(0)
            .with_target(prom("sum by (job) (up)", legend="{{job}}"))
        )
        .with_panel(
            timeseries.Panel().title("Rule group evaluation time").unit("s").span(8).height(8)
            .with_target(prom("max by (rule_group) (prometheus_rule_group_last_duration_seconds)", "A", "{{rule_group}}"))
            .with_target(prom(_or_zero("sum(rate(prometheus_rule_evaluation_failures_total[$__rate_interval]))"),
                              "B", "evaluation failures/s"))
        )
        .with_row(Row(f"Log store ({logs_backend})"))
        .with_panel(
            stat.Panel().title("Cluster health").span(6).height(8)
            .description("From the log-store exporter (compose stack): the colour whose series is 1 is the "
                         "cluster's health. No data on the native stack, which runs no exporter.")
            .with_target(prom('max by (color) (elasticsearch_cluster_health_status) == 1', legend="{{color}}",
                              instant=True))
        )
        .with_panel(
            timeseries.Panel().title("Log records written to the log store").unit("cps").span(9).height(8)
            .description("What the collector's Elasticsearch/OpenSearch exporters sent, and failed to send.")
            .with_target(prom(_rate_by("exporter", collector_counter("otelcol_exporter_sent_log_records"),
                                       'exporter=~"(elasticsearch|opensearch).*"'), "A", "sent {{exporter}}"))
            .with_target(prom(_or_zero(_rate_by("exporter", collector_counter("otelcol_exporter_send_failed_log_records"),
                                                'exporter=~"(elasticsearch|opensearch).*"')), "B", "failed {{exporter}}"))
        )
        .with_panel(
            timeseries.Panel().title("Documents indexed (from the log store)").span(9).height(8)
            .description("Counted by the log store itself: a flat zero while the app runs means ingestion is broken.")
            .with_target(logs_count_query(logs_backend, "*"))
        )
        .with_row(Row("Alertmanager"))
        .with_panel(
            timeseries.Panel().title("Notifications sent / failed by integration").unit("cps").span(12).height(8)
            .with_target(prom("sum by (integration) (rate(alertmanager_notifications_total[$__rate_interval]))",
                              "A", "sent {{integration}}"))
            .with_target(prom(_or_zero("sum by (integration) (rate(alertmanager_notifications_failed_total[$__rate_interval]))"),
                              "B", "failed {{integration}}"))
        )
        .with_panel(
            timeseries.Panel().title("Alerts received").unit("cps").span(12).height(8)
            .with_target(prom(_or_zero("sum by (status) (rate(alertmanager_alerts_received_total[$__rate_interval]))"),
                              legend="{{status}}"))
        )
    )
    return finish(d, logs_backend)
