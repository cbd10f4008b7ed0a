"""Stack validators: the compose lint, the schema, logstash lint, secrets and the real binaries."""

from __future__ import annotations

import copy
import stat
from pathlib import Path

import pytest
import yaml

from dtobs.check import collector, compose, prometheus_config, stack_files
from dtobs.check.tools import find_tool
from dtobs.secrets import GENERATED, ensure_env_file, read_env
from dtobs.stack_setup import SetupError, apply_log_store_setup

GOLDEN_OUT = Path(__file__).parents[1] / "golden" / "stack" / "out"


@pytest.fixture()
def compose_doc() -> dict:
    return yaml.safe_load((GOLDEN_OUT / "docker-compose.observability.yml").read_text())


class TestComposeLint:
    def test_golden_compose_is_clean(self, compose_doc) -> None:
        """The rendered compose file passes the lint and the Compose schema."""
        assert compose.lint(compose_doc) == []
        assert compose.schema_errors(compose_doc) == []

    @pytest.mark.parametrize("mutate, expected", [
        (lambda d: d["services"]["grafana"]["ports"].__setitem__(0, "0.0.0.0:3000:3000"), "binds every interface"),
        (lambda d: d["services"]["grafana"]["ports"].__setitem__(0, "3000:3000"), "no host address"),
        (lambda d: d["services"]["grafana"]["environment"].__setitem__("GF_SECURITY_ADMIN_PASSWORD", "admin"), "literal secret"),
        (lambda d: d["services"]["grafana"].__setitem__("image", "grafana/grafana:latest"), "not pinned"),
        (lambda d: d["services"]["grafana"].__setitem__("image", "grafana/grafana"), "not pinned"),
        (lambda d: d["services"]["jaeger"].pop("healthcheck"), "no healthcheck"),
        (lambda d: d["services"]["jaeger"].pop("mem_limit"), "no memory limit"),
        (lambda d: d["services"]["grafana"]["depends_on"]["prometheus"].__setitem__("condition", "service_started"), "service_healthy"),
        (lambda d: d["services"]["grafana"]["environment"].__setitem__("GF_AUTH_ANONYMOUS_ENABLED", "true"), "anonymous"),
        # Well-known default passwords, anywhere in a service.
        (lambda d: d["services"]["opensearch"]["healthcheck"]["test"].__setitem__(1, "curl -fsS -u admin:admin http://localhost:9200"), "well-known default password"),
        (lambda d: d["services"]["log-store-exporter"]["command"].__setitem__(0, "--es.uri=http://kibanaserver:kibanaserver@opensearch:9200"), "well-known default password"),
        (lambda d: d["services"]["grafana"]["environment"].__setitem__("GF_SECURITY_ADMIN_PASSWORD", "changeme"), "well-known default password"),
        (lambda d: d["services"]["jaeger"]["environment"].__setitem__("DTOBS_WRITER_PASSWORD", "${DTOBS_WRITER_PASSWORD:-admin}"), "falls back to a default secret"),
        # Every *_PASSWORD env is a ${VAR:?} that .env provides.
        (lambda d: d["services"]["jaeger"]["environment"].__setitem__("DTOBS_WRITER_PASSWORD", "${NOT_IN_ENV:?x}"), "not generated into .env"),
        # The store's admin password only in the store and its one-shot setup.
        (lambda d: d["services"]["opensearch-dashboards"]["environment"].__setitem__("OPENSEARCH_ADMIN_PASSWORD", "${OPENSEARCH_ADMIN_PASSWORD:?x}"), "log store admin password"),
        (lambda d: d["services"]["log-store-exporter"]["command"].__setitem__(0, "--es.uri=http://admin:${OPENSEARCH_ADMIN_PASSWORD:?x}@opensearch:9200"), "log store admin password"),
        # Grafana: admin password set, refresh floor at or below the HFT dashboard's, OpenSearch plugin.
        (lambda d: d["services"]["grafana"]["environment"].pop("GF_SECURITY_ADMIN_PASSWORD"), "admin/admin"),
        (lambda d: d["services"]["grafana"]["environment"].pop("GF_DASHBOARDS_MIN_REFRESH_INTERVAL"), "above the HFT dashboard refresh"),
        (lambda d: d["services"]["grafana"]["environment"].__setitem__("GF_DASHBOARDS_MIN_REFRESH_INTERVAL", "2s"), "above the HFT dashboard refresh"),
        (lambda d: d["services"]["grafana"]["environment"].pop("GF_INSTALL_PLUGINS"), "datasource plugin is not installed"),
        # OpenSearch: security on, admin password from .env, no demo internal users.
        (lambda d: d["services"]["opensearch"]["environment"].__setitem__("DISABLE_SECURITY_PLUGIN", "true"), "security plugin is disabled"),
        (lambda d: d["services"]["opensearch"]["environment"].pop("OPENSEARCH_INITIAL_ADMIN_PASSWORD"), "must come from .env"),
        (lambda d: d["services"]["opensearch"].pop("entrypoint"), "demo internal users"),
        (lambda d: d["services"]["opensearch"]["volumes"].pop(0), "demo internal users"),
    ])
    def test_lint_catches(self, compose_doc, mutate, expected) -> None:
        """Each insecure change is reported."""
        doc = copy.deepcopy(compose_doc)
        mutate(doc)
        assert any(expected in p for p in compose.lint(doc)), compose.lint(doc)

    def test_refresh_floor_follows_the_fastest_dashboard(self, compose_doc) -> None:
        """A 1s floor passes against a 1s dashboard, fails against a 500ms one."""
        assert compose.lint(compose_doc, dashboard_refresh="1s") == []
        assert any("above the HFT" in p for p in compose.lint(compose_doc, dashboard_refresh="500ms"))

    @pytest.mark.parametrize("mutate, expected", [
        (lambda u, m: u.__setitem__("kibanaserver", {"hash": "x", "reserved": True}), "'kibanaserver'"),
        (lambda u, m: u.__setitem__("dtobs_writer", {"hash": "x"}), "never committed"),
        (lambda u, m: u["admin"].__setitem__("hash", "$2y$12$somethingelse"), "placeholder"),
        (lambda u, m: m.__setitem__("own_index", {"users": ["*"]}), "demo mapping"),
        (lambda u, m: m["kibana_server"].__setitem__("users", ["kibanaserver"]), "demo mapping"),
    ])
    def test_opensearch_security_files_lint_catches(self, mutate, expected) -> None:
        """The rendered internal_users.yml / roles_mapping.yml are clean; each demo leftover is reported."""
        from dtobs.render.stack_logstore import OS_INSTALLER_ADMIN_HASH

        sec = GOLDEN_OUT / "config/opensearch/security"
        users = yaml.safe_load((sec / "internal_users.yml").read_text())
        mapping = yaml.safe_load((sec / "roles_mapping.yml").read_text())
        assert compose.lint_opensearch_security(users, mapping, OS_INSTALLER_ADMIN_HASH) == []
        mutate(users, mapping)
        problems = compose.lint_opensearch_security(users, mapping, OS_INSTALLER_ADMIN_HASH)
        assert any(expected in p for p in problems), problems

    def test_check_fails_on_a_regressed_tree(self, tmp_path: Path) -> None:
        """`dtobs check`'s compose step fails when the committed files regress (admin everywhere)."""
        for rel in ("docker-compose.observability.yml", "config/opensearch/security/internal_users.yml",
                    "config/opensearch/security/roles_mapping.yml"):
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text((GOLDEN_OUT / rel).read_text())
        assert all(r.ok for r in compose.check(tmp_path) if "lint" in r.name)
        text = (tmp_path / "docker-compose.observability.yml").read_text()
        (tmp_path / "docker-compose.observability.yml").write_text(
            text.replace("${DTOBS_READER_PASSWORD:?run make up to generate .env}@", "${OPENSEARCH_ADMIN_PASSWORD:?run make up to generate .env}@"))
        lint_result = next(r for r in compose.check(tmp_path) if "lint" in r.name)
        assert not lint_result.ok and "log store admin password" in lint_result.detail

    def test_wildcard_allowed_when_configured(self, compose_doc) -> None:
        """0.0.0.0 passes only with stack.expose_publicly."""
        doc = copy.deepcopy(compose_doc)
        doc["services"]["grafana"]["ports"][0] = "0.0.0.0:3000:3000"
        assert compose.lint(doc, allow_public=True) == []

    def test_schema_rejects_unknown_service_key(self, compose_doc) -> None:
        """The Compose schema check is real: a misspelt key fails."""
        doc = copy.deepcopy(compose_doc)
        doc["services"]["grafana"]["helthcheck"] = {}
        assert any("helthcheck" in e for e in compose.schema_errors(doc))


