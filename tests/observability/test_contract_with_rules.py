"""The naming contract, proven end to end with promtool.

The real library records SLI events (`record_sli`) for the four record_sli SLOs of
observability.yaml; its /metrics endpoint (a `MetricsServer` on a free loopback port) is scraped
after every batch, every 15 s of simulated time; the scraped samples become `promtool test rules`
input series; the GENERATED rules in config/rules/slo-<name>.yml are evaluated on them; the
burn rates, the error budget left and the time to exhaustion must equal what the test computes
on its own from the events it recorded (values above the latency threshold, success=False).

Nothing is shared between the two sides but the text on the wire: a metric or label renamed on
either side, or an `le` bucket label the rules do not select, leaves the rule results empty (or
wrong) and the test fails. The negative controls at the bottom prove that for each such mismatch.

Exactness: within a window where every batch has the same bad/total ratio, Prometheus'
increase() extrapolates the error and the total counters by the same factor, and the 30 s tiles
summed over long windows keep that ratio, so the expected value is exact (compared within 1e-9
relative). Batches vary in volume (x1, x2, x3) to keep the counters non-linear; a window that
straddles a change of ratio is not asserted.
"""

from __future__ import annotations

import math
import subprocess
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from _tools import require_tool
from day_trade.observability import contract, metrics, record_sli
from day_trade.observability.metrics import MetricsServer
from dtobs.spec.load import load_spec

ROOT = Path(__file__).parents[2]
RULES_DIR = ROOT / "config" / "rules"
SPEC = load_spec(ROOT / "observability.yaml").spec
SLOS = {s.name: s for s in SPEC.slos}
RECORD_SLI_SLOS = ("trade_latency_slo", "api_latency_slo", "trade_success_slo", "error_rate_slo")

STEP_S = 15  # one scrape of the library per batch
STEPS = 261  # samples at 0 s .. 3900 s (65 min): the 1 h windows are full at the end
PHASE2_FROM = 200  # trade_success_slo gets a bad deploy from 50 min on
EVAL_STEPS = (40, 160, 260)  # 10 min, 40 min, 65 min
WINDOWS_S = {"30s": 30, "5m": 300, "1h": 3600}
TILE_S = 30  # the short tiles the long windows add up (slo:sli_*:increase30s)
PROMTOOL_TIMEOUT_S = 120


