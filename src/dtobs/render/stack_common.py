"""Values shared by the stack renderers: secret patterns, users, index names, image tags."""

from __future__ import annotations

# Secret masking, one set of patterns for the collector (RE2), Logstash (Oniguruma) and tests.
# Card numbers: the IIN ranges of Visa, Mastercard, Amex, Discover, with optional separators;
# 13-19 digits. Plain long integers (nanosecond timestamps, order ids) do not start with an IIN
# prefix followed by the right length often enough to matter, and are masked when they do.
CARD_NUMBER = r"\b(?:4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|3[47][0-9]{2}|6(?:011|5[0-9]{2}))(?:[ -]?[0-9]{4}){2}[ -]?[0-9]{1,7}\b"
BEARER_TOKEN = r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"
JWT = r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+"
SECRET_ASSIGNMENT = r"(?i)(password|passwd|pwd|secret|token|api[_-]?key)([\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"
SECRET_KEY_PATTERN = r"(?i).*(passw(or)?d|pwd|secret|token|api[_.-]?key|authorization|cookie|card[_.-]?number|cvv|cvc).*"
SECRET_KEYS = (
    "password", "passwd", "pwd", "secret", "token", "access_token", "refresh_token", "api_key",
    "apikey", "authorization", "cookie", "card_number", "cvv",
)
MASK = "[REDACTED]"
PAN_MASK = "[REDACTED-PAN]"

# Log store names: data streams on both backends, so ILM/ISM rollover works without aliases.
ES_LOGS_STREAM_OTEL = "logs-dtobs.otel-default"  # elasticsearch exporter (create → data stream)
ES_LOGS_STREAM_LOGSTASH = "logs-dtobs.logstash-default"
ES_LOGS_PATTERN = "logs-dtobs.*-*"
OS_LOGS_DATASET = "dtobs"
OS_LOGS_NAMESPACE = "trading"
OS_LOGS_STREAM = f"ss4o_logs-{OS_LOGS_DATASET}-{OS_LOGS_NAMESPACE}"  # the opensearch exporter's name
OS_LOGS_PATTERN = f"ss4o_logs-{OS_LOGS_DATASET}-*"
JAEGER_INDEX_PREFIX = "dtobs"  # Jaeger writes dtobs-jaeger-span-YYYY-MM-DD ...
JAEGER_SPAN_PATTERN = f"{JAEGER_INDEX_PREFIX}-jaeger-span-*"
JAEGER_ARCHIVE_PREFIX = "dtobs-archive"  # Jaeger archive storage: the kept ("sampled") traces
JAEGER_ARCHIVE_PATTERN = f"{JAEGER_ARCHIVE_PREFIX}-jaeger-span-*"

# Users, created by the one-shot setup service of either backend (passwords from .env): the
# writer (collector, Logstash, Jaeger), the reader (Grafana, the log-store exporter) and, on
# OpenSearch, the Dashboards server user (mapped to the reserved kibana_server role by the rendered
# roles_mapping.yml, since the REST API may not map a reserved role).
ES_WRITER_USER = "dtobs_writer"
ES_READER_USER = "dtobs_reader"
OS_WRITER_USER = ES_WRITER_USER
OS_READER_USER = ES_READER_USER
OS_DASHBOARDS_USER = "dtobs_dashboards"


def env(name: str) -> str:
    """A collector/Jaeger config reference to an environment variable."""
    return "${env:" + name + "}"


def image_tag(image: str) -> str:
    return image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"


def ottl_string(text: str) -> str:
    """A Go/OTTL double-quoted string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def yq(text: str) -> str:
    """A YAML single-quoted scalar: no escape processing, so regexes and PromQL stay readable."""
    return "'" + text.replace("'", "''") + "'"
