"""The library's own counters (drops, exports, errors, masked secrets).

Plain int attributes on one slotted object: `STATS.x += 1` is a load, an int add and a store
with no eval-breaker check in between, so under the CPython GIL it does not lose increments;
they are written on cold paths only (a drop, an export, an error). `metrics.py` exposes them.
"""

from __future__ import annotations

from collections.abc import Callable


class Stats:
    __slots__ = (
        "spans_dropped",
        "spans_exported",
        "logs_dropped_sampled",
        "logs_dropped_rate_limited",
        "logs_dropped_queue_full",
        "logs_exported",
        "export_errors_traces",
        "export_errors_logs",
        "api_errors",
        "secrets_masked",
        "span_depth",
        "log_depth",
    )

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.spans_dropped = 0
        self.spans_exported = 0
        self.logs_dropped_sampled = 0
        self.logs_dropped_rate_limited = 0
        self.logs_dropped_queue_full = 0
        self.logs_exported = 0
        self.export_errors_traces = 0
        self.export_errors_logs = 0
        self.api_errors = 0
        self.secrets_masked: dict[str, int] = {}
        # Depth callbacks, installed by the span ring and the log queue.
        self.span_depth: Callable[[], int] = lambda: 0
        self.log_depth: Callable[[], int] = lambda: 0

    def masked(self, kind: str, n: int = 1) -> None:
        d = self.secrets_masked
        d[kind] = d.get(kind, 0) + n

    def snapshot(self) -> dict[str, object]:
        return {
            "spans_dropped": self.spans_dropped,
            "spans_exported": self.spans_exported,
            "logs_dropped_sampled": self.logs_dropped_sampled,
            "logs_dropped_rate_limited": self.logs_dropped_rate_limited,
            "logs_dropped_queue_full": self.logs_dropped_queue_full,
            "logs_exported": self.logs_exported,
            "export_errors_traces": self.export_errors_traces,
            "export_errors_logs": self.export_errors_logs,
            "api_errors": self.api_errors,
            "secrets_masked": dict(self.secrets_masked),
            "span_buffer_depth": self.span_depth(),
            "log_buffer_depth": self.log_depth(),
        }


STATS = Stats()
