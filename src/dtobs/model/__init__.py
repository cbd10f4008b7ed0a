"""The generator's internal model: frozen, serialization-free, built from a validated spec.

Validation that needs more than the schema (cross-field rules, PromQL, bucket boundaries,
port clashes) happens while building the model, and every problem names its file/line/field.
"""

from __future__ import annotations

from dataclasses import dataclass

from dtobs.errors import SpecError
from dtobs.model.gate import GatePolicy, build_gate_policy
from dtobs.model.slo import SLO, build_slos
from dtobs.model.stack import Stack, build_stack
from dtobs.spec.alerting import AlertingSpec
from dtobs.spec.load import LoadedSpec


@dataclass(frozen=True)
class Model:
    source: str  # the spec's path, stamped into every generated file
    slos: tuple[SLO, ...]
    stack: Stack | None  # None for imported Sloth/OpenSLO specs: only SLO outputs are rendered
    gate: GatePolicy
    alerting: AlertingSpec | None = None  # frozen spec section; None for Sloth/OpenSLO input


def build_model(loaded: LoadedSpec) -> Model:
    problems = []
    if loaded.format == "dtobs/v1":
        slos = stack = None
        try:
            slos = build_slos(loaded.spec.slos, loaded.lines, loaded.spec.alerting)
        except SpecError as exc:
            problems += exc.problems
        try:
            stack = build_stack(loaded.spec.stack, loaded.lines, slos or ())
        except SpecError as exc:
            problems += exc.problems
        if problems:
            raise SpecError.of(problems)
        return Model(loaded.path, slos, stack, build_gate_policy(loaded.spec.gate), loaded.spec.alerting)
    # Sloth / OpenSLO importers hand back SLO specs in our own schema plus their line map.
    slos = build_slos(loaded.spec, loaded.lines)
    return Model(loaded.path, slos, None, GatePolicy())
