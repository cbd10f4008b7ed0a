"""day_trade.observability: hot-path tracing, metrics and structured logs for the trading system.

    from day_trade.observability import (initialize_observability, get_structured_logger,
                                         record_sli, check_quality_gate, generate_dashboards,
                                         telemetry_config)
    initialize_observability("day-trade-app")
    with telemetry_config.trace_span("trade_execution", {"symbol": "AAPL", "quantity": 100}):
        ...

This module only re-exports. It never imports yaml, jinja2, pydantic or dtobs.
"""

from . import contract, gate, metrics, telemetry_config
from ._dashboards import generate_dashboards
from ._setup import Runtime, flush, get_runtime, initialize_observability, shutdown_observability
from ._settings import Settings
from .gate import GatePolicy, GateResult, check_quality_gate
from .metrics import Counter, Gauge, Histogram, MetricsServer, record_sli, record_trade
from .structured_logging import (
    CorrelationIdMiddleware,
    StructuredFormatter,
    StructuredHandler,
    StructuredLogger,
    correlation_context,
    correlation_context_from_headers,
    correlation_id_from_headers,
    get_correlation_id,
    get_structured_logger,
)
from .telemetry_config import current_trace_ids, extract_context, inject_context

__all__ = [
    "CorrelationIdMiddleware",
    "Counter",
    "GatePolicy",
    "GateResult",
    "Gauge",
    "Histogram",
    "MetricsServer",
    "Runtime",
    "Settings",
    "StructuredFormatter",
    "StructuredHandler",
    "StructuredLogger",
    "check_quality_gate",
    "contract",
    "correlation_context",
    "correlation_context_from_headers",
    "correlation_id_from_headers",
    "current_trace_ids",
    "extract_context",
    "flush",
    "gate",
    "generate_dashboards",
    "get_correlation_id",
    "get_runtime",
    "get_structured_logger",
    "initialize_observability",
    "inject_context",
    "metrics",
    "record_sli",
    "record_trade",
    "shutdown_observability",
    "telemetry_config",
]
