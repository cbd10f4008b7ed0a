"""The SLO model: factors scaled by period, SLI expressions, bucket matching."""

from __future__ import annotations

import pytest

from dtobs.errors import SpecError
from dtobs.model.durations import format_duration, parse_duration
from dtobs.model.slo import build_slos
from dtobs.spec.slo import SLOSpec
from dtobs.spec.yaml_lines import LineMap


def _slo(**kw):
    base = dict(name="x", service="s", objective=99.9, sli={"events": {}})
    return SLOSpec.model_validate({**base, **kw})


def _build(*specs):
    return build_slos(list(specs), LineMap("spec.yaml", {}), check_promql=False)


class TestDurations:
    def test_round_trip(self):
        assert [format_duration(parse_duration(d)) for d in ("30s", "5m", "1h", "6h", "1d", "28d", "1h30m")] == \
               ["30s", "5m", "1h", "6h", "1d", "28d", "90m"]

    def test_rejects_garbage(self):
        with pytest.raises(ValueError):
            parse_duration("5 minutes")


class TestFactors:
    def test_workbook_factors_for_30d(self):
        (slo,) = _build(_slo())
        assert [p.factor for t in slo.tiers for p in t.pairs] == [14.4, 6, 3, 1]

    def test_factors_scale_with_the_period(self):
        (slo,) = _build(_slo(period="28d"))
        assert [p.factor for t in slo.tiers for p in t.pairs] == [13.44, 5.6, 2.8, 0.9333]

    def test_hft_tier_only_when_asked(self):
        (plain, hft) = _build(_slo(name="a"), _slo(name="b", hft=True, scrape_interval="1s"))
        assert plain.tier("hft") is None and hft.tier("hft").pairs[0].factor == 43.2
        assert hft.fast_windows == ("30s", "5m")


class TestSLI:
    def test_contract_latency_reads_the_threshold_bucket_in_both_spellings(self):
        (slo,) = _build(_slo(sli={"latency": {"threshold": 50}}))
        assert 'dtobs_sli_value_bucket{slo="x",le=~"50|50\\\\.0"}[5m]' in slo.sli.errors("5m")

    def test_events_good_query_becomes_total_minus_good(self):
        (slo,) = _build(_slo(sli={"events": {"good_query": "sum(rate(ok[{{window}}]))",
                                             "total_query": "sum(rate(all[{{.window}}]))"}}))
        assert slo.sli.errors("1h") == "((sum(rate(all[1h]))) - (sum(rate(ok[1h]))))"

    def test_availability_of_an_expression_uses_a_subquery(self):
        (slo,) = _build(_slo(sli={"availability": {"query": "probe_success == 1"}}))
        assert "[5m:15s]" in slo.sli.total("5m")


class TestValidation:
    def test_all_problems_reported_at_once(self):
        with pytest.raises(SpecError) as err:
            _build(_slo(name="a", objective=90), _slo(name="a", sli={"latency": {"threshold": 33}}))
        messages = [p.message for p in err.value.problems]
        assert any("can never fire" in m for m in messages)
        assert any("duplicate SLO name" in m for m in messages)
        assert any("not a bucket boundary" in m for m in messages)