class TestLogstashLint:
    def test_golden_conf_is_clean(self) -> None:
        """The rendered logstash.conf passes the structural lint."""
        assert stack_files.lint_logstash((GOLDEN_OUT / "config/logstash/logstash.conf").read_text()) == []

    def test_catches_broken_structure(self) -> None:
        """Unclosed braces, missing sections and odd gsub arrays are reported."""
        problems = stack_files.lint_logstash('input { tcp { port => 1 }\nfilter { mutate { gsub => [\n "a", "b"\n ] } }')
        assert any("unclosed" in p for p in problems) and any("output" in p for p in problems)
        assert any("triples" in p for p in problems)

    def test_masking_patterns_mask(self) -> None:
        """The secret patterns mask a card number, a bearer token and a password assignment."""
        import re

        from dtobs.render import stack_common as c

        text = "card 4111 1111 1111 1111 auth Bearer abc.def password=hunter2 ok"
        text = re.sub(c.CARD_NUMBER, c.PAN_MASK, text)
        text = re.sub(c.BEARER_TOKEN, "Bearer " + c.MASK, text)
        text = re.sub(c.SECRET_ASSIGNMENT, r"\1\2" + c.MASK, text)
        assert text == "card [REDACTED-PAN] auth Bearer [REDACTED] password=[REDACTED] ok"


