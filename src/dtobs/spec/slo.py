"""SLO section of the spec (owned by the SLO engine; see model/slo.py for the internal model)."""

from __future__ import annotations

from pydantic import Field

from dtobs.spec.base import StrictModel


class SLOSpec(StrictModel):
    name: str
    service: str
    objective: float = Field(gt=0, lt=100)
    description: str = ""
