"""Alertmanager config: config/alertmanager.yml, computed from the spec's `alerting:` section.

  - severity=page → the on-call receiver, severity=ticket → the chat receiver; each tier has its
    own group_wait / group_interval / repeat_interval; tickets can be held to business hours
    (a `time_intervals` entry, Alertmanager ≥ 0.24);
  - a firing page inhibits the tickets of the same SLO (`equal: [slo]`);
  - secrets come from files only (pagerduty `routing_key_file`, slack `api_url_file`, webhook
    `http_config.authorization.credentials_file`): Alertmanager 0.25 (Debian) and 0.27 (compose
    image) accept all three; webhook `url_file` needs 0.26, so webhook URLs stay plain.
Rendered for dtobs/v1 specs only (an imported Sloth/OpenSLO spec has no receivers).
"""

from __future__ import annotations

from day_trade.observability import contract as c
from dtobs.render._yaml import dump
from dtobs.render.jinja import render_template

ONCALL, CHAT, FALLBACK = "oncall", "chat", "chat"
BUSINESS_HOURS = "business-hours"


def _receiver(name: str, spec) -> dict:
    out: dict = {"name": name}
    if spec.pagerduty_routing_key_file:
        out["pagerduty_configs"] = [{"routing_key_file": spec.pagerduty_routing_key_file,
                                     "send_resolved": spec.send_resolved}]
    if spec.slack_api_url_file:
        slack = {"api_url_file": spec.slack_api_url_file, "send_resolved": spec.send_resolved,
                 "title": '{{ .CommonLabels.slo }}: {{ .CommonAnnotations.summary }}',
                 "text": '{{ .CommonAnnotations.budget_burned }} {{ .CommonAnnotations.runbook_url }}'}
        if spec.slack_channel:
            slack["channel"] = spec.slack_channel
        out["slack_configs"] = [slack]
    if spec.webhook_url:
        hook: dict = {"url": spec.webhook_url, "send_resolved": spec.send_resolved}
        if spec.webhook_credentials_file:
            hook["http_config"] = {"authorization": {"type": "Bearer", "credentials_file": spec.webhook_credentials_file}}
        out["webhook_configs"] = [hook]
    return out


def _route(severity: str, receiver: str, tier) -> dict:
    route = {
        "matchers": [f'{c.ALERT_LABEL_SEVERITY}="{severity}"'],
        "receiver": receiver,
        "group_by": [c.ALERT_LABEL_SLO, "alertname", c.ALERT_LABEL_SEVERITY],
        "group_wait": tier.group_wait,
        "group_interval": tier.group_interval,
        "repeat_interval": tier.repeat_interval,
    }
    if tier.business_hours_only:
        route["active_time_intervals"] = [BUSINESS_HOURS]
    return route


def config(alerting) -> dict:
    bh = alerting.business_hours
    return {
        "route": {
            "receiver": FALLBACK,
            "group_by": [c.ALERT_LABEL_SLO, "alertname"],
            "group_wait": alerting.ticket.group_wait,
            "group_interval": alerting.ticket.group_interval,
            "repeat_interval": alerting.ticket.repeat_interval,
            "routes": [_route(c.SEVERITY_PAGE, ONCALL, alerting.page),
                       _route(c.SEVERITY_TICKET, CHAT, alerting.ticket)],
        },
        "inhibit_rules": [{
            "source_matchers": [f'{c.ALERT_LABEL_SEVERITY}="{c.SEVERITY_PAGE}"'],
            "target_matchers": [f'{c.ALERT_LABEL_SEVERITY}="{c.SEVERITY_TICKET}"'],
            "equal": [c.ALERT_LABEL_SLO],
        }],
        "time_intervals": [{
            "name": BUSINESS_HOURS,
            "time_intervals": [{"weekdays": [bh.weekdays], "times": [{"start_time": bh.start, "end_time": bh.end}],
                                "location": bh.location}],
        }],
        "receivers": [_receiver(ONCALL, alerting.oncall), _receiver(CHAT, alerting.chat)],
    }


def render(model) -> dict[str, str]:
    if model.stack is None or getattr(model, "alerting", None) is None:
        return {}
    return {"config/alertmanager.yml": render_template("slo/alertmanager.yml.j2", config_yaml=dump(config(model.alerting)))}
