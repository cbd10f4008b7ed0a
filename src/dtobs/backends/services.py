"""What the native stack runs: one command line, health URL and port set per service.

The rendered configs are looked up in `config_dir` (for `dtobs up`: config/native/, where
`dtobs render` writes the native variants), then where the shared ones live in config/:

    otelcol       <config_dir>/otel-collector-config.yml
    jaeger        <config_dir>/jaeger-config.yml
    prometheus    <config_dir>/prometheus.yml (config/native/prometheus.yml reads ../rules/*.yml)
    alertmanager  <config_dir>/alertmanager.yml, else <config_dir>/../alertmanager.yml
    opensearch    <config_dir>/opensearch.yml, else <config_dir>/../opensearch/opensearch.yml
                  (optional; replaces the distribution's opensearch.yml)

Everything listens on 127.0.0.1. Prometheus, Alertmanager and OpenSearch get their ports on the
command line from `Ports`; the collector and Jaeger read theirs from their config files, so
those files must use the same ports as `Ports` (the health checks poll them). Jaeger's own OTLP
receiver is on 14317/14318 because 4317/4318 belong to the collector in front of it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from dtobs.backends import cache
from dtobs.backends.install import OPENSEARCH_USER, alertmanager_binary

SERVICES = ("prometheus", "alertmanager", "otelcol", "jaeger", "opensearch")
HOST = "127.0.0.1"

# Where each service's config is looked for, relative to config_dir, first match wins.
CONFIG_FILES = {
    "otelcol": ("otel-collector-config.yml",),
    "jaeger": ("jaeger-config.yml",),
    "prometheus": ("prometheus.yml",),
    "alertmanager": ("alertmanager.yml", "../alertmanager.yml"),
    "opensearch": ("opensearch.yml", "../opensearch/opensearch.yml"),
}


def config_file(service: str, config_dir: Path) -> Path | None:
    for relative in CONFIG_FILES[service]:
        path = config_dir / relative
        if path.is_file():
            return path.resolve()
    return None


@dataclass(frozen=True)
class Ports:
    prometheus: int = 9090
    alertmanager: int = 9093
    otelcol_otlp_grpc: int = 4317
    otelcol_otlp_http: int = 4318
    otelcol_health: int = 13133
    otelcol_prometheus: int = 8889  # the collector's prometheus exporter (span metrics)
    otelcol_telemetry: int = 8888  # the collector's own metrics
    jaeger_query: int = 16686  # query HTTP API + UI
    jaeger_query_grpc: int = 16685
    jaeger_otlp_grpc: int = 14317
    jaeger_otlp_http: int = 14318
    jaeger_telemetry: int = 14269  # Jaeger is a collector too: its own metrics, off 8888
    opensearch: int = 9200
    opensearch_transport: int = 9300

    def of(self, service: str) -> list[int]:
        """The ports a service listens on (checked free before it starts)."""
        prefix = {"otelcol": "otelcol_", "jaeger": "jaeger_", "opensearch": "opensearch"}.get(service, service)
        return [value for name, value in self.__dict__.items() if name.startswith(prefix)]


@dataclass(frozen=True)
class Service:
    name: str
    argv: list[str]
    health_url: str
    marker: str  # a string the live process's /proc/<pid>/cmdline contains (pid-reuse guard)
    env: Mapping[str, str] = field(default_factory=dict)
    user: str | None = None  # run as this user (root only); OpenSearch refuses root
    cwd: Path | None = None


class ServiceError(RuntimeError):
    pass


def health_url(service: str, ports: Ports) -> str:
    return {
        "prometheus": f"http://{HOST}:{ports.prometheus}/-/ready",
        "alertmanager": f"http://{HOST}:{ports.alertmanager}/-/ready",
        "otelcol": f"http://{HOST}:{ports.otelcol_health}/",
        # Jaeger's query API answers only once its storage and query service are up.
        "jaeger": f"http://{HOST}:{ports.jaeger_query}/api/services",
        "opensearch": f"http://{HOST}:{ports.opensearch}/_cluster/health?wait_for_status=yellow&timeout=1s",
    }[service]


def default_command(service: str, config_dir: Path, state_dir: Path, ports: Ports) -> list[str]:
    """The command line for a service, from the rendered config in config_dir."""
    config = config_file(service, config_dir)
    if service == "prometheus":
        return [_require("prometheus", shutil.which("prometheus")),
                f"--config.file={config}",
                f"--storage.tsdb.path={state_dir / 'prometheus-data'}",
                f"--web.listen-address={HOST}:{ports.prometheus}",
                "--web.enable-lifecycle",
                "--enable-feature=exemplar-storage"]  # exemplars link a latency point to its trace
    if service == "alertmanager":
        return [_require("alertmanager", alertmanager_binary()),
                f"--config.file={config}",
                f"--storage.path={state_dir / 'alertmanager-data'}",
                f"--web.listen-address={HOST}:{ports.alertmanager}",
                "--cluster.listen-address="]  # no gossip port: a single local instance
    if service == "otelcol":
        return [_require("otelcol (run `dtobs backends install --only otelcol`)",
                         cache.find_cached_binary("otelcol-dtobs")), f"--config={config}"]
    if service == "jaeger":
        return [_require("jaeger (run `dtobs backends install --only jaeger`)",
                         cache.find_cached_binary("jaeger")), f"--config={config}"]
    if service == "opensearch":
        data = state_dir / "opensearch"
        return [str(data / "home" / "bin" / "opensearch"),
                f"-Epath.data={data / 'data'}",
                f"-Epath.logs={data / 'logs'}",
                f"-Ehttp.host={HOST}", f"-Ehttp.port={ports.opensearch}",
                f"-Etransport.host={HOST}", f"-Etransport.port={ports.opensearch_transport}",
                "-Ediscovery.type=single-node"]
    raise ServiceError(f"unknown service {service!r}")


def build_service(service: str, config_dir: Path, state_dir: Path, ports: Ports,
                  argv: Sequence[str] | None = None) -> Service:
    """A Service with the default command line, or `argv` when given (e.g. real rendered configs)."""
    if argv is None:
        _require_config(service, config_dir)
    command = list(argv) if argv is not None else default_command(service, config_dir, state_dir, ports)
    marker = Path(command[0]).name
    env: dict[str, str] = {}
    user = None
    cwd = None
    if service == "opensearch":
        env = opensearch_env(state_dir)
        user = OPENSEARCH_USER if os.geteuid() == 0 else None
        cwd = state_dir / "opensearch"  # jvm.options writes logs/gc.log relative to the cwd
        marker = "opensearch"  # bin/opensearch execs java; both command lines carry it
    return Service(service, command, health_url(service, ports), marker, env, user, cwd)


def opensearch_env(state_dir: Path) -> dict[str, str]:
    heap = os.environ.get("DTOBS_OPENSEARCH_HEAP", "512m")
    java = shutil.which("java")
    env = {
        "OPENSEARCH_PATH_CONF": str(state_dir / "opensearch" / "config"),
        "OPENSEARCH_JAVA_OPTS": f"-Xms{heap} -Xmx{heap}",
    }
    if java and "OPENSEARCH_JAVA_HOME" not in os.environ:
        # The integ-test zip bundles no JDK: use the machine's (…/bin/java -> its home).
        env["OPENSEARCH_JAVA_HOME"] = str(Path(os.path.realpath(java)).parent.parent)
    return env


def _require(what: str, path: str | Path | None) -> str:
    if not path:
        raise ServiceError(f"{what} is not installed; run `dtobs backends install`")
    return str(path)


def _require_config(service: str, config_dir: Path) -> None:
    if service != "opensearch" and config_file(service, config_dir) is None:
        tried = ", ".join(str(config_dir / relative) for relative in CONFIG_FILES[service])
        raise ServiceError(f"{service}: config missing, tried {tried} (render the configs first: `make render`)")
