"""dtobs.check.dashboards and dtobs.dashboards.dashboard_queries: the checks find real faults."""

from __future__ import annotations

import copy
import json

import pytest

from day_trade.observability import contract
from dtobs.check.dashboards import (PROVISIONED_UIDS, check, check_promql, schema_problems, structure_problems)
from dtobs.check.tools import find_tool, in_ci
from dtobs.dashboards import dashboard_queries, resolved_queries, substitute, template_values, to_text

needs_promtool = pytest.mark.skipif(not find_tool("promtool") and not in_ci(),
                                    reason="promtool not installed (apt-get install prometheus)")


class TestQueries:
    def test_every_target_listed(self, dashboards):
        """dashboard_queries lists one entry per panel target, with its datasource uid."""
        n_targets = sum(len(p.get("targets", [])) for d in dashboards.values() for p in d["panels"])
        queries = dashboard_queries(dashboards)
        assert len(queries) == n_targets > 40
        assert {q.datasource_uid for q in queries} <= PROVISIONED_UIDS
        assert all(q.expr for q in queries)

    def test_datasource_uids_are_the_provisioned_ones(self, dashboards):
        """Every uid is one of contract.DATASOURCE_UID_*; Prometheus and logs are both used."""
        uids = {q.datasource_uid for q in dashboard_queries(dashboards)}
        assert uids == {contract.DATASOURCE_UID_PROMETHEUS, contract.DATASOURCE_UID_LOGS}

    def test_variables_substituted(self, dashboards):
        """Resolved PromQL has no Grafana variable left: $symbol → .*, $__rate_interval → 1m."""
        for q in resolved_queries(dashboards):
            if q.datasource_uid == contract.DATASOURCE_UID_PROMETHEUS:
                assert "$" not in q.expr, q
        values = template_values(dashboards["hft"])
        assert substitute('x{symbol=~"$symbol"}[$__rate_interval]', values) == 'x{symbol=~".*"}[1m]'
        assert substitute("${trace_id}", values) == "*"


@needs_promtool
class TestPromtool:
    def test_all_dashboard_queries_parse(self, dashboards):
        """promtool parses every PromQL expression of every dashboard."""
        exprs = [(f"{q.dashboard}/{q.panel}", q.expr) for q in resolved_queries(dashboards)
                 if q.datasource_uid == contract.DATASOURCE_UID_PROMETHEUS]
        result = check_promql(exprs)
        assert result.ok, result.detail

    def test_broken_expression_fails(self):
        """A query that does not parse fails the check and names its panel."""
        result = check_promql([("hft/ok", "sum(rate(x[1m]))"), ("hft/bad panel", "sum(rate(x[1m])")])
        assert not result.ok and "hft/bad panel" in result.detail

    def test_unresolved_variable_fails(self):
        """An unknown Grafana variable left in a query is reported, not sent to promtool."""
        result = check_promql([("d/p", 'x{a="$nope"}')])
        assert not result.ok and "$nope" in result.detail

    def test_check_on_rendered_tree(self, dashboards, tmp_path):
        """check(root) passes on freshly rendered dashboards/ and fails once one breaks."""
        (tmp_path / "dashboards").mkdir()
        for name, d in dashboards.items():
            (tmp_path / "dashboards" / f"{name}.json").write_text(to_text(d))
        results = check(tmp_path)
        assert results and all(r.ok for r in results), [r for r in results if not r.ok]
        broken = copy.deepcopy(dashboards["hft"])
        broken["panels"][1]["targets"][0]["expr"] = "histogram_quantile(0.99, "
        (tmp_path / "dashboards" / "hft.json").write_text(json.dumps(broken))
        assert not all(r.ok for r in check(tmp_path))


class TestStructure:
    def test_generated_dashboards_are_clean(self, dashboards):
        """No structural problem and no schema problem in any generated dashboard."""
        for name, d in dashboards.items():
            assert structure_problems(d) == [], name
            assert schema_problems(d) == [], name

    def test_duplicate_panel_id(self, dashboards):
        d = copy.deepcopy(dashboards["hft"])
        d["panels"][2]["id"] = d["panels"][1]["id"]
        assert any("already used" in p for p in structure_problems(d))

    def test_overlapping_panels(self, dashboards):
        d = copy.deepcopy(dashboards["hft"])
        d["panels"][2]["gridPos"] = dict(d["panels"][1]["gridPos"])
        assert any("overlaps" in p for p in structure_problems(d))

    def test_too_wide(self, dashboards):
        d = copy.deepcopy(dashboards["hft"])
        d["panels"][1]["gridPos"]["x"] = 20
        assert any("wider than 24" in p for p in structure_problems(d))

    def test_unknown_datasource_uid(self, dashboards):
        d = copy.deepcopy(dashboards["hft"])
        d["panels"][1]["targets"][0]["datasource"]["uid"] = "PBFA97CFB590B2093"
        assert any("not provisioned" in p for p in structure_problems(d))

    def test_schema_flags_unknown_field(self, dashboards):
        """A key the Grafana schema does not know (a typo) is reported by the SDK round-trip."""
        d = copy.deepcopy(dashboards["hft"])
        d["panels"][1]["gridPosition"] = {"x": 0}
        d["refersh"] = "1s"
        problems = schema_problems(d)
        assert any("gridPosition" in p for p in problems) and any("refersh" in p for p in problems)


class TestRecordedRules:
    def test_unrecorded_rule_reported(self, tmp_path):
        """A dashboard reading an slo:* series that no rules file records is reported."""
        from dtobs.check.dashboards import unrecorded_rules

        assert unrecorded_rules([("d/p", "slo:x:ratio")], tmp_path) is None  # no rules rendered here
        rules = tmp_path / "config" / "rules"
        rules.mkdir(parents=True)
        (rules / "slo-a.yml").write_text("groups:\n- name: g\n  rules:\n  - record: slo:x:ratio\n    expr: vector(1)\n")
        assert unrecorded_rules([("d/p", 'slo:x:ratio{slo="a"}')], tmp_path) == []
        (problem,) = unrecorded_rules([("d/q", 'slo:burn_rate:ratio_rate7m{slo="a"}')], tmp_path)
        assert "d/q" in problem and "slo:burn_rate:ratio_rate7m" in problem
