"""Deployment quality gate: decide from the SLO recording rules whether a release may proceed.

Pure part: `evaluate(samples, policy) -> GateResult`. I/O part: `PrometheusClient` (stdlib
urllib) and `fetch_samples`. `check_quality_gate(context)` glues them and never raises; when
Prometheus cannot be asked, the result is "cannot decide", which is falsy (never a pass).

Series read (names from `contract`): SLO_BUDGET_REMAINING, SLO_BURN_RATE_1H, SLO_OBJECTIVE,
SLO_TIME_TO_EXHAUSTION (label `slo`), and firing `ALERTS{severity="page"}`.

Exit codes (for `dtobs gate`): 0 pass, 1 fail, 2 cannot decide.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from . import contract

PASS, FAIL, CANNOT_DECIDE = "pass", "fail", "cannot_decide"
EXIT_CODES = {PASS: 0, FAIL: 1, CANNOT_DECIDE: 2}
DEFAULT_PROMETHEUS_URL = "http://127.0.0.1:9090"


@dataclasses.dataclass(frozen=True)
class GatePolicy:
    """min_budget_remaining_pct: each SLO must keep at least this % of its error budget;
    max_burn_rate: the 1h burn rate must not exceed this; fail_on_page_alerts: any firing
    alert with severity=page fails the gate; slos: only these SLOs (None = all reported);
    require_all_data: an SLO without a budget value makes the gate undecidable."""

    min_budget_remaining_pct: float = 10.0
    max_burn_rate: float = 2.0
    fail_on_page_alerts: bool = True
    slos: tuple[str, ...] | None = None
    require_all_data: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> GatePolicy:
        env = os.environ if env is None else env
        kw: dict[str, Any] = {}
        if env.get("DTOBS_GATE_MIN_BUDGET_PCT"):
            kw["min_budget_remaining_pct"] = float(env["DTOBS_GATE_MIN_BUDGET_PCT"])
        if env.get("DTOBS_GATE_MAX_BURN_RATE"):
            kw["max_burn_rate"] = float(env["DTOBS_GATE_MAX_BURN_RATE"])
        if env.get("DTOBS_GATE_FAIL_ON_PAGE"):
            kw["fail_on_page_alerts"] = env["DTOBS_GATE_FAIL_ON_PAGE"].lower() not in ("0", "false", "no")
        if env.get("DTOBS_GATE_SLOS"):
            kw["slos"] = tuple(x.strip() for x in env["DTOBS_GATE_SLOS"].split(",") if x.strip())
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**kw)


@dataclasses.dataclass
class SloSample:
    slo: str
    budget_remaining: float | None = None  # ratio: 1.0 untouched, <= 0 exhausted
    burn_rate_1h: float | None = None
    objective: float | None = None
    time_to_exhaustion_s: float | None = None


@dataclasses.dataclass
class Samples:
    slos: dict[str, SloSample] = dataclasses.field(default_factory=dict)
    firing_page_alerts: list[dict[str, str]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class SloVerdict:
    slo: str
    status: str
    budget_remaining_pct: float | None
    burn_rate_1h: float | None
    objective: float | None
    reasons: list[str]


@dataclasses.dataclass
class GateResult:
    status: str
    reasons: list[str]
    slos: list[SloVerdict] = dataclasses.field(default_factory=list)
    firing_page_alerts: list[dict[str, str]] = dataclasses.field(default_factory=list)
    context: dict[str, Any] = dataclasses.field(default_factory=dict)
    policy: GatePolicy | None = None

    def __bool__(self) -> bool:
        return self.status == PASS

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.status, 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "reasons": list(self.reasons),
            "slos": [dataclasses.asdict(v) for v in self.slos],
            "firing_page_alerts": self.firing_page_alerts,
            "context": self.context,
            "policy": dataclasses.asdict(self.policy) if self.policy else None,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False, default=str)

    def to_table(self) -> str:
        def f(v: float | None, fmt: str) -> str:
            return "-" if v is None else format(v, fmt)

        rows = [("SLO", "STATUS", "BUDGET LEFT %", "BURN 1h", "OBJECTIVE", "REASON")]
        for v in self.slos:
            rows.append(
                (
                    v.slo,
                    v.status,
                    f(v.budget_remaining_pct, ".2f"),
                    f(v.burn_rate_1h, ".2f"),
                    f(v.objective, ".5g"),
                    "; ".join(v.reasons) or "ok",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        ctx = " ".join(f"{k}={v}" for k, v in self.context.items())
        head = f"quality gate: {self.status.upper()} (exit {self.exit_code})" + (f"  [{ctx}]" if ctx else "")
        tail = [f"- {r}" for r in self.reasons]
        return "\n".join([head, *lines, *tail]) + "\n"


def _finite(v: float | None) -> float | None:
    if v is None or not isinstance(v, (int, float)) or math.isnan(v):
        return None
    return float(v)


def evaluate(samples: Samples, policy: GatePolicy | None = None, context: Mapping[str, Any] | None = None) -> GateResult:
    """Pure decision: any failing SLO or page alert -> fail; else missing data -> cannot decide;
    else pass. No SLO data at all is "cannot decide", never a pass."""
    policy = policy or GatePolicy()
    ctx = dict(context or {})
    reasons: list[str] = []
    verdicts: list[SloVerdict] = []
    undecided = False
    failed = False

    names = sorted(samples.slos)
    if policy.slos is not None:
        missing = [n for n in policy.slos if n not in samples.slos]
        for n in missing:
            verdicts.append(SloVerdict(n, CANNOT_DECIDE, None, None, None, ["no data"]))
            reasons.append(f"{n}: no SLO data in Prometheus")
            undecided = True
        names = [n for n in names if n in policy.slos]

    for name in names:
        smp = samples.slos[name]
        why: list[str] = []
        status = PASS
        budget = _finite(smp.budget_remaining)
        burn = _finite(smp.burn_rate_1h)
        budget_pct = None if budget is None else budget * 100.0
        if budget_pct is None:
            why.append("no error-budget data")
            status = CANNOT_DECIDE
        elif budget_pct < policy.min_budget_remaining_pct:
            why.append(f"error budget left {budget_pct:.2f}% < {policy.min_budget_remaining_pct:g}%")
            status = FAIL
        if burn is not None and burn > policy.max_burn_rate:
            why.append(f"1h burn rate {burn:.2f} > {policy.max_burn_rate:g}")
            status = FAIL
        if status == FAIL:
            failed = True
        elif status == CANNOT_DECIDE and policy.require_all_data:
            undecided = True
        verdicts.append(SloVerdict(name, status, budget_pct, burn, _finite(smp.objective), why))
        reasons.extend(f"{name}: {w}" for w in why)

    pages = [a for a in samples.firing_page_alerts if policy.slos is None or a.get(contract.ALERT_LABEL_SLO) in policy.slos or not a.get(contract.ALERT_LABEL_SLO)]
    if pages and policy.fail_on_page_alerts:
        failed = True
        for a in pages:
            reasons.append(
                f"page alert firing: {a.get('alertname', '?')}"
                + (f" (slo={a[contract.ALERT_LABEL_SLO]})" if a.get(contract.ALERT_LABEL_SLO) else "")
            )

    if not verdicts:
        undecided = True
        reasons.append("no SLO data: cannot decide")
    status = FAIL if failed else (CANNOT_DECIDE if undecided else PASS)
    if status == PASS:
        reasons.append("all SLOs within policy")
    return GateResult(status, reasons, verdicts, pages, ctx, policy)


def cannot_decide(reason: str, context: Mapping[str, Any] | None = None, policy: GatePolicy | None = None) -> GateResult:
    return GateResult(CANNOT_DECIDE, [reason], [], [], dict(context or {}), policy)


# ---------------------------------------------------------------------------------------------
# Prometheus (stdlib urllib)


class PrometheusUnavailable(Exception):
    pass


class PrometheusClient:
    def __init__(self, url: str | None = None, timeout_s: float = 5.0) -> None:
        self.url = (url or os.environ.get("DTOBS_PROMETHEUS_URL") or DEFAULT_PROMETHEUS_URL).rstrip("/")
        self.timeout_s = timeout_s

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query; returns the vector's [{"metric": {...}, "value": [ts, "v"]}, ...]."""
        q = urllib.parse.urlencode({"query": expr})
        req = urllib.request.Request(f"{self.url}/api/v1/query?{q}", headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 - configured URL
                body = json.loads(resp.read(10_000_000).decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError, TimeoutError) as exc:
            raise PrometheusUnavailable(f"{self.url}: {exc}") from exc
        if body.get("status") != "success":
            raise PrometheusUnavailable(f"{self.url}: query {expr!r} failed: {body.get('error', body)}")
        data = body.get("data") or {}
        if data.get("resultType") != "vector":
            return []
        return list(data.get("result") or [])


def _value(item: dict[str, Any]) -> float | None:
    try:
        return float(item["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def fetch_samples(client: PrometheusClient) -> Samples:
    samples = Samples()
    fields = (
        (contract.SLO_BUDGET_REMAINING, "budget_remaining"),
        (contract.SLO_BURN_RATE_1H, "burn_rate_1h"),
        (contract.SLO_OBJECTIVE, "objective"),
        (contract.SLO_TIME_TO_EXHAUSTION, "time_to_exhaustion_s"),
    )
    for series, attr in fields:
        for item in client.query(series):
            slo = (item.get("metric") or {}).get(contract.SLO_LABEL)
            if not slo:
                continue
            smp = samples.slos.setdefault(slo, SloSample(slo))
            v = _value(item)
            old = getattr(smp, attr)
            # Several series per SLO (e.g. one per window): keep the worst.
            if old is None or v is None:
                setattr(smp, attr, v if old is None else old)
            elif attr == "budget_remaining":
                setattr(smp, attr, min(old, v))
            elif attr in ("burn_rate_1h",):
                setattr(smp, attr, max(old, v))
    alerts = client.query(
        f'ALERTS{{alertstate="firing",{contract.ALERT_LABEL_SEVERITY}="{contract.SEVERITY_PAGE}"}}'
    )
    samples.firing_page_alerts = [dict(a.get("metric") or {}) for a in alerts]
    return samples


def check_quality_gate(
    context: Mapping[str, Any] | None = None,
    policy: GatePolicy | None = None,
    prometheus_url: str | None = None,
    timeout_s: float = 5.0,
) -> GateResult:
    """Ask Prometheus and decide. Never raises; unreachable Prometheus -> falsy "cannot decide"."""
    try:
        ctx = dict(context or {})
    except (TypeError, ValueError):
        ctx = {"context": str(context)}
    try:
        policy = policy or GatePolicy.from_env()
    except (TypeError, ValueError) as exc:
        return cannot_decide(f"bad gate policy: {exc}", ctx)
    client = PrometheusClient(prometheus_url, timeout_s)
    try:
        samples = fetch_samples(client)
    except PrometheusUnavailable as exc:
        return cannot_decide(f"Prometheus unreachable: {exc}", ctx, policy)
    except Exception as exc:  # noqa: BLE001
        return cannot_decide(f"gate error: {type(exc).__name__}: {exc}", ctx, policy)
    return evaluate(samples, policy, ctx)
