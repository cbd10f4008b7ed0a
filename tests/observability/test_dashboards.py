"""generate_dashboards(): lazy, never raises, empty dict when the generator is unavailable."""

from __future__ import annotations

import sys
import types

from day_trade.observability import generate_dashboards


def test_generator_missing_returns_empty_dict(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "dtobs.dashboards", None)  # import fails
    assert generate_dashboards() == {}
    assert "not available" in caplog.text


def test_generator_failure_returns_empty_dict(monkeypatch):
    mod = types.ModuleType("dtobs.dashboards")

    def boom(*a, **k):
        raise RuntimeError("spec broken")

    mod.generate_dashboards = boom
    monkeypatch.setitem(sys.modules, "dtobs.dashboards", mod)
    assert generate_dashboards() == {}


def test_generator_result_is_returned(monkeypatch):
    mod = types.ModuleType("dtobs.dashboards")
    mod.generate_dashboards = lambda *a, **k: {"trading.json": {"title": "Trading", "args": a, "kw": k}}
    monkeypatch.setitem(sys.modules, "dtobs.dashboards", mod)
    out = generate_dashboards("spec.yaml", out="x")
    assert out["trading.json"]["args"] == ("spec.yaml",) and out["trading.json"]["kw"] == {"out": "x"}
