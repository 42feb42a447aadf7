"""Campaign results: attribution against a one-by-one reference, and a hand-counted campaign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.columnar import STRING_DTYPE, EventLog, TransactionLog
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.money import Money
from crmcore.marketing._offers_reference import attribute_one_by_one
from crmcore.marketing.campaign_audience import CampaignAudience
from crmcore.marketing.campaign_results import attribute_touches, measure_campaign
from crmcore.marketing.campaigns import Attribution, AttributionModel, Campaign
from crmcore.marketing.experiments import Split, Variant

T = datetime(2026, 6, 1, tzinfo=UTC)
H = timedelta(hours=1)

events = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 30)), max_size=25)


@settings(max_examples=150)
@given(events, events, st.integers(0, 12), st.sampled_from(list(AttributionModel)))
def test_attribution_equals_the_one_by_one_reference(
    touches: list[tuple[int, int]],
    conversions: list[tuple[int, int]],
    window: int,
    model: AttributionModel,
) -> None:
    got = attribute_touches(
        np.array([c for c, _ in touches], dtype=np.int64),
        np.array([t for _, t in touches], dtype=np.int64),
        np.array([c for c, _ in conversions], dtype=np.int64),
        np.array([t for _, t in conversions], dtype=np.int64),
        window,
        model,
    )
    assert got.tolist() == attribute_one_by_one(touches, conversions, window, model)


def campaign(model: AttributionModel = AttributionModel.LAST_TOUCH) -> Campaign:
    return Campaign.draft(
        "spring",
        "Spring",
        channels=["email"],
        starts_at=T,
        at=T,
        ends_at=T + 10 * 24 * H,
        split=Split("0.25", (Variant("A"), Variant("B"))),
        attribution=Attribution(model, timedelta(days=3)),
        cost_per_send=Money("0.10", "EUR"),
    ).value


def audience() -> CampaignAudience:
    # eight customers, assigned by hand: c0, c1 control; c2-c4 variant A; c5-c7 variant B
    return CampaignAudience(
        campaign_id="spring",
        as_of=T,
        variant_names=("A", "B"),
        customer_ids=np.array([f"c{i}" for i in range(8)], dtype=STRING_DTYPE),
        group_codes=np.array([-1, -1, 0, 0, 0, 1, 1, 1]),
        numbers=np.linspace(0, 0.9, 8),
    )


def logs() -> tuple[EventLog, TransactionLog, EventLog]:
    touches = EventLog.from_records(
        [
            {"customer_id": "c2", "at": T + H, "kind": "spring", "channel": "email"},
            {"customer_id": "c3", "at": T + H, "kind": "spring", "channel": "email"},
            {"customer_id": "c4", "at": T + H, "kind": "spring", "channel": "email"},
            {"customer_id": "c5", "at": T + H, "kind": "spring", "channel": "email"},
            {"customer_id": "c6", "at": T + H, "kind": "spring", "channel": "email"},
            {"customer_id": "c6", "at": T + 2 * H, "kind": "spring", "channel": "email"},
            {"customer_id": "c7", "at": T + H, "kind": "spring", "channel": "email"},
            {"customer_id": "c7", "at": T + 30 * H, "kind": "other", "channel": "sms"},
            {"customer_id": "c0", "at": T + H, "kind": "spring", "channel": "email"},  # violation
            {"customer_id": "zz", "at": T + H, "kind": "spring", "channel": "email"},  # unknown
        ]
    )
    conversions = TransactionLog.from_records(
        [
            {"customer_id": "c1", "at": T + 5 * H, "amount": 40.0, "currency": "EUR"},
            {"customer_id": "c2", "at": T + 5 * H, "amount": 10.0, "currency": "EUR"},
            {"customer_id": "c2", "at": T + 6 * 24 * H, "amount": 7.0, "currency": "EUR"},  # late
            {"customer_id": "c5", "at": T + 4 * H, "amount": 20.0, "currency": "EUR"},
            {"customer_id": "c6", "at": T + 10 * H, "amount": 30.0, "currency": "EUR"},
            {"customer_id": "c7", "at": T + 40 * H, "amount": 50.0, "currency": "EUR"},  # other's
            {"customer_id": "c3", "at": T - 24 * H, "amount": 99.0, "currency": "EUR"},  # before
        ]
    )
    responses = EventLog.from_records(
        [
            {"customer_id": "c2", "at": T + 2 * H, "kind": "opened", "channel": "email"},
            {"customer_id": "c5", "at": T, "kind": "opened", "channel": "email"},  # before the send
            {"customer_id": "c6", "at": T + 3 * H, "kind": "clicked", "channel": "email"},
        ]
    )
    return touches, conversions, responses


def test_a_hand_counted_campaign() -> None:
    touches, conversions, responses = logs()
    r = measure_campaign(
        campaign(), audience(), touches, conversions, as_of=T + 20 * 24 * H, responses=responses
    )
    control, a, b = r.group("control"), r.group("A"), r.group("B")
    assert (control.customers, a.customers, b.customers) == (2, 3, 3)
    assert (a.sends, b.sends, control.sends) == (3, 4, 1)
    assert (a.cost, b.cost) == (Money("0.30", "EUR"), Money("0.40", "EUR"))
    assert (a.responders, b.responders) == (1, 1)
    assert (a.attributed_conversions, a.attributed_revenue) == (1, 10.0)
    assert (b.attributed_conversions, b.attributed_revenue) == (2, 50.0)  # c7's went to "other"
    assert (control.converters, a.converters, b.converters) == (1, 1, 3)
    assert (control.revenue, a.revenue, b.revenue) == (40.0, 17.0, 100.0)
    assert b.roi == pytest.approx((50.0 - 0.4) / 0.4)
    assert (r.holdout_violations, r.unknown_recipients) == (1, 1)
    uplift = r.comparison("B")
    assert uplift.conversion.difference == pytest.approx(1.0 - 0.5)
    assert uplift.incremental_conversions == pytest.approx(1.5)
    assert r.comparison("B", "A").conversion.difference == pytest.approx(2 / 3)
    assert r.total.sends == 7
    assert r.to_dict()["holdout_violations"] == 1
    assert "Campaign spring" in r._repr_html_()
    with pytest.raises(NotFoundError):
        r.group("C")


def test_first_touch_credits_the_earlier_send() -> None:
    touches, conversions, _ = logs()
    first = measure_campaign(
        campaign(AttributionModel.FIRST_TOUCH),
        audience(),
        touches,
        conversions,
        as_of=T + 20 * 24 * H,
    )
    assert first.group("B").attributed_conversions == 3  # c7's purchase: the spring send is first


def test_bad_inputs_are_refused() -> None:
    touches, conversions, _ = logs()
    with pytest.raises(ValidationError, match="as_of"):
        measure_campaign(campaign(), audience(), touches, conversions, as_of=T - H)
    with pytest.raises(ValidationError, match="touches"):
        measure_campaign(campaign(), audience(), conversions, conversions, as_of=T)  # type: ignore[arg-type]
    dollars = TransactionLog.from_records(
        [{"customer_id": "c2", "at": T + H, "amount": 1.0, "currency": "USD"}]
    )
    with pytest.raises(ValidationError, match="currency"):
        measure_campaign(campaign(), audience(), touches, dollars, as_of=T + 5 * H)


def test_to_pandas_has_a_row_per_group() -> None:
    pytest.importorskip("pandas")
    touches, conversions, _ = logs()
    frame = measure_campaign(
        campaign(), audience(), touches, conversions, as_of=T + 9 * H
    ).to_pandas()
    assert list(frame.index) == ["control", "A", "B"]
