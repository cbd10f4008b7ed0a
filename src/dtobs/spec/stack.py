"""Stack section of the spec: backends, ports, retention, scrape jobs (owned by the stack renderer)."""

from __future__ import annotations

from typing import Literal

from dtobs.spec.base import StrictModel


class StackSpec(StrictModel):
    logs_backend: Literal["elasticsearch", "opensearch"] = "elasticsearch"
