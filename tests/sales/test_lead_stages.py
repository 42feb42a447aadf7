"""Lead statuses on the funnel: the mapping as data, and the funnel consuming lead events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crmcore.customers.contact import Contact
from crmcore.funnel.position import FunnelPosition
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.stage import Stage
from crmcore.sales.lead_conversion import convert_lead
from crmcore.sales.lead_stages import DEFAULT_LEAD_STAGES, LeadStageMap
from crmcore.sales.leads import Lead

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
H = timedelta(hours=1)


def test_the_default_mapping() -> None:
    assert DEFAULT_LEAD_STAGES.stage_of("new") is Stage.INTEREST
    assert DEFAULT_LEAD_STAGES.stage_of("qualified") is Stage.INTENT
    assert DEFAULT_LEAD_STAGES.stage_of("converted") is Stage.CONVERSION
    assert DEFAULT_LEAD_STAGES.stage_of("disqualified") is None


def test_a_host_mapping_and_bad_ones() -> None:
    stages = LeadStageMap({"new": "awareness", "qualified": 3})
    assert stages.stage_of("new") is Stage.AWARENESS
    assert stages.stage_of("qualified") is Stage.CONSIDERATION
    with pytest.raises(ValidationError):
        LeadStageMap({"hot": "intent"})
    with pytest.raises(ValidationError) as error:
        LeadStageMap({"new": "nirvana"})
    assert error.value.field == "stages.new"


def test_lead_events_move_the_customers_funnel_forward_only() -> None:
    lead = Lead.create("l-1", T0, source="web", customer_id="c-1").value
    qualified = lead.qualify(T0 + H)
    position = DEFAULT_LEAD_STAGES.apply(qualified.events[0], None).value
    assert position is not None and position.stage is Stage.INTENT
    assert position.entered_at("interest") == T0 + H  # passed through
    back = qualified.value.work(T0 + 2 * H)
    assert DEFAULT_LEAD_STAGES.apply(back.events[0], position).value is position
    converted = convert_lead(back.value.qualify(T0 + 3 * H).value, T0 + 4 * H, opportunity_id="o-1")
    moved = position
    for raised in converted.events:
        moved = DEFAULT_LEAD_STAGES.apply(raised, moved).value
    assert moved is not None and moved.stage is Stage.CONVERSION
    assert moved.history[-1].source == "lead:l-1"


def test_no_customer_no_move_and_another_customers_position_is_refused() -> None:
    unknown = Lead.create("l-1", T0, source="web", contact=Contact(phone="+4915112345678"))
    moved = unknown.value.qualify(T0)
    assert DEFAULT_LEAD_STAGES.apply(moved.events[0], None).value is None
    other = FunnelPosition.start("c-2", "interest", T0).value
    known = Lead.create("l-2", T0, source="web", customer_id="c-1").value.qualify(T0)
    with pytest.raises(ValidationError):
        DEFAULT_LEAD_STAGES.apply(known.events[0], other)
