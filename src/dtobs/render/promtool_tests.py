"""`promtool test rules` files for every SLO: config/tests/slo-<name>.test.yml.

Each file proves on synthetic series, against the generated rules themselves:
  - a full outage (after 6h of healthy traffic) fires every burn tier, pages included, within
    the bound the windows promise (`outage_bound`), and nothing fires before it;
  - a slow burn (2× the budget) opens a ticket and nothing else;
  - an error rate just under the budget (0.9×) never alerts;
  - the SLI vanishing fires SLONoData.

The series are synthesised per SLI kind: record_sli() counters, a histogram's count and threshold
bucket, or 0/1 availability series. An SLI over user-written queries gets no generated test (we
cannot know which series its queries read); its file says so.

promtool evaluates every group at each `evaluation_interval` (group intervals are ignored), so
tiles overlap in tests; ratios of sums are unchanged by that, which is what the alerts read.
"""

from __future__ import annotations

import math
import re

from day_trade.observability import contract as c
from dtobs.model.durations import format_duration, parse_duration
from dtobs.model.slo import SLO, burn_windows
from dtobs.render._yaml import dump
from dtobs.render.jinja import render_template
from dtobs.render.slo_rules import file_name, group_of_window, rule_groups

EVAL_INTERVAL = 5  # seconds: the resolution of the detection times
HEALTHY = 6 * 3600  # seconds of healthy traffic before the outage: fills the 6h page window
EVENTS_PER_SCRAPE = 1000
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_PLAIN = re.compile(r"^[a-zA-Z0-9_.:/-]+$")


# --------------------------------------------------------------------------- series

def _runs(runs: list[tuple[float, float, int]]) -> str:
    """[(start, step, count)] → promtool expanding notation, e.g. '0+10x99 990+0x49'."""
    return " ".join(f"{_n(a)}+{_n(b)}x{n - 1}" if n > 1 else _n(a) for a, b, n in runs if n > 0)


def _n(x: float) -> str:
    return f"{x:.10g}"


def _counter(phases: list[tuple[float, int]]) -> str:
    """Counter increasing by `per_scrape` for `n` scrapes in each phase, continuous across phases."""
    runs, value = [], 0.0
    for i, (per_scrape, n) in enumerate(phases):
        start = value if i == 0 else value + per_scrape
        runs.append((start, per_scrape, n))
        value = start + per_scrape * (n - 1)
    return _runs(runs)


