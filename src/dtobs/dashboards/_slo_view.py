"""What the dashboards need from an SLO of the model, in one place.

The SLO model (dtobs.model.slo, owned by the SLO engine) is growing. This adapter reads what it
has: name, service, objective, its alert tiers (long/short window pairs with their burn-rate
factor and severity) and the windows it records a burn rate for.

Every SLO number on the dashboard is a recording rule of the SLO engine (names from the contract):
the panels show what the alerts and the deploy gate evaluate, at the cost of one series each.
"""

from __future__ import annotations

from dataclasses import dataclass
from day_trade.observability import contract

_BURN_RATE_PREFIX = contract.SLO_BURN_RATE_1H.removesuffix("1h")  # "slo:burn_rate:ratio_rate"
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def burn_rate_rule(window: str) -> str:
    """The SLO engine's burn-rate recording rule over `window` (contract: ..._rate1h for 1h)."""
    return f"{_BURN_RATE_PREFIX}{window}"


def seconds(duration: str) -> float:
    """Prometheus duration → seconds: '30s' → 30, '1h30m' → 5400."""
    import re

    parts = re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(f"not a Prometheus duration: {duration!r}")
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)


@dataclass(frozen=True)
class BurnWindow:
    long: str
    short: str
    factor: float
    severity: str


@dataclass(frozen=True)
class SLOView:
    name: str
    service: str
    objective_percent: float
    windows: tuple[BurnWindow, ...]  # the alert pairs, every tier
    burn_windows: tuple[str, ...]  # windows with a burn-rate recording rule, shortest first

    @property
    def error_budget(self) -> float:
        """The allowed error ratio, e.g. 0.001 for 99.9 %."""
        return round(1 - self.objective_percent / 100, 12)

    def selector(self) -> str:
        return f'{contract.SLO_LABEL}="{self.name}"'

    def burn_rate(self, window: str) -> str:
        return f"{burn_rate_rule(window)}{{{self.selector()}}}"

    @property
    def shortest_window(self) -> str:
        return self.burn_windows[0]

    @property
    def page_factor(self) -> float:
        """The lowest burn rate that pages: the red line of the burn-rate panels."""
        pages = [w.factor for w in self.windows if w.severity == contract.SEVERITY_PAGE]
        return min(pages) if pages else 1.0


def _windows(slo) -> tuple[BurnWindow, ...]:
    return tuple(BurnWindow(p.long, p.short, float(p.factor), t.severity)
                 for t in getattr(slo, "tiers", ()) for p in t.pairs)


def view(slo) -> SLOView:
    windows = _windows(slo)
    # The model lists every window it records a burn rate for (alert windows, the period, 1h).
    recorded = tuple(getattr(slo, "windows", ()) or ())
    shown = recorded or tuple({"1h", *(x for w in windows for x in (w.short, w.long))})
    return SLOView(name=slo.name, service=slo.service, objective_percent=float(slo.objective),
                   windows=windows, burn_windows=tuple(sorted(set(shown), key=seconds)))
