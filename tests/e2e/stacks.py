"""Start the real observability stack for the end-to-end tests and the load benchmark.

`start_native(...)` renders observability.yaml into a temporary folder (with every port of
`stack.ports` moved to a free loopback port, so a run never collides with `make up` or another
engineer's run), points every Alertmanager receiver at the test's webhook, starts the five
native backends through `dtobs.backends.supervisor.up` and returns a `NativeStack` with their
URLs. `NativeStack.close()` stops everything (`supervisor.down`).

`start_compose(...)` does the same with docker-compose.observability.yml through testcontainers.

Loopback only; every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml
from _tools import free_loopback_ports
from dtobs.backends.supervisor import port_free

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "observability.yaml"
BINARIES = ("prometheus", "alertmanager", "otelcol-dtobs", "jaeger", "opensearch")
# stack.ports keys of the spec (dtobs.spec.stack.PortsSpec) that the native stack listens on.
NATIVE_PORT_KEYS = (
    "prometheus", "alertmanager", "jaeger_query", "jaeger_otlp_grpc", "jaeger_otlp_http", "jaeger_metrics",
    "jaeger_health", "otlp_grpc", "otlp_http", "collector_health", "collector_prometheus", "collector_metrics",
    "log_store", "app_metrics",
)
JAEGER_QUERY_GRPC = 16685  # fixed in the rendered Jaeger config (stack_jaeger.py)
# Not rendered: the OpenSearch transport port (command line only) and the unused compose ports.
OTHER_PORT_KEYS = ("opensearch_transport", "prometheus_longterm", "grafana", "log_ui", "logstash")
COMPOSE_SERVICE = {"otelcol": "otel-collector", "prometheus": "prometheus", "alertmanager": "alertmanager",
                   "jaeger": "jaeger", "opensearch": "opensearch"}
LOGS_INDEX_NATIVE = "ss4o_logs-dtobs-trading"  # the collector's opensearch exporter (dataset, namespace)


class StackUnavailable(Exception):
    """The stack cannot run here (a binary is not built, no Docker engine...): skip, or fail in CI."""


def missing_binaries() -> list[str]:
    from dtobs.check.tools import find_tool

    return [name for name in BINARIES if not find_tool(name)]


def render_stack(dest: Path, ports: dict[str, int] | None, spec: Path = SPEC) -> Path:
    """Render `spec` into dest/ (config/, dashboards/, compose file) with stack.ports overridden."""
    from dtobs.pipeline import render_to

    data = yaml.safe_load(spec.read_text())
    if ports:
        stack = data.setdefault("stack", {}) or {}
        data["stack"] = stack
        stack.setdefault("ports", {}).update(ports)
    dest.mkdir(parents=True, exist_ok=True)
    spec_copy = dest / spec.name
    spec_copy.write_text(yaml.safe_dump(data, sort_keys=False))
    render_to(spec_copy, dest)
    return dest


def point_receivers_at(alertmanager_yml: Path, webhook_base: str) -> list[str]:
    """Replace every receiver's integrations with one webhook: <webhook_base>/alerts/<receiver>.

    The route tree, inhibitions and timings stay as rendered; only where notifications go
    changes (pagerduty/slack keys and the spec's webhook URLs are secrets or real endpoints).
    Returns the receiver names.
    """
    config = yaml.safe_load(alertmanager_yml.read_text())
    names = []
    for receiver in config.get("receivers", []):
        name = receiver["name"]
        names.append(name)
        for key in [k for k in receiver if k.endswith("_configs")]:
            del receiver[key]
        receiver["webhook_configs"] = [{"url": f"{webhook_base.rstrip('/')}/alerts/{name}", "send_resolved": True}]
    alertmanager_yml.write_text("# e2e: receivers point at the test's webhook\n" + yaml.safe_dump(config, sort_keys=False))
    return names


# --- native ---------------------------------------------------------------------------------------

@dataclass
class NativeStack:
    kind: str
    root: Path  # rendered tree (config/, dashboards/)
    config_dir: Path  # what supervisor.up reads (config/native + alertmanager.yml + opensearch.yml)
    state_dir: Path
    ports: dict[str, int]
    supervisor_ports: Any
    webhook_url: str
    startup_s: float = 0.0
    _cleanup: list[Callable[[], None]] = field(default_factory=list)

    # URLs ---------------------------------------------------------------------------------------
    def url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.ports[key]}"

    @property
    def prometheus_url(self) -> str:
        return self.url("prometheus")

    @property
    def alertmanager_url(self) -> str:
        return self.url("alertmanager")

    @property
    def jaeger_url(self) -> str:
        return self.url("jaeger_query")

    @property
    def opensearch_url(self) -> str:
        return self.url("log_store")

    @property
    def otlp_http_endpoint(self) -> str:
        return self.url("otlp_http")

    @property
    def otlp_grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.ports['otlp_grpc']}"

    @property
    def spanmetrics_url(self) -> str:
        return self.url("collector_prometheus") + "/metrics"

    @property
    def collector_metrics_url(self) -> str:
        return self.url("collector_metrics") + "/metrics"

    @property
    def app_metrics_port(self) -> int:
        return self.ports["app_metrics"]

    logs_index = LOGS_INDEX_NATIVE
    logs_auth: tuple[str, str] | None = None

    # control ------------------------------------------------------------------------------------
    def stop_service(self, service: str) -> bool:
        from dtobs.backends import supervisor

        return supervisor.stop(service, self.state_dir, timeout=20, echo=lambda line: None)

    def start_service(self, service: str, timeout: float = 120) -> None:
        from dtobs.backends import supervisor

        status = supervisor.start(service, self.config_dir, self.state_dir, ports=self.supervisor_ports,
                                  timeout=timeout, echo=lambda line: None)
        assert status.healthy, f"{service} not healthy after start: {status}"

    def pids(self) -> dict[str, int]:
        from dtobs.backends import supervisor

        return {s.service: s.pid for s in supervisor.status(self.state_dir) if s.running and s.pid}

    def log_tail(self, service: str, lines: int = 30) -> str:
        path = self.state_dir / f"{service}.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def close(self) -> None:
        from dtobs.backends import supervisor

        try:
            supervisor.down(self.state_dir, timeout=20, echo=lambda line: None)
        finally:
            for fn in reversed(self._cleanup):
                fn()


def rss_mib(pid: int, children: bool = True) -> float:
    """Resident memory of a process, with its children by default (OpenSearch: bin/opensearch
    starts java). children=False for the test process itself, whose children are the backends."""
    total = 0
    pids = [pid]
    try:
        if children:
            pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def start_native(webhook_url: str, *, keep: bool = False, timeout: float = 240,
                 echo: Callable[[str], None] = lambda line: None) -> NativeStack:
    """Render, then start the native backends; raises StackUnavailable when a binary is missing."""
    from dtobs.backends import supervisor
    from dtobs.backends.services import Ports

    missing = missing_binaries()
    if missing:
        raise StackUnavailable(f"native backend(s) not installed/built: {', '.join(missing)}; "
                               "run `make backends` (dtobs backends install)")
    if not port_free(JAEGER_QUERY_GRPC):
        raise StackUnavailable(f"port {JAEGER_QUERY_GRPC} (Jaeger query gRPC, fixed in the rendered config) "
                               "is in use: another native stack is running (`dtobs status`)")
    ports = free_loopback_ports(NATIVE_PORT_KEYS + OTHER_PORT_KEYS)
    # Not under pytest's tmp_path: /tmp/pytest-of-root is mode 700 and OpenSearch runs as its
    # own user, which must be able to enter the state folder.
    base = Path(tempfile.mkdtemp(prefix="dtobs-e2e-"))
    base.chmod(0o755)
    root = render_stack(base / "render", {k: v for k, v in ports.items() if k not in ("opensearch_transport",)})
    config_dir = root / "config" / "native"
    shutil.copy2(root / "config" / "alertmanager.yml", config_dir / "alertmanager.yml")
    point_receivers_at(config_dir / "alertmanager.yml", webhook_url)
    shutil.copy2(root / "config" / "opensearch" / "opensearch.yml", config_dir / "opensearch.yml")
    state_dir = base / "run"
    sup_ports = Ports(
        prometheus=ports["prometheus"], alertmanager=ports["alertmanager"],
        otelcol_otlp_grpc=ports["otlp_grpc"], otelcol_otlp_http=ports["otlp_http"],
        otelcol_health=ports["collector_health"], otelcol_prometheus=ports["collector_prometheus"],
        otelcol_telemetry=ports["collector_metrics"], jaeger_query=ports["jaeger_query"],
        jaeger_query_grpc=JAEGER_QUERY_GRPC, jaeger_otlp_grpc=ports["jaeger_otlp_grpc"],
        jaeger_otlp_http=ports["jaeger_otlp_http"], jaeger_telemetry=ports["jaeger_metrics"],
        opensearch=ports["log_store"], opensearch_transport=ports["opensearch_transport"],
    )
    stack = NativeStack("native", root, config_dir, state_dir, ports, sup_ports, webhook_url)
    if not keep:
        stack._cleanup.append(lambda: shutil.rmtree(base, ignore_errors=True))
    started = time.monotonic()
    try:
        supervisor.up(config_dir, state_dir, ports=sup_ports, timeout=timeout, echo=echo)
    except BaseException:
        stack.close()
        raise
    stack.startup_s = time.monotonic() - started
    return stack


# --- docker compose (testcontainers) ----------------------------------------------------------------

def docker_answers() -> str | None:
    """None when `docker info` answers, else why not."""
    if shutil.which("docker") is None:
        return "no docker CLI on PATH"
    try:
        run = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker info` failed: {exc}"
    if run.returncode != 0:
        return f"`docker info` does not answer: {(run.stderr or run.stdout).strip().splitlines()[-1:]}"
    return None


def _docker_bridge_gateway() -> str:
    out = subprocess.run(["docker", "network", "inspect", "bridge", "-f", "{{(index .IPAM.Config 0).Gateway}}"],
                         capture_output=True, text=True, timeout=20)
    return out.stdout.strip() or "172.17.0.1"


@dataclass
class ComposeStack(NativeStack):
    compose: Any = None
    env: dict[str, str] = field(default_factory=dict)

    def stop_service(self, service: str) -> bool:
        self._compose_cmd("stop", COMPOSE_SERVICE[service])
        return True

    def start_service(self, service: str, timeout: float = 120) -> None:
        self._compose_cmd("start", COMPOSE_SERVICE[service])

    def _compose_cmd(self, *args: str) -> None:
        subprocess.run(["docker", "compose", "-f", str(self.root / "docker-compose.observability.yml"),
                        "-f", str(self.root / "docker-compose.e2e.yml"), *args],
                       cwd=self.root, check=True, timeout=180, capture_output=True)

    def pids(self) -> dict[str, int]:
        return {}

    def close(self) -> None:
        try:
            if self.compose is not None:
                self.compose.stop()
        finally:
            for fn in reversed(self._cleanup):
                fn()


def webhook_host_for_compose() -> str:
    """Where the test's webhook must listen so the Alertmanager container can reach it: the
    Docker bridge gateway (host-internal, not a public interface)."""
    return _docker_bridge_gateway()


def start_compose(webhook_url: str, app_metrics_port: int, timeout: float = 600) -> ComposeStack:
    """docker-compose.observability.yml through testcontainers, with the spec's (default) ports
    published on 127.0.0.1; Prometheus scrapes the test app via host.docker.internal."""
    reason = docker_answers()
    if reason:
        raise StackUnavailable(reason)
    try:
        from testcontainers.compose import DockerCompose
    except ImportError as exc:
        raise StackUnavailable(f"testcontainers is not installed (pip install -e '.[dev]'): {exc}") from None
    from dtobs.secrets import ensure_env_file, read_env

    base = Path(tempfile.mkdtemp(prefix="dtobs-e2e-compose-"))
    data = yaml.safe_load(SPEC.read_text())
    spec_ports = {**_spec_default_ports(), **((data.get("stack") or {}).get("ports") or {})}
    spec_ports["app_metrics"] = app_metrics_port
    root = render_stack(base, {"app_metrics": app_metrics_port})
    point_receivers_at(root / "config" / "alertmanager.yml", webhook_url)
    (root / "docker-compose.e2e.yml").write_text(yaml.safe_dump({"services": {
        "alertmanager": {"extra_hosts": ["host.docker.internal:host-gateway"]}}}))
    ensure_env_file(root / ".env")
    env = read_env(root / ".env")
    compose = DockerCompose(str(root), compose_file_name=["docker-compose.observability.yml", "docker-compose.e2e.yml"],
                            pull=True, wait=True, env_file=".env")
    stack = ComposeStack("compose", root, root / "config", root, spec_ports, None, webhook_url, compose=compose, env=env)
    stack._cleanup.append(lambda: shutil.rmtree(base, ignore_errors=True))
    started = time.monotonic()
    try:
        compose.start()
    except BaseException:
        stack.close()
        raise
    stack.startup_s = time.monotonic() - started
    backend = (data.get("stack") or {}).get("logs_backend", "elasticsearch")
    if backend == "elasticsearch":
        from dtobs.render.stack_common import ES_LOGS_PATTERN, ES_WRITER_USER

        stack.logs_index = ES_LOGS_PATTERN
        stack.logs_auth = (ES_WRITER_USER, env.get("DTOBS_WRITER_PASSWORD", ""))
    else:
        from dtobs.render.stack_common import OS_LOGS_PATTERN, OS_WRITER_USER

        stack.logs_index = OS_LOGS_PATTERN
        stack.logs_auth = (OS_WRITER_USER, env.get("DTOBS_WRITER_PASSWORD", ""))
    return stack


def _spec_default_ports() -> dict[str, int]:
    from dtobs.spec.stack import PortsSpec

    return PortsSpec().model_dump()


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
