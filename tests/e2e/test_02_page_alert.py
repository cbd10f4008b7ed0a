"""An outage pages: every trade fails (record_sli(..., success=False) at the steady trade rate),
the generated burn-rate rule fires, Alertmanager routes the page to the on-call receiver (the
test's webhook), and the page resolves after recovery.

What bounds the detection time (full outage → page at the webhook), with the rendered config:
  scrape interval 1 s (trading-app, HFT tier) + the `slo-trade_success_slo-fast` group every 1 s
  + the 5m and 30s burn windows both above 43.2× (the 5m window needs 43.2 × 0.05 % = 2.16 % of
  its events to be errors: a few seconds of full outage after minutes of healthy trading)
  + no `for:` on the HFT-tier alert + Alertmanager's page route group_wait (10 s).
Resolution: the 30 s window drops below 43.2× ~30 s after recovery, then Alertmanager sends the
resolved notification at the group's next group_interval tick (1 m).
"""

from __future__ import annotations

import time

import pytest

from day_trade.observability import contract
from figures import record
from helpers import poll

pytestmark = pytest.mark.e2e

SLO = "trade_success_slo"
PAGE_TIMEOUT = 90  # s (goal: < 30 s)
RESOLVE_TIMEOUT = 180  # s: 30 s window + group_interval 1 m + slack


def test_outage_pages_oncall_and_resolves(stack, stack_webhook):
    hook = stack_webhook
    labels = {contract.ALERT_LABEL_SLO: SLO, contract.ALERT_LABEL_SEVERITY: contract.SEVERITY_PAGE}
    assert not hook.alerts("firing", **labels), "a page was firing before the outage"
    trader = stack.trader

    trader.failing = True
    outage_start = time.time()
    try:
        firing, _ = poll(f"page for {SLO} at the webhook", lambda: hook.alerts("firing", **labels),
                         PAGE_TIMEOUT, interval=0.05)
    finally:
        trader.failing = False
    recovered_at = time.time()
    first = min((n for n in hook.notifications if any(a in firing for a in n.get("alerts", []))),
                key=lambda n: n["_received_at"])
    record("page_detection_s", first["_received_at"] - outage_start)
    record("outage_trades_failed", float(trader.failures))

    assert first["_path"] == "/alerts/oncall", f"the page went to {first['_path']}, not the on-call receiver"
    for alert in firing:
        assert alert["labels"]["alertname"] == contract.ALERT_SLO_BURN
        assert alert["annotations"].get("runbook_url")
    # The HFT tier (5m & 30s windows, 1 s rule group) is the one that catches a full outage.
    assert any(a["labels"].get(contract.ALERT_LABEL_TIER) == "hft" for a in hook.alerts("firing", **labels)) or \
        poll("HFT-tier page", lambda: hook.alerts("firing", **labels, tier="hft"), 30)[0]
    assert not hook.alerts("firing", slo="trade_latency_slo"), "the outage paged the latency SLO too"

    resolved, _ = poll(f"{SLO} page resolved", lambda: hook.alerts("resolved", **labels, tier="hft"),
                       RESOLVE_TIMEOUT, interval=0.2)
    record("page_resolve_s", max(n["_received_at"] for n in hook.notifications
                                 if any(a in resolved for a in n.get("alerts", []))) - recovered_at)
