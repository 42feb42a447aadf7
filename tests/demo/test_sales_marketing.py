"""The demo's sales and marketing sections: what they print is what they stored in SQLite."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest

from crmcore.cli import main
from crmcore.demo.marketing import workflows
from crmcore.demo.sales import SCORING
from crmcore.sales.lead_machine import LeadStatus
from crmcore.storage.sqlite import SqliteStore


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    path = tmp_path_factory.mktemp("demo-sm") / "demo.db"
    out = io.StringIO()
    assert main(["demo", "--db", str(path), "--customers", "600", "--seed", "11"], out) == 0
    return out.getvalue(), path


def _number(text: str, label: str) -> int:
    found = re.search(rf"{re.escape(label)}\s+([\d,]+)\n", text)
    assert found is not None, label
    return int(found.group(1).replace(",", ""))


def test_the_sales_section_prints_what_it_stored(demo: tuple[str, Path]) -> None:
    text, path = demo
    converted = _number(text, "converted to customer + opportunity")
    assert 0 < converted <= 25
    with SqliteStore(path) as store, store.unit_of_work() as uow:
        assert uow.leads.count() == _number(text, "leads captured") == 400
        leads = uow.leads.list(limit=1000).items
        done = [lead for lead in leads if lead.status is LeadStatus.CONVERTED]
        assert len(done) == converted == _number(text, "status converted")
        for lead in done:
            assert lead.opportunity_id is not None
            opportunity = uow.opportunities.get(lead.opportunity_id)
            assert opportunity.lead_id == lead.id
            assert uow.customers.get(str(lead.customer_id)).version >= 1
        merged = [lead for lead in leads if lead.merged_into is not None]
        assert len(merged) == _number(text, "duplicates merged on purpose")
        assert uow.opportunities.count() == converted + 200
        stages = re.findall(r"\n  (Appointment scheduled|Contract sent)\s+(\d+)", text)
        assert len(stages) == 2
        pipeline = uow.pipelines.get("sales")
        frame = uow.opportunities.to_frame(pipeline)
    assert len(frame) == converted + 200
    assert len(SCORING.fit) + len(SCORING.engagement) == 7


def test_the_marketing_section_prints_what_it_stored(demo: tuple[str, Path]) -> None:
    text, path = demo
    found = re.search(r"(\d+) intents in the outbox, (\d+) idempotency keys", text)
    assert found is not None
    assert found.group(1) == found.group(2) != "0"  # every intent once
    coupons = int(re.search(r"issue_coupon\s+(\d+)", text).group(1))  # type: ignore[union-attr]
    sent = int(re.search(r"(\d+) e-mails sent", text).group(1))  # type: ignore[union-attr]
    with SqliteStore(path) as store, store.unit_of_work() as uow:
        catalog = uow.workflows.all()
        assert sorted(catalog.ids) == sorted(w.id for w in workflows())
        issued = sum(uow.coupon_pools.get(d).issued for d in ("back10", "birthday"))
        assert issued == coupons
        campaign = uow.campaigns.get("spring")
        assert campaign.usage.messages == sent > 0
        assert campaign.usage.messages <= (campaign.budget.messages or 0)
        last = uow.send_counts.last_run()
        assert last is not None
        assert uow.enrolments.due(last - timedelta(days=10)) == ()
        enrolled = sum(len(uow.enrolments.of_workflow(w.id)) for w in workflows())
        table = text.split("  workflow  enrolled\n")[1].split("  intent ")[0]
        shown = sum(int(n) for n in re.findall(r"\n  [a-z-]+\s+(\d+)", "\n" + table))
    assert enrolled == shown > 0
