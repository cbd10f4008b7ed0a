"""Render the model into files: each renderer returns {relative path: text}; presentation only.

Renderers are listed in RENDERERS in the order they run. A renderer that needs the stack returns
nothing for imported Sloth/OpenSLO specs (model.stack is None).
"""

from __future__ import annotations

from typing import Callable

from dtobs.errors import Problem, SpecError

RenderedFiles = dict[str, str]
Renderer = Callable[["Model"], RenderedFiles]  # noqa: F821


def _renderers() -> list[Renderer]:
    # Imported here so each output's module stays independent and importable on its own.
    from dtobs.render import alertmanager, dashboards, promtool_tests, slo_rules
    from dtobs.render import stack_collector, stack_compose, stack_grafana, stack_jaeger, stack_logstore, stack_prometheus

    return [slo_rules.render, promtool_tests.render, alertmanager.render, dashboards.render,
            stack_collector.render, stack_jaeger.render, stack_prometheus.render, stack_logstore.render,
            stack_grafana.render, stack_compose.render]


def render_all(model) -> RenderedFiles:
    files: RenderedFiles = {}
    for renderer in _renderers():
        for path, text in renderer(model).items():
            if path in files:
                raise SpecError([Problem(model.source, None, "", f"two renderers produce {path}")])
            files[path] = text
    return files
