"""HFT dashboard: trade latency percentiles and heatmap with exemplars, throughput, success, and
the logs of one trace. Refreshes every second."""

from __future__ import annotations

from grafana_foundation_sdk.builders import heatmap, logs, stat, timeseries
from grafana_foundation_sdk.builders.dashboard import Dashboard, QueryVariable, Row, TextBoxVariable, TimePicker
from grafana_foundation_sdk.models.dashboard import VariableRefresh, VariableSort

from day_trade.observability import contract
from dtobs.dashboards._common import (DASHBOARD_TAGS, PROMETHEUS, REFRESH_HFT, TRACE_ID_FIELDS, finish,
                                      logs_query, lucene_any, prom)

NAME = "hft"
UID = "dtobs-hft"
QUANTILES = (("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999))

_SYM = 'symbol=~"$symbol"'
_BUCKETS = f"{contract.TRADE_LATENCY_SECONDS}_bucket{{{_SYM}}}"


def latency_quantile(q: float) -> str:
    return f"histogram_quantile({q}, sum by (le) (rate({_BUCKETS}[$__rate_interval])))"


def throughput_by_result() -> str:
    return f"sum by (result) (rate({contract.TRADES_TOTAL}{{{_SYM}}}[$__rate_interval]))"


def success_ratio(by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    ok = f'{contract.TRADES_TOTAL}{{{_SYM}, result="success"}}'
    return (f"sum{grouping} (rate({ok}[$__rate_interval]))"
            f" / sum{grouping} (rate({contract.TRADES_TOTAL}{{{_SYM}}}[$__rate_interval]))")


def build(model) -> dict:
    logs_backend = model.stack.logs_backend
    d = (
        Dashboard("Day trading / HFT")
        .uid(UID)
        .tags(list(DASHBOARD_TAGS) + ["hft"])
        .description("Trade latency (µs), throughput and success; exemplars open the trace in Jaeger.")
        .refresh(REFRESH_HFT)
        .time("now-15m", "now")
        .timezone("utc")
        .timepicker(TimePicker().refresh_intervals(["1s", "5s", "10s", "30s", "1m"]))
        .with_variable(
            QueryVariable("symbol").label("Symbol").datasource(PROMETHEUS)
            .query(f"label_values({contract.TRADES_TOTAL}, symbol)")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).sort(VariableSort.ALPHABETICAL_ASC)
            .multi(True).include_all(True).all_value(".*")
        )
        .with_variable(
            TextBoxVariable("trace_id").label("Trace id").default_value("*")
            .description("Paste a trace id (from an exemplar or Jaeger) to see its logs; * shows all traced logs.")
        )
        .with_row(Row("Now"))
    )
    for label, q in QUANTILES[1:]:
        d = d.with_panel(
            stat.Panel().title(f"Latency {label}").unit("s").decimals(1).span(6).height(4)
            .with_target(prom(latency_quantile(q), instant=True))
        )
    d = (
        d.with_panel(stat.Panel().title("Throughput").unit("reqps").span(6).height(4)
                     .with_target(prom(f"sum(rate({contract.TRADES_TOTAL}{{{_SYM}}}[$__rate_interval]))", instant=True)))
        .with_panel(stat.Panel().title("Trade success").unit("percentunit").decimals(3).span(6).height(4)
                    .with_target(prom(success_ratio(), instant=True)))
        .with_row(Row("Latency"))
    )
    percentiles = (
        timeseries.Panel().title("Trade latency percentiles").unit("s").span(12).height(9)
        .description("histogram_quantile over dtobs_trade_latency_seconds; the s unit shows as µs. "
                     "Diamonds are exemplars: click one to open its trace in Jaeger.")
    )
    for i, (label, q) in enumerate(QUANTILES):
        percentiles = percentiles.with_target(prom(latency_quantile(q), chr(ord("A") + i), label, exemplar=True))
    d = (
        d.with_panel(percentiles)
        .with_panel(
            heatmap.Panel().title("Trade latency heatmap").span(12).height(9).calculate(False)
            .description("Trades per latency bucket per interval; exemplars link to Jaeger.")
            .y_axis(heatmap.YAxisConfig().unit("s"))
            .color(heatmap.HeatmapColorOptions().scheme("Oranges").steps(64))
            .with_target(prom(f"sum by (le) (increase({_BUCKETS}[$__rate_interval]))", legend="{{le}}",
                              exemplar=True, heatmap=True))
        )
        .with_row(Row("Throughput and success"))
        .with_panel(
            timeseries.Panel().title("Throughput by result").unit("reqps").span(12).height(8)
            .with_target(prom(throughput_by_result(), legend="{{result}}"))
        )
        .with_panel(
            timeseries.Panel().title("Trade success by symbol").unit("percentunit").span(12).height(8)
            .with_target(prom(success_ratio("symbol"), legend="{{symbol}}"))
        )
        .with_row(Row("Logs of a trace"))
        .with_panel(
            logs.Panel().title("Logs of trace $trace_id").span(24).height(10)
            .description("Log records carrying the trace id set in the Trace id box, from the logs datasource.")
            .show_time(True).wrap_log_message(True).enable_log_details(True)
            .with_target(logs_query(logs_backend, lucene_any(TRACE_ID_FIELDS, "${trace_id}")))
        )
    )
    return finish(d, logs_backend)
