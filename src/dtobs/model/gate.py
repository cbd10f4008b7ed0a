"""Deploy-gate policy in the model."""

from __future__ import annotations

from dataclasses import dataclass

from dtobs.spec.gate import GatePolicySpec


@dataclass(frozen=True)
class GatePolicy:
    min_error_budget_remaining_percent: float = 25.0
    max_burn_rate: float = 2.0
    block_on_firing_pages: bool = True
    slos: tuple[str, ...] = ()


def build_gate_policy(spec: GatePolicySpec) -> GatePolicy:
    return GatePolicy(spec.min_error_budget_remaining_percent, spec.max_burn_rate,
                      spec.block_on_firing_pages, tuple(spec.slos))
