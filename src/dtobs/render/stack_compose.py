"""docker-compose.observability.yml: services of the selected log backend, pinned images,
healthchecks, memory limits and heap caps, ports bound to stack.bind_address, secrets from .env."""

from __future__ import annotations

from dtobs.model.stack import Stack
from dtobs.render import stack_common as c
from dtobs.render.jinja import render_template

ENV_HINT = "run make up to generate .env"
COMPOSE_FILE = "docker-compose.observability.yml"
# Every secret the compose file needs; dtobs.secrets.ensure_env_file generates them.
SECRET_VARS = (
    "ELASTIC_PASSWORD", "KIBANA_SYSTEM_PASSWORD", "KIBANA_ENCRYPTION_KEY", "DTOBS_WRITER_PASSWORD",
    "DTOBS_READER_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "OPENSEARCH_ADMIN_PASSWORD", "OPENSEARCH_DASHBOARDS_PASSWORD",
    "OPENSEARCH_WRITER_BASIC_AUTH",
)
# The OpenSearch container copies the rendered security files (config/opensearch/security) over the
# image's demo files, then runs the image's own entrypoint (which runs the demo installer: demo TLS
# certificates for the transport layer, the admin password from OPENSEARCH_INITIAL_ADMIN_PASSWORD).
OS_HOME = "/usr/share/opensearch"
OS_SECURITY_MOUNT = f"{OS_HOME}/dtobs-security"
OS_ENTRYPOINT = (f"cp {OS_SECURITY_MOUNT}/internal_users.yml {OS_SECURITY_MOUNT}/roles_mapping.yml "
                 f"{OS_HOME}/config/opensearch-security/ && exec {OS_HOME}/opensearch-docker-entrypoint.sh opensearch")


def secret(name: str) -> str:
    assert name in SECRET_VARS, name
    return "${" + name + ":?" + ENV_HINT + "}"


def _health(test: list[str] | str, interval: str = "10s", retries: int = 30, start: str = "20s") -> dict:
    cmd = ["CMD-SHELL", test] if isinstance(test, str) else ["CMD", *test]
    return {"test": cmd, "interval": interval, "timeout": "5s", "retries": retries, "start_period": start}


def _wget(url: str) -> list[str]:
    return ["wget", "-q", "--spider", url]


