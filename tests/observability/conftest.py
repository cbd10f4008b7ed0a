"""Fixtures of the runtime-library tests: every test starts from a clean library state."""

from __future__ import annotations

import pytest

from day_trade.observability import _hft, metrics, shutdown_observability, structured_logging, telemetry_config
from day_trade.observability.testing import free_loopback_port, reset_self_metrics


@pytest.fixture(autouse=True)
def clean_library():
    reset_self_metrics()
    metrics._reset_for_tests()
    _hft.configure_buffer(65_536)
    yield
    shutdown_observability(timeout_s=1.0)
    telemetry_config._configure("hft", None)
    structured_logging.configure_logging(output="none")
    _hft.configure_buffer(65_536)


@pytest.fixture()
def dead_endpoint() -> str:
    """An OTLP base URL on loopback where nothing listens."""
    return f"http://127.0.0.1:{free_loopback_port()}"


@pytest.fixture()
def quick_export() -> dict:
    """Settings that keep export retries short and the endpoint off (tests bound every wait)."""
    return {
        "metrics_port": -1,
        "export_timeout_s": 0.3,
        "export_backoff_initial_s": 0.05,
        "export_backoff_max_s": 0.2,
        "export_interval_s": 0.01,
        "log_output": "none",
        "auto_instrument": False,
    }
