"""The log store (Elasticsearch and OpenSearch, both always rendered), its lifecycle policies and
index templates, Kibana / OpenSearch Dashboards settings, the Elasticsearch setup script and
Logstash. The compose file starts the services of the selected `logs_backend` only.

Lifecycle (from stack.retention):
  logs    hot (rollover daily) → warm at `logs.hot` (read-only, force-merged) → archive at
          `logs.warm` (cold: lowest priority, read-only) → deleted at `logs.delete`
  traces  Jaeger's daily span/service indices are deleted at `traces.full`; the archive
          storage (traces kept from the Jaeger UI: the sampled set) at `traces.sampled`.
"""

from __future__ import annotations

import json

from dtobs.model.stack import Stack
from dtobs.render import stack_common as c
from dtobs.render.jinja import render_template

CLUSTER_NAME = "dtobs-logs"
LOGS_POLICY, TRACES_POLICY, SAMPLED_POLICY = "dtobs-logs", "dtobs-traces", "dtobs-traces-sampled"
AUTH_FAILURE_THRESHOLD, AUTH_FAILURE_PERIOD_S = 5, 60


def _json(value) -> str:
    return json.dumps(value, indent=2) + "\n"


# --- Elasticsearch ------------------------------------------------------------------------------

def ilm_policies(stack: Stack) -> dict[str, dict]:
    r = stack.retention
    return {
        LOGS_POLICY: {"policy": {"_meta": {"managed_by": "dtobs"}, "phases": {
            "hot": {"min_age": "0ms", "actions": {
                "rollover": {"max_age": "1d", "max_primary_shard_size": "10gb"}, "set_priority": {"priority": 100}}},
            "warm": {"min_age": f"{r.logs_hot_days}d", "actions": {
                "readonly": {}, "forcemerge": {"max_num_segments": 1}, "set_priority": {"priority": 50}}},
            "cold": {"min_age": f"{r.logs_warm_days}d", "actions": {"set_priority": {"priority": 0}}},
            "delete": {"min_age": f"{r.logs_delete_days}d", "actions": {"delete": {}}},
        }}},
        TRACES_POLICY: {"policy": {"_meta": {"managed_by": "dtobs"}, "phases": {
            "hot": {"min_age": "0ms", "actions": {"set_priority": {"priority": 100}}},
            "delete": {"min_age": f"{r.traces_full_days}d", "actions": {"delete": {}}},
        }}},
        SAMPLED_POLICY: {"policy": {"_meta": {"managed_by": "dtobs"}, "phases": {
            "hot": {"min_age": "0ms", "actions": {"set_priority": {"priority": 50}}},
            "delete": {"min_age": f"{r.traces_sampled_days}d", "actions": {"delete": {}}},
        }}},
    }


def es_index_templates() -> dict[str, dict]:
    settings = {"number_of_shards": 1, "number_of_replicas": 0}
    return {
        "dtobs-logs": {
            "index_patterns": [c.ES_LOGS_PATTERN], "data_stream": {}, "priority": 200,
            "composed_of": ["logs@mappings", "logs@settings"],
            "template": {"settings": {**settings, "index.lifecycle.name": LOGS_POLICY}},
            "_meta": {"managed_by": "dtobs"},
        },
        "dtobs-traces": {
            "index_patterns": [f"{c.JAEGER_INDEX_PREFIX}-jaeger-*"], "priority": 200,
            "template": {"settings": {**settings, "index.lifecycle.name": TRACES_POLICY}},
            "_meta": {"managed_by": "dtobs"},
        },
        "dtobs-traces-sampled": {
            "index_patterns": [f"{c.JAEGER_ARCHIVE_PREFIX}-jaeger-*"], "priority": 210,
            "template": {"settings": {**settings, "index.lifecycle.name": SAMPLED_POLICY}},
            "_meta": {"managed_by": "dtobs"},
        },
    }


def es_roles() -> tuple[dict, dict]:
    names = ["logs-dtobs.*", f"{c.JAEGER_INDEX_PREFIX}-*"]  # dtobs-* also covers the archive indices
    writer = {"cluster": ["monitor", "manage_index_templates", "manage_ilm"],
              "indices": [{"names": names, "privileges": ["create_doc", "create_index", "auto_configure", "index",
                                                          "view_index_metadata", "read", "write", "manage"]}]}
    reader = {"cluster": ["monitor"],
              "indices": [{"names": names, "privileges": ["read", "view_index_metadata"]}]}
    return writer, reader


# --- OpenSearch ---------------------------------------------------------------------------------

def _ism_state(name: str, actions: list, next_state: str | None, after_days: int | None) -> dict:
    state = {"name": name, "actions": actions, "transitions": []}
    if next_state:
        state["transitions"].append({"state_name": next_state, "conditions": {"min_index_age": f"{after_days}d"}})
    return state


