"""The naming contract between the library and the generator.

`record_sli(...)` in the trading app writes these series; the SLO rules that `dtobs render`
generates read them. Both sides import the names from here, never as repeated strings, so a
rename breaks the build instead of silently breaking the SLOs. Stdlib only: this module is
imported on the trading app's side.

Series written by `record_sli(slo, value, success=...)`:

    dtobs_sli_events_total{slo="<slo>"}              every call
    dtobs_sli_errors_total{slo="<slo>"}              calls with success=False
    dtobs_sli_value_bucket{slo="<slo>", le="<b>"}    histogram of `value`, in the SLO's own
    dtobs_sli_value_count / _sum {slo="<slo>"}       unit (µs for trade latency, ms for API)

Trade series written by `log_trade_execution(...)` / the metrics module:

    dtobs_trade_latency_seconds_bucket{symbol, side, le}   µs buckets, expressed in seconds
    dtobs_trades_total{symbol, side, result="success"|"failure"}
"""

from __future__ import annotations

METRIC_PREFIX = "dtobs"

SLI_EVENTS_TOTAL = "dtobs_sli_events_total"
SLI_ERRORS_TOTAL = "dtobs_sli_errors_total"
SLI_VALUE = "dtobs_sli_value"  # histogram base name: _bucket, _count, _sum
SLO_LABEL = "slo"

TRADE_LATENCY_SECONDS = "dtobs_trade_latency_seconds"  # histogram base name
TRADES_TOTAL = "dtobs_trades_total"

# Bucket upper bounds for `dtobs_sli_value`, in the unit the caller records in. A latency SLO's
# threshold must be one of these (the generator refuses any other value): a threshold between
# two buckets would make the SLI an interpolation, not a count.
SLI_VALUE_BUCKETS: tuple[float, ...] = (
    1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500,
    1_000, 2_000, 2_500, 5_000, 10_000, 20_000, 25_000, 50_000,
    100_000, 250_000, 500_000, 1_000_000,
)

# Trade latency buckets in seconds (µs resolution): they include every trade SLO threshold.
TRADE_LATENCY_BUCKETS_SECONDS: tuple[float, ...] = tuple(
    us / 1e6 for us in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1_000, 5_000, 10_000, 50_000)
)

# Metric names the library exports about itself (drops, queue depth): read by the platform
# dashboard and the fault tests.
SELF_SPANS_DROPPED_TOTAL = "dtobs_spans_dropped_total"
SELF_SPANS_EXPORTED_TOTAL = "dtobs_spans_exported_total"
SELF_LOGS_DROPPED_TOTAL = "dtobs_logs_dropped_total"
SELF_SECRETS_MASKED_TOTAL = "dtobs_secrets_masked_total"
SELF_EXPORT_ERRORS_TOTAL = "dtobs_export_errors_total"

# Grafana datasource uids: provisioned by the generator, referenced by every dashboard.
DATASOURCE_UID_PROMETHEUS = "prometheus"
DATASOURCE_UID_JAEGER = "jaeger"
DATASOURCE_UID_LOGS = "logs"
DATASOURCE_UID_ALERTMANAGER = "alertmanager"
DATASOURCE_UID_PROMETHEUS_LONGTERM = "prometheus-longterm"  # 5-minute aggregates, 90 days

# Recording-rule and alert names the generator writes and the deploy gate / dashboards read.
SLO_OBJECTIVE = "slo:objective:ratio"
SLO_BUDGET_REMAINING = "slo:error_budget_remaining:ratio"
SLO_BURN_RATE_1H = "slo:burn_rate:ratio_rate1h"
SLO_TIME_TO_EXHAUSTION = "slo:error_budget_time_to_exhaustion:seconds"
ALERT_LABEL_SLO = "slo"
ALERT_LABEL_SEVERITY = "severity"
SEVERITY_PAGE = "page"
SEVERITY_TICKET = "ticket"

# --- Added by the runtime-library owner (issue 4) -------------------------------------------
# More self-metrics of the library (same /metrics endpoint as the series above).
SELF_SPAN_BUFFER_DEPTH = "dtobs_span_buffer_depth"  # gauge: HFT spans waiting for export
SELF_LOG_BUFFER_DEPTH = "dtobs_log_buffer_depth"  # gauge: log records waiting for OTLP export
SELF_LOGS_EXPORTED_TOTAL = "dtobs_logs_exported_total"
SELF_API_ERRORS_TOTAL = "dtobs_api_errors_total"  # bad arguments handed to the library
SELF_LABEL_REASON = "reason"  # dtobs_logs_dropped_total{reason=sampled|rate_limited|queue_full}
SELF_LABEL_SIGNAL = "signal"  # dtobs_export_errors_total{signal=traces|logs}
SELF_LABEL_KIND = "kind"  # dtobs_secrets_masked_total{kind=card|jwt|password|token|api_key}

# Trade series labels (dtobs_trade_latency_seconds, dtobs_trades_total).
TRADE_LABEL_SYMBOL = "symbol"
TRADE_LABEL_SIDE = "side"
TRADE_LABEL_RESULT = "result"

# Recording rules the SLO engine generates and the quality gate (`check_quality_gate`,
# `dtobs gate`) queries. Every series carries the label SLO_LABEL ("slo").
SLO_BUDGET_REMAINING = "slo:error_budget_remaining:ratio"  # 1.0 = untouched, <= 0 = exhausted
SLO_BURN_RATE_1H = "slo:burn_rate:ratio_rate1h"  # 1.0 = burning exactly the budget over the window
SLO_OBJECTIVE = "slo:objective:ratio"  # e.g. 0.999
SLO_TIME_TO_EXHAUSTION = "slo:error_budget_time_to_exhaustion:seconds"

# Alert label contract: every generated SLO alert carries these labels.
ALERT_LABEL_SLO = "slo"
ALERT_LABEL_SEVERITY = "severity"
SEVERITY_PAGE = "page"
SEVERITY_TICKET = "ticket"


def format_le(bound: float) -> str:
    """The exact text of a histogram `le` label value as the library exposes it.

    Same rule as the Prometheus Go/Python clients (and Prometheus 3's normalisation):
    25 -> "25.0", 1e-06 -> "1e-06", 1_000_000 -> "1e+06", inf -> "+Inf". Rules that select
    one bucket (`..._bucket{le="25.0"}`) must build the value with this function.
    """
    d = float(bound)
    if d == float("inf"):
        return "+Inf"
    if d == float("-inf"):
        return "-Inf"
    if d != d:
        return "NaN"
    s = repr(d)
    dot = s.find(".")
    if d > 0 and dot > 6:
        mantissa = f"{s[0]}.{s[1:dot]}{s[dot + 1:]}".rstrip("0.")
        return f"{mantissa}e+0{dot - 1}"
    return s

# SLO engine: per-window series (format with window="5m", "1h", "30d", ...). SLO_BURN_RATE_1H is
# SLO_BURN_RATE with window="1h". Tiles are event counts over one short window, recorded at that
# same interval, which long windows add up (sum_over_time) instead of re-reading raw samples.
SLO_BURN_RATE = "slo:burn_rate:ratio_rate{window}"
SLO_SLI_ERRORS_TILE = "slo:sli_error:increase{window}"
SLO_SLI_TOTAL_TILE = "slo:sli_total:increase{window}"
ALERT_LABEL_SERVICE = "service"
ALERT_LABEL_TIER = "tier"  # page | ticket | hft | no_data
ALERT_SLO_BURN = "SLOErrorBudgetBurn"
ALERT_SLO_NO_DATA = "SLONoData"
