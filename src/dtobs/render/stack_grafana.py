"""Grafana provisioning: datasources (uids from the contract), the dashboard provider, grafana.ini."""

from __future__ import annotations

from day_trade.observability import contract as k
from dtobs.model.stack import Stack
from dtobs.render import stack_common as c
from dtobs.render.jinja import render_template

DASHBOARDS_PATH = "/var/lib/grafana/dashboards"  # the repository's dashboards/, mounted read-only


def min_refresh_interval() -> str:
    """Grafana's [dashboards] min_refresh_interval: the HFT dashboard's refresh (the fastest)."""
    from dtobs.dashboards._common import REFRESH_HFT

    return REFRESH_HFT


def datasources(stack: Stack) -> list[dict]:
    e = stack.compose.endpoints
    es = stack.logs_backend == "elasticsearch"
    trace_field = "trace.id" if es else "traceId"  # ECS mapping (ES exporter, Logstash) / ss4o (OpenSearch)
    logs_index = "logs-dtobs.*" if es else c.OS_LOGS_PATTERN
    logs_json = {
        "index": logs_index, "timeField": "@timestamp", "logMessageField": "message" if es else "body",
        "logLevelField": "log.level" if es else "severity.text",
        "dataLinks": [{"field": trace_field, "datasourceUid": k.DATASOURCE_UID_JAEGER, "url": "${__value.raw}"}],
    }
    if not es:
        logs_json.update({"flavor": "opensearch", "version": c.image_tag(stack.images["opensearch"]), "pplEnabled": True})
    return [
        dict(name="Prometheus", uid=k.DATASOURCE_UID_PROMETHEUS, type="prometheus", url=e["prometheus"].url,
             is_default=True, basic_auth_user=None, basic_auth_password=None, json_data={
                 "httpMethod": "POST", "timeInterval": stack.hft.interval,
                 "exemplarTraceIdDestinations": [{"name": "trace_id", "datasourceUid": k.DATASOURCE_UID_JAEGER}]}),
        dict(name="Prometheus (90 d, 5 m aggregates)", uid=k.DATASOURCE_UID_PROMETHEUS_LONGTERM, type="prometheus",
             url=e["prometheus_longterm"].url, is_default=False, basic_auth_user=None, basic_auth_password=None,
             json_data={"httpMethod": "POST", "timeInterval": "5m"}),
        dict(name="Jaeger", uid=k.DATASOURCE_UID_JAEGER, type="jaeger", url=e["jaeger_query"].url, is_default=False,
             basic_auth_user=None, basic_auth_password=None, json_data={
                 "tracesToLogsV2": {"datasourceUid": k.DATASOURCE_UID_LOGS, "spanStartTimeShift": "-5m",
                                    "spanEndTimeShift": "5m", "filterByTraceID": True, "filterBySpanID": False,
                                    "customQuery": True, "query": f'{trace_field}:"${{__span.traceId}}"'},
                 "tracesToMetrics": {"datasourceUid": k.DATASOURCE_UID_PROMETHEUS},
                 "nodeGraph": {"enabled": True}}),
        dict(name="Logs", uid=k.DATASOURCE_UID_LOGS, type="elasticsearch" if es else "grafana-opensearch-datasource",
             url=e["log_store"].url, is_default=False,
             basic_auth_user=c.ES_READER_USER if es else c.OS_READER_USER,
             basic_auth_password="$DTOBS_READER_PASSWORD",
             json_data=logs_json),
        dict(name="Alertmanager", uid=k.DATASOURCE_UID_ALERTMANAGER, type="alertmanager", url=e["alertmanager"].url,
             is_default=False, basic_auth_user=None, basic_auth_password=None,
             json_data={"implementation": "prometheus", "handleGrafanaManagedAlerts": False}),
    ]


def render(model) -> dict[str, str]:
    stack = model.stack
    if stack is None:
        return {}
    base = "config/grafana/provisioning"
    return {
        f"{base}/datasources/datasources.yml": render_template("stack/grafana-datasources.yml.j2", datasources=datasources(stack)),
        f"{base}/dashboards/dashboards.yml": render_template("stack/grafana-dashboards.yml.j2", path=DASHBOARDS_PATH,
                                                              folder="Day trading"),
        "config/grafana/grafana.ini": render_template("stack/grafana.ini.j2", port=3000, min_refresh=min_refresh_interval(),
                                                      root_url=f"http://{stack.bind_address}:{stack.ports['grafana']}/"),
    }
