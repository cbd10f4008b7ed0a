"""Stack model (owned by the stack renderer)."""

from __future__ import annotations

from dataclasses import dataclass

from dtobs.spec.yaml_lines import LineMap


@dataclass(frozen=True)
class Stack:
    logs_backend: str


def build_stack(spec, lines: LineMap, slos) -> Stack:
    return Stack(spec.logs_backend)
