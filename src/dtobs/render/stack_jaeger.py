"""config/jaeger-config.yml (compose: Elasticsearch/OpenSearch storage) and the native variant
(memory storage, OTLP on 14317/14318 because the collector owns 4317/4318)."""

from __future__ import annotations

from dtobs.model.stack import Stack, Topology
from dtobs.render import stack_common as c
from dtobs.render.jinja import render_template

TEMPLATE = "stack/jaeger-config.yml.j2"


def context(stack: Stack, topo: Topology) -> dict:
    e = topo.endpoints
    storage = topo.trace_storage
    if storage == "elasticsearch":
        user, password = c.ES_WRITER_USER, c.env("DTOBS_WRITER_PASSWORD")
    elif storage == "opensearch" and topo.log_store_auth:
        user, password = c.OS_WRITER_USER, c.env("DTOBS_WRITER_PASSWORD")
    else:
        user = password = None
    return dict(
        variant=topo.name,
        jaeger_version=c.image_tag(stack.images.get("jaeger", "jaeger:unknown")),
        trace_storage=storage,
        archive=storage != "memory",
        listen_host=topo.listen_host,
        metrics_port=topo.listen_ports["jaeger_metrics"],
        health_endpoint=topo.listen("jaeger_health"),
        query_port=topo.listen_ports["jaeger_query"],
        query_http_endpoint=topo.listen("jaeger_query"),
        query_grpc_endpoint=f"{topo.listen_host}:16685",
        memory_max_traces=100000,
        store_url=e["log_store"].url,
        store_user=user,
        store_password=password,
        index_prefix=c.JAEGER_INDEX_PREFIX,
        archive_prefix=c.JAEGER_ARCHIVE_PREFIX,
        prometheus_url=e["prometheus"].url,
        otlp_grpc_endpoint=topo.listen("jaeger_otlp_grpc"),
        otlp_http_endpoint=topo.listen("jaeger_otlp_http"),
    )


def render(model) -> dict[str, str]:
    stack = model.stack
    if stack is None:
        return {}
    return {
        "config/jaeger-config.yml": render_template(TEMPLATE, **context(stack, stack.compose)),
        "config/native/jaeger-config.yml": render_template(TEMPLATE, **context(stack, stack.native)),
    }
