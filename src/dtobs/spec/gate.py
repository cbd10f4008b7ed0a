"""Deploy-gate policy: when `dtobs gate` / check_quality_gate() lets a deploy through."""

from __future__ import annotations

from pydantic import Field

from dtobs.spec.base import StrictModel


class GatePolicySpec(StrictModel):
    # Refuse a deploy when less than this share of any SLO's error budget is left.
    min_error_budget_remaining_percent: float = Field(25.0, ge=0, le=100)
    # Refuse a deploy while any SLO burns its budget faster than this (1.0 = exactly on budget).
    max_burn_rate: float = Field(2.0, gt=0)
    # Refuse a deploy while any page-severity SLO alert is firing.
    block_on_firing_pages: bool = True
    # SLOs the gate looks at; empty means all of them.
    slos: list[str] = []
