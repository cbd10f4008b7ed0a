"""dtobs.dashboards: what the generated dashboards contain, and that they are byte-stable."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from day_trade.observability import contract
from dtobs.dashboards import build_dashboards, dashboard_queries, generate_dashboards, to_text

FIXTURE_SPEC = Path(__file__).parent / "fixtures" / "observability.yaml"
GOLDEN = Path(__file__).parent / "golden"


def _panels(model):
    for panel in model["panels"]:
        yield panel
        yield from panel.get("panels") or []


def _panel(model, title):
    return next(p for p in _panels(model) if p["title"] == title)


class TestGolden:
    @pytest.mark.parametrize("name", ["hft", "slo", "platform", "security"])
    def test_matches_golden(self, dashboards, name):
        """Each dashboard equals its golden file (DTOBS_UPDATE_GOLDEN=1 rewrites them)."""
        path = GOLDEN / f"{name}.json"
        text = to_text(dashboards[name])
        if os.environ.get("DTOBS_UPDATE_GOLDEN"):
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == text

    def test_two_builds_are_identical(self, model, dashboards):
        """Building twice gives byte-identical JSON (stable ids, sorted keys)."""
        again = build_dashboards(model)
        assert {n: to_text(d) for n, d in again.items()} == {n: to_text(d) for n, d in dashboards.items()}


class TestHFT:
    def test_refreshes_every_second(self, dashboards):
        """The HFT dashboard refreshes at 1 s and offers 1s in the picker."""
        assert dashboards["hft"]["refresh"] == "1s"
        assert "1s" in dashboards["hft"]["timepicker"]["refresh_intervals"]

    def test_percentiles_with_exemplars(self, dashboards):
        """p50/p99/p99.9 come from histogram_quantile over the trade histogram, exemplars on."""
        targets = _panel(dashboards["hft"], "Trade latency percentiles")["targets"]
        assert [t["legendFormat"] for t in targets] == ["p50", "p99", "p99.9"]
        for t, q in zip(targets, ("0.5", "0.99", "0.999")):
            assert t["expr"].startswith(f"histogram_quantile({q}, ")
            assert f"{contract.TRADE_LATENCY_SECONDS}_bucket" in t["expr"]
            assert t["exemplar"] is True

    def test_heatmap_reads_buckets(self, dashboards):
        """The heatmap panel reads the histogram buckets in heatmap format, with exemplars."""
        panel = _panel(dashboards["hft"], "Trade latency heatmap")
        assert panel["type"] == "heatmap"
        (t,) = panel["targets"]
        assert t["format"] == "heatmap" and t["exemplar"] is True and t["legendFormat"] == "{{le}}"

    def test_trace_logs_from_logs_datasource(self, dashboards):
        """The logs panel queries the logs datasource (OpenSearch plugin) by the trace_id variable."""
        (t,) = _panel(dashboards["hft"], "Logs of trace $trace_id")["targets"]
        assert t["datasource"] == {"type": "grafana-opensearch-datasource", "uid": contract.DATASOURCE_UID_LOGS}
        assert "${trace_id}" in t["query"] and t["luceneQueryType"] == "Logs"

    def test_elasticsearch_backend_uses_elasticsearch_plugin(self, model):
        """With logs_backend elasticsearch the same panel uses the core Elasticsearch datasource type."""
        es_model = replace(model, stack=replace(model.stack, logs_backend="elasticsearch"))
        hft = build_dashboards(es_model)["hft"]
        (t,) = _panel(hft, "Logs of trace $trace_id")["targets"]
        assert t["datasource"]["type"] == "elasticsearch" and "luceneQueryType" not in t

    def test_throughput_and_success(self, dashboards):
        """Throughput and success read the trades counter."""
        exprs = [t["expr"] for p in _panels(dashboards["hft"]) for t in p.get("targets", []) if "expr" in t]
        assert any(e.startswith(f"sum by (result) (rate({contract.TRADES_TOTAL}") for e in exprs)
        assert any('result="success"' in e for e in exprs)


class TestSLO:
    def test_one_row_per_slo(self, model, dashboards):
        """The SLO dashboard has exactly one row per SLO of the spec, in spec order."""
        rows = [p["title"] for p in dashboards["slo"]["panels"] if p["type"] == "row"]
        assert len(rows) == len(model.slos) == 2
        assert [r.split(" — ")[0] for r in rows] == [s.name for s in model.slos]

    def test_row_panels(self, dashboards):
        """Each row shows objective, SLI, budget, burn rates, exhaustion and firing alerts."""
        queries = [q for q in dashboard_queries(dashboards) if q.dashboard == "slo"]
        for name in ("trade_latency_slo", "order_api_availability_slo"):
            mine = [q.expr for q in queries if f'slo="{name}"' in q.expr]
            for rule in (contract.SLO_OBJECTIVE, contract.SLO_BUDGET_REMAINING, contract.SLO_BURN_RATE_1H,
                         contract.SLO_TIME_TO_EXHAUSTION):
                assert any(e.startswith(rule + "{") for e in mine), rule
            assert any(e.startswith("count(ALERTS{") for e in mine)

    def test_burn_rate_for_every_alert_window(self, model, dashboards):
        """The burn-rate panel of an SLO has a query for every long and short window of its tiers."""
        slo = model.slos[0]
        windows = {w for t in slo.tiers for p in t.pairs for w in (p.long, p.short)}
        assert windows, "the fixture SLO has alert tiers"
        burn = [q.expr for q in dashboard_queries(dashboards)
                if q.panel == "Burn rate per alert window" and f'slo="{slo.name}"' in q.expr]
        for w in windows:
            assert f'slo:burn_rate:ratio_rate{w}{{slo="{slo.name}"}}' in burn


class TestPlatformAndSecurity:
    def test_platform_metrics(self, dashboards):
        """The platform dashboard covers collector, queue, scrape, rules and Alertmanager."""
        text = json.dumps(dashboards["platform"])
        for needle in ("otelcol_receiver_accepted_spans(_total)?", "otelcol_receiver_refused_spans",
                       "otelcol_exporter_queue_size", "scrape_duration_seconds",
                       "prometheus_rule_group_last_duration_seconds", "alertmanager_notifications_total",
                       "alertmanager_notifications_failed_total", "elasticsearch_cluster_health_status",
                       contract.SELF_SPANS_DROPPED_TOTAL):
            assert needle in text, needle

    def test_security_panels(self, dashboards):
        """Masked secrets from Prometheus; security-tagged events from the logs datasource."""
        queries = [q for q in dashboard_queries(dashboards) if q.dashboard == "security"]
        assert any(contract.SELF_SECRETS_MASKED_TOTAL in q.expr for q in queries)
        logs = [q for q in queries if q.datasource_uid == contract.DATASOURCE_UID_LOGS]
        assert logs and all("security" in q.expr for q in logs)
        assert any(q.panel == "Authentication failures" for q in logs)


class TestGenerate:
    def test_writes_files(self, tmp_path):
        """generate_dashboards(out_dir=...) writes <name>.json in the committed form."""
        result = generate_dashboards(FIXTURE_SPEC, tmp_path)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.json" for n in result)
        assert (tmp_path / "hft.json").read_text() == to_text(result["hft"])

    def test_no_stack_no_dashboards(self):
        """Imported Sloth/OpenSLO specs (no stack) get no dashboards."""
        assert build_dashboards(SimpleNamespace(stack=None, slos=())) == {}
