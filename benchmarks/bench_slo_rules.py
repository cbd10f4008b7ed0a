"""SLO engine figures, printed side by side in one run.

  1. rules per SLO: ours next to Sloth (17) and Pyrra (13) for the same 99.9% ratio SLO;
  2. `dtobs render` of 1,000 SLOs (wall time, must be < 5 s) and `promtool check rules` on them;
  3. rule-evaluation time of those 1,000 SLOs in a real Prometheus (Debian's, 127.0.0.1, free
     port, temp data dir), fed by a loopback exporter of synthetic record_sli() series: the
     worst `prometheus_rule_group_last_duration_seconds` per group kind against its interval;
  4. detection time of a full outage for each default SLO, from probes built like the generated
     promtool tests (first evaluation at which a page fires), next to the bound the test asserts.

Usage: .venv/bin/python benchmarks/bench_slo_rules.py [--slos 1000] [--eval-seconds 330] [--skip-prometheus]
"""

from __future__ import annotations

import argparse
import http.server
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from day_trade.observability import contract as c  # noqa: E402
from dtobs.model.durations import parse_duration  # noqa: E402
from dtobs.pipeline import render_spec  # noqa: E402
from day_trade.observability.testing import free_loopback_port  # noqa: E402
from dtobs.render import promtool_tests, slo_rules  # noqa: E402

SLOTH_RULES, PYRRA_RULES = 17, 13  # per 99.9% ratio SLO with page + ticket alerts (their generated output)


def many_slos_spec(n: int, path: Path) -> None:
    slos = []
    for i in range(n):
        kind = i % 3
        sli = {"events": {}} if kind == 0 else {"latency": {"threshold": 50}} if kind == 1 else \
            {"availability": {"query": f'up{{job="bench",instance="t{i % 50}"}}'}}
        slos.append({"name": f"bench_{i}", "service": f"svc{i % 20}", "objective": 99.9,
                     "scrape_interval": "1s", "hft": i % 10 == 0, "sli": sli})
    path.write_text(yaml.safe_dump({"version": "dtobs/v1", "slos": slos}, sort_keys=False))


def timed(argv, **kw) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)
    return time.perf_counter() - t, proc


# --------------------------------------------------------------------------- 1. rules per SLO

def rules_per_slo() -> dict[str, int]:
    rendered = render_spec(ROOT / "observability.yaml")
    out = {}
    for slo in rendered.model.slos:
        out[slo.name] = sum(len(g["rules"]) for g in slo_rules.rule_groups(slo))
    return out


# --------------------------------------------------------------------------- 3. real Prometheus

