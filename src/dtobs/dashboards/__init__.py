"""Grafana dashboards as code, built with grafana-foundation-sdk from observability.yaml.

`generate_dashboards()` → {name: dashboard JSON model}; `dtobs render` writes them to
dashboards/<name>.json, which the compose stack provisions into Grafana. `dashboard_queries()`
lists every panel query, for the checker (promtool) and the live end-to-end test.
"""

from dtobs.dashboards._build import (
    DASHBOARDS,
    Query,
    build_dashboards,
    dashboard_path,
    dashboard_queries,
    generate_dashboards,
    resolved_queries,
    substitute,
    template_values,
)
from dtobs.dashboards._common import to_text

__all__ = sorted([
    "DASHBOARDS",
    "Query",
    "build_dashboards",
    "dashboard_path",
    "dashboard_queries",
    "generate_dashboards",
    "resolved_queries",
    "substitute",
    "template_values",
    "to_text",
])
