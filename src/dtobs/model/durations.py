"""Prometheus durations: parse '1h30m' to seconds, format seconds back to the shortest unit."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")


def parse_duration(text: str) -> float:
    """'1h30m' → 5400.0; raises ValueError on anything Prometheus would refuse."""
    parts = _PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h, 28d)")
    return float(sum(int(n) * _UNITS[u] for n, u in parts))


def format_duration(seconds: float) -> str:
    """86400 → '1d', 300 → '5m', 90 → '90s': the largest of d/h/m/s that divides exactly."""
    if seconds != int(seconds):
        return f"{int(round(seconds * 1000))}ms"
    seconds = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