class Exporter(http.server.BaseHTTPRequestHandler):
    n = 1000
    start = time.time()

    def do_GET(self):  # noqa: N802
        t = time.time() - self.start
        lines = []
        for i in range(self.n):
            kind, slo = i % 3, f'slo="bench_{i}"'
            events = 1000 * t
            if kind == 0:
                lines += [f"{c.SLI_EVENTS_TOTAL}{{{slo}}} {events:.0f}", f"{c.SLI_ERRORS_TOTAL}{{{slo}}} {events * 0.0005:.0f}"]
            elif kind == 1:
                lines += [f'{c.SLI_VALUE}_bucket{{{slo},le="50"}} {events * 0.9995:.0f}',
                          f'{c.SLI_VALUE}_bucket{{{slo},le="+Inf"}} {events:.0f}', f"{c.SLI_VALUE}_count{{{slo}}} {events:.0f}"]
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def prometheus_eval(out_dir: Path, n: int, seconds: float) -> list[tuple[str, float, float, int]]:
    binary = shutil.which("prometheus")
    if not binary:
        return []
    Exporter.n = n
    exp_port, prom_port = free_loopback_port(), free_loopback_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", exp_port), Exporter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    data = Path(tempfile.mkdtemp(prefix="bench-prom-"))
    # the availability SLOs read up{job="bench",instance="tN"}: 50 targets that are the exporter
    targets = [f"127.0.0.1:{exp_port}"]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "15s"},
        "rule_files": [str(out_dir / "config" / "rules" / "slo-*.yml")],
        "scrape_configs": [{"job_name": "bench", "static_configs": [{"targets": targets}],
                            "relabel_configs": [{"target_label": "instance", "replacement": "t0"}]}],
    }
    (data / "prometheus.yml").write_text(yaml.safe_dump(config))
    proc = subprocess.Popen([binary, f"--config.file={data / 'prometheus.yml'}", f"--storage.tsdb.path={data / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{prom_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + seconds
        while time.time() < deadline:
            time.sleep(min(15, max(0.1, deadline - time.time())))
            if proc.poll() is not None:
                return []
        # the rule manager's own metrics, read from /metrics (this Prometheus does not scrape itself)
        text = urllib.request.urlopen(f"http://127.0.0.1:{prom_port}/metrics", timeout=30).read().decode()
        metric = re.compile(r'^(prometheus_rule_group_(?:last_duration|interval)_seconds)\{rule_group="[^;]*;([^"]+)"\} (\S+)$')
        result, intervals = [], {}
        for line in text.splitlines():
            m = metric.match(line)
            if m and m.group(1).endswith("last_duration_seconds"):
                result.append((m.group(2), float(m.group(3))))
            elif m:
                intervals[m.group(2)] = float(m.group(3))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        server.shutdown()
        shutil.rmtree(data, ignore_errors=True)
    by_kind: dict[str, list[float]] = {}
    ival: dict[str, float] = {}
    for group, value in result:
        kind = group.rsplit("-", 1)[-1]
        by_kind.setdefault(kind, []).append(value)
        ival[kind] = intervals.get(group, 0)
    rows = []
    for kind, values in sorted(by_kind.items()):
        values.sort()
        evaluated = [v for v in values if v > 0]
        rows.append((kind, ival[kind], max(values), len(evaluated)))
    return rows


# --------------------------------------------------------------------------- 4. detection

def detection_times() -> list[tuple[str, float, float | None, float | None]]:
    promtool = shutil.which("promtool")
    rendered = render_spec(ROOT / "observability.yaml")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-detect-") as tmp:
        (Path(tmp) / "config" / "rules").mkdir(parents=True)
        (Path(tmp) / "config" / "tests").mkdir(parents=True)
        for rel, text in rendered.files.items():
            if rel.startswith("config/rules/slo-"):
                (Path(tmp) / rel).write_text(text)
        for slo in rendered.model.slos:
            probe = promtool_tests.detection_probe(slo, horizon=240)
            path = Path(tmp) / "config" / "tests" / f"probe-{slo.name}.yml"
            path.write_text(yaml.safe_dump(probe, sort_keys=False, width=1 << 16))
            run = subprocess.run([promtool, "test", "rules", path.name], cwd=path.parent, capture_output=True, text=True, timeout=600)
            first: dict[str, float] = {}
            for block in (run.stdout + run.stderr).split("alertname: ")[1:]:
                t = re.search(r"time: ([0-9hms]+)", block)
                if not t:
                    continue
                at = parse_duration(t.group(1)) - promtool_tests.HEALTHY
                for tier in re.findall(r'tier="([a-z_]+)"', block.split("got:")[-1]):
                    first.setdefault(tier, at)
            workbook = first.get("page")
            hft = first.get("hft")
            rows.append((slo.name, promtool_tests.outage_bound(slo), workbook, hft))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--slos", type=int, default=1000)
    ap.add_argument("--eval-seconds", type=float, default=330, help="how long Prometheus evaluates the rules")
    ap.add_argument("--skip-prometheus", action="store_true")
    args = ap.parse_args()

    print("== 1. rules per SLO (same 99.9% SLO: Sloth 17, Pyrra 13)")
    print(f"{'SLO':28} {'dtobs':>6} {'Sloth':>6} {'Pyrra':>6}")
    for name, count in rules_per_slo().items():
        print(f"{name:28} {count:>6} {SLOTH_RULES:>6} {PYRRA_RULES:>6}")

    with tempfile.TemporaryDirectory(prefix="bench-slo-") as tmp:
        tmp = Path(tmp)
        spec, out = tmp / "slos.yaml", tmp / "out"
        many_slos_spec(args.slos, spec)
        dtobs = str(ROOT / ".venv" / "bin" / "dtobs")
        t_render, proc = timed([dtobs, "render", str(spec), "-o", str(out)])
        assert proc.returncode == 0, proc.stderr
        rules = sorted((out / "config" / "rules").glob("*.yml"))
        t_check, proc_c = timed(["promtool", "check", "rules", *map(str, rules)])
        n_rules = sum(int(m) for m in re.findall(r"SUCCESS: (\d+) rules found", proc_c.stdout))
        print(f"\n== 2. render and check {args.slos} SLOs ({n_rules} rules, {len(rules)} files)")
        print(f"dtobs render          {t_render:6.2f} s   (budget < 5 s: {'ok' if t_render < 5 else 'OVER'})")
        print(f"promtool check rules  {t_check:6.2f} s   ({'ok' if proc_c.returncode == 0 else 'FAILED'})")

        if not args.skip_prometheus:
            print(f"\n== 3. rule evaluation of {args.slos} SLOs in Prometheus {subprocess.run(['prometheus', '--version'], capture_output=True, text=True).stdout.split()[2]} "
                  f"after {args.eval_seconds:.0f} s (1 s scrapes of synthetic record_sli() series)")
            print(f"{'group kind':10} {'interval':>9} {'worst last duration':>20} {'share of interval':>18} {'groups evaluated':>17}")
            for kind, interval, worst, evaluated in prometheus_eval(out, args.slos, args.eval_seconds):
                print(f"{kind:10} {interval:>8.0f}s {worst * 1000:>17.2f} ms {worst / interval * 100:>17.2f}% {evaluated:>17}")

    print("\n== 4. detection of a full outage (promtool, 5 s evaluation steps, after 6 h of healthy traffic)")
    print(f"{'SLO':28} {'asserted bound':>15} {'Workbook page':>14} {'HFT tier':>9}")
    for name, bound, workbook, hft in detection_times():
        fmt = lambda v: "-" if v is None else f"{v:.0f} s"  # noqa: E731
        print(f"{name:28} {fmt(bound):>15} {fmt(workbook):>14} {fmt(hft):>9}")


if __name__ == "__main__":
    main()
