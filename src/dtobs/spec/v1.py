"""The dtobs/v1 spec: the schema of `observability.yaml`.

Example (the shipped `observability.yaml` is the complete one):

    version: dtobs/v1
    stack:                 # backends, ports, retention, scrape jobs → config/, compose file
      logs_backend: opensearch
    slos:                  # SLOs as code → recording rules, alerts, Alertmanager routes, tests
      - name: trade_success_slo
        service: trading
        objective: 99.95
        sli:
          events:
            error_query: sum(rate(dtobs_sli_errors_total{slo="trade_success_slo"}[{{window}}]))
            total_query: sum(rate(dtobs_sli_events_total{slo="trade_success_slo"}[{{window}}]))
    gate:                  # deploy gate policy → `dtobs gate`, check_quality_gate()
      min_error_budget_remaining_percent: 25
"""

from __future__ import annotations

from typing import Literal

from dtobs.spec.base import StrictModel
from dtobs.spec.alerting import AlertingSpec
from dtobs.spec.gate import GatePolicySpec
from dtobs.spec.slo import SLOSpec
from dtobs.spec.stack import StackSpec


class SpecV1(StrictModel):
    version: Literal["dtobs/v1"]
    stack: StackSpec = StackSpec()
    slos: list[SLOSpec] = []
    gate: GatePolicySpec = GatePolicySpec()
    alerting: AlertingSpec = AlertingSpec()  # receivers, routes, runbooks (see spec/alerting.py)