def _duration_s(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    return int(text[:-1]) * units[text[-1]]


# --- the workload: what the trading app records, batch by batch -------------------------------


def _cycle(values: list[float], n: int) -> list[float]:
    return [values[i % len(values)] for i in range(n)]


def _batch(slo: str, step: int) -> list[tuple[float, bool]]:
    """One batch of (value, success) for `slo` at `step` (before the volume multiplier)."""
    if slo == "trade_latency_slo":  # µs; 50 itself is within the SLO (le is inclusive)
        good = [(v, True) for v in _cycle([0.7, 3, 12, 24.9, 25, 49.99, 50, 50.0], 1248)]
        good.append((20.0, False))  # a failed trade that was fast: the latency SLI ignores success
        bad_value = [50.01, 51, 120, 5_000, 2_000_000][step % 5]  # 2e6 is above every bucket: +Inf
        return good + [(bad_value, True)]  # 1 slow trade in 1250
    if slo == "api_latency_slo":  # ms
        good = [(v, True) for v in _cycle([0.4, 8, 20, 49.5, 50], 997)]
        return good + [(50.001, True), (75, True), (400, True)]  # 3 slow in 1000
    if slo == "error_rate_slo":
        return [(1.0, True)] * 799 + [(1.0, False)]  # 1 error in 800
    if slo == "trade_success_slo":
        if step < PHASE2_FROM:
            return [(10.0, True)] * 2499 + [(10.0, False)]  # 1 failure in 2500
        return [(10.0, True)] * 49 + [(10.0, False)]  # bad deploy: 1 failure in 50
    raise AssertionError(slo)


def _is_bad(slo: str, value: float, success: bool) -> bool:
    """The SLI definition from observability.yaml, applied by the test on its own."""
    sli = SLOS[slo].sli
    if sli.latency is not None:
        return value > sli.latency.threshold
    assert sli.events is not None
    return not success


@dataclass
class Recording:
    scrapes: list[str] = field(default_factory=list)  # /metrics text after each step
    total: dict[str, list[int]] = field(default_factory=dict)  # events recorded at each step
    bad: dict[str, list[int]] = field(default_factory=dict)  # of which bad by the SLI definition

    def ratio(self, slo: str, first: int, last: int) -> float | None:
        """bad/total of the batches first..last, or None if their ratios differ (not exact)."""
        tot, bad = self.total[slo][first:last + 1], self.bad[slo][first:last + 1]
        if len({b / t for b, t in zip(bad, tot)}) != 1:
            return None
        return sum(bad) / sum(tot)


@pytest.fixture(scope="module")
def recording() -> Recording:
    """Record through the real library; scrape its real HTTP endpoint after every batch."""
    metrics._reset_for_tests()
    server = MetricsServer(host="127.0.0.1", port=0)
    assert server.start() is not None
    rec = Recording(total={s: [] for s in RECORD_SLI_SLOS}, bad={s: [] for s in RECORD_SLI_SLOS})
    try:
        for step in range(STEPS):
            volume = 1 + step % 3
            for slo in RECORD_SLI_SLOS:
                batch = _batch(slo, step) * volume
                for value, success in batch:
                    record_sli(slo, value, success=success)
                rec.total[slo].append(len(batch))
                rec.bad[slo].append(sum(_is_bad(slo, v, ok) for v, ok in batch))
            with urllib.request.urlopen(server.url, timeout=5) as resp:
                assert resp.status == 200
                rec.scrapes.append(resp.read().decode("utf-8"))
    finally:
        server.stop()
        metrics._reset_for_tests()
    return rec


# --- exposition text -> promtool input series -------------------------------------------------


def _parse_exposition(text: str) -> dict[str, float]:
    """{'name{labels}': value} of the sample lines of a Prometheus text exposition."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        v = float(value)
        if math.isfinite(v):
            out[series] = v
    return out


def _input_series(scrapes: list[str]) -> list[dict[str, str]]:
    parsed = [_parse_exposition(t) for t in scrapes]
    names = sorted({s for p in parsed for s in p})
    fmt = lambda v: "_" if v is None else repr(v)  # noqa: E731 - "_" = no sample at that scrape
    return [{"series": s, "values": " ".join(fmt(p.get(s)) for p in parsed)} for s in names]


# --- expected rule values, computed from the recorded events --------------------------------


@dataclass(frozen=True)
class Check:
    slo: str
    series: str  # a recording-rule name from the contract (what the gate / dashboards read)
    eval_step: int
    expected: float

    @property
    def selector(self) -> str:
        return f'{self.series}{{{contract.SLO_LABEL}="{self.slo}"}}'


def _checks(rec: Recording) -> list[Check]:
    out: list[Check] = []
    for slo_name in RECORD_SLI_SLOS:
        slo = SLOS[slo_name]
        budget = 1 - slo.objective / 100
        period_s = _duration_s(slo.period)
        windows = dict(WINDOWS_S) if slo.hft else {k: v for k, v in WINDOWS_S.items() if k != "30s"}
        for j in EVAL_STEPS:
            t = j * STEP_S
            burn: dict[str, float] = {}
            for name, w in windows.items():
                # Batches that can reach the window: raw increase() windows read the samples in
                # (t-w, t]; tile-based windows (1h) also reach one tile further back.
                reach = w + (TILE_S if w > 300 else 0)
                first = max(0, j - reach // STEP_S)
                r = rec.ratio(slo_name, first, j)
                if r is not None:
                    burn[name] = r / budget
                    out.append(Check(slo_name, contract.SLO_BURN_RATE.format(window=name), j, burn[name]))
            r_period = rec.ratio(slo_name, 0, j) if t <= period_s else None
            if r_period is not None:
                burn_period = r_period / budget
                remaining = 1 - burn_period
                out.append(Check(slo_name, contract.SLO_BURN_RATE.format(window=slo.period), j, burn_period))
                out.append(Check(slo_name, contract.SLO_BUDGET_REMAINING, j, remaining))
                if "1h" in burn:
                    out.append(Check(slo_name, contract.SLO_TIME_TO_EXHAUSTION, j,
                                     max(remaining, 0.0) * period_s / burn["1h"]))
            out.append(Check(slo_name, contract.SLO_OBJECTIVE, j, slo.objective / 100))
    return out


def _test_file(rule_files: list[str], series: list[dict[str, str]], checks: list[Check], exact: bool) -> dict:
    """A promtool test file. exact=False: each check is `abs(got - expected) <= bool tol` == 1.
    exact=True (diagnostics only): the raw expression against an impossible value, so that
    promtool prints every value it got."""
    tests = []
    for c in checks:
        labels = f'{{{contract.SLO_LABEL}="{c.slo}",{contract.ALERT_LABEL_SERVICE}="{SLOS[c.slo].service}"}}'
        if exact:
            tests.append({"expr": c.selector, "eval_time": f"{c.eval_step * STEP_S}s",
                          "exp_samples": [{"labels": c.series + labels, "value": -424242}]})
            continue
        tol = 1e-9 * max(1.0, abs(c.expected))
        tests.append({"expr": f"abs({c.selector} - {c.expected!r}) <= bool {tol!r}",
                      "eval_time": f"{c.eval_step * STEP_S}s",
                      "exp_samples": [{"labels": labels, "value": 1}]})
    return {"rule_files": rule_files, "evaluation_interval": f"{STEP_S}s",
            "tests": [{"interval": f"{STEP_S}s", "input_series": series, "promql_expr_test": tests}]}


def _promtool(promtool: str, tmp: Path, scrapes: list[str], checks: list[Check],
              rules_edit: Callable[[str], str] = lambda s: s, exact: bool = False) -> subprocess.CompletedProcess:
    rule_files = []
    for slo in RECORD_SLI_SLOS:
        name = f"slo-{slo}.yml"
        (tmp / name).write_text(rules_edit((RULES_DIR / name).read_text()))
        rule_files.append(name)
    test = _test_file(rule_files, _input_series(scrapes), checks, exact)
    (tmp / "contract.test.yml").write_text(yaml.safe_dump(test, sort_keys=False, width=1 << 20))
    return subprocess.run([promtool, "test", "rules", "contract.test.yml"], cwd=tmp,
                          capture_output=True, text=True, timeout=PROMTOOL_TIMEOUT_S)


@pytest.fixture
def promtool() -> str:
    return require_tool("promtool")


# --- the tests --------------------------------------------------------------------------------


class TestRecordedSlisThroughGeneratedRules:
    def test_the_workload_is_what_the_slos_need(self, recording):
        """Preconditions of the proof: several scrapes, some bad events in every SLO, values on
        both sides of the latency threshold, a change of error rate for trade_success_slo."""
        assert len(recording.scrapes) == STEPS
        for slo in RECORD_SLI_SLOS:
            assert 0 < sum(recording.bad[slo]) < sum(recording.total[slo])
        assert recording.ratio("trade_success_slo", 0, STEPS - 1) is None  # two phases
        # The library exposes the threshold bucket of the latency SLOs with the contract's `le`.
        for slo in ("trade_latency_slo", "api_latency_slo"):
            le = contract.format_le(SLOS[slo].sli.latency.threshold)
            assert f'{contract.SLI_VALUE}_bucket{{{contract.SLO_LABEL}="{slo}",le="{le}"}}' in recording.scrapes[-1]

    def test_generated_rules_compute_the_recorded_error_ratios(self, recording, promtool, tmp_path):
        """Burn rates (30s, 5m, 1h, 30d), objective, budget left and time to exhaustion of the
        generated rules equal the values computed from the recorded events."""
        checks = _checks(recording)
        # Every kind of value is asserted, and the phase change is seen by the short windows.
        kinds = {(c.slo, c.series) for c in checks}
        for slo in RECORD_SLI_SLOS:
            for series in (contract.SLO_BURN_RATE_1H, contract.SLO_BUDGET_REMAINING,
                           contract.SLO_TIME_TO_EXHAUSTION, contract.SLO_OBJECTIVE,
                           contract.SLO_BURN_RATE.format(window="5m")):
                assert (slo, series) in kinds, (slo, series)
        late = [c for c in checks if c.slo == "trade_success_slo" and c.eval_step == EVAL_STEPS[-1]
                and c.series == contract.SLO_BURN_RATE.format(window="5m")]
        early = [c for c in checks if c.slo == "trade_success_slo" and c.eval_step == EVAL_STEPS[1]
                 and c.series == contract.SLO_BURN_RATE.format(window="5m")]
        assert late and early and late[0].expected > 10 * early[0].expected
        assert any(c.expected < 0 for c in checks if c.series == contract.SLO_BUDGET_REMAINING)
        assert any(0 < c.expected < 1 for c in checks if c.series == contract.SLO_BUDGET_REMAINING)

        proc = _promtool(promtool, tmp_path, recording.scrapes, checks)
        if proc.returncode != 0:
            detail = _promtool(promtool, _fresh(tmp_path / "diag"), recording.scrapes, checks, exact=True)
            expected = "\n".join(f"  t={c.eval_step * STEP_S}s {c.selector} expected {c.expected!r}" for c in checks)
            pytest.fail(f"generated rules disagree with the recorded SLIs:\n{_squeeze(proc)[:8000]}\n"
                        f"expected:\n{expected}\nvalues the rules produced:\n{_squeeze(detail)[:8000]}")


def _squeeze(proc: subprocess.CompletedProcess) -> str:
    return "\n".join(line for line in (proc.stdout + proc.stderr).splitlines() if line.strip())


def _fresh(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


MUTATIONS = {
    "library renames the error counter": (
        lambda s: s.replace(contract.SLI_ERRORS_TOTAL, "dtobs_sli_failures_total"), None),
    "library renames the slo label": (
        lambda s: s.replace(f'{{{contract.SLO_LABEL}="', '{slo_name="'), None),
    "library writes le Go-style (5e+01)": (
        lambda s: s.replace('le="50.0"', 'le="5e+01"'), None),
    "library drops the histogram count": (
        lambda s: "\n".join(ln for ln in s.splitlines() if not ln.startswith(f"{contract.SLI_VALUE}_count")), None),
    "rules read a renamed events counter": (
        None, lambda s: s.replace(contract.SLI_EVENTS_TOTAL, "dtobs_sli_requests_total")),
    "rules select the bucket by a different le": (
        None, lambda s: s.replace("le=~", "bucket=~")),
}


class TestNegativeControls:
    @pytest.mark.parametrize("mutation", sorted(MUTATIONS))
    def test_a_mismatch_on_either_side_fails(self, mutation, recording, promtool, tmp_path):
        """The same proof with one side of the contract changed must fail in promtool."""
        lib_edit, rules_edit = MUTATIONS[mutation]
        scrapes = [lib_edit(s) for s in recording.scrapes] if lib_edit else recording.scrapes
        if lib_edit:
            assert scrapes != recording.scrapes, "the mutation changed nothing"
        if rules_edit:
            texts = [(RULES_DIR / f"slo-{s}.yml").read_text() for s in RECORD_SLI_SLOS]
            assert any(rules_edit(t) != t for t in texts), "the mutation changed nothing"
        proc = _promtool(promtool, tmp_path, scrapes, _checks(recording),
                         rules_edit=rules_edit or (lambda s: s))
        assert proc.returncode != 0, f"promtool accepted a broken contract ({mutation}):\n{proc.stdout}"
        assert "FAILED" in proc.stdout + proc.stderr
