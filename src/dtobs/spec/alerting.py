"""The `alerting:` section of the dtobs/v1 spec: receivers, routing tiers, runbooks.

Example:

    alerting:
      runbook_base_url: https://runbooks.example.com/slo   # every alert links <base>/<slo>#<alert>
      oncall:                     # severity=page goes here
        pagerduty_routing_key_file: /etc/alertmanager/secrets/pagerduty_routing_key
      chat:                       # severity=ticket goes here
        slack_api_url_file: /etc/alertmanager/secrets/slack_api_url
        slack_channel: '#trading-slo'
      business_hours: {location: America/New_York, weekdays: 'monday:friday', start: '08:00', end: '18:00'}
      page:   {group_wait: 10s, group_interval: 1m, repeat_interval: 1h}
      ticket: {group_wait: 1m, group_interval: 10m, repeat_interval: 24h, business_hours_only: true}

Secrets are never in the spec: Alertmanager 0.25 reads them from files (`routing_key_file`,
`api_url_file`, `http_config.authorization.credentials_file`). Webhook URLs are not secret
there (`url_file` only exists from Alertmanager 0.26 on); protect a webhook with a bearer token file.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from dtobs.spec.base import StrictModel
from dtobs.spec.slo import DURATION_PATTERN

_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"


class ReceiverSpec(StrictModel):
    """One or more notifiers; each secret is a file path read by Alertmanager."""

    pagerduty_routing_key_file: str | None = None
    slack_api_url_file: str | None = None
    slack_channel: str | None = None
    webhook_url: str | None = Field(None, pattern=r"^https?://")
    webhook_credentials_file: str | None = None
    send_resolved: bool = True

    @model_validator(mode="after")
    def _some_notifier(self) -> "ReceiverSpec":
        if not (self.pagerduty_routing_key_file or self.slack_api_url_file or self.webhook_url):
            raise ValueError("give at least one of pagerduty_routing_key_file, slack_api_url_file, webhook_url")
        if self.webhook_credentials_file and not self.webhook_url:
            raise ValueError("webhook_credentials_file needs webhook_url")
        return self


class BusinessHoursSpec(StrictModel):
    location: str = "America/New_York"
    weekdays: str = "monday:friday"
    start: str = Field("08:00", pattern=_TIME)
    end: str = Field("18:00", pattern=_TIME)


class RouteTierSpec(StrictModel):
    group_wait: str = Field(pattern=DURATION_PATTERN)
    group_interval: str = Field(pattern=DURATION_PATTERN)
    repeat_interval: str = Field(pattern=DURATION_PATTERN)
    business_hours_only: bool = False


class AlertingSpec(StrictModel):
    runbook_base_url: str = Field("https://runbooks.day-trade.example/slo", pattern=r"^https?://")
    oncall: ReceiverSpec = ReceiverSpec(webhook_url="http://127.0.0.1:9095/alerts/page")
    chat: ReceiverSpec = ReceiverSpec(webhook_url="http://127.0.0.1:9095/alerts/ticket")
    business_hours: BusinessHoursSpec = BusinessHoursSpec()
    page: RouteTierSpec = RouteTierSpec(group_wait="10s", group_interval="1m", repeat_interval="1h")
    ticket: RouteTierSpec = RouteTierSpec(group_wait="1m", group_interval="10m", repeat_interval="24h",
                                          business_hours_only=True)
