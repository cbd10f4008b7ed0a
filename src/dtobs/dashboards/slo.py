"""SLO dashboard: one row per SLO of the spec — objective, SLI now, error budget remaining, burn
rate over every alert window, time to exhaustion, firing alerts."""

from __future__ import annotations

from grafana_foundation_sdk.builders import stat, timeseries
from grafana_foundation_sdk.builders.dashboard import Dashboard, Row, ThresholdsConfig
from grafana_foundation_sdk.models.dashboard import Threshold, ThresholdsMode

from day_trade.observability import contract
from dtobs.dashboards._common import DASHBOARD_TAGS, finish, prom
from dtobs.dashboards._slo_view import SLOView, view

NAME = "slo"
UID = "dtobs-slo"


def _thresholds(*steps: tuple[float | None, str]) -> ThresholdsConfig:
    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(value=v, color=c) for v, c in steps])


def rule(name: str, slo: SLOView) -> str:
    """A per-SLO recording rule written by the SLO engine (names from the contract)."""
    return f"{name}{{{slo.selector()}}}"


def sli_now(slo: SLOView) -> str:
    return f"1 - {slo.burn_rate(slo.shortest_window)} * {slo.error_budget!r}"


def firing_alerts(slo: SLOView) -> str:
    # `or vector(0)`: zero firing alerts is a value (0), not a missing series.
    return (f'count({"ALERTS"}{{{contract.ALERT_LABEL_SLO}="{slo.name}", alertstate="firing"}})'
            " or on() vector(0)")


def _row(d: Dashboard, slo: SLOView) -> Dashboard:
    title = f"{slo.name} — {slo.service}, objective {slo.objective_percent:g} %"
    d = (
        d.with_row(Row(title))
        .with_panel(stat.Panel().title("Objective").unit("percentunit").decimals(3).span(4).height(4)
                    .with_target(prom(rule(contract.SLO_OBJECTIVE, slo), instant=True)))
        .with_panel(stat.Panel().title(f"SLI now ({slo.shortest_window})").unit("percentunit").decimals(3).span(4).height(4)
                    .description("1 − error ratio over the shortest alert window (burn rate × error budget).")
                    .thresholds(_thresholds((None, "red"), (slo.objective_percent / 100, "green")))
                    .with_target(prom(sli_now(slo), instant=True)))
        .with_panel(stat.Panel().title("Error budget remaining").unit("percentunit").decimals(1).span(4).height(4)
                    .thresholds(_thresholds((None, "red"), (0.25, "orange"), (0.5, "green")))
                    .with_target(prom(rule(contract.SLO_BUDGET_REMAINING, slo), instant=True)))
        .with_panel(stat.Panel().title("Burn rate (1h, recorded)").unit("x").decimals(2).span(4).height(4)
                    .thresholds(_thresholds((None, "green"), (1, "orange"), (slo.page_factor, "red")))
                    .with_target(prom(rule(contract.SLO_BURN_RATE_1H, slo), instant=True)))
        .with_panel(stat.Panel().title("Time to exhaustion").unit("s").decimals(0).span(4).height(4)
                    .description("At the current burn rate, when the error budget runs out.")
                    .with_target(prom(rule(contract.SLO_TIME_TO_EXHAUSTION, slo), instant=True)))
        .with_panel(stat.Panel().title("Firing alerts").decimals(0).span(4).height(4)
                    .thresholds(_thresholds((None, "green"), (1, "red")))
                    .with_target(prom(firing_alerts(slo), instant=True)))
    )
    burn = (timeseries.Panel().title("Burn rate per alert window").unit("x").span(12).height(8)
            .description("Burn rate over each window an alert reads: error ratio / error budget "
                         f"({slo.error_budget:g}). 1 = on track to spend exactly the budget; "
                         f"the red line ({slo.page_factor:g}) pages.")
            .thresholds(_thresholds((None, "green"), (1, "orange"), (slo.page_factor, "red"))))
    for i, window in enumerate(slo.burn_windows):
        burn = burn.with_target(prom(slo.burn_rate(window), chr(ord("A") + i), window))
    return (
        d.with_panel(burn)
        .with_panel(timeseries.Panel().title("Error budget remaining").unit("percentunit").span(12).height(8)
                    .with_target(prom(rule(contract.SLO_BUDGET_REMAINING, slo), legend="remaining")))
    )


def build(model) -> dict:
    d = (
        Dashboard("Day trading / SLOs")
        .uid(UID)
        .tags(list(DASHBOARD_TAGS) + ["slo"])
        .description("One row per SLO of observability.yaml.")
        .refresh("30s")
        .time("now-24h", "now")
        .timezone("utc")
    )
    for slo in model.slos:
        d = _row(d, view(slo))
    return finish(d, model.stack.logs_backend if model.stack else None)
