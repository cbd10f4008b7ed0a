"""Security dashboard: secrets the library masked before export, authentication failures and
every other security-tagged log event."""

from __future__ import annotations

from grafana_foundation_sdk.builders import logs, stat, timeseries
from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from day_trade.observability import contract
from dtobs.dashboards._common import (DASHBOARD_TAGS, SECURITY_TAG, SECURITY_TAG_FIELDS, finish, logs_count_query,
                                      logs_query, lucene_any, prom)

NAME = "security"
UID = "dtobs-security"

SECURITY_EVENTS = f"({lucene_any(SECURITY_TAG_FIELDS, SECURITY_TAG)})"
# Authentication failures are security events whose event name says so.
AUTH_FAILURES = f'{SECURITY_EVENTS} AND ({lucene_any(("event", "attributes.event", "event.action"), "auth_failure")})'


def build(model) -> dict:
    logs_backend = model.stack.logs_backend
    masked = contract.SELF_SECRETS_MASKED_TOTAL
    d = (
        Dashboard("Day trading / Security")
        .uid(UID)
        .tags(list(DASHBOARD_TAGS) + ["security"])
        .description("Masked secrets (metrics) and security-tagged log events (logs datasource).")
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("utc")
        .with_row(Row("Secrets masked by the library"))
        .with_panel(
            stat.Panel().title("Secrets masked in range").decimals(0).span(6).height(6)
            .with_target(prom(f"sum(increase({masked}[$__range])) or on() vector(0)", instant=True))
        )
        .with_panel(
            timeseries.Panel().title("Secrets masked per second").unit("cps").span(18).height(6)
            .with_target(prom(f"sum(rate({masked}[$__rate_interval])) or on() vector(0)", legend="masked"))
        )
        .with_row(Row("Security log events"))
        .with_panel(
            timeseries.Panel().title("Authentication failures").span(12).height(8)
            .with_target(logs_count_query(logs_backend, AUTH_FAILURES))
        )
        .with_panel(
            timeseries.Panel().title("Security-tagged events").span(12).height(8)
            .with_target(logs_count_query(logs_backend, SECURITY_EVENTS))
        )
        .with_panel(
            logs.Panel().title("Security events").span(24).height(10).show_time(True).enable_log_details(True)
            .with_target(logs_query(logs_backend, SECURITY_EVENTS))
        )
    )
    return finish(d, logs_backend)
