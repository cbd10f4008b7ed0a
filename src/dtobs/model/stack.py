"""Stack model: every value the stack templates print, computed and checked here.

The stack is rendered twice: `compose` (services reach each other by service name inside the
Compose network; published ports bind to `bind_address`) and `native` (every process on
127.0.0.1 with the spec's ports; Jaeger's OTLP moves to 14317/14318 because the collector owns
4317/4318; the log store is always the native OpenSearch without its security plugin).
A Topology says, for one variant, where each service listens and how the others reach it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

from dtobs.errors import Problem, SpecError
from dtobs.spec.yaml_lines import LineMap

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_PART = re.compile(r"([0-9]+)(us|ms|s|m|h|d|w|y)")


def parse_duration(text: str) -> float:
    """'1m30s' → 90.0 seconds; Prometheus syntax plus 'us'."""
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(n) * _UNITS[u] for n, u in parts)


def days(text: str) -> int:
    return int(parse_duration(text) // 86400)


# Defaults per service: memory limit (MiB) and, for the JVMs, the heap (MiB).
DEFAULT_RESOURCES: dict[str, tuple[int, int | None]] = {
    "otel_collector": (512, None),
    "jaeger": (512, None),
    "prometheus": (2048, None),
    "prometheus_longterm": (1024, None),
    "alertmanager": (128, None),
    "grafana": (256, None),
    "elasticsearch": (2048, 1024),
    "opensearch": (2048, 1024),
    "kibana": (1024, None),
    "opensearch_dashboards": (1024, None),
    "logstash": (1024, 512),
    "node_exporter": (64, None),
    "log_store_exporter": (64, None),
}
REQUIRED_IMAGES = ("otel_collector", "jaeger", "prometheus", "alertmanager", "grafana", "elasticsearch", "logstash",
                   "kibana", "opensearch", "opensearch_dashboards", "node_exporter", "log_store_exporter")
JVM_SERVICES = frozenset({"elasticsearch", "opensearch", "logstash"})
GO_SERVICES = frozenset({"otel_collector", "jaeger", "prometheus", "prometheus_longterm", "alertmanager",
                         "node_exporter", "log_store_exporter"})

# Ports inside the Compose containers (the images' own defaults). Host ports come from the spec.
CONTAINER_PORTS: dict[str, int] = {
    "prometheus": 9090, "prometheus_longterm": 9090, "alertmanager": 9093, "grafana": 3000,
    "jaeger_query": 16686, "jaeger_otlp_grpc": 4317, "jaeger_otlp_http": 4318,
    "jaeger_metrics": 8888, "jaeger_health": 13133,
    "otlp_grpc": 4317, "otlp_http": 4318, "collector_health": 13133,
    "collector_prometheus": 8889, "collector_metrics": 8888,
    "log_store": 9200, "log_ui": 5601, "logstash": 5044,
    "node_exporter": 9100, "log_store_exporter": 9114,
}
# Which service (Compose host name) owns each port key.
PORT_OWNER: dict[str, str] = {
    "prometheus": "prometheus", "prometheus_longterm": "prometheus-longterm", "alertmanager": "alertmanager",
    "grafana": "grafana", "jaeger_query": "jaeger", "jaeger_otlp_grpc": "jaeger", "jaeger_otlp_http": "jaeger",
    "jaeger_metrics": "jaeger", "jaeger_health": "jaeger",
    "otlp_grpc": "otel-collector", "otlp_http": "otel-collector", "collector_health": "otel-collector",
    "collector_prometheus": "otel-collector", "collector_metrics": "otel-collector",
    "log_store": "<log_store>", "log_ui": "<log_ui>", "logstash": "logstash",
    "node_exporter": "node-exporter", "log_store_exporter": "log-store-exporter",
}


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class Topology:
    """Where one variant's services listen and how they reach each other."""

    name: str  # "compose" | "native"
    listen_host: str  # the address servers bind inside their process
    endpoints: dict[str, Endpoint]  # port key → how the other services reach it
    listen_ports: dict[str, int]  # port key → the port the process listens on
    logs_backend: str  # the log store this variant talks to
    log_store_auth: bool  # basic auth (compose: security on) or none (native OpenSearch test zip)
    trace_storage: str  # Jaeger: "elasticsearch" | "opensearch" | "memory"
    app_target: str  # host:port of the trading app's metrics endpoint
    rules_glob: str  # rule_files entry, relative to the Prometheus config file
    with_exporters: bool  # node-exporter and the log-store exporter exist (compose only)
    with_longterm: bool  # the long-retention Prometheus exists (compose only)

    def listen(self, key: str) -> str:
        return f"{self.listen_host}:{self.listen_ports[key]}"


