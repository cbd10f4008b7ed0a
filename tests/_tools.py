"""Shared helpers for tests that run real programs (Prometheus, promtool, the built collector, ...).

* `require_tool(name)`: the binary's path (PATH or the backend cache); a skip locally, a failure
  under CI=true, where `make backends` must have installed it.
* `free_loopback_port()`, `free_loopback_ports(keys)`: 127.0.0.1 ports with nothing listening.
* `backfilled_prometheus(workdir, openmetrics)`: backfill an OpenMetrics text with
  `promtool tsdb create-blocks-from openmetrics`, start `prometheus` on a free loopback port with
  that data dir, wait (bounded) until /-/ready, yield its URL, stop it (bounded) afterwards.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from day_trade.observability.testing import free_loopback_port  # noqa: F401 (re-exported)
from dtobs.check.tools import find_tool, in_ci

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


def require_tool(name: str) -> str:
    path = find_tool(name)
    if not path:
        reason = f"{name} is not installed or built: run `make backends`"
        if in_ci():
            pytest.fail(f"CI=true: {reason}", pytrace=False)
        pytest.skip(reason)
    return path


def free_loopback_ports(keys: Iterable[str]) -> dict[str, int]:
    """Distinct free loopback ports, one per key (all held open while choosing: no duplicates)."""
    with contextlib.ExitStack() as stack:
        chosen = {}
        for key in keys:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            chosen[key] = sock.getsockname()[1]
    return chosen


def backfill(promtool: str, openmetrics: str, om_file: Path, data_dir: Path) -> None:
    """Write `openmetrics` (must end with '# EOF') and turn it into TSDB blocks in data_dir."""
    om_file.write_text(openmetrics)
    proc = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(om_file), str(data_dir)],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"promtool backfill failed: {proc.stdout}\n{proc.stderr}")


@contextlib.contextmanager
def backfilled_prometheus(workdir: Path, openmetrics: str, retention: str = "30d") -> Iterator[str]:
    """A real Prometheus on 127.0.0.1 serving the backfilled `openmetrics`; yields its base URL."""
    prom, promtool = require_tool("prometheus"), require_tool("promtool")
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "data"
    backfill(promtool, openmetrics, workdir / "backfill.om", data)
    cfg = workdir / "prometheus.yml"
    cfg.write_text("global:\n  scrape_interval: 15s\n")  # no scrape jobs: only the backfilled data
    port = free_loopback_port()
    log_path = workdir / "prometheus.log"
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([prom, f"--config.file={cfg}", f"--storage.tsdb.path={data}",
                                 f"--web.listen-address=127.0.0.1:{port}",
                                 f"--storage.tsdb.retention.time={retention}"],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Prometheus did not become ready: {log_path.read_text(errors='replace')[-2000:]}")
                time.sleep(0.25)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