def ism_policies(stack: Stack) -> dict[str, dict]:
    r = stack.retention

    def policy(description: str, states: list, patterns: list[str], priority: int) -> dict:
        return {"policy": {"description": description, "default_state": states[0]["name"], "states": states,
                           "ism_template": [{"index_patterns": patterns, "priority": priority}]}}

    return {
        LOGS_POLICY: policy(
            f"dtobs logs: hot {r.logs_hot_days}d, warm to {r.logs_warm_days}d, archive to {r.logs_delete_days}d",
            [
                _ism_state("hot", [{"rollover": {"min_index_age": "1d", "min_primary_shard_size": "10gb"}}], "warm", r.logs_hot_days),
                _ism_state("warm", [{"read_only": {}}, {"force_merge": {"max_num_segments": 1}}], "archive", r.logs_warm_days),
                _ism_state("archive", [{"index_priority": {"priority": 0}}], "delete", r.logs_delete_days),
                _ism_state("delete", [{"delete": {}}], None, None),
            ],
            [f".ds-{c.OS_LOGS_PATTERN}"], 100),
        TRACES_POLICY: policy(
            f"dtobs traces: full traces for {r.traces_full_days}d",
            [_ism_state("hot", [], "delete", r.traces_full_days), _ism_state("delete", [{"delete": {}}], None, None)],
            [f"{c.JAEGER_INDEX_PREFIX}-jaeger-*"], 100),
        SAMPLED_POLICY: policy(
            f"dtobs traces: the archived (sampled) traces for {r.traces_sampled_days}d",
            [_ism_state("hot", [], "delete", r.traces_sampled_days), _ism_state("delete", [{"delete": {}}], None, None)],
            [f"{c.JAEGER_ARCHIVE_PREFIX}-jaeger-*"], 110),
    }


# OpenSearch security (compose stack). The demo installer of the image (OpenSearch >= 2.12) hashes
# OPENSEARCH_INITIAL_ADMIN_PASSWORD into internal_users.yml by replacing this exact hash (the demo
# admin's, password "admin"), line by line; every other demo user keeps its well-known password,
# and the REST API cannot change or delete the reserved ones (kibanaserver) without the admin
# TLS certificate. So the stack ships its own internal_users.yml (admin only) and roles_mapping.yml,
# copied over the demo files before the installer runs (see stack_compose: the opensearch entrypoint).
OS_INSTALLER_ADMIN_HASH = "$2a$12$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG"
OS_DEMO_USERS = ("anomalyadmin", "kibanaro", "kibanaserver", "logstash", "readall", "snapshotrestore")
# The well-known credentials of the demo configuration; the setup service proves none is accepted.
OS_DEMO_CREDENTIALS = (("admin", "admin"), *((u, u) for u in OS_DEMO_USERS if u != "anomalyadmin"))
OS_SECURITY_FILES = ("internal_users.yml", "roles_mapping.yml")


def os_roles() -> tuple[dict, dict]:
    """Least-privilege roles of the OpenSearch writer (collector, Jaeger) and reader (Grafana, exporter)."""
    patterns = [c.OS_LOGS_PATTERN, f".ds-{c.OS_LOGS_PATTERN}", f"{c.JAEGER_INDEX_PREFIX}-*"]
    writer = {"cluster_permissions": ["cluster_monitor", "cluster_composite_ops",
                                      "indices:admin/template/*", "indices:admin/index_template/*"],
              "index_permissions": [{"index_patterns": patterns,
                                     "allowed_actions": ["crud", "create_index", "manage", "indices:admin/data_stream/*"]}]}
    reader = {"cluster_permissions": ["cluster_monitor", "cluster_composite_ops_ro", "cluster:admin/opensearch/ppl"],
              "index_permissions": [{"index_patterns": patterns,
                                     "allowed_actions": ["read", "indices_monitor", "indices:admin/mappings/get"]}]}
    return writer, reader


def os_index_templates() -> dict[str, dict]:
    settings = {"number_of_shards": 1, "number_of_replicas": 0}
    return {
        "dtobs-logs": {
            "index_patterns": [c.OS_LOGS_PATTERN], "data_stream": {}, "priority": 200,
            "template": {"settings": settings, "mappings": {"properties": {
                "@timestamp": {"type": "date"}, "traceId": {"type": "keyword"}, "spanId": {"type": "keyword"},
                "severity": {"properties": {"text": {"type": "keyword"}}}, "body": {"type": "text"}}}},
            "_meta": {"managed_by": "dtobs"},
        },
        "dtobs-traces": {
            "index_patterns": [f"{c.JAEGER_INDEX_PREFIX}-jaeger-*"], "priority": 200,
            "template": {"settings": settings}, "_meta": {"managed_by": "dtobs"},
        },
        "dtobs-traces-sampled": {
            "index_patterns": [f"{c.JAEGER_ARCHIVE_PREFIX}-jaeger-*"], "priority": 210,
            "template": {"settings": settings}, "_meta": {"managed_by": "dtobs"},
        },
    }


# --- Logstash -----------------------------------------------------------------------------------