@dataclass(frozen=True)
class Resource:
    memory_mb: int
    heap_mb: int | None  # JVM heap
    go_memlimit_mb: int | None  # GOMEMLIMIT, 80 % of the limit


@dataclass(frozen=True)
class ScrapeTiming:
    interval: str
    timeout: str


@dataclass(frozen=True)
class Retention:
    metrics_full_resolution: str
    metrics_aggregated: str
    logs_hot_days: int
    logs_warm_days: int
    logs_delete_days: int
    traces_full_days: int
    traces_sampled_days: int


@dataclass(frozen=True)
class Stack:
    logs_backend: str
    bind_address: str
    ports: dict[str, int]
    hft: ScrapeTiming
    default: ScrapeTiming
    rule_evaluation_interval: str
    retention: Retention
    resources: dict[str, Resource]
    spanmetrics_buckets: tuple[str, ...]
    spanmetrics_flush_interval: str
    resource_attributes: dict[str, str]
    memory_limiter_mib: int
    memory_limiter_spike_mib: int
    images: dict[str, str]
    grafana_plugins: dict[str, str]
    compose: Topology = field(compare=False)
    native: Topology = field(compare=False)

    @property
    def variants(self) -> tuple[Topology, Topology]:
        return (self.compose, self.native)


def _topology(name: str, ports: dict[str, int], logs_backend: str, app_host: str | None) -> Topology:
    if name == "native":
        endpoints = {key: Endpoint("127.0.0.1", port) for key, port in ports.items()}
        return Topology(
            name="native", listen_host="127.0.0.1", endpoints=endpoints, listen_ports=dict(ports),
            logs_backend="opensearch", log_store_auth=False, trace_storage="memory",
            app_target=f"{app_host or '127.0.0.1'}:{ports['app_metrics']}",
            rules_glob="../rules/*.yml", with_exporters=False, with_longterm=False,
        )
    owners = dict(PORT_OWNER)
    owners["log_store"] = logs_backend
    owners["log_ui"] = "kibana" if logs_backend == "elasticsearch" else "opensearch-dashboards"
    endpoints = {key: Endpoint(owners[key], CONTAINER_PORTS[key]) for key in CONTAINER_PORTS}
    return Topology(
        name="compose", listen_host="0.0.0.0", endpoints=endpoints, listen_ports=dict(CONTAINER_PORTS),
        logs_backend=logs_backend, log_store_auth=True, trace_storage=logs_backend,
        app_target=f"{app_host or 'host.docker.internal'}:{ports['app_metrics']}",
        rules_glob="rules/*.yml", with_exporters=True, with_longterm=True,
    )


def _images(source: str) -> tuple[dict[str, str], dict[str, str], list[Problem]]:
    """versions.yaml `images:` (and `grafana_plugins:`), found above the spec or this package."""
    import yaml

    from dtobs.versions import VersionsError, find_repo_root, load_versions

    root = find_repo_root(Path(source).resolve().parent) or find_repo_root(Path(__file__).resolve().parent)
    if root is None:
        return {}, {}, [Problem("versions.yaml", None, "images", "versions.yaml not found above the spec")]
    try:
        versions = load_versions(root)
    except VersionsError as exc:
        return {}, {}, [Problem(str(root / "versions.yaml"), None, "images", str(exc))]
    plugins = (yaml.safe_load(versions.path.read_text()) or {}).get("grafana_plugins") or {}
    missing = sorted(set(REQUIRED_IMAGES) - set(versions.images))
    if missing:
        return {}, {}, [Problem(str(versions.path), None, "images", f"missing image(s): {', '.join(missing)}")]
    return versions.images, {str(k): str(v) for k, v in plugins.items()}, []


def _slo_period_seconds(slo) -> float | None:
    period = getattr(slo, "period", None)
    if period is None:
        period = getattr(slo, "period_days", None)
        return float(period) * 86400 if period is not None else None
    if isinstance(period, (int, float)):
        return float(period)
    if hasattr(period, "total_seconds"):
        return period.total_seconds()
    return parse_duration(str(period))


