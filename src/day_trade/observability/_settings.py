"""Settings of the runtime library, resolved once at setup from arguments and the environment.

Nothing on the hot path reads the environment: `initialize_observability` builds one `Settings`
object and every component copies the values it needs into its own attributes.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any

_log = logging.getLogger("day_trade.observability")

DEFAULT_OTLP_ENDPOINT = "http://127.0.0.1:4318"
DEFAULT_PROMETHEUS_URL = "http://127.0.0.1:9090"


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() not in ("0", "false", "no", "off")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        _log.warning("ignoring %s=%r: not an integer", name, raw)
        return default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        _log.warning("ignoring %s=%r: not a number", name, raw)
        return default


def otlp_signal_endpoint(signal: str, base: str | None = None) -> str:
    """Full OTLP/HTTP URL of one signal ("traces", "logs"), by the OTEL_* precedence rules."""
    specific = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    if specific and base is None:
        return specific
    root = base or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or DEFAULT_OTLP_ENDPOINT
    return root.rstrip("/") + f"/v1/{signal}"


@dataclasses.dataclass
class Settings:
    service_name: str = "day-trade-app"
    service_version: str = "unknown"
    environment: str = "dev"
    # Export (traces and logs over OTLP/HTTP).
    export_enabled: bool = True
    otlp_endpoint: str | None = None  # base URL; None = OTEL_* variables, then the default
    export_timeout_s: float = 2.0
    export_interval_s: float = 0.05
    export_batch_size: int = 512
    export_backoff_initial_s: float = 0.1
    export_backoff_max_s: float = 5.0
    # HFT tracing.
    hft_tracing: bool = True
    span_buffer_size: int = 65_536
    hft_otel_context: bool = False  # default of trace_span(..., otel_context=)
    # Metrics endpoint; port -1 disables it, 0 picks a free port.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464
    # Logs.
    log_level: str = "INFO"
    log_output: str = "stderr"  # stderr | stdout | a file path | none
    log_otlp: bool = True
    log_buffer_size: int = 8_192
    debug_sample_every: int = 1  # keep 1 debug record in N
    trade_log_max_per_second: int = 0  # 0 = no rate limit
    capture_stdlib_logging: bool = False
    # Auto-instrumentation of FastAPI, SQLAlchemy, Redis when installed.
    auto_instrument: bool = True
    extra_resource_attributes: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_env(cls, service_name: str | None = None, **overrides: Any) -> Settings:
        s = cls()
        s.service_name = service_name or os.environ.get("OTEL_SERVICE_NAME") or s.service_name
        s.service_version = os.environ.get("DTOBS_SERVICE_VERSION", s.service_version)
        s.environment = (
            os.environ.get("DTOBS_ENVIRONMENT") or os.environ.get("DEPLOYMENT_ENVIRONMENT") or s.environment
        )
        s.export_enabled = _env_bool("DTOBS_EXPORT", True) and not _env_bool("OTEL_SDK_DISABLED", False)
        s.otlp_endpoint = os.environ.get("DTOBS_OTLP_ENDPOINT") or None
        s.export_timeout_s = _env_float("DTOBS_EXPORT_TIMEOUT", s.export_timeout_s)
        s.hft_tracing = _env_bool("DTOBS_HFT_TRACING", True)
        s.span_buffer_size = _env_int("DTOBS_SPAN_BUFFER_SIZE", s.span_buffer_size)
        s.hft_otel_context = _env_bool("DTOBS_HFT_OTEL_CONTEXT", False)
        s.metrics_host = os.environ.get("DTOBS_METRICS_HOST", s.metrics_host)
        s.metrics_port = _env_int("DTOBS_METRICS_PORT", s.metrics_port)
        s.log_level = os.environ.get("DTOBS_LOG_LEVEL", s.log_level)
        s.log_output = os.environ.get("DTOBS_LOG_OUTPUT", s.log_output)
        s.log_otlp = _env_bool("DTOBS_LOG_OTLP", True)
        s.log_buffer_size = _env_int("DTOBS_LOG_BUFFER_SIZE", s.log_buffer_size)
        s.debug_sample_every = _env_int("DTOBS_DEBUG_SAMPLE_EVERY", s.debug_sample_every)
        s.trade_log_max_per_second = _env_int("DTOBS_TRADE_LOG_MAX_PER_SECOND", s.trade_log_max_per_second)
        s.auto_instrument = _env_bool("DTOBS_AUTO_INSTRUMENT", True)
        names = {f.name for f in dataclasses.fields(cls)}
        for key, value in overrides.items():
            if key not in names:
                _log.warning("initialize_observability: unknown setting %r ignored", key)
                continue
            setattr(s, key, value)
        s.span_buffer_size = max(16, int(s.span_buffer_size))
        s.log_buffer_size = max(16, int(s.log_buffer_size))
        s.debug_sample_every = max(1, int(s.debug_sample_every))
        s.export_batch_size = max(1, int(s.export_batch_size))
        return s

    def endpoint(self, signal: str) -> str:
        return otlp_signal_endpoint(signal, self.otlp_endpoint)
