"""The campaign aggregate: its status table, its budget, its validation and its stored form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crmcore.columnar import CustomerFrame
from crmcore.datasets import synthetic
from crmcore.kernel import codec
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.money import Money
from crmcore.marketing.campaign_audience import campaign_audience
from crmcore.marketing.campaigns import (
    CAMPAIGN_MACHINE,
    Attribution,
    Campaign,
    CampaignBudget,
    CampaignStatus,
)
from crmcore.marketing.experiments import Split, Variant

T = datetime(2026, 6, 1, tzinfo=UTC)


def draft(**changes: object) -> Campaign:
    arguments: dict[str, object] = {
        "channels": ["email", "sms"],
        "starts_at": T,
        "ends_at": T + timedelta(days=14),
        "at": T - timedelta(days=5),
        "segment": "total_spent >= 100",
        "split": Split("0.1", (Variant("A"), Variant("B", 2))),
        "budget": CampaignBudget(money=Money("100", "EUR"), messages=4000, coupons=10),
        "cost_per_send": Money("0.03", "EUR"),
    }
    arguments.update(changes)
    return Campaign.draft("summer", "Summer sale", **arguments).value  # type: ignore[arg-type]


def running() -> Campaign:
    return draft().schedule(T - timedelta(days=1)).value.start(T).value


def test_a_campaign_walks_its_table_and_records_each_move() -> None:
    outcome = Campaign.draft("c1", "One", channels=["email"], starts_at=T, at=T)
    assert outcome.events[0].kind == "marketing.campaign_created"
    campaign = running().pause(T + timedelta(days=1)).value.resume(T + timedelta(days=2)).value
    done = campaign.complete(T + timedelta(days=3))
    assert done.value.status is CampaignStatus.COMPLETED
    assert [c.to_state.value for c in done.value.history] == [
        "scheduled",
        "running",
        "paused",
        "running",
        "completed",
    ]
    assert done.events[0].kind == "marketing.campaign_status_changed"
    assert CAMPAIGN_MACHINE.allowed_triggers(CampaignStatus.COMPLETED) == ()


def test_guards_refuse_a_start_before_its_time_and_a_resume_after_its_end() -> None:
    scheduled = draft().schedule(T - timedelta(days=1)).value
    with pytest.raises(IllegalTransitionError, match="starts at"):
        scheduled.start(T - timedelta(hours=1))
    paused = running().pause(T + timedelta(days=1)).value
    with pytest.raises(IllegalTransitionError, match="ended"):
        paused.resume(T + timedelta(days=20))
    with pytest.raises(IllegalTransitionError):
        draft().start(T)
    with pytest.raises(ValidationError, match="latest change"):
        running().pause(T - timedelta(days=3))


def test_usage_is_charged_only_while_running_and_never_beyond_a_budget() -> None:
    with pytest.raises(ValidationError, match="status"):
        draft().record_usage(T, messages=1)
    campaign = running()
    assert campaign.allowance(10_000) == 3333  # 100 EUR / 0.03 EUR a send
    used = campaign.record_usage(T, messages=3000, coupons=10)
    assert used.value.usage.money == Money("90.00", "EUR")
    assert [e.kind for e in used.events] == [
        "marketing.campaign_usage_recorded",
        "marketing.campaign_budget_exhausted",
    ]
    assert used.value.allowance(1000) == 333
    with pytest.raises(ValidationError, match=r"budget\.money"):
        used.value.record_usage(T, messages=334)
    with pytest.raises(ValidationError, match=r"budget\.coupons"):
        used.value.record_usage(T, coupons=1)
    assert used.value.record_usage(T, messages=333).value.usage.messages == 3333


def test_bad_campaigns_name_the_field() -> None:
    with pytest.raises(ValidationError, match="ends_at"):
        draft(ends_at=T - timedelta(days=1))
    with pytest.raises(ValidationError, match="channels"):
        draft(channels=["pigeon"])
    with pytest.raises(ValidationError, match="segment"):
        draft(segment="total_spent >>> 3")
    with pytest.raises(ValidationError, match="cost_per_send"):
        draft(cost_per_send=Money("0.03", "USD"))
    with pytest.raises(ValidationError, match="cost_per_send"):
        draft(cost_per_send=None)
    with pytest.raises(ValidationError, match=r"attribution\.window"):
        Attribution(window=timedelta(0))
    with pytest.raises(ValidationError, match=r"budget\.messages"):
        CampaignBudget(messages=-1)


def test_a_campaign_round_trips_through_the_codec() -> None:
    campaign = running().record_usage(T, messages=10).value
    data = codec.encode(campaign)
    assert codec.decode(Campaign, data) == campaign


def test_the_audience_is_the_target_without_erased_customers_split_by_hash() -> None:
    data = synthetic.generate(600, seed=11)
    frame = CustomerFrame.from_customers(data.customers)
    campaign = draft(segment="purchase_count >= 1", starts_at=data.end, ends_at=None, at=data.end)
    audience = campaign_audience(campaign, frame, data.end)
    buyers = {c.id for c in data.customers if c.purchases.count >= 1 and not c.is_erased}
    assert set(audience.customer_ids.tolist()) == buyers
    assert sum(audience.sizes().values()) == len(buyers)
    send_list = audience.send_list(limit=50)
    assert len(send_list) == 50 and all(group != "control" for _, group in send_list)
    assert send_list == campaign_audience(campaign, frame, data.end).send_list(limit=50)
    assert audience.to_dict()["customers"] == len(buyers)
    assert "control" in audience._repr_html_()
