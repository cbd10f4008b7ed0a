"""Every PromQL panel of the generated dashboards returns data from the live stack's Prometheus.

Uses the `native_stack` fixture (tests/e2e/conftest.py) when it exists — it starts the native
backends and runs a synthetic trade — else a Prometheus at $DTOBS_PROMETHEUS_URL. Skipped with the
reason when neither is there, except under CI=true where that is a failure.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from day_trade.observability import contract
from dtobs.check.tools import in_ci
from dtobs.dashboards import generate_dashboards, resolved_queries

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
DATA_TIMEOUT = 180  # seconds for every query to have data: a few scrape and rule intervals
# Series only the Compose stack has: the native stack runs no log-store exporter.
COMPOSE_ONLY = ("elasticsearch_cluster_health_status",)


def _stack_prometheus_url(stack) -> str | None:
    for attr in ("prometheus_url", "prometheus"):
        value = getattr(stack, attr, None)
        if isinstance(value, str):
            return value
        if value is not None and isinstance(getattr(value, "url", None), str):
            return value.url
    if isinstance(stack, dict):
        return stack.get("prometheus_url") or stack.get("prometheus")
    urls = getattr(stack, "urls", None)
    if isinstance(urls, dict):
        return urls.get("prometheus")
    return None


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/-/ready", timeout=3) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def prometheus_url(request) -> str:
    try:
        stack = request.getfixturevalue("native_stack")
    except pytest.FixtureLookupError:
        stack = None
    url = _stack_prometheus_url(stack) if stack is not None else os.environ.get("DTOBS_PROMETHEUS_URL")
    reason = None
    if not url:
        reason = "no native_stack fixture and DTOBS_PROMETHEUS_URL is not set"
    elif not url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        reason = f"loopback only: refusing {url}"
    elif not _reachable(url):
        reason = f"Prometheus at {url} is not reachable"
    if reason:
        if in_ci():
            pytest.fail(f"{reason} (required under CI=true)")
        pytest.skip(reason)
    return url.rstrip("/")


def _has_data(url: str, expr: str) -> bool:
    q = urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=10) as r:
        body = json.loads(r.read())
    return body.get("status") == "success" and bool(body["data"]["result"])


def test_every_promql_panel_returns_data(prometheus_url):
    """Each Prometheus query of every dashboard answers with at least one series."""
    dashboards = generate_dashboards(REPO / "observability.yaml")
    queries = [q for q in resolved_queries(dashboards)
               if q.datasource_uid == contract.DATASOURCE_UID_PROMETHEUS
               and not any(m in q.expr for m in COMPOSE_ONLY)]
    assert queries
    missing = list(queries)
    errors: dict[str, str] = {}
    deadline = time.monotonic() + DATA_TIMEOUT
    while missing and time.monotonic() < deadline:
        still = []
        for q in missing:
            try:
                ok = _has_data(prometheus_url, q.expr)
            except OSError as exc:
                ok, errors[q.expr] = False, repr(exc)
            if not ok:
                still.append(q)
        missing = still
        if missing:
            time.sleep(2)
    report = "\n".join(f"  {q.dashboard} / {q.panel}: {q.expr}  {errors.get(q.expr, '')}" for q in missing)
    assert not missing, f"{len(missing)} of {len(queries)} dashboard queries returned no data:\n{report}"
