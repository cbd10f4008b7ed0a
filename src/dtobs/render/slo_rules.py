"""Prometheus recording and alerting rules for the SLOs: config/rules/slo-<name>.yml.

Generation is a chain of steps, each a plain function of one SLO (like Sloth's):

    sli_rules       tiles: error and total event counts over 30s, recorded every 30s; 5m tiles
                    summed from those every 5m. Windows are ratios of SUMS of tiles, i.e. weighted
                    by traffic (never an average of short ratios), and a 30d window reads 8,640
                    five-minute tiles instead of every raw sample.
    burn_rules      slo:burn_rate:ratio_rate<w> = error ratio over w / (1 − objective), per window
    metadata_rules  objective, budget remaining over the period, time to exhaustion
    alert_rules     multi-window multi-burn-rate alerts (tiers from data/burn_windows.yaml) and
                    a no-data alert; then `with_runbooks` gives every alert its runbook link.

Rules land in up to three groups per SLO with their own intervals: `fast` (1s, hft tier only,
raw counters), `short` (30s) and `long` (5m). Within a group rules run in order, so each alert
sees the series recorded just before it.
"""

from __future__ import annotations

from day_trade.observability import contract as c
from dtobs.model.durations import parse_duration
from dtobs.model.slo import SLO, burn_windows
from dtobs.render._yaml import dump
from dtobs.render.jinja import render_template


def _num(x: float) -> str:
    return f"{x:.12g}"


def _sel(slo: SLO) -> str:
    return f'{{{c.SLO_LABEL}="{slo.name}"}}'


def _labels(slo: SLO) -> dict[str, str]:
    return {c.SLO_LABEL: slo.name, c.ALERT_LABEL_SERVICE: slo.service, **slo.labels}


def _record(slo: SLO, name: str, expr: str) -> dict:
    return {"record": name, "expr": expr, "labels": _labels(slo)}


def burn(window: str) -> str:
    return c.SLO_BURN_RATE.format(window=window)


def group_of_window(slo: SLO, window: str) -> str:
    """Which group computes a window's burn rate: fast (raw), short (30s tiles) or long (5m tiles)."""
    if window in slo.fast_windows:
        return "fast"
    return "short" if parse_duration(window) < 86400 else "long"


# --------------------------------------------------------------------------- steps

def sli_rules(slo: SLO) -> dict[str, list[dict]]:
    tiles = burn_windows().tiles
    short, long = tiles["short"], tiles["long"]
    sel = _sel(slo)
    return {
        "short": [
            _record(slo, c.SLO_SLI_ERRORS_TILE.format(window=short), slo.sli.errors(short)),
            _record(slo, c.SLO_SLI_TOTAL_TILE.format(window=short), slo.sli.total(short)),
        ],
        "long": [
            _record(slo, c.SLO_SLI_ERRORS_TILE.format(window=long),
                    f"sum_over_time({c.SLO_SLI_ERRORS_TILE.format(window=short)}{sel}[{long}])"),
            _record(slo, c.SLO_SLI_TOTAL_TILE.format(window=long),
                    f"sum_over_time({c.SLO_SLI_TOTAL_TILE.format(window=short)}{sel}[{long}])"),
        ],
    }


def burn_rules(slo: SLO) -> dict[str, list[dict]]:
    tiles = burn_windows().tiles
    sel, budget = _sel(slo), _num(slo.error_budget)
    out: dict[str, list[dict]] = {"fast": [], "short": [], "long": []}
    for w in slo.windows:
        group = group_of_window(slo, w)
        if group == "fast":
            expr = f"{slo.sli.errors(w)} / {slo.sli.total(w)} / {budget}"
        else:
            tile = tiles["short" if group == "short" else "long"]
            err, tot = (c.SLO_SLI_ERRORS_TILE.format(window=tile), c.SLO_SLI_TOTAL_TILE.format(window=tile))
            expr = f"sum_over_time({err}{sel}[{w}]) / sum_over_time({tot}{sel}[{w}]) / {budget}"
        out[group].append(_record(slo, burn(w), expr))
    return out


def metadata_rules(slo: SLO) -> dict[str, list[dict]]:
    sel = _sel(slo)
    return {"long": [
        _record(slo, c.SLO_OBJECTIVE, f"vector({_num(slo.objective_ratio)})"),
        _record(slo, c.SLO_BUDGET_REMAINING, f"1 - {burn(slo.period)}{sel}"),
        _record(slo, c.SLO_TIME_TO_EXHAUSTION,
                f"clamp_min({c.SLO_BUDGET_REMAINING}{sel}, 0) * {_num(slo.period_seconds)} / {c.SLO_BURN_RATE_1H}{sel}"),
    ]}