class TestSecrets:
    def test_generates_strong_passwords_mode_0600(self, tmp_path: Path) -> None:
        """Every secret is generated, long and distinct; the file is 0600."""
        env = tmp_path / ".env"
        added = ensure_env_file(env)
        values = read_env(env)
        assert set(GENERATED) <= set(added) and all(len(values[k]) >= 40 for k in GENERATED)
        assert len({values[k] for k in GENERATED}) == len(GENERATED)
        assert stat.S_IMODE(env.stat().st_mode) == 0o600

    def test_collector_token_is_the_writer_not_admin(self, tmp_path: Path) -> None:
        """The OpenSearch basic-auth token is dtobs_writer's, never admin's."""
        import base64

        env = tmp_path / ".env"
        ensure_env_file(env)
        values = read_env(env)
        pair = base64.b64decode(values["OPENSEARCH_WRITER_BASIC_AUTH"]).decode()
        assert pair == f"dtobs_writer:{values['DTOBS_WRITER_PASSWORD']}"

    def test_never_overwrites(self, tmp_path: Path) -> None:
        """Existing values stay; only the missing ones are added."""
        env = tmp_path / ".env"
        env.write_text("GRAFANA_ADMIN_PASSWORD=mine\n")
        ensure_env_file(env)
        first = read_env(env)
        assert first["GRAFANA_ADMIN_PASSWORD"] == "mine"
        assert ensure_env_file(env) == [] and read_env(env) == first

    def test_compose_references_exactly_the_generated_vars(self) -> None:
        """Every ${VAR:?} in the compose file is one ensure_env_file generates."""
        from dtobs.render.stack_compose import SECRET_VARS
        from dtobs.secrets import DERIVED

        text = (GOLDEN_OUT / "docker-compose.observability.yml").read_text()
        assert compose._env_vars(text) <= set(SECRET_VARS) == set(GENERATED) | set(DERIVED)


