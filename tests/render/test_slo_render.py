"""SLO rules, tests and Alertmanager config rendered from the model."""

from __future__ import annotations

import re

import yaml

from day_trade.observability import contract as c
from dtobs.model.slo import build_slos
from dtobs.render import alertmanager, promtool_tests, slo_rules
from dtobs.spec.alerting import AlertingSpec
from dtobs.spec.slo import SLOSpec
from dtobs.spec.yaml_lines import LineMap


def _slo(**kw):
    spec = SLOSpec.model_validate({**dict(name="x", service="s", objective=99.9, sli={"events": {}}), **kw})
    return build_slos([spec], LineMap("f", {}), check_promql=False)[0]


def _rules(slo):
    return [r for g in slo_rules.rule_groups(slo) for r in g["rules"]]


class TestRules:
    def test_rule_count_without_and_with_hft(self):
        assert len(_rules(_slo())) == 18
        assert len(_rules(_slo(hft=True, scrape_interval="1s"))) == 20

    def test_long_windows_are_ratios_of_summed_tiles_never_averages(self):
        for rule in _rules(_slo()):
            assert "avg_over_time" not in rule["expr"]
        thirty = next(r for r in _rules(_slo()) if r.get("record") == c.SLO_BURN_RATE.format(window="30d"))
        assert thirty["expr"].startswith("sum_over_time(slo:sli_error:increase5m")

    def test_groups_intervals(self):
        groups = {g["name"]: g["interval"] for g in slo_rules.rule_groups(_slo(hft=True, scrape_interval="1s"))}
        assert groups == {"slo-x-fast": "1s", "slo-x-short": "30s", "slo-x-long": "5m"}

    def test_every_alert_has_slo_service_severity_and_runbook(self):
        for rule in _rules(_slo(hft=True, scrape_interval="1s")):
            if "alert" in rule:
                assert {"slo", "service", "severity"} <= set(rule["labels"])
                assert rule["labels"]["severity"] in ("page", "ticket")
                assert rule["annotations"]["runbook_url"].startswith("https://")
                assert rule["annotations"]["summary"] and rule["annotations"]["budget_burned"]

    def test_contract_series_are_recorded(self):
        names = {r.get("record") for r in _rules(_slo())}
        assert {c.SLO_OBJECTIVE, c.SLO_BUDGET_REMAINING, c.SLO_BURN_RATE_1H, c.SLO_TIME_TO_EXHAUSTION} <= names


class TestPromtoolTests:
    def test_outage_bound_hft_is_faster_than_workbook(self):
        hft = _slo(hft=True, scrape_interval="1s")
        page_only = _slo()
        assert promtool_tests.outage_bound(hft) < promtool_tests.outage_bound(page_only)

    def test_custom_queries_get_no_generated_test(self):
        slo = _slo(sli={"events": {"error_query": "sum(rate(e[{{window}}]))", "total_query": "sum(rate(t[{{window}}]))"}})
        assert not promtool_tests.Traffic(slo).supported()

    def test_counter_notation_is_continuous(self):
        assert promtool_tests._counter([(10, 3), (20, 2)]) == "0+10x2 40+20x1"


class TestAlertmanager:
    def test_page_inhibits_ticket_of_the_same_slo(self):
        cfg = alertmanager.config(AlertingSpec())
        (rule,) = cfg["inhibit_rules"]
        assert rule["equal"] == ["slo"] and 'severity="page"' in rule["source_matchers"]

    def test_secrets_are_files(self):
        cfg = alertmanager.config(AlertingSpec.model_validate({
            "oncall": {"pagerduty_routing_key_file": "/s/pd"}, "chat": {"slack_api_url_file": "/s/slack"}}))
        text = yaml.safe_dump(cfg)
        assert "routing_key_file: /s/pd" in text and "api_url_file: /s/slack" in text
        assert not re.search(r"\b(routing_key|api_url):", text)


class TestFastYaml:
    def test_rendered_structures_round_trip(self):
        from dtobs.render._yaml import dump

        slo = _slo(hft=True, scrape_interval="1s", sli={"latency": {"threshold": 50}})
        for value in (slo_rules.rule_groups(slo), promtool_tests.tests_doc(slo), alertmanager.config(AlertingSpec()),
                      {"y": "yes", "n": "08:00", "e": "", "h": "#x", "k": "a: b", "l": [], "d": {}, "f": 1e-06}):
            assert yaml.safe_load(dump(value)) == value
