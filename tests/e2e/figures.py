"""Timed figures of the e2e run, collected by the tests and printed once at the end.

The figures are measurements, not assertions: conftest.pytest_terminal_summary prints

    e2e: trace_visible_ms=… log_visible_ms=… metric_visible_ms=… page_detection_s=… (+ extras)

and writes the same line to .dtobs/e2e-summary.txt.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SUMMARY_FILE = REPO / ".dtobs" / "e2e-summary.txt"
# The four headline figures first, in this order; any other figure follows.
HEADLINE = ("trace_visible_ms", "log_visible_ms", "metric_visible_ms", "page_detection_s")

FIGURES: dict[str, float | str] = {}


def record(name: str, value: float | str) -> None:
    FIGURES[name] = value


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, int(-(-q * len(ordered) // 100)))  # ceil(q/100 * n)
    return ordered[rank - 1]


def _fmt(value: float | str) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"
    return str(value)


def summary_line() -> str:
    names = [n for n in HEADLINE] + sorted(n for n in FIGURES if n not in HEADLINE)
    return "e2e: " + " ".join(f"{n}={_fmt(FIGURES[n]) if n in FIGURES else 'n/a'}" for n in names)