def services(stack: Stack) -> dict[str, dict]:
    bind, ports, img, res = stack.bind_address, stack.ports, stack.images, stack.resources
    cp = stack.compose.listen_ports
    es = stack.logs_backend == "elasticsearch"
    store = "elasticsearch" if es else "opensearch"

    def publish(*keys: str) -> list[str]:
        return [f"{bind}:{ports[key]}:{cp[key]}" for key in keys]

    def limits(service: str, env: dict | None = None) -> dict:
        r = res[service]
        out: dict = {"mem_limit": f"{r.memory_mb}m"}
        env = dict(env or {})
        if r.go_memlimit_mb:
            env["GOMEMLIMIT"] = f"{r.go_memlimit_mb}MiB"
        if env:
            out["environment"] = env
        return out

    def healthy(*names: str) -> dict:
        return {n: {"condition": "service_healthy"} for n in names}

    # The collector and Jaeger write as the writer user (never admin) on both backends.
    writer_env = {"DTOBS_WRITER_PASSWORD": secret("DTOBS_WRITER_PASSWORD")}
    collector_env = dict(writer_env) if es else {"OPENSEARCH_WRITER_BASIC_AUTH": secret("OPENSEARCH_WRITER_BASIC_AUTH")}
    store_ready = {"setup": {"condition": "service_completed_successfully"}}
    svc: dict[str, dict] = {}

    if es:
        heap = res["elasticsearch"].heap_mb
        svc["elasticsearch"] = {
            "image": img["elasticsearch"],
            **limits("elasticsearch", {"ES_JAVA_OPTS": f"-Xms{heap}m -Xmx{heap}m",
                                       "ELASTIC_PASSWORD": secret("ELASTIC_PASSWORD")}),
            "volumes": ["./config/elasticsearch/elasticsearch.yml:/usr/share/elasticsearch/config/elasticsearch.yml:ro",
                        "elasticsearch-data:/usr/share/elasticsearch/data"],
            "ports": publish("log_store"),
            "healthcheck": _health("curl -fsS -u elastic:$${ELASTIC_PASSWORD} 'http://localhost:9200/_cluster/health?wait_for_status=yellow&timeout=5s' >/dev/null", start="60s"),
            "ulimits": {"memlock": {"soft": -1, "hard": -1}},
        }
        svc["setup"] = {
            "image": img["elasticsearch"],
            "entrypoint": ["/bin/sh", "/setup/setup.sh"],
            "environment": {v: secret(v) for v in ("ELASTIC_PASSWORD", "KIBANA_SYSTEM_PASSWORD",
                                                     "DTOBS_WRITER_PASSWORD", "DTOBS_READER_PASSWORD")},
            "volumes": ["./config/elasticsearch:/setup:ro"],
            "depends_on": healthy("elasticsearch"),
            "restart": "no",
            "mem_limit": "256m",
            "labels": {"dtobs.one-shot": "true"},
        }
        svc["kibana"] = {
            "image": img["kibana"],
            **limits("kibana", {"KIBANA_SYSTEM_PASSWORD": secret("KIBANA_SYSTEM_PASSWORD"),
                                "KIBANA_ENCRYPTION_KEY": secret("KIBANA_ENCRYPTION_KEY"),
                                "NODE_OPTIONS": f"--max-old-space-size={res['kibana'].memory_mb * 3 // 4}"}),
            "volumes": ["./config/kibana/kibana.yml:/usr/share/kibana/config/kibana.yml:ro"],
            "ports": publish("log_ui"),
            "depends_on": {**healthy("elasticsearch"), **store_ready},
            "healthcheck": _health("curl -s -I http://localhost:5601 | grep -q 'HTTP/1.1 302 Found'", start="60s"),
        }
        lheap = res["logstash"].heap_mb
        svc["logstash"] = {
            "image": img["logstash"],
            **limits("logstash", {"LS_JAVA_OPTS": f"-Xms{lheap}m -Xmx{lheap}m",
                                  "DTOBS_WRITER_PASSWORD": secret("DTOBS_WRITER_PASSWORD"),
                                  "XPACK_MONITORING_ENABLED": "false"}),
            "volumes": ["./config/logstash/logstash.conf:/usr/share/logstash/pipeline/logstash.conf:ro"],
            "ports": publish("logstash"),
            "depends_on": {**healthy("elasticsearch"), **store_ready},
            "healthcheck": _health("curl -fsS http://localhost:9600/_node/pipelines >/dev/null", start="60s"),
        }
    else:
        heap = res["opensearch"].heap_mb
        svc["opensearch"] = {
            "image": img["opensearch"],
            # Our internal_users.yml (admin only) and roles_mapping.yml replace the demo ones before
            # the demo installer runs: the demo users and their well-known passwords never exist.
            # Not verifiable here (no Docker): that the image keeps its entrypoint at this path; the
            # setup service fails the stack if a demo user or a demo password is still accepted.
            "entrypoint": ["/bin/sh", "-c", OS_ENTRYPOINT],
            **limits("opensearch", {
                "OPENSEARCH_JAVA_OPTS": f"-Xms{heap}m -Xmx{heap}m",
                "OPENSEARCH_INITIAL_ADMIN_PASSWORD": secret("OPENSEARCH_ADMIN_PASSWORD"),
                "cluster.name": "dtobs-logs", "discovery.type": "single-node", "bootstrap.memory_lock": "false",
                # Security plugin on (demo certificates for the transport layer); HTTP stays plain
                # inside the Compose network and is published on the bind address only.
                "plugins.security.ssl.http.enabled": "false"}),
            "volumes": [f"./config/opensearch/security:{OS_SECURITY_MOUNT}:ro", "opensearch-data:/usr/share/opensearch/data"],
            "ports": publish("log_store"),
            "healthcheck": _health("curl -fsS -u admin:$${OPENSEARCH_INITIAL_ADMIN_PASSWORD} http://localhost:9200/_cluster/health >/dev/null", start="60s"),
            "ulimits": {"memlock": {"soft": -1, "hard": -1}, "nofile": {"soft": 65536, "hard": 65536}},
        }
        svc["setup"] = {
            "image": img["opensearch"],
            "entrypoint": ["/bin/sh", "/setup/setup.sh"],
            "environment": {v: secret(v) for v in ("OPENSEARCH_ADMIN_PASSWORD", "DTOBS_WRITER_PASSWORD",
                                                     "DTOBS_READER_PASSWORD", "OPENSEARCH_DASHBOARDS_PASSWORD")},
            "volumes": ["./config/opensearch:/setup:ro"],
            "depends_on": healthy("opensearch"),
            "restart": "no",
            "mem_limit": "256m",
            "labels": {"dtobs.one-shot": "true"},
        }
        svc["opensearch-dashboards"] = {
            "image": img["opensearch_dashboards"],
            **limits("opensearch_dashboards", {"OPENSEARCH_DASHBOARDS_PASSWORD": secret("OPENSEARCH_DASHBOARDS_PASSWORD")}),
            "volumes": ["./config/opensearch/opensearch_dashboards.yml:/usr/share/opensearch-dashboards/config/opensearch_dashboards.yml:ro"],
            "ports": publish("log_ui"),
            "depends_on": {**healthy("opensearch"), **store_ready},
            # Up = the server answers (401: the security plugin asks for a login); 503 while starting.
            # No credentials: the container holds only its own server user's password.
            "healthcheck": _health("curl -s -o /dev/null -w '%{http_code}' http://localhost:5601/api/status | grep -Eq '^(200|302|401)$$'", start="60s"),
        }

    svc["jaeger"] = {
        "image": img["jaeger"],
        "command": ["--config", "/etc/jaeger/config.yml"],
        **limits("jaeger", writer_env),
        "volumes": ["./config/jaeger-config.yml:/etc/jaeger/config.yml:ro"],
        "ports": publish("jaeger_query"),
        "depends_on": {**healthy(store), **store_ready},
        "healthcheck": _health(_wget(f"http://localhost:{cp['jaeger_health']}/status")),
    }
    svc["otel-collector"] = {
        "image": img["otel_collector"],
        "command": ["--config=/etc/otelcol-contrib/config.yaml"],
        **limits("otel_collector", collector_env),
        "volumes": ["./config/otel-collector-config.yml:/etc/otelcol-contrib/config.yaml:ro"],
        "ports": publish("otlp_grpc", "otlp_http", "collector_health"),
        "depends_on": {**healthy("jaeger", store), **store_ready},
        # The contrib image is distroless (no shell, no wget): the check proves the binary runs;
        # readiness of the pipelines is the health_check extension, published on the bind address.
        "healthcheck": _health(["/otelcol-contrib", "--version"], start="5s"),
    }
    svc["prometheus"] = {
        "image": img["prometheus"],
        "command": [
            "--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
            f"--storage.tsdb.retention.time={stack.retention.metrics_full_resolution}",
            "--enable-feature=exemplar-storage", "--web.console.libraries=/usr/share/prometheus/console_libraries",
        ],
        **limits("prometheus"),
        "volumes": ["./config/prometheus.yml:/etc/prometheus/prometheus.yml:ro", "./config/rules:/etc/prometheus/rules:ro",
                    "prometheus-data:/prometheus"],
        "ports": publish("prometheus"),
        "extra_hosts": ["host.docker.internal:host-gateway"],
        "depends_on": healthy("prometheus-longterm", "alertmanager"),
        "healthcheck": _health(_wget("http://localhost:9090/-/ready")),
    }
    svc["prometheus-longterm"] = {
        "image": img["prometheus"],
        "command": [
            "--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
            f"--storage.tsdb.retention.time={stack.retention.metrics_aggregated}", "--web.enable-remote-write-receiver",
        ],
        **limits("prometheus_longterm"),
        "volumes": ["./config/prometheus-longterm.yml:/etc/prometheus/prometheus.yml:ro", "prometheus-longterm-data:/prometheus"],
        "ports": publish("prometheus_longterm"),
        "healthcheck": _health(_wget("http://localhost:9090/-/ready")),
    }
    svc["alertmanager"] = {
        "image": img["alertmanager"],
        "command": ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
        **limits("alertmanager"),
        "volumes": ["./config/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro", "alertmanager-data:/alertmanager"],
        "ports": publish("alertmanager"),
        "healthcheck": _health(_wget("http://localhost:9093/-/ready")),
    }
    from dtobs.render.stack_grafana import min_refresh_interval

    grafana_env = {"GF_SECURITY_ADMIN_PASSWORD": secret("GRAFANA_ADMIN_PASSWORD"), "GF_AUTH_ANONYMOUS_ENABLED": "false",
                   # Grafana's default floor (5s) would slow the HFT dashboard's 1s refresh; grafana.ini says it too.
                   "GF_DASHBOARDS_MIN_REFRESH_INTERVAL": min_refresh_interval(),
                   "DTOBS_READER_PASSWORD": secret("DTOBS_READER_PASSWORD")}
    if not es:
        grafana_env["GF_INSTALL_PLUGINS"] = ",".join(f"{n} {v}" for n, v in sorted(stack.grafana_plugins.items()))
    svc["grafana"] = {
        "image": img["grafana"],
        **limits("grafana", grafana_env),
        "volumes": ["./config/grafana/grafana.ini:/etc/grafana/grafana.ini:ro",
                    "./config/grafana/provisioning:/etc/grafana/provisioning:ro",
                    "./dashboards:/var/lib/grafana/dashboards:ro", "grafana-data:/var/lib/grafana"],
        "ports": publish("grafana"),
        "depends_on": healthy("prometheus", "jaeger", store),
        "healthcheck": _health(_wget("http://localhost:3000/api/health")),
    }
    svc["node-exporter"] = {
        "image": img["node_exporter"],
        "command": ["--path.rootfs=/host"],
        **limits("node_exporter"),
        "volumes": ["/:/host:ro,rslave"],
        "pid": "host",
        "healthcheck": _health(_wget("http://localhost:9100/metrics")),
    }
    reader = c.ES_READER_USER if es else c.OS_READER_USER
    exporter_uri = f"http://{reader}:${{DTOBS_READER_PASSWORD:?{ENV_HINT}}}@{store}:9200"
    svc["log-store-exporter"] = {
        "image": img["log_store_exporter"],
        "command": ["--es.uri=" + exporter_uri, "--es.timeout=5s"],
        **limits("log_store_exporter"),
        "depends_on": healthy(store),
        "healthcheck": _health(_wget("http://localhost:9114/metrics")),
    }
    return svc


def render(model) -> dict[str, str]:
    stack = model.stack
    if stack is None:
        return {}
    svc = services(stack)
    volumes = sorted({v.split(":", 1)[0] for s in svc.values() for v in s.get("volumes", [])
                      if not v.startswith(("./", "/"))})
    text = render_template("stack/docker-compose.yml.j2", services=list(svc.items()), volumes=volumes,
                           logs_backend=stack.logs_backend, bind_address=stack.bind_address)
    return {COMPOSE_FILE: text}