class TestStackSetup:
    def test_refuses_non_loopback(self, tmp_path: Path) -> None:
        """The setup only talks to loopback addresses."""
        with pytest.raises(SetupError, match="loopback"):
            apply_log_store_setup("http://10.0.0.1:9200", tmp_path)

    def test_connection_refused_is_a_setup_error(self) -> None:
        """A closed port fails fast with a SetupError, not a hang."""
        with pytest.raises(SetupError):
            apply_log_store_setup("http://127.0.0.1:9", GOLDEN_OUT / "config", timeout=2)


class TestRealValidators:
    def test_promtool_check_config(self) -> None:
        """promtool accepts the rendered Prometheus configs (and the rules they load)."""
        if find_tool("promtool") is None:
            pytest.skip("promtool not installed (apt-get install -y prometheus)")
        results = prometheus_config.check(GOLDEN_OUT)
        assert results and all(r.ok for r in results), [r.detail for r in results]

    @pytest.mark.parametrize("tool", ["otelcol-dtobs", "jaeger"])
    def test_binary_validate(self, tool: str) -> None:
        """The built collector / Jaeger accept both variants of their config."""
        if find_tool(tool) is None:
            pytest.skip(f"{tool} not built (make backends)")
        results = [r for r in collector.check(GOLDEN_OUT) if r.name.startswith(tool)]
        assert len(results) == 2 and all(r.ok for r in results), [r.detail for r in results]

    def test_collector_validate_rejects_a_broken_config(self, tmp_path: Path) -> None:
        """The collector check fails on a config with an unknown key (it is not a rubber stamp)."""
        if find_tool("otelcol-dtobs") is None:
            pytest.skip("otelcol-dtobs not built (make backends)")
        for rel in ("config/otel-collector-config.yml", "config/native/otel-collector-config.yml",
                    "config/jaeger-config.yml", "config/native/jaeger-config.yml"):
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text((GOLDEN_OUT / rel).read_text())
        bad = tmp_path / "config/native/otel-collector-config.yml"
        bad.write_text(bad.read_text().replace("check_interval: 1s", "check_interval: 1s\n    limit_mb: 5"))
        results = {r.name: r for r in collector.check(tmp_path)}
        assert not results["otelcol-dtobs validate config/native/otel-collector-config.yml"].ok
        assert results["otelcol-dtobs validate config/otel-collector-config.yml"].ok


class TestStackSetupAgainstAFakeStore:
    def test_puts_templates_and_skips_ism_without_the_plugin(self) -> None:
        """Against a store without ISM (the native test zip), templates are PUT and policies skipped."""
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer

        seen: list[tuple[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, code: int, body) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                seen.append(("GET", self.path))
                self._reply(200, [{"component": "some-other-plugin"}] if self.path.startswith("/_cat/plugins") else {})

            def do_PUT(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                seen.append(("PUT", self.path))
                self._reply(200 if "index_patterns" in body else 400, {"acknowledged": True})

            def log_message(self, *args) -> None:
                pass

        server = HTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            applied = apply_log_store_setup(f"http://127.0.0.1:{server.server_port}", GOLDEN_OUT / "config", timeout=5)
        finally:
            server.shutdown()
            thread.join(timeout=5)
        puts = sorted(p for m, p in seen if m == "PUT")
        assert puts == ["/_index_template/dtobs-logs", "/_index_template/dtobs-traces", "/_index_template/dtobs-traces-sampled"]
        assert sum(a.status.startswith("skipped") for a in applied) == 3
