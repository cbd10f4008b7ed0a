"""SLO model: what the rules, alerts and tests are generated from (no serialization concerns).

`build_slos(specs, lines)` turns validated SLOSpecs (from dtobs/v1, or from the Sloth / OpenSLO
importers) into SLOs and runs every check the schema cannot express, each naming file, line and
field: duplicate names, bucket boundaries, windows shorter than two scrapes, alerts that can
never fire, and PromQL that does not parse (with promtool, when it is installed).

An SLI is reduced to two PromQL expressions of a window: errors(w) and total(w), event counts
over w. Everything else (tiles, burn rates, budget) is built from those two by render/slo_rules.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

from day_trade.observability import contract
from dtobs.errors import Problem, SpecError
from dtobs.model.durations import format_duration, parse_duration
from dtobs.spec.yaml_lines import LineMap

WINDOW = "$__window"  # placeholder in SLI templates; `{{window}}` / `{{.window}}` in the spec
DEFAULT_RUNBOOK_BASE_URL = "https://runbooks.day-trade.example/slo"
_SPEC_WINDOW = re.compile(r"\{\{\s*\.?window\s*\}\}")
_SELECTOR = re.compile(r"^\s*[a-zA-Z_:][a-zA-Z0-9_:]*\s*(\{[^{}]*\})?\s*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RESERVED_LABELS = {contract.SLO_LABEL, "service", contract.ALERT_LABEL_SEVERITY, "tier", "__name__"}


# --------------------------------------------------------------------------- burn windows (data)

@dataclass(frozen=True)
class BurnWindows:
    """The contents of data/burn_windows.yaml."""

    tiers: dict  # name → {"severity": str, "windows": [{"long", "short", "budget_percent"}]}
    groups: dict  # fast/short/long → interval
    tiles: dict  # short/long → tile length


@lru_cache(maxsize=1)
def burn_windows() -> BurnWindows:
    text = resources.files("dtobs.data").joinpath("burn_windows.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return BurnWindows(data["tiers"], data["groups"], data["tiles"])


# --------------------------------------------------------------------------- model

@dataclass(frozen=True)
class AlertPair:
    long: str  # window, e.g. "1h"
    short: str
    factor: float  # burn-rate threshold, scaled for the SLO's period
    budget_percent: float  # share of the period's budget that burns in `long` at `factor`


@dataclass(frozen=True)
class AlertTier:
    name: str  # page | ticket | hft
    severity: str  # page | ticket
    pairs: tuple[AlertPair, ...]
    labels: dict = field(default_factory=dict)
    annotations: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SLI:
    kind: str  # events | latency | availability
    errors_template: str  # PromQL with WINDOW: bad events over the window
    total_template: str  # PromQL with WINDOW: all events over the window
    description: str  # one line for humans (annotations, docs)

    def errors(self, window: str) -> str:
        return self.errors_template.replace(WINDOW, window)

    def total(self, window: str) -> str:
        return self.total_template.replace(WINDOW, window)


@dataclass(frozen=True)
class SLO:
    name: str
    service: str
    objective: float  # percent, e.g. 99.9
    description: str
    sli: SLI
    period: str = "30d"
    scrape_interval: str = "15s"
    hft: bool = False
    labels: dict = field(default_factory=dict)
    tiers: tuple[AlertTier, ...] = ()
    alert_name: str = "SLOErrorBudgetBurn"
    alert_labels: dict = field(default_factory=dict)
    alert_annotations: dict = field(default_factory=dict)
    no_data_for: str = "5m"
    runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL

    @property
    def error_budget(self) -> float:
        """1 − objective as a ratio, rounded so 99.9 gives 0.001 exactly."""
        return round(1 - self.objective / 100, 12)

    @property
    def objective_ratio(self) -> float:
        return round(self.objective / 100, 12)

    @property
    def period_seconds(self) -> float:
        return parse_duration(self.period)

    def tier(self, name: str) -> AlertTier | None:
        return next((t for t in self.tiers if t.name == name), None)

    @property
    def fast_windows(self) -> tuple[str, ...]:
        """Windows computed every second from the raw counters (the hft tier's)."""
        hft = self.tier("hft")
        return tuple(_unique(w for p in hft.pairs for w in (p.short, p.long))) if hft else ()

    @property
    def windows(self) -> tuple[str, ...]:
        """Every burn-rate window, shortest first: alert windows and the period."""
        ws = {w for t in self.tiers for p in t.pairs for w in (p.long, p.short)} | {self.period, "1h"}
        return tuple(sorted(ws, key=parse_duration))


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


# --------------------------------------------------------------------------- SLIs

def _le_regex(threshold: float) -> str:
    """Every way an exporter writes this bucket bound: Go writes 50, Python 50.0, both 5e-05."""
    forms = {repr(float(threshold)), format(threshold, "g")}
    if float(threshold).is_integer():
        forms.add(str(int(threshold)))
    return "|".join(re.escape(f).replace("\\", "\\\\") for f in sorted(forms))


def _matchers(selector: str | None) -> str:
    """'{job="api"}' → 'job="api"'."""
    if not selector:
        return ""
    s = selector.strip()
    return s[1:-1].strip().rstrip(",") if s.startswith("{") and s.endswith("}") else s


def _join(*parts: str) -> str:
    return ",".join(p for p in parts if p)


def events_sli(name: str, spec) -> SLI:
    if spec.total_query is None:  # the record_sli() contract series
        sel = f'{contract.SLO_LABEL}="{name}"'
        return SLI(
            "events",
            f"(sum(increase({contract.SLI_ERRORS_TOTAL}{{{sel}}}[{WINDOW}])) or vector(0))",
            f"sum(increase({contract.SLI_EVENTS_TOTAL}{{{sel}}}[{WINDOW}]))",
            f"record_sli() events of {name} that failed",
        )
    total = _SPEC_WINDOW.sub(WINDOW, spec.total_query.strip())
    if spec.error_query is not None:
        errors = f"({_SPEC_WINDOW.sub(WINDOW, spec.error_query.strip())})"
        return SLI("events", errors, f"({total})", "error events / all events")
    good = _SPEC_WINDOW.sub(WINDOW, spec.good_query.strip())
    return SLI("events", f"(({total}) - ({good}))", f"({total})", "all events − good events")


def latency_sli(name: str, spec, unit: str = "") -> SLI:
    base = spec.metric or contract.SLI_VALUE
    own = _matchers(spec.selector) if spec.selector else (f'{contract.SLO_LABEL}="{name}"' if not spec.metric else "")
    le = f'le=~"{_le_regex(spec.threshold)}"'
    good = f"sum(increase({base}_bucket{{{_join(own, le)}}}[{WINDOW}]))"
    total = f"sum(increase({base}_count{{{own}}}[{WINDOW}]))"
    return SLI("latency", f"({total} - {good})", total,
               f"observations of {base} above {spec.threshold:g}{unit}")


def availability_sli(spec, scrape_interval: str) -> SLI:
    query = spec.query.strip()
    rng = f"[{WINDOW}]" if _SELECTOR.match(query) else f"[{WINDOW}:{scrape_interval}]"
    src = query if _SELECTOR.match(query) else f"({query})"
    total = f"sum(count_over_time({src}{rng}))"
    good = f"sum(sum_over_time({src}{rng}))"
    return SLI("availability", f"({total} - {good})", total, f"samples of {query} that were 0")


# --------------------------------------------------------------------------- build + validate

def build_tiers(spec, period_s: float) -> tuple[AlertTier, ...]:
    bw = burn_windows()
    tiers = []
    for name, tier in bw.tiers.items():
        if name == "hft" and not spec.hft:
            continue
        override = getattr(spec.alerting, name, None)
        if override is not None and override.disable:
            continue
        pairs = tuple(
            AlertPair(w["long"], w["short"],
                      round(w["budget_percent"] / 100 * period_s / parse_duration(w["long"]), 4),
                      w["budget_percent"])
            for w in tier["windows"]
        )
        labels = dict(override.labels) if override is not None else {}
        annotations = dict(override.annotations) if override is not None else {}
        tiers.append(AlertTier(name, tier["severity"], pairs, labels, annotations))
    return tuple(tiers)


def _sli_of(spec) -> SLI:
    s = spec.sli
    if s.events is not None:
        return events_sli(spec.name, s.events)
    if s.latency is not None:
        return latency_sli(spec.name, s.latency)
    return availability_sli(s.availability, spec.scrape_interval)


def _check(spec, at: tuple, lines: LineMap) -> list[Problem]:
    """Cross-field checks of one SLO; `at` is its path in the spec, e.g. ('slos', 2)."""
    problems = []
    p = lambda *path: at + path  # noqa: E731
    try:
        period_s = parse_duration(spec.period)
    except ValueError as exc:
        return [lines.problem(p("period"), str(exc))]
    bw = burn_windows()
    scrape_s = parse_duration(spec.scrape_interval)
    tile_s, long_tile_s = parse_duration(bw.tiles["short"]), parse_duration(bw.tiles["long"])
    if period_s < 86400 or period_s % long_tile_s:
        problems.append(lines.problem(p("period"), f"period {spec.period} must be at least 1d and a multiple of "
                                                   f"{bw.tiles['long']} (the long-window tile)"))
    raw_windows = [(bw.tiles["short"], "the short tile every SLI is recorded in")]
    if spec.hft:
        raw_windows += [(w[k], "a window of the hft tier") for w in bw.tiers["hft"]["windows"] for k in ("short", "long")]
    for window, what in raw_windows:
        if parse_duration(window) < 2 * scrape_s:
            problems.append(lines.problem(
                p("scrape_interval"),
                f"window {window} ({what}) is shorter than two scrapes of {spec.scrape_interval}: "
                "rate() needs two samples in its window; scrape more often"
                + ("" if not spec.hft else " or set hft: false")))
            break
    if scrape_s > tile_s and not problems:
        problems.append(lines.problem(p("scrape_interval"), f"scrape interval {spec.scrape_interval} is longer "
                                                            f"than the {bw.tiles['short']} tile"))
    budget = round(1 - spec.objective / 100, 12)
    for tier in build_tiers(spec, period_s):
        for pair in tier.pairs:
            if pair.factor * budget >= 1:
                problems.append(lines.problem(
                    p("objective"),
                    f"the {tier.name} alert ({pair.long} & {pair.short} windows at {pair.factor:g}× burn) can never "
                    f"fire: {pair.factor:g} × (1 − {spec.objective:g}%) = {pair.factor * budget:.3g} ≥ 1, an error "
                    f"ratio above 100%; raise the objective or disable the {tier.name} tier"))
    lat = spec.sli.latency
    if lat is not None:
        if lat.metric is None or lat.metric == contract.SLI_VALUE:
            buckets, whose = contract.SLI_VALUE_BUCKETS, f"the contract histogram {contract.SLI_VALUE} (contract.SLI_VALUE_BUCKETS)"
        elif lat.buckets:
            buckets, whose = tuple(lat.buckets), f"the declared buckets of {lat.metric}"
        else:
            buckets, whose = None, ""
            problems.append(lines.problem(p("sli", "latency", "buckets"),
                                          f"declare the bucket bounds of histogram {lat.metric}: the threshold "
                                          "must be one of them"))
        if buckets is not None and not any(abs(b - lat.threshold) <= 1e-12 * max(1, abs(b)) for b in buckets):
            near = sorted(buckets, key=lambda b: abs(b - lat.threshold))[:2]
            problems.append(lines.problem(
                p("sli", "latency", "threshold"),
                f"threshold {lat.threshold:g} is not a bucket boundary of {whose}; nearest: "
                + ", ".join(f"{b:g}" for b in sorted(near))))
    ev = spec.sli.events
    if ev is not None and ev.total_query is not None:
        for key in ("error_query", "good_query", "total_query"):
            query = getattr(ev, key)
            if query is not None and not _SPEC_WINDOW.search(query):
                problems.append(lines.problem(p("sli", "events", key),
                                              "the query has no {{window}} placeholder: it must count events over "
                                              "each burn window, e.g. rate(x[{{window}}])"))
    for where, labels in (("labels", spec.labels), (("alerting", "labels"), spec.alerting.labels),
                          (("alerting", "page", "labels"), spec.alerting.page.labels),
                          (("alerting", "ticket", "labels"), spec.alerting.ticket.labels)):
        where = where if isinstance(where, tuple) else (where,)
        for key in labels:
            if not _LABEL_NAME.match(key):
                problems.append(lines.problem(p(*where, key), f"{key!r} is not a valid Prometheus label name"))
            elif key in _RESERVED_LABELS:
                problems.append(lines.problem(p(*where, key), f"label {key!r} is set by dtobs and cannot be overridden"))
    return problems


def _user_queries(spec, at: tuple, sli: SLI) -> list[tuple[tuple, str]]:
    """(spec path, PromQL) of every expression the user wrote, for the parser check."""
    s = spec.sli
    if s.events is not None and s.events.total_query is not None:
        return [(at + ("sli", "events", k), _SPEC_WINDOW.sub("5m", getattr(s.events, k)))
                for k in ("error_query", "good_query", "total_query") if getattr(s.events, k) is not None]
    if s.latency is not None and s.latency.selector:
        return [(at + ("sli", "latency", "selector"), sli.total("5m"))]
    if s.availability is not None:
        return [(at + ("sli", "availability", "query"), sli.total("5m"))]
    return []


def build_slos(specs, lines: LineMap, alerting=None, *, check_promql: bool = True) -> tuple[SLO, ...]:
    """SLOSpecs → SLOs, or SpecError with every problem of every SLO."""
    runbook = alerting.runbook_base_url.rstrip("/") if alerting is not None else DEFAULT_RUNBOOK_BASE_URL
    problems: list[Problem] = []
    first: dict[str, int] = {}
    slos, queries = [], []
    for i, spec in enumerate(specs):
        at = ("slos", i)
        if spec.name in first:
            problems.append(lines.problem(at + ("name",), f"duplicate SLO name {spec.name!r} (first at line "
                                                          f"{lines.line(('slos', first[spec.name], 'name'))})"))
        first.setdefault(spec.name, i)
        own = _check(spec, at, lines)
        problems += own
        sli = _sli_of(spec)
        queries += _user_queries(spec, at, sli)
        if own:
            continue
        slos.append(SLO(
            name=spec.name, service=spec.service, objective=spec.objective, description=spec.description,
            sli=sli, period=format_duration(parse_duration(spec.period)),
            scrape_interval=spec.scrape_interval, hft=spec.hft, labels=dict(spec.labels),
            tiers=build_tiers(spec, parse_duration(spec.period)), alert_name=spec.alerting.name,
            alert_labels=dict(spec.alerting.labels), alert_annotations=dict(spec.alerting.annotations),
            no_data_for=spec.alerting.no_data_for, runbook_base_url=runbook,
        ))
    if check_promql and queries:
        from dtobs.check.promtool import parse_problems

        problems += [lines.problem(path, message) for path, message in parse_problems(queries)]
    if problems:
        raise SpecError.of(problems)
    return tuple(slos)
