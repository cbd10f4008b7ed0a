"""config/otel-collector-config.yml (compose) and config/native/otel-collector-config.yml."""

from __future__ import annotations


from dtobs.model.stack import Stack, Topology
from dtobs.render import stack_common as c
from dtobs.render.jinja import render_template

TEMPLATE = "stack/otel-collector-config.yml.j2"


def _log_statements() -> list[str]:
    s = c.ottl_string
    # `$$` is the collector's escape for a literal `$` (a regex back-reference here).
    statements = [
        f"replace_all_patterns(attributes, \"value\", {s(c.CARD_NUMBER)}, {s(c.PAN_MASK)})",
        f"replace_all_patterns(attributes, \"value\", {s(c.BEARER_TOKEN)}, {s('Bearer ' + c.MASK)})",
        f"replace_all_patterns(attributes, \"value\", {s(c.JWT)}, {s(c.MASK)})",
        f"replace_all_patterns(attributes, \"value\", {s(c.SECRET_ASSIGNMENT)}, {s('$$1$$2' + c.MASK)})",
    ]
    statements += [f"set(attributes[{s(key)}], {s(c.MASK)}) where attributes[{s(key)}] != nil" for key in c.SECRET_KEYS]
    statements += [
        f"replace_pattern(body, {s(c.CARD_NUMBER)}, {s(c.PAN_MASK)}) where IsString(body)",
        f"replace_pattern(body, {s(c.BEARER_TOKEN)}, {s('Bearer ' + c.MASK)}) where IsString(body)",
        f"replace_pattern(body, {s(c.JWT)}, {s(c.MASK)}) where IsString(body)",
        f"replace_pattern(body, {s(c.SECRET_ASSIGNMENT)}, {s('$$1$$2' + c.MASK)}) where IsString(body)",
    ]
    return statements


def context(stack: Stack, topo: Topology) -> dict:
    e, backend = topo.endpoints, topo.logs_backend
    if backend == "elasticsearch":
        user, password, header = c.ES_WRITER_USER, c.env("DTOBS_WRITER_PASSWORD"), None
    else:
        user = password = None
        # Basic auth (the writer user, not admin) as a header: no basicauth extension needed in
        # the collector build.
        header = ("Basic " + c.env("OPENSEARCH_WRITER_BASIC_AUTH")) if topo.log_store_auth else None
    jaeger_grpc = e["jaeger_otlp_grpc"]
    return dict(
        variant=topo.name,
        collector_version=c.image_tag(stack.images.get("otel_collector", "otelcol:unknown")),
        health_endpoint=topo.listen("collector_health"),
        health_port=topo.listen_ports["collector_health"],
        otlp_grpc_endpoint=topo.listen("otlp_grpc"),
        otlp_http_endpoint=topo.listen("otlp_http"),
        limit_mib=stack.memory_limiter_mib,
        spike_limit_mib=stack.memory_limiter_spike_mib,
        resource_attributes=sorted(stack.resource_attributes.items()),
        secret_key_patterns=[c.yq(c.SECRET_KEY_PATTERN)],
        secret_value_patterns=[c.yq(p) for p in (c.CARD_NUMBER, c.BEARER_TOKEN, c.JWT)],
        log_statements=[c.yq(s) for s in _log_statements()],
        buckets=list(stack.spanmetrics_buckets),
        flush_interval=stack.spanmetrics_flush_interval,
        jaeger_otlp_endpoint=jaeger_grpc.addr,
        prom_endpoint=topo.listen("collector_prometheus"),
        prom_port=topo.listen_ports["collector_prometheus"],
        logs_exporter=backend,
        log_store_url=e["log_store"].url,
        log_store_user=user,
        log_store_password=password,
        log_store_auth_header=header,
        logs_index=c.ES_LOGS_STREAM_OTEL,
        opensearch_dataset=c.OS_LOGS_DATASET,
        opensearch_namespace=c.OS_LOGS_NAMESPACE,
        telemetry_host=topo.listen_host,
        telemetry_port=topo.listen_ports["collector_metrics"],
    )


def render(model) -> dict[str, str]:
    stack = model.stack
    if stack is None:
        return {}
    return {
        "config/otel-collector-config.yml": render_template(TEMPLATE, **context(stack, stack.compose)),
        "config/native/otel-collector-config.yml": render_template(TEMPLATE, **context(stack, stack.native)),
    }
