"""Shared pieces of every dashboard: datasource refs, query builders, ids and serialization.

Everything here is decided once, from the contract and the model; the dashboard modules only
arrange panels. Panel ids are assigned after building, in panel order, so they are stable.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import elasticsearch as es_builder
from grafana_foundation_sdk.builders import prometheus as prom_builder
from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import prometheus as prom_model
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from day_trade.observability import contract

# Grafana datasource plugin type per datasource uid. The uids come from the contract; the stack
# engineer provisions datasources with exactly these uids (config/grafana/provisioning/datasources).
PROMETHEUS = DataSourceRef(type_val="prometheus", uid=contract.DATASOURCE_UID_PROMETHEUS)
JAEGER = DataSourceRef(type_val="jaeger", uid=contract.DATASOURCE_UID_JAEGER)
LOGS_PLUGIN_TYPE = {"elasticsearch": "elasticsearch", "opensearch": "grafana-opensearch-datasource"}

# Fields of the log documents the collector writes. The Elasticsearch exporter (mapping mode
# "otel") writes `trace_id`; the OpenSearch exporter (SS4O) writes `traceId`. Querying both keeps
# one dashboard working for either backend.
LOG_TIME_FIELD = "@timestamp"
TRACE_ID_FIELDS = ("trace_id", "traceId")
# Security events are logged with a `security` tag (attributes.tags in OTLP → `tags` or
# `attributes.tags` in the document, depending on the exporter's mapping).
SECURITY_TAG = "security"
SECURITY_TAG_FIELDS = ("tags", "attributes.tags")

REFRESH_HFT = "1s"
DASHBOARD_TAGS = ("dtobs", "generated")


def logs_ref(logs_backend: str) -> DataSourceRef:
    return DataSourceRef(type_val=LOGS_PLUGIN_TYPE[logs_backend], uid=contract.DATASOURCE_UID_LOGS)


def prom(expr: str, ref_id: str = "A", legend: str = "", *, exemplar: bool = False,
         instant: bool = False, heatmap: bool = False) -> prom_builder.Dataquery:
    """A Prometheus target on the provisioned Prometheus datasource."""
    q = prom_builder.Dataquery().expr(expr).ref_id(ref_id).datasource(PROMETHEUS)
    if legend:
        q = q.legend_format(legend)
    if exemplar:
        q = q.exemplar(True)
    if instant:
        q = q.instant()
    else:
        q = q.range()
    if heatmap:
        q = q.format(prom_model.PromQueryFormat.HEATMAP)
    return q


def lucene_any(fields: tuple[str, ...], value: str) -> str:
    """`a:v OR b:v`: the same match over each field name the backends use."""
    return " OR ".join(f"{field}:{value}" for field in fields)


def logs_query(logs_backend: str, query: str, ref_id: str = "A", limit: int = 500) -> es_builder.Dataquery:
    """Raw log documents matching a Lucene query, newest first."""
    return (
        es_builder.Dataquery()
        .query(query)
        .time_field(LOG_TIME_FIELD)
        .metrics([es_builder.Logs().id("1").settings(es_builder.ElasticsearchLogsSettings().limit(str(limit)))])
        .bucket_aggs([])
        .ref_id(ref_id)
        .datasource(logs_ref(logs_backend))
    )


def logs_count_query(logs_backend: str, query: str, ref_id: str = "A") -> es_builder.Dataquery:
    """Count of log documents matching a Lucene query, per auto interval."""
    return (
        es_builder.Dataquery()
        .query(query)
        .time_field(LOG_TIME_FIELD)
        .metrics([es_builder.Count().id("1")])
        .bucket_aggs([es_builder.DateHistogram().id("2").field(LOG_TIME_FIELD)
                      .settings(es_builder.ElasticsearchDateHistogramSettings().interval("auto").min_doc_count("0"))])
        .ref_id(ref_id)
        .datasource(logs_ref(logs_backend))
    )


def _opensearch_target(target: dict[str, Any]) -> None:
    # The OpenSearch plugin reads the same Lucene target plus which Lucene mode it is in.
    target["queryType"] = "lucene"
    if any(m.get("type") == "logs" for m in target.get("metrics", [])):
        target["luceneQueryType"] = "Logs"
    else:
        target["luceneQueryType"] = "Metric"


def _walk_panels(panels: list[dict[str, Any]]):
    for panel in panels:
        yield panel
        yield from _walk_panels(panel.get("panels") or [])


def finish(builder: Dashboard, logs_backend: str | None) -> dict[str, Any]:
    """Build to a plain JSON model: stable panel ids, refIds, plugin-specific target fields."""
    model = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    logs_type = LOGS_PLUGIN_TYPE.get(logs_backend or "")
    for panel_id, panel in enumerate(_walk_panels(model.get("panels", [])), start=1):
        panel["id"] = panel_id
        for target in panel.get("targets", []):
            if logs_type == "grafana-opensearch-datasource" and target.get("datasource", {}).get("uid") == contract.DATASOURCE_UID_LOGS:
                _opensearch_target(target)
    return model


def to_text(model: dict[str, Any]) -> str:
    """The committed form: sorted keys, two-space indent, trailing newline; byte-stable."""
    return json.dumps(model, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