def _availability_labels(query: str) -> str | None:
    """Labels satisfying a plain selector's matchers, or None when we cannot synthesise them."""
    m = re.match(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?\s*$", query)
    if not m:
        return None
    labels = {}
    for name, op, value in _MATCHER.findall(m.group(2) or ""):
        if op == "=":
            labels[name] = value
        elif op == "=~":
            first = value.split("|")[0]
            if not _PLAIN.match(first):
                return None
            labels[name] = first
        elif op == "!=" and value == "":
            labels[name] = "x"
    return m.group(1), labels


class Traffic:
    """Input series of one SLO for a sequence of phases [(error ratio, scrapes)]."""

    def __init__(self, slo: SLO):
        self.slo = slo
        self.scrape = parse_duration(slo.scrape_interval)

    def supported(self) -> bool:
        kind = self.slo.sli.kind
        if kind == "availability":
            return _availability_labels(self._availability_query()) is not None
        return self._hist() is not None if kind == "latency" else self._contract_events()

    def _contract_events(self) -> bool:
        return c.SLI_EVENTS_TOTAL in self.slo.sli.total_template and "{{" not in self.slo.sli.total_template

    def _hist(self):
        m = re.match(r"^sum\(increase\(([a-zA-Z_:][a-zA-Z0-9_:]*)_count\{([^}]*)\}", self.slo.sli.total_template)
        if not m:
            return None
        le = re.search(r'le=~"([^"|]*)', self.slo.sli.errors_template)
        labels = dict((k, v) for k, op, v in _MATCHER.findall(m.group(2)) if op == "=")
        if len(labels) != len(_MATCHER.findall(m.group(2))) or not le:
            return None
        return m.group(1), labels, le.group(1).replace("\\\\", "")

    def _availability_query(self) -> str:
        m = re.match(r"^sum\(count_over_time\((.*)\[\$__window\]\)\)$", self.slo.sli.total_template)
        return m.group(1) if m else ""

    def series(self, phases: list[tuple[float, int]]) -> list[dict]:
        """phases: (error ratio, number of scrapes); ratio None = the series are gone (stale)."""
        kind, n = self.slo.sli.kind, EVENTS_PER_SCRAPE
        live = [(r, k) for r, k in phases if r is not None]
        stale = " stale" if len(live) < len(phases) else ""
        if kind == "events":
            sel = f'{{{c.SLO_LABEL}="{self.slo.name}"}}'
            return [{"series": f"{c.SLI_EVENTS_TOTAL}{sel}", "values": _counter([(n, k) for _, k in live]) + stale},
                    {"series": f"{c.SLI_ERRORS_TOTAL}{sel}", "values": _counter([(n * r, k) for r, k in live]) + stale}]
        if kind == "latency":
            base, labels, le = self._hist()
            lab = ",".join(f'{k}="{v}"' for k, v in labels.items())
            return [{"series": f"{base}_count{{{lab}}}", "values": _counter([(n, k) for _, k in live]) + stale},
                    {"series": f'{base}_bucket{{{lab}{"," if lab else ""}le="{le}"}}',
                     "values": _counter([(n * (1 - r), k) for r, k in live]) + stale}]
        metric, labels = _availability_labels(self._availability_query())
        return self._availability(metric, labels, live, stale)

    def _availability(self, metric, labels, live, stale) -> list[dict]:
        """K targets; one of them is down for one scrape in every P so that 1/(K·P) ≈ the ratio."""
        ratio = max((r for r, _ in live), default=0)
        if ratio in (0, 1) or all(r in (0, 1) for r, _ in live):
            targets, period = 1, 1
        else:
            targets = 100 if ratio < 1e-3 else 10
            period = max(2, round(1 / (ratio * targets)))
        out = []
        for t in range(targets):
            tokens = []
            for r, k in live:
                if r == 0 or (t > 0 and r != 1):
                    tokens.append(f"1x{k - 1}")
                elif r == 1:
                    tokens.append(f"0x{k - 1}")
                else:  # the flapping target: 0 then period-1 ups, repeated
                    full, rest = divmod(k, period)
                    tokens += [f"1x{period - 2} 0"] * full + ([f"1x{rest - 1}"] if rest else [])
            lab = ",".join([f'{k}="{v}"' for k, v in labels.items()] + [f'instance="target-{t}"'])
            out.append({"series": f"{metric}{{{lab}}}", "values": " ".join(tokens) + stale})
        return out

    def effective_ratio(self, ratio: float) -> float:
        if self.slo.sli.kind != "availability" or ratio in (0, 1):
            return ratio
        targets = 100 if ratio < 1e-3 else 10
        return 1 / (targets * max(2, round(1 / (ratio * targets))))


# --------------------------------------------------------------------------- expectations

def _alerts(slo: SLO) -> dict[str, dict]:
    """tier → the alert rule dict as rendered (labels and annotations to expect)."""
    return {r["labels"][c.ALERT_LABEL_TIER]: r for g in rule_groups(slo) for r in g["rules"] if "alert" in r}


def _expected(rule: dict) -> dict:
    return {"exp_labels": dict(rule["labels"]), "exp_annotations": dict(rule["annotations"])}


def tier_bound(slo: SLO, tier) -> float:
    """Seconds from the start of a full outage until the tier must fire: the fastest pair's
    windows must each hold factor × budget of bad events, plus one short tile and two scrapes
    and evaluations of lag."""
    eps = slo.error_budget
    best = min(max(p.factor * eps * min(parse_duration(p.long), HEALTHY), p.factor * eps * parse_duration(p.short))
               for p in tier.pairs)
    lag = 30 + 2 * EVAL_INTERVAL + 2 * parse_duration(slo.scrape_interval)
    if any(group_of_window(slo, w) == "long" for p in tier.pairs for w in (p.long, p.short)):
        lag += parse_duration(burn_windows().tiles["long"])  # the 5m tile the long windows sum
    return math.ceil((best + lag) / EVAL_INTERVAL) * EVAL_INTERVAL


def outage_bound(slo: SLO, severity: str = c.SEVERITY_PAGE) -> float | None:
    bounds = [tier_bound(slo, t) for t in slo.tiers if t.severity == severity]
    return min(bounds) if bounds else None


def _d(seconds: float) -> str:
    return format_duration(seconds)


def case_groups(slo: SLO) -> list[dict]:
    traffic, alerts = Traffic(slo), _alerts(slo)
    scrape = traffic.scrape
    burn_tiers = [t for t in slo.tiers]
    groups = []
    # 1. A full outage after HEALTHY of good traffic: nothing before, every burn tier by the bound.
    t0 = HEALTHY
    settle = max(tier_bound(slo, t) for t in burn_tiers) if burn_tiers else 60
    n_healthy, n_outage = int(HEALTHY / scrape), int((settle + 120) / scrape)
    groups.append({
        "name": f"{slo.name}: a full outage pages within {_d(outage_bound(slo) or settle)}",
        "interval": slo.scrape_interval,
        "input_series": traffic.series([(0, n_healthy), (1, n_outage)]),
        "alert_rule_test": [
            {"eval_time": _d(t0 - EVAL_INTERVAL), "alertname": slo.alert_name, "exp_alerts": []},
            {"eval_time": _d(t0 + settle), "alertname": slo.alert_name,
             "exp_alerts": [_expected(alerts[t.name]) for t in burn_tiers]},
        ],
    })
    # 2. A slow burn at 2× the budget: the 3d & 6h ticket pair (1×) fires, nothing faster does.
    ticket = slo.tier("ticket")
    if ticket is not None:
        slow = 2.0
        n = int(3600 / scrape)
        firing = [t for t in burn_tiers if any(traffic.effective_ratio(slow * slo.error_budget) / slo.error_budget > p.factor
                                               for p in t.pairs)]
        groups.append({
            "name": f"{slo.name}: a slow burn at {slow:g}x the budget opens a ticket",
            "interval": slo.scrape_interval,
            "input_series": traffic.series([(slow * slo.error_budget, n + 1)]),
            "alert_rule_test": [
                {"eval_time": "1h", "alertname": slo.alert_name, "exp_alerts": [_expected(alerts[t.name]) for t in firing]},
            ],
        })
    # 3. Just under the budget (0.9×) for 2h: no alert, ever.
    under = 0.9
    n = int(2 * 3600 / scrape)
    groups.append({
        "name": f"{slo.name}: an error rate at {under:g}x the budget never alerts",
        "interval": slo.scrape_interval,
        "input_series": traffic.series([(under * slo.error_budget, n + 1)]),
        "alert_rule_test": [{"eval_time": f"{m}m", "alertname": name, "exp_alerts": []}
                            for m in (10, 30, 60, 90, 120) for name in (slo.alert_name, c.ALERT_SLO_NO_DATA)],
    })
    # 4. The SLI's series vanish: SLONoData fires after no_data_for.
    n = int(600 / scrape)
    gone = 600 + 30 + parse_duration(slo.no_data_for) + 60
    groups.append({
        "name": f"{slo.name}: the SLI vanishing fires {c.ALERT_SLO_NO_DATA}",
        "interval": slo.scrape_interval,
        "input_series": traffic.series([(0, n), (None, 1)]),
        "alert_rule_test": [
            {"eval_time": "9m", "alertname": c.ALERT_SLO_NO_DATA, "exp_alerts": []},
            {"eval_time": _d(gone), "alertname": c.ALERT_SLO_NO_DATA, "exp_alerts": [_expected(alerts["no_data"])]},
        ],
    })
    return groups


def tests_doc(slo: SLO, groups: list[dict] | None = None) -> dict:
    return {
        "rule_files": [f"../rules/{file_name(slo)}.yml"],
        "evaluation_interval": _d(EVAL_INTERVAL),
        "tests": case_groups(slo) if groups is None else groups,
    }


def detection_probe(slo: SLO, horizon: float = 600) -> dict:
    """A test file expecting no burn alert at every step of a full outage; promtool's failures
    list the times at which alerts fired, so the first one is the measured detection time."""
    traffic = Traffic(slo)
    n_healthy, n_outage = int(HEALTHY / traffic.scrape), int((horizon + 60) / traffic.scrape)
    steps = range(0, int(horizon) + 1, EVAL_INTERVAL)
    return tests_doc(slo, [{
        "name": "probe",
        "interval": slo.scrape_interval,
        "input_series": traffic.series([(0, n_healthy), (1, n_outage)]),
        "alert_rule_test": [{"eval_time": _d(HEALTHY + s), "alertname": slo.alert_name, "exp_alerts": []} for s in steps],
    }])


def render(model) -> dict[str, str]:
    files = {}
    for slo in model.slos:
        path = f"config/tests/{file_name(slo)}.test.yml"
        if Traffic(slo).supported():
            files[path] = render_template("slo/test.yml.j2", slo=slo, doc_yaml=dump(tests_doc(slo)))
    return files
