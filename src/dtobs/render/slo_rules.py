"""Prometheus recording and alerting rules for the SLOs (owned by the SLO engine)."""

from __future__ import annotations


def render(model) -> dict[str, str]:
    return {}