def _budget_text(slo: SLO, tier) -> str:
    parts = [f"{p.budget_percent:g}% of the {slo.period} error budget in {p.long} ({p.factor:g}× burn)"
             for p in tier.pairs]
    return ", or ".join(parts)


def alert_rules(slo: SLO) -> dict[str, list[dict]]:
    sel = _sel(slo)
    out: dict[str, list[dict]] = {"fast": [], "short": [], "long": []}
    for tier in slo.tiers:
        conditions = [f"({burn(p.long)}{sel} > {_num(p.factor)} and {burn(p.short)}{sel} > {_num(p.factor)})"
                      for p in tier.pairs]
        windows = " or ".join(f"{p.long} & {p.short} > {p.factor:g}×" for p in tier.pairs)
        group = max((group_of_window(slo, w) for p in tier.pairs for w in (p.long, p.short)),
                    key=["fast", "short", "long"].index)
        out[group].append({
            "alert": slo.alert_name,
            "expr": " or ".join(conditions),
            "labels": {**slo.alert_labels, **tier.labels, **_labels(slo),
                       c.ALERT_LABEL_SEVERITY: tier.severity, c.ALERT_LABEL_TIER: tier.name},
            "annotations": {
                "summary": f"SLO {slo.name} ({slo.service}) is burning its error budget too fast ({tier.name} tier)",
                "description": f"{slo.description or slo.sli.description}. Objective {slo.objective:g}% over "
                               f"{slo.period}; this alert fires when the burn rate is {windows}.",
                "budget_burned": _budget_text(slo, tier),
                **slo.alert_annotations, **tier.annotations,
            },
        })
    tile_total = c.SLO_SLI_TOTAL_TILE.format(window=burn_windows().tiles["short"])
    out["short"].append({
        "alert": c.ALERT_SLO_NO_DATA,
        "expr": f"absent({tile_total}{sel})",
        "for": slo.no_data_for,
        "labels": {**slo.alert_labels, **_labels(slo),
                   c.ALERT_LABEL_SEVERITY: c.SEVERITY_TICKET, c.ALERT_LABEL_TIER: "no_data"},
        "annotations": {
            "summary": f"SLO {slo.name} ({slo.service}) has no SLI data",
            "description": f"The SLI series of {slo.name} ({slo.sli.description}) returned nothing for "
                           f"{slo.no_data_for}: the error budget cannot be computed and no burn alert can fire.",
            "budget_burned": "unknown while the SLI has no data",
            **slo.alert_annotations,
        },
    })
    return out


def runbook_url(slo: SLO, alert: dict) -> str:
    return f"{slo.runbook_base_url}/{slo.name}#{alert['alert'].lower()}-{alert['labels'][c.ALERT_LABEL_TIER]}"


def with_runbooks(slo: SLO, groups: list[dict]) -> list[dict]:
    """Post-pass (as in kubernetes-mixin): every alert gets a runbook_url; a missing one is a bug."""
    for group in groups:
        for rule in group["rules"]:
            if "alert" in rule:
                rule["annotations"].setdefault("runbook_url", runbook_url(slo, rule))
    return groups


# --------------------------------------------------------------------------- assembly

STEPS = (sli_rules, burn_rules, metadata_rules, alert_rules)


def group_name(slo: SLO, kind: str) -> str:
    return f"slo-{slo.name}-{kind}"


def rule_groups(slo: SLO) -> list[dict]:
    merged: dict[str, list[dict]] = {"fast": [], "short": [], "long": []}
    for step in STEPS:
        for kind, rules in step(slo).items():
            merged[kind] += rules
    intervals = burn_windows().groups
    groups = [{"name": group_name(slo, kind), "interval": intervals[kind], "rules": rules}
              for kind, rules in merged.items() if rules]
    return with_runbooks(slo, groups)


def file_name(slo: SLO) -> str:
    return f"slo-{slo.name}"


def render(model) -> dict[str, str]:
    return {f"config/rules/{file_name(slo)}.yml": render_template("slo/rules.yml.j2", slo=slo, groups_yaml=dump(rule_groups(slo), 2))
            for slo in model.slos}