def build_stack(spec, lines: LineMap, slos, source: str | None = None) -> Stack:
    problems: list[Problem] = []

    def problem(path: tuple, message: str) -> None:
        problems.append(lines.problem(("stack",) + path, message))

    # Bind address: an IP; a wildcard only when asked for explicitly.
    try:
        bind = ipaddress.ip_address(spec.bind_address)
        if bind.is_unspecified and not spec.expose_publicly:
            problem(("bind_address",), f"{spec.bind_address} publishes every port on every interface; "
                    "use 127.0.0.1, or set stack.expose_publicly: true if you really mean it")
    except ValueError:
        problem(("bind_address",), f"not an IP address: {spec.bind_address!r}")

    # Ports: each host port used once (the native stack listens on all of them at once).
    ports = spec.ports.model_dump()
    seen: dict[int, str] = {}
    for key, port in ports.items():
        if port in seen:
            problem(("ports", key), f"port {port} clashes with stack.ports.{seen[port]}")
        else:
            seen[port] = key

    # Scrape timing: a timeout at or above its interval would overlap scrapes.
    for tier in ("hft", "default"):
        timing = getattr(spec.scrape, tier)
        if parse_duration(timing.timeout) > parse_duration(timing.interval):
            problem(("scrape", tier, "timeout"),
                    f"scrape timeout {timing.timeout} is above its interval {timing.interval}")
    if parse_duration(spec.scrape.hft.interval) > parse_duration(spec.scrape.default.interval):
        problem(("scrape", "hft", "interval"), "the HFT interval must not be slower than the default interval")

    # Retention: phases in order; raw metrics long enough for every SLO window.
    r = spec.retention
    full_s, agg_s = parse_duration(r.metrics_full_resolution), parse_duration(r.metrics_aggregated)
    if agg_s < full_s:
        problem(("retention", "metrics_aggregated"),
                f"{r.metrics_aggregated} is shorter than metrics_full_resolution {r.metrics_full_resolution}")
    if not parse_duration(r.logs.hot) <= parse_duration(r.logs.warm) <= parse_duration(r.logs.delete):
        problem(("retention", "logs"), f"phases must be ordered hot <= warm <= delete "
                f"(got {r.logs.hot}, {r.logs.warm}, {r.logs.delete})")
    if parse_duration(r.traces.full) > parse_duration(r.traces.sampled):
        problem(("retention", "traces", "sampled"),
                f"sampled traces ({r.traces.sampled}) must be kept at least as long as full ones ({r.traces.full})")
    for slo in slos or ():
        try:
            period = _slo_period_seconds(slo)
        except ValueError:
            continue  # the SLO model reports its own bad period
        if period is not None and period > full_s:
            problem(("retention", "metrics_full_resolution"),
                    f"{r.metrics_full_resolution} is shorter than the {period / 86400:g}d period of SLO "
                    f"{getattr(slo, 'name', '?')!r}: its error budget needs raw samples over the whole period")

    # Resources: defaults per service, overridden by the spec.
    resources: dict[str, Resource] = {}
    for service, (memory, heap) in DEFAULT_RESOURCES.items():
        override = spec.resources.get(service)
        if override is not None:
            memory, heap = override.memory_mb, override.heap_mb if override.heap_mb is not None else heap
            if override.heap_mb is not None and service not in JVM_SERVICES:
                problem(("resources", service, "heap_mb"), f"{service} is not a JVM service; set memory_mb only")
            if heap is not None and heap >= memory:
                problem(("resources", service, "heap_mb"),
                        f"heap {heap} MiB must leave room below the memory limit {memory} MiB")
        resources[service] = Resource(memory, heap, int(memory * 0.8) if service in GO_SERVICES else None)

    # Collector: bucket bounds strictly ascending; the memory limiter below GOMEMLIMIT.
    buckets = spec.collector.spanmetrics_buckets
    bounds = [parse_duration(b) for b in buckets]
    if not bounds or any(later <= earlier for earlier, later in zip(bounds, bounds[1:])):
        problem(("collector", "spanmetrics_buckets"), "bucket bounds must be strictly ascending and not empty")
    collector_mb = resources["otel_collector"].memory_mb
    limiter = int(collector_mb * 0.75)

    images, plugins, image_problems = _images(source or lines.file)
    problems += image_problems
    if problems:
        raise SpecError.of(problems)

    return Stack(
        logs_backend=spec.logs_backend,
        bind_address=spec.bind_address,
        ports=ports,
        hft=ScrapeTiming(spec.scrape.hft.interval, spec.scrape.hft.timeout),
        default=ScrapeTiming(spec.scrape.default.interval, spec.scrape.default.timeout),
        rule_evaluation_interval=spec.scrape.rule_evaluation_interval,
        retention=Retention(
            r.metrics_full_resolution, r.metrics_aggregated,
            days(r.logs.hot), days(r.logs.warm), days(r.logs.delete),
            days(r.traces.full), days(r.traces.sampled),
        ),
        resources=resources,
        spanmetrics_buckets=tuple(buckets),
        spanmetrics_flush_interval=spec.collector.spanmetrics_flush_interval,
        resource_attributes=dict(spec.collector.resource_attributes),
        memory_limiter_mib=limiter,
        memory_limiter_spike_mib=max(16, limiter // 4),
        images=images,
        grafana_plugins=plugins,
        compose=_topology("compose", ports, spec.logs_backend, spec.scrape.app_host),
        native=_topology("native", ports, spec.logs_backend, spec.scrape.app_host),
    )
