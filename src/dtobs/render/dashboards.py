"""Grafana dashboards: dashboards/<name>.json, built by dtobs.dashboards (grafana-foundation-sdk).

Nothing for imported Sloth/OpenSLO specs (model.stack is None): there is no stack to show.
"""

from __future__ import annotations


def render(model) -> dict[str, str]:
    if model.stack is None:
        return {}
    from dtobs.dashboards import build_dashboards, dashboard_path, to_text

    return {dashboard_path(name): to_text(dash) for name, dash in sorted(build_dashboards(model).items())}
