"""Fixtures of the end-to-end tests (`pytest -m e2e`): the real stack and a synthetic trading app.

    native_stack   session: render observability.yaml (free loopback ports), start the five native
                   backends with dtobs.backends.supervisor.up, every Alertmanager receiver pointed
                   at `webhook`; the synthetic trader runs against it (`native_stack.trader`) from
                   start to end. Stopped with supervisor.down at the end, also on failure.
    compose_stack  the same on docker-compose.observability.yml through testcontainers, when a
                   Docker engine answers (`docker info`); skipped with the reason otherwise.
    stack          parametrised over both: the flow tests run once per stack kind.
    webhook        session: the Alertmanager webhook receiver (tests/e2e/helpers.py) on 127.0.0.1.

A native stack that cannot run here (binaries not built) is skipped locally with the reason and
FAILS under CI=true. The compose stack skips with the reason wherever no Docker engine answers
(none does on our machines or CI). A backend that is installed but does not start fails everywhere.
DTOBS_E2E_KEEP=1 keeps the rendered configs and logs (under /tmp/dtobs-e2e-*) after the run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import stacks  # noqa: E402
from figures import FIGURES, SUMMARY_FILE, record, summary_line  # noqa: E402
from helpers import WebhookReceiver  # noqa: E402
from synthetic_trade import SyntheticTrader  # noqa: E402

from _tools import free_loopback_ports  # noqa: E402
from dtobs.check.tools import in_ci  # noqa: E402

TRADE_RATE_PER_S = 20.0  # steady background trading while the stack is up
_traders: list[SyntheticTrader] = []


def unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def _start_trader(otlp_endpoint: str, metrics_port: int, metrics_host: str = "127.0.0.1") -> SyntheticTrader:
    while _traders:  # one library runtime per process: a new stack's trader replaces the old one
        _traders.pop().close()
    trader = SyntheticTrader(otlp_endpoint, metrics_port, metrics_host=metrics_host,
                             span_buffer_size=1024, log_buffer_size=128).start()
    _traders.append(trader)
    return trader.run(TRADE_RATE_PER_S).push_otlp_metrics(every_s=5.0)


@pytest.fixture(scope="session")
def webhook():
    with WebhookReceiver() as hook:
        yield hook


@pytest.fixture(scope="session")
def native_stack(webhook):
    from dtobs.backends.services import ServiceError

    try:
        stack = stacks.start_native(webhook.url, keep=stacks.env_flag("DTOBS_E2E_KEEP"))
    except stacks.StackUnavailable as exc:
        unavailable(str(exc))
    except ServiceError as exc:
        pytest.fail(f"the native stack did not start: {exc}", pytrace=False)
    try:
        record("stack_startup_s", stack.startup_s)
        stack.trader = _start_trader(stack.otlp_http_endpoint, stack.app_metrics_port)
        _wait_for_first_log(stack)
        yield stack
    finally:
        for trader in list(_traders):
            trader.close()
        _traders.clear()
        record_backend_rss(stack)
        stack.close()


@pytest.fixture(scope="session")
def compose_stack(webhook):
    reason = stacks.docker_answers()
    if reason:
        # No Docker engine on our machines or CI: the compose variants skip even under CI=true,
        # where the native stack is the mandatory one.
        pytest.skip(f"compose stack needs a Docker engine: {reason}")
    with WebhookReceiver(host=stacks.webhook_host_for_compose()) as hook:
        app_port = free_loopback_ports(("app_metrics",))["app_metrics"]
        try:
            stack = stacks.start_compose(hook.url, app_port)
        except stacks.StackUnavailable as exc:
            unavailable(str(exc))
        stack.webhook = hook
        try:
            stack.trader = _start_trader(stack.otlp_http_endpoint, app_port,
                                         metrics_host=stacks.webhook_host_for_compose())
            yield stack
        finally:
            for trader in list(_traders):
                trader.close()
            _traders.clear()
            stack.close()


@pytest.fixture(scope="session", params=["native", "compose"])
def stack(request):
    """The flow tests run against each stack kind that can run here."""
    return request.getfixturevalue(f"{request.param}_stack")


@pytest.fixture(scope="session")
def stack_webhook(stack, webhook):
    """The webhook the stack's Alertmanager notifies."""
    return getattr(stack, "webhook", None) or webhook


def _wait_for_first_log(stack, timeout: float = 90) -> None:
    """Ready means ready to measure: the first log line written creates the log index (mapping
    and shard allocation take seconds on 2 cores), which is not what log_visible_ms measures."""
    from helpers import poll
    from queries import count_docs

    _, took = poll(f"first log line in {stack.logs_index}",
                   lambda: count_docs(stack.opensearch_url, stack.logs_index, stack.logs_auth), timeout, 0.2)
    record("first_log_indexed_s", took)


def record_backend_rss(stack) -> None:
    try:
        from stacks import rss_mib

        for service, pid in stack.pids().items():
            record(f"rss_{service}_mib", rss_mib(pid))
    except Exception:  # noqa: BLE001 - figures only
        pass


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not FIGURES:
        return
    line = summary_line()
    terminalreporter.write_sep("-", "e2e figures")
    terminalreporter.write_line(line)
    try:
        SUMMARY_FILE.parent.mkdir(parents=True, exist_ok=True)
        SUMMARY_FILE.write_text(line + "\n")
    except OSError as exc:
        terminalreporter.write_line(f"(could not write {SUMMARY_FILE}: {exc})")


def pytest_sessionfinish(session, exitstatus):
    # Never leave the library's threads exporting into a stopped stack.
    for trader in list(_traders):
        trader.close()
    _traders.clear()
