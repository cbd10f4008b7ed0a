"""SLO section of the dtobs/v1 spec (the SLO engine's schema; model/slo.py is the internal model).

Example (every field; the shipped `observability.yaml` has the five default SLOs):

    slos:
      - name: trade_latency_slo          # the `slo` label of every rule and alert
        service: trading                 # the `service` label
        description: 99.9% of trades execute in under 50 µs
        objective: 99.9                  # percent, in (0, 100)
        period: 30d                      # rolling window of the budget (any duration, e.g. 28d)
        scrape_interval: 1s              # how often the SLI's series are scraped (windows must hold 2)
        hft: true                        # add the 1 s "hft" page tier (5m & 30s windows)
        labels: {team: trading}          # extra labels on every rule of this SLO
        sli:                             # exactly one of events / latency / availability
          latency:
            threshold: 50                # must be a bucket boundary of the histogram
            # metric: http_request_duration_seconds   # a histogram's base name; default: the
            # selector: '{job="api"}'                 # contract's dtobs_sli_value{slo="<name>"}
            # buckets: [0.005, 0.01, 0.05]            # required for any non-contract histogram
          # events:                      # good/bad events; omit both queries → record_sli() series
          #   error_query: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))
          #   total_query: sum(rate(http_requests_total[{{window}}]))
          # availability:                # a 0/1 series per target (up, probe_success)
          #   query: up{job=~"trading-app"}
        alerting:
          name: SLOErrorBudgetBurn       # alert name of the burn-rate alerts
          labels: {}                     # added to every alert of this SLO
          annotations: {}
          page: {disable: false, labels: {}, annotations: {}}
          ticket: {disable: false, labels: {}, annotations: {}}
          no_data_for: 5m                # how long the SLI may vanish before SLONoData fires
"""

from __future__ import annotations

from pydantic import Field, model_validator

from dtobs.spec.base import StrictModel

# Prometheus duration, e.g. 30s, 5m, 1h30m, 28d.
DURATION_PATTERN = r"^([0-9]+(ms|s|m|h|d|w|y))+$"
NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_.:-]*$"
LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"


class EventsSLI(StrictModel):
    """Ratio of bad (or good) events to all events. Queries use `{{window}}` for the range."""

    error_query: str | None = None
    good_query: str | None = None
    total_query: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "EventsSLI":
        if self.error_query is not None and self.good_query is not None:
            raise ValueError("give error_query or good_query, not both")
        given = self.error_query is not None or self.good_query is not None
        if given != (self.total_query is not None):
            raise ValueError("give total_query with error_query (or good_query), or none of them "
                             "to read the record_sli() series")
        return self


class LatencySLI(StrictModel):
    """Share of a histogram's observations at or under `threshold`."""

    threshold: float = Field(gt=0)
    metric: str | None = Field(None, pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    selector: str | None = None
    buckets: list[float] | None = None


class AvailabilitySLI(StrictModel):
    """Share of scrapes/probes that succeeded: a series that is 1 (up) or 0 (down)."""

    query: str


class SLISpec(StrictModel):
    events: EventsSLI | None = None
    latency: LatencySLI | None = None
    availability: AvailabilitySLI | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "SLISpec":
        kinds = [k for k in ("events", "latency", "availability") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"give exactly one SLI kind of events, latency, availability (got {kinds or 'none'})")
        return self


class AlertTierSpec(StrictModel):
    disable: bool = False
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}


class SLOAlertingSpec(StrictModel):
    name: str = Field("SLOErrorBudgetBurn", pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    page: AlertTierSpec = AlertTierSpec()
    ticket: AlertTierSpec = AlertTierSpec()
    no_data_for: str = Field("5m", pattern=DURATION_PATTERN)


class SLOSpec(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    service: str = Field(min_length=1)
    objective: float = Field(gt=0, lt=100)
    description: str = ""
    period: str = Field("30d", pattern=DURATION_PATTERN)
    scrape_interval: str = Field("15s", pattern=DURATION_PATTERN)
    hft: bool = False
    labels: dict[str, str] = {}
    sli: SLISpec
    alerting: SLOAlertingSpec = SLOAlertingSpec()
