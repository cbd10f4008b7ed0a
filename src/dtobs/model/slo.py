"""SLO model (owned by the SLO engine)."""

from __future__ import annotations

from dataclasses import dataclass

from dtobs.errors import SpecError
from dtobs.spec.yaml_lines import LineMap


@dataclass(frozen=True)
class SLO:
    name: str
    service: str
    objective: float  # percent, e.g. 99.9
    description: str


def build_slos(specs, lines: LineMap) -> tuple[SLO, ...]:
    problems = []
    seen: set[str] = set()
    slos = []
    for i, spec in enumerate(specs):
        if spec.name in seen:
            problems.append(lines.problem(("slos", i, "name"), f"duplicate SLO name {spec.name!r}"))
        seen.add(spec.name)
        slos.append(SLO(spec.name, spec.service, spec.objective, spec.description))
    if problems:
        raise SpecError.of(problems)
    return tuple(slos)
