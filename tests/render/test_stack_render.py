"""Stack renderers: golden output, one setting → exactly the expected change, both variants."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest
import yaml

from dtobs.model import build_model
from dtobs.render import stack_collector, stack_compose, stack_grafana, stack_jaeger, stack_logstore, stack_prometheus
from dtobs.spec.load import load_spec
from dtobs.write import stamp

GOLDEN = Path(__file__).parents[1] / "golden" / "stack"
RENDERERS = (stack_collector, stack_jaeger, stack_prometheus, stack_logstore, stack_grafana, stack_compose)


def render_stack(spec_path: Path) -> dict[str, str]:
    model = build_model(load_spec(spec_path))
    files: dict[str, str] = {}
    for module in RENDERERS:
        files.update(module.render(model))
    return stamp(files, model.source)


def render_text(tmp_path: Path, stack_yaml: str, name: str = "observability.yaml") -> dict[str, str]:
    spec = tmp_path / name
    spec.write_text("version: dtobs/v1\nstack:\n" + stack_yaml)
    return render_stack(spec)


class TestGolden:
    def test_matches_golden(self) -> None:
        """The golden spec renders byte for byte to tests/golden/stack/out (UPDATE_GOLDEN=1 rewrites)."""
        files = render_stack(GOLDEN / "in.yaml")
        out = GOLDEN / "out"
        if os.environ.get("UPDATE_GOLDEN"):
            for rel, text in files.items():
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                (out / rel).write_text(text)
        expected = {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*") if p.is_file()}
        assert sorted(files) == sorted(expected)
        for rel, text in files.items():
            assert text == expected[rel], "".join(difflib.unified_diff(expected[rel].splitlines(True), text.splitlines(True), rel, rel))

    def test_every_yaml_and_json_parses(self) -> None:
        """Every rendered YAML/JSON file parses."""
        for rel, text in render_stack(GOLDEN / "in.yaml").items():
            if rel.endswith((".yml", ".yaml")):
                assert yaml.safe_load(text) is not None, rel
            elif rel.endswith(".json"):
                json.loads(text)


class TestOneSettingOneChange:
    def test_hft_interval_changes_only_prometheus_hft_lines(self, tmp_path: Path) -> None:
        """The HFT interval changes the HFT jobs' lines of both prometheus.yml and Grafana's Prometheus
        timeInterval (the $__interval floor follows the fastest scrape), and nothing else."""
        (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
        base = render_text(tmp_path / "a", "  scrape:\n    hft: {interval: 1s, timeout: 800ms}\n")
        changed = render_text(tmp_path / "b", "  scrape:\n    hft: {interval: 2s, timeout: 800ms}\n")
        differing = sorted(rel for rel in base if base[rel] != changed[rel])
        ds = "config/grafana/provisioning/datasources/datasources.yml"
        assert differing == [ds, "config/native/prometheus.yml", "config/prometheus.yml"]
        ds_diff = [line for line in difflib.ndiff(base[ds].splitlines(), changed[ds].splitlines()) if line[:1] in "+-"]
        assert ds_diff == ["-       timeInterval: 1s", "+       timeInterval: 2s"]
        for rel in differing[1:]:
            diff = [line for line in difflib.ndiff(base[rel].splitlines(), changed[rel].splitlines()) if line[:1] in "+-"]
            assert sorted(diff) == sorted(["-     scrape_interval: 1s", "+     scrape_interval: 2s"] * 2), diff

    def test_grafana_port_changes_compose_and_grafana_only(self, tmp_path: Path) -> None:
        """A host port moves the published port (and Grafana's root_url), nothing inside the network."""
        (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
        base = render_text(tmp_path / "a", "  ports: {grafana: 3000}\n")
        changed = render_text(tmp_path / "b", "  ports: {grafana: 3300}\n")
        differing = sorted(rel for rel in base if base[rel] != changed[rel])
        assert differing == ["config/grafana/grafana.ini", "docker-compose.observability.yml"]
        assert "127.0.0.1:3300:3000" in changed["docker-compose.observability.yml"]

    def test_backend_switch_changes_exporter_and_services(self, tmp_path: Path) -> None:
        """elasticsearch ↔ opensearch switches the collector exporter, Jaeger storage and compose services."""
        (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
        es = render_text(tmp_path / "a", "  logs_backend: elasticsearch\n")
        os_ = render_text(tmp_path / "b", "  logs_backend: opensearch\n")
        es_col, os_col = (yaml.safe_load(f["config/otel-collector-config.yml"]) for f in (es, os_))
        assert "elasticsearch" in es_col["exporters"] and "opensearch" not in es_col["exporters"]
        assert os_col["exporters"]["opensearch"]["http"]["endpoint"] == "http://opensearch:9200"
        assert os_col["service"]["pipelines"]["logs"]["exporters"] == ["opensearch"]
        es_services = set(yaml.safe_load(es["docker-compose.observability.yml"])["services"])
        os_services = set(yaml.safe_load(os_["docker-compose.observability.yml"])["services"])
        assert {"elasticsearch", "kibana", "logstash"} <= es_services and "opensearch" not in es_services
        assert {"opensearch", "opensearch-dashboards"} <= os_services and "elasticsearch" not in os_services
        # The native variant always uses the native OpenSearch, without auth.
        assert es["config/native/otel-collector-config.yml"] == os_["config/native/otel-collector-config.yml"]

    def test_retention_reaches_prometheus_flags_and_policies(self, tmp_path: Path) -> None:
        """Retention settings land in the Prometheus flags and the ILM/ISM phases."""
        files = render_text(tmp_path, "  retention: {metrics_full_resolution: 31d, metrics_aggregated: 95d,"
                                      " logs: {hot: 2d, warm: 10d, delete: 100d}}\n")
        compose = yaml.safe_load(files["docker-compose.observability.yml"])["services"]
        assert "--storage.tsdb.retention.time=31d" in compose["prometheus"]["command"]
        assert "--storage.tsdb.retention.time=95d" in compose["prometheus-longterm"]["command"]
        ilm = json.loads(files["config/elasticsearch/ilm-dtobs-logs.json"])["policy"]["phases"]
        assert (ilm["warm"]["min_age"], ilm["cold"]["min_age"], ilm["delete"]["min_age"]) == ("2d", "10d", "100d")
        ism = json.loads(files["config/opensearch/ism-dtobs-logs.json"])["policy"]["states"]
        assert [t["conditions"]["min_index_age"] for s in ism for t in s["transitions"]] == ["2d", "10d", "100d"]


class TestVariants:
    @pytest.fixture(scope="class")
    @classmethod
    def files(cls) -> dict[str, str]:
        return render_stack(GOLDEN / "in.yaml")

    def test_native_uses_loopback_and_moved_jaeger_ports(self, files) -> None:
        """Native: every address is 127.0.0.1; Jaeger's OTLP is on 14317/14318; memory storage."""
        jaeger = yaml.safe_load(files["config/native/jaeger-config.yml"])
        assert jaeger["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "127.0.0.1:14317"
        assert jaeger["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "127.0.0.1:14318"
        assert "memory" in jaeger["extensions"]["jaeger_storage"]["backends"]["traces_store"]
        assert jaeger["extensions"]["jaeger_storage"]["metric_backends"]["spm_metrics"]["prometheus"]["endpoint"] == "http://127.0.0.1:9090"
        col = yaml.safe_load(files["config/native/otel-collector-config.yml"])
        assert col["exporters"]["otlp/jaeger"]["endpoint"] == "127.0.0.1:14317"
        assert col["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "127.0.0.1:4317"
        assert "0.0.0.0" not in files["config/native/otel-collector-config.yml"]
        prom = yaml.safe_load(files["config/native/prometheus.yml"])
        targets = {j["job_name"]: j["static_configs"][0]["targets"] for j in prom["scrape_configs"]}
        assert targets["trading-app"] == ["127.0.0.1:9464"] and targets["otel-collector-spanmetrics"] == ["127.0.0.1:8889"]

    def test_hft_jobs_have_sub_interval_timeouts(self, files) -> None:
        """HFT jobs scrape every 1 s with an explicit timeout below it; the rest use the default."""
        prom = yaml.safe_load(files["config/prometheus.yml"])
        jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
        for name in ("trading-app", "otel-collector-spanmetrics"):
            assert (jobs[name]["scrape_interval"], jobs[name]["scrape_timeout"]) == ("1s", "900ms")
        assert "scrape_interval" not in jobs["otel-collector"] and prom["global"]["scrape_interval"] == "30s"

    def test_compose_is_secure_by_default(self, files) -> None:
        """Ports bind 127.0.0.1, secrets are ${VAR:?...} references, images come from versions.yaml."""
        from dtobs.check.compose import lint

        doc = yaml.safe_load(files["docker-compose.observability.yml"])
        assert lint(doc) == []
        ports = [p for s in doc["services"].values() for p in s.get("ports", [])]
        assert ports and all(p.startswith("127.0.0.1:") for p in ports)
        versions = yaml.safe_load((Path(__file__).parents[2] / "versions.yaml").read_text())["images"]
        assert {s["image"] for s in doc["services"].values()} <= set(versions.values())

    def test_spanmetrics_exemplars_and_prometheus_exporter(self, files) -> None:
        """Span metrics feed the prometheus exporter on :8889 with exemplars and OpenMetrics on."""
        col = yaml.safe_load(files["config/otel-collector-config.yml"])
        assert col["connectors"]["spanmetrics"]["exemplars"]["enabled"] is True
        assert col["exporters"]["prometheus"]["endpoint"] == "0.0.0.0:8889"
        assert col["exporters"]["prometheus"]["enable_open_metrics"] is True
        assert col["service"]["pipelines"]["metrics/spanmetrics"] == {"receivers": ["spanmetrics"], "exporters": ["prometheus"]}
        assert col["processors"]["memory_limiter"]["limit_mib"] == 768  # 75 % of the 1024 MiB limit

    def test_grafana_datasource_uids_come_from_the_contract(self, files) -> None:
        """Datasource uids are the contract's; exemplars → Jaeger, Jaeger → logs, logs → Jaeger."""
        from day_trade.observability import contract as k

        ds = {d["uid"]: d for d in yaml.safe_load(files["config/grafana/provisioning/datasources/datasources.yml"])["datasources"]}
        assert {k.DATASOURCE_UID_PROMETHEUS, k.DATASOURCE_UID_JAEGER, k.DATASOURCE_UID_LOGS} <= set(ds)
        assert ds[k.DATASOURCE_UID_PROMETHEUS]["jsonData"]["exemplarTraceIdDestinations"][0]["datasourceUid"] == k.DATASOURCE_UID_JAEGER
        assert ds[k.DATASOURCE_UID_JAEGER]["jsonData"]["tracesToLogsV2"]["datasourceUid"] == k.DATASOURCE_UID_LOGS
        assert ds[k.DATASOURCE_UID_LOGS]["jsonData"]["dataLinks"][0]["datasourceUid"] == k.DATASOURCE_UID_JAEGER


class TestBothBackends:
    """Both log backends render a compose file that passes the schema and the security lint, with
    dedicated users (never the store's admin) for every client and Grafana's refresh floor at 1 s."""

    @pytest.mark.parametrize("backend", ["elasticsearch", "opensearch"])
    def test_compose_passes_schema_and_lint(self, tmp_path: Path, backend: str) -> None:
        from dtobs.check.compose import lint, schema_errors

        files = render_text(tmp_path, f"  logs_backend: {backend}\n")
        doc = yaml.safe_load(files["docker-compose.observability.yml"])
        assert lint(doc) == [] and schema_errors(doc) == []
        svc = doc["services"]
        admin_var = "ELASTIC_PASSWORD" if backend == "elasticsearch" else "OPENSEARCH_ADMIN_PASSWORD"
        holders = sorted(n for n, s in svc.items() if admin_var in yaml.safe_dump(s))
        assert holders == sorted([backend, "setup"])
        grafana = svc["grafana"]["environment"]
        assert grafana["GF_DASHBOARDS_MIN_REFRESH_INTERVAL"] == "1s" and grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
        assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
        assert ("grafana-opensearch-datasource" in grafana.get("GF_INSTALL_PLUGINS", "")) == (backend == "opensearch")
        assert "min_refresh_interval = 1s" in files["config/grafana/grafana.ini"]

    def test_opensearch_clients_use_dedicated_users(self, tmp_path: Path) -> None:
        """Dashboards, the collector, Jaeger, Grafana and the exporter never authenticate as admin."""
        from dtobs.render import stack_common as c

        files = render_text(tmp_path, "  logs_backend: opensearch\n")
        osd = yaml.safe_load(files["config/opensearch/opensearch_dashboards.yml"])
        assert osd["opensearch.username"] == c.OS_DASHBOARDS_USER
        assert osd["opensearch.password"] == "${OPENSEARCH_DASHBOARDS_PASSWORD}"
        jaeger = yaml.safe_load(files["config/jaeger-config.yml"])
        auth = jaeger["extensions"]["jaeger_storage"]["backends"]["traces_store"]["opensearch"]["auth"]["basic"]
        assert auth == {"username": c.OS_WRITER_USER, "password": "${env:DTOBS_WRITER_PASSWORD}"}
        col = yaml.safe_load(files["config/otel-collector-config.yml"])
        assert col["exporters"]["opensearch"]["http"]["headers"]["Authorization"] == "Basic ${env:OPENSEARCH_WRITER_BASIC_AUTH}"
        ds = yaml.safe_load(files["config/grafana/provisioning/datasources/datasources.yml"])["datasources"]
        logs = next(d for d in ds if d["type"] == "grafana-opensearch-datasource")
        assert logs["basicAuthUser"] == c.OS_READER_USER
        compose = files["docker-compose.observability.yml"]
        assert f"http://{c.OS_READER_USER}:${{DTOBS_READER_PASSWORD:?" in compose

    def test_opensearch_security_files_have_no_demo_users(self, tmp_path: Path) -> None:
        """internal_users.yml holds admin only (with the installer's placeholder hash); the setup
        script creates the service users from .env and refuses demo credentials."""
        from dtobs.check.compose import lint_opensearch_security
        from dtobs.render.stack_logstore import OS_DEMO_USERS, OS_INSTALLER_ADMIN_HASH

        files = render_text(tmp_path, "  logs_backend: opensearch\n")
        users = yaml.safe_load(files["config/opensearch/security/internal_users.yml"])
        mapping = yaml.safe_load(files["config/opensearch/security/roles_mapping.yml"])
        assert set(users) == {"_meta", "admin"} and mapping["kibana_server"]["users"] == ["dtobs_dashboards"]
        assert lint_opensearch_security(users, mapping, OS_INSTALLER_ADMIN_HASH) == []
        setup = files["config/opensearch/setup.sh"]
        for user in OS_DEMO_USERS:
            assert f" {user}" in setup.split("for user in", 1)[1].splitlines()[0]
        for var in ("DTOBS_WRITER_PASSWORD", "DTOBS_READER_PASSWORD", "OPENSEARCH_DASHBOARDS_PASSWORD"):
            assert f"${{{var}:?}}" in setup and f"\\\"${{{var}}}\\\"" in setup
