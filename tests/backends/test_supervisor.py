"""The supervisor with the real binaries and the fixture configs, on free loopback ports."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from dtobs.backends import supervisor
from dtobs.backends.install import OPENSEARCH_USER
from dtobs.backends.pidfile import ProcessRecord
from dtobs.backends.services import SERVICES, ServiceError


@pytest.fixture
def state_dir():
    # Not under pytest's tmp_path: /tmp/pytest-of-root is mode 700, and OpenSearch runs as
    # its own user, which must be able to enter the state folder.
    path = Path(tempfile.mkdtemp(prefix="dtobs-test-run-"))
    path.chmod(0o755)
    yield path
    supervisor.down(path, timeout=10, echo=lambda line: None)  # never leak processes
    shutil.rmtree(path, ignore_errors=True)


def _span_reaches_jaeger(ports) -> None:
    """One span into the collector's OTLP/HTTP port must show up in Jaeger's query API:
    the collector -> Jaeger hop on Jaeger's own OTLP port is wired."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "dtobs-native-smoke"}))
    provider.add_span_processor(SimpleSpanProcessor(
        OTLPSpanExporter(endpoint=f"http://127.0.0.1:{ports.otelcol_otlp_http}/v1/traces", timeout=5)))
    with provider.get_tracer("test").start_as_current_span("order.submit"):
        pass
    provider.shutdown()
    url = f"http://127.0.0.1:{ports.jaeger_query}/api/services"
    for _ in range(30):  # bounded: the collector batches for 200 ms
        with urllib.request.urlopen(url, timeout=5) as response:
            if "dtobs-native-smoke" in (json.load(response).get("data") or []):
                return
        time.sleep(1)
    raise AssertionError(f"the span never reached Jaeger ({url})")


def _uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


@pytest.mark.e2e
@pytest.mark.timeout(420)
def test_full_stack_up_status_down(require_binary, native_configs, state_dir: Path) -> None:
    for name in ("prometheus", "alertmanager", "otelcol-dtobs", "jaeger", "opensearch"):
        require_binary(name)
    config_dir, ports = native_configs
    progress: list[str] = []

    statuses = supervisor.up(config_dir, state_dir, ports=ports, timeout=300, echo=progress.append)

    assert [(s.service, s.healthy) for s in statuses] == [(name, True) for name in SERVICES], progress
    assert any("ok" in line for line in progress)
    for name in SERVICES:
        record = ProcessRecord.read(state_dir / f"{name}.pid")
        assert record is not None and record.is_running()
        assert Path(record.log).is_file()
        assert "127.0.0.1" in record.health_url
    opensearch = ProcessRecord.read(state_dir / "opensearch.pid")
    if os.geteuid() == 0:
        import pwd

        assert _uid_of(opensearch.pid) == pwd.getpwnam(OPENSEARCH_USER).pw_uid
        assert (state_dir / "opensearch" / "data").stat().st_uid == pwd.getpwnam(OPENSEARCH_USER).pw_uid
    _span_reaches_jaeger(ports)
    with pytest.raises(ServiceError, match="already running"):
        supervisor.up(config_dir, state_dir, services=["prometheus"], ports=ports, echo=progress.append)

    stopped = supervisor.down(state_dir, echo=progress.append)

    assert sorted(stopped) == sorted(SERVICES)
    assert not list(state_dir.glob("*.pid"))
    assert not any(s.running for s in supervisor.status(state_dir))
    assert supervisor.port_free(ports.prometheus) and supervisor.port_free(ports.opensearch)


def test_failed_start_stops_the_others_and_leaves_no_pid_files(require_binary, native_configs,
                                                                 state_dir: Path) -> None:
    prometheus = require_binary("prometheus")
    require_binary("alertmanager")
    config_dir, ports = native_configs
    broken = {"prometheus": [prometheus, f"--config.file={config_dir / 'nope.yml'}",
                             f"--web.listen-address=127.0.0.1:{ports.prometheus}",
                             f"--storage.tsdb.path={state_dir / 'prom'}"]}
    with pytest.raises(ServiceError, match="prometheus exited"):
        supervisor.up(config_dir, state_dir, commands=broken, services=["prometheus", "alertmanager"],
                      ports=ports, timeout=60, echo=lambda line: None)
    assert not list(state_dir.glob("*.pid"))
    assert supervisor.port_free(ports.alertmanager), "alertmanager was left running"
    assert "nope.yml" in (state_dir / "prometheus.log").read_text()


def test_busy_port_is_refused_before_starting_anything(require_binary, native_configs, state_dir: Path) -> None:
    require_binary("prometheus")
    config_dir, ports = native_configs
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports.prometheus))
        squatter.listen()
        with pytest.raises(ServiceError, match=f"{ports.prometheus}.*already in use"):
            supervisor.up(config_dir, state_dir, services=["prometheus"], ports=ports, echo=lambda line: None)
    assert not list(state_dir.glob("*.pid"))


def test_missing_rendered_config_names_the_file(state_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match="alertmanager: config missing, tried .*alertmanager.yml"):
        supervisor.up(tmp_path, state_dir, services=["alertmanager"], echo=lambda line: None)


def test_unknown_service_is_refused(state_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match="unknown service.*grafana"):
        supervisor.up(tmp_path, state_dir, services=["grafana"], echo=lambda line: None)


def test_status_of_an_empty_state_dir(state_dir: Path) -> None:
    statuses = supervisor.status(state_dir)
    assert [s.service for s in statuses] == list(SERVICES)
    assert not any(s.running or s.healthy for s in statuses)
