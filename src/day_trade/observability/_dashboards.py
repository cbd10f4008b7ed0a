"""generate_dashboards(): a lazy bridge to the generator (never imported at library import)."""

from __future__ import annotations

import logging
from typing import Any

_log = logging.getLogger("day_trade.observability")


def generate_dashboards(*args: Any, **kwargs: Any) -> Any:
    """Generate the dashboards with `dtobs.dashboards.generate_dashboards`.

    The generator (and YAML/Jinja/pydantic with it) is imported on first call only. When it is
    not available or fails, a warning is logged and an empty dict returned: never raises.
    """
    try:
        from dtobs.dashboards import generate_dashboards as _gen
    except Exception as exc:  # noqa: BLE001 - ImportError, or the generator failing to import
        _log.warning("generate_dashboards: the dashboard generator is not available (%s)", exc)
        return {}
    try:
        result = _gen(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001
        _log.warning("generate_dashboards failed: %s: %s", type(exc).__name__, exc)
        return {}
    return {} if result is None else result