def _logstash_pattern(pattern: str) -> str:
    """Logstash strings do no escape processing: quotes become \\x22 / \\x27 for the regex engine."""
    return pattern.replace('\\"', '"').replace('"', r"\x22").replace("'", r"\x27")


def logstash_context(stack: Stack) -> dict:
    rules = [
        (c.CARD_NUMBER, c.PAN_MASK, c.PAN_MASK),
        (c.BEARER_TOKEN, "Bearer " + c.MASK, "Bearer " + c.MASK),
        (c.JWT, c.MASK, c.MASK),
        (c.SECRET_ASSIGNMENT, r"\1\2" + c.MASK, r"\\1\\2" + c.MASK),
    ]
    last = len(rules) - 1
    gsubs = [(_logstash_pattern(p), rep, "," if i < last else "") for i, (p, rep, _) in enumerate(rules)]
    ruby = [(f"%r!{_logstash_pattern(p)}!", f'"{rep}"', "," if i < last else "") for i, (p, _, rep) in enumerate(rules)]
    return dict(
        stream=c.ES_LOGS_STREAM_LOGSTASH, writer=c.ES_WRITER_USER,
        port=stack.compose.listen_ports["logstash"], gsubs=gsubs, ruby_patterns=ruby,
        secret_key_re=f"%r!{_logstash_pattern(c.SECRET_KEY_PATTERN)}!", mask=c.MASK,
        auth_threshold=AUTH_FAILURE_THRESHOLD, auth_period=AUTH_FAILURE_PERIOD_S,
        es_url=stack.compose.endpoints["log_store"].url if stack.logs_backend == "elasticsearch" else "http://elasticsearch:9200",
        dataset=c.ES_LOGS_STREAM_LOGSTASH.split("-")[1],
    )


def render(model) -> dict[str, str]:
    stack = model.stack
    if stack is None:
        return {}
    es_url = "http://elasticsearch:9200"
    files: dict[str, str] = {}
    policies, templates = ilm_policies(stack), es_index_templates()
    for name, body in policies.items():
        files[f"config/elasticsearch/ilm-{name}.json"] = _json(body)
    for name, body in templates.items():
        files[f"config/elasticsearch/index-template-{name}.json"] = _json(body)
    writer, reader = es_roles()
    files["config/elasticsearch/elasticsearch.yml"] = render_template(
        "stack/elasticsearch.yml.j2", cluster_name=CLUSTER_NAME, port=9200, bind_address=stack.bind_address)
    files["config/elasticsearch/setup.sh"] = render_template(
        "stack/es-setup.sh.j2", es_url=es_url, wait_attempts=60, writer=c.ES_WRITER_USER, reader=c.ES_READER_USER,
        writer_role=json.dumps(writer), reader_role=json.dumps(reader), policies=list(policies), templates=list(templates))
    isms, os_templates = ism_policies(stack), os_index_templates()
    for name, body in isms.items():
        files[f"config/opensearch/ism-{name}.json"] = _json(body)
    for name, body in os_templates.items():
        files[f"config/opensearch/index-template-{name}.json"] = _json(body)
    os_writer, os_reader = os_roles()
    files["config/opensearch/setup.sh"] = render_template(
        "stack/os-setup.sh.j2", os_url="http://opensearch:9200", wait_attempts=60,
        policies=list(isms), templates=list(os_templates), demo_users=OS_DEMO_USERS,
        demo_credentials=OS_DEMO_CREDENTIALS, writer=c.OS_WRITER_USER, reader=c.OS_READER_USER,
        dashboards=c.OS_DASHBOARDS_USER, writer_role=json.dumps(os_writer), reader_role=json.dumps(os_reader))
    files["config/opensearch/security/internal_users.yml"] = render_template(
        "stack/os-internal_users.yml.j2", admin_user="admin", demo_users=OS_DEMO_USERS,
        installer_placeholder_hash=OS_INSTALLER_ADMIN_HASH)
    files["config/opensearch/security/roles_mapping.yml"] = render_template(
        "stack/os-roles_mapping.yml.j2", dashboards_user=c.OS_DASHBOARDS_USER)
    files["config/opensearch/opensearch.yml"] = render_template(
        "stack/opensearch.yml.j2", cluster_name=CLUSTER_NAME, native_host="127.0.0.1",
        port=stack.ports["log_store"], version=c.image_tag(stack.images.get("opensearch", "opensearch:2")))
    files["config/opensearch/opensearch_dashboards.yml"] = render_template(
        "stack/opensearch_dashboards.yml.j2", port=5601, os_url="http://opensearch:9200",
        dashboards_user=c.OS_DASHBOARDS_USER)
    files["config/kibana/kibana.yml"] = render_template(
        "stack/kibana.yml.j2", port=5601, es_url=es_url,
        public_url=f"http://{stack.bind_address}:{stack.ports['log_ui']}")
    files["config/logstash/logstash.conf"] = render_template("stack/logstash.conf.j2", **logstash_context(stack))
    return files
