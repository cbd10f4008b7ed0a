"""Import a Sloth `prometheus/v1` spec into our SLOSpecs (errors point at the Sloth file).

    version: "prometheus/v1"
    service: "myservice"
    labels: {owner: "myteam"}
    slos:
      - name: "requests-availability"
        objective: 99.9
        description: "..."
        labels: {category: availability}
        sli:
          events:
            error_query: sum(rate(http_requests_total{job="myservice",code=~"(5..|429)"}[{{.window}}]))
            total_query: sum(rate(http_requests_total{job="myservice"}[{{.window}}]))
        alerting:
          name: MyServiceHighErrorRate
          labels: {category: availability}
          annotations: {summary: "High error rate on 'myservice' requests responses"}
          page_alert: {labels: {severity: pageteam, routing_key: myteam}}
          ticket_alert: {labels: {severity: "slack", slack_channel: "#alerts-myteam"}}

Mapping: the `slo` label is the SLO's `name` (Sloth's own rules use `sloth_id`); service, labels,
alert name/labels/annotations carry over. Sloth's `severity` labels are replaced by ours (page /
ticket) so the Alertmanager routes work. `raw` (error_ratio_query) and `plugin` SLIs are refused:
a ratio cannot be weighted by traffic, and plugins are Go code.
"""

from __future__ import annotations

from pydantic import ValidationError

from dtobs.errors import SpecError
from dtobs.spec.base import StrictModel
from dtobs.spec.load import LoadedSpec, validation_problems
from dtobs.spec.slo import AlertTierSpec, EventsSLI, SLISpec, SLOAlertingSpec, SLOSpec
from dtobs.spec.yaml_lines import LineMap, MappedLineMap

_DROPPED_LABELS = {"severity"}


class SlothEvents(StrictModel):
    error_query: str
    total_query: str


class SlothRaw(StrictModel):
    error_ratio_query: str


class SlothPlugin(StrictModel):
    id: str
    options: dict[str, str] = {}


class SlothSLI(StrictModel):
    events: SlothEvents | None = None
    raw: SlothRaw | None = None
    plugin: SlothPlugin | None = None


class SlothAlert(StrictModel):
    disable: bool = False
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}


class SlothAlerting(StrictModel):
    name: str = "SLOErrorBudgetBurn"
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    page_alert: SlothAlert = SlothAlert()
    ticket_alert: SlothAlert = SlothAlert()


class SlothSLO(StrictModel):
    name: str
    objective: float
    description: str = ""
    labels: dict[str, str] = {}
    sli: SlothSLI
    alerting: SlothAlerting = SlothAlerting()


class SlothSpec(StrictModel):
    version: str
    service: str
    labels: dict[str, str] = {}
    slos: list[SlothSLO]


_OURS_TO_SLOTH = {("alerting", "page"): ("alerting", "page_alert"), ("alerting", "ticket"): ("alerting", "ticket_alert")}


def _translate(path: tuple) -> tuple:
    if len(path) >= 3 and path[0] == "slos" and path[2] == "service":
        return ("service",)
    if len(path) >= 4 and path[0] == "slos":
        head = tuple(path[2:4])
        if head in _OURS_TO_SLOTH:
            return path[:2] + _OURS_TO_SLOTH[head] + tuple(path[4:])
    return path


def _keep(labels: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k not in _DROPPED_LABELS}


def load(data, lines: LineMap, file: str) -> LoadedSpec:
    try:
        spec = SlothSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError.of(validation_problems(exc, lines)) from None
    problems, out = [], []
    for i, slo in enumerate(spec.slos):
        if slo.sli.events is None:
            kind = "raw" if slo.sli.raw is not None else "plugin" if slo.sli.plugin is not None else None
            why = {"raw": "a raw error_ratio_query cannot be weighted by traffic over long windows; give events "
                          "(error_query and total_query)",
                   "plugin": "SLI plugins are Go code that dtobs does not run; give events (error_query and total_query)",
                   None: "give sli.events (error_query and total_query)"}[kind]
            problems.append(lines.problem(("slos", i, "sli") + ((kind,) if kind else ()), f"unsupported SLI: {why}"))
            continue
        a = slo.alerting
        try:
            out.append(SLOSpec(
                name=slo.name, service=spec.service, objective=slo.objective, description=slo.description,
                labels={**spec.labels, **slo.labels},
                sli=SLISpec(events=EventsSLI(error_query=slo.sli.events.error_query, total_query=slo.sli.events.total_query)),
                alerting=SLOAlertingSpec(
                    name=a.name, labels=_keep(a.labels), annotations=a.annotations,
                    page=AlertTierSpec(disable=a.page_alert.disable, labels=_keep(a.page_alert.labels),
                                       annotations=a.page_alert.annotations),
                    ticket=AlertTierSpec(disable=a.ticket_alert.disable, labels=_keep(a.ticket_alert.labels),
                                         annotations=a.ticket_alert.annotations)),
            ))
        except ValidationError as exc:
            problems += validation_problems(exc, lines, ("slos", i))
    if problems:
        raise SpecError.of(problems)
    return LoadedSpec(file, "sloth/prometheus/v1", out, MappedLineMap(file, lines._lines, _translate))
