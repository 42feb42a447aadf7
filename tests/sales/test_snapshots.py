"""Pipeline snapshots and the waterfall: replayed histories, and flows that always reconcile."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.money import Money
from crmcore.sales import _pipeline_reference as ref
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_frame import OpportunityFrame
from crmcore.sales.pipeline import DEFAULT_PIPELINE as P
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_stages import ForecastCategory
from crmcore.sales.snapshots import FLOWS, pipeline_movement, pipeline_snapshot

from .opportunity_strategies import T0, opportunities, pipelines, times

T = datetime(2026, 1, 5, tzinfo=UTC)


@settings(max_examples=50, deadline=None)
@given(pipelines.flatmap(lambda p: st.tuples(st.just(p), opportunities(p))), times)
def test_snapshot_at_t_agrees_with_replaying_each_stage_at_t(
    pair: tuple[Pipeline, list[Opportunity]], t: datetime
) -> None:
    pipeline, deals = pair
    snap = pipeline_snapshot(OpportunityFrame.from_opportunities(deals, pipeline), t)
    replay: dict[str, int] = {}
    for o in deals:
        stage = o.stage_at(t)
        if stage is not None and pipeline.stage(stage).is_open:
            replay[stage] = replay.get(stage, 0) + 1
    assert {line.stage: line.count for line in snap.stages if line.count} == replay
    assert sum(replay.values()) == snap.open_count


scopes = st.none() | st.tuples(st.integers(0, 200), st.integers(0, 120)).map(
    lambda p: (T0.date() + timedelta(days=p[0]), T0.date() + timedelta(days=p[0] + p[1]))
)


@settings(max_examples=60, deadline=None)
@given(pipelines.flatmap(lambda p: st.tuples(st.just(p), opportunities(p))), times, times, scopes)
def test_waterfall_reconciles_and_equals_the_reference(
    pair: tuple[Pipeline, list[Opportunity]],
    a: datetime,
    b: datetime,
    scope: tuple[date, date] | None,
) -> None:
    pipeline, deals = pair
    start, end = min(a, b), max(a, b)
    flow = pipeline_movement(deals, start, end, pipeline=pipeline, close_between=scope)
    assert flow.reconciles
    signed = sum(ref.minor(f.amount) * f.sign for f in flow.flows)
    assert ref.minor(flow.start_amount) + signed == ref.minor(flow.end_amount)
    expected = ref.movement(deals, pipeline, start, end, scope)
    assert (flow.start_count, ref.minor(flow.start_amount)) == expected["start"]
    assert (flow.end_count, ref.minor(flow.end_amount)) == expected["end"]
    for f in flow.flows:
        assert (f.count, ref.minor(f.amount)) == expected[f.name], f.name
    assert (flow.advanced, flow.moved_back) == (expected["advanced"][0], expected["moved_back"][0])
    assert (flow.slipped, ref.minor(flow.slipped_amount)) == expected["slipped"]
    # the end of the waterfall is the snapshot at its end (without a close-date scope)
    if scope is None:
        assert flow.end_amount == pipeline_snapshot(deals, end, pipeline=pipeline).open_amount


def make(i: int, amount: int, close: date = date(2026, 3, 31)) -> Opportunity:
    return Opportunity.open(
        f"o{i}", P, owner="ann", amount=Money(amount, "EUR"), close_date=close, at=T
    ).value


def test_every_flow_of_a_quarter_waterfall() -> None:
    start, end = T + timedelta(days=10), T + timedelta(days=40)
    q1 = (date(2026, 1, 1), date(2026, 3, 31))
    day = timedelta(days=1)
    won = make(1, 100).win(start + day, P).value
    lost = make(2, 200).lose(start + day, P, reason="price").value
    pushed = make(3, 300).change_close_date(date(2026, 4, 15), start + day).value
    grown = make(4, 400).change_amount(Money(450, "EUR"), start + day).value
    pulled = make(5, 500, date(2026, 5, 1)).change_close_date(date(2026, 3, 1), start + day).value
    reopened = make(6, 600).lose(T + day, P, reason="timing").value.reopen(start + day, P).value
    fresh = Opportunity.open(
        "o7", P, owner="ann", amount=Money(700, "EUR"), close_date=date(2026, 3, 15), at=start + day
    ).value
    flash = Opportunity.open(
        "o8", P, owner="ann", amount=Money(800, "EUR"), close_date=date(2026, 3, 15), at=start + day
    ).value
    flash = flash.win(start + 2 * day, P).value
    flow = pipeline_movement(
        [won, lost, pushed, grown, pulled, reopened, fresh, flash],
        start,
        end,
        pipeline=P,
        close_between=q1,
    )
    amounts = {f.name: (f.count, int(f.amount.amount)) for f in flow.flows}
    assert amounts == {
        "new": (2, 1500),
        "reopened": (1, 600),
        "pulled_in": (1, 500),
        "increased": (1, 50),
        "decreased": (0, 0),
        "won": (2, 900),
        "lost": (1, 200),
        "pushed_out": (1, 300),
    }
    assert (flow.start_count, int(flow.start_amount.amount)) == (4, 1000)
    assert (flow.end_count, int(flow.end_amount.amount)) == (4, 2250)
    assert flow.reconciles and flow.net_change == Money("1250", "EUR")
    data = flow.to_dict()
    assert json.loads(json.dumps(data)) == data and [f["flow"] for f in data["flows"]] == list(
        FLOWS
    )  # type: ignore[index]
    assert "pulled_in" in flow._repr_html_()
    assert list(flow.to_pandas()["step"]) == ["start", *FLOWS, "end"]
    with pytest.raises(NotFoundError):
        flow.flow("churned")


def test_snapshot_report_helpers() -> None:
    deals = [make(1, 100), make(2, 300).move_to("contract_sent", T + timedelta(days=1), P).value]
    snap = pipeline_snapshot(deals, T + timedelta(days=2), pipeline=P)
    assert snap.line("contract_sent").weighted == Money("270.00", "EUR")
    assert snap.by_category() == {
        ForecastCategory.PIPELINE: Money("100.00", "EUR"),
        ForecastCategory.COMMIT: Money("300.00", "EUR"),
    }
    assert snap.coverage(Money(800, "EUR")) == 0.5 and snap.coverage(Money(0, "EUR")) is None
    assert "Contract sent" in snap._repr_html_()
    assert list(snap.to_pandas()["count"]) == [1, 0, 0, 0, 1]
    assert json.loads(json.dumps(snap.to_dict()))["weighted_amount"] == "290.00"
    with pytest.raises(NotFoundError):
        snap.line("closed_won")
    with pytest.raises(ValidationError):
        snap.coverage(Money(1, "USD"))
    before = pipeline_snapshot(deals, T - timedelta(days=1), pipeline=P)
    assert before.open_count == 0 and before.open_amount == Money(0, "EUR")


def test_bad_windows_are_refused() -> None:
    with pytest.raises(ValidationError) as error:
        pipeline_movement([make(1, 1)], T, T - timedelta(days=1), pipeline=P)
    assert error.value.field == "end"
    with pytest.raises(ValidationError) as error:
        pipeline_movement(
            [make(1, 1)], T, T, pipeline=P, close_between=(date(2026, 2, 1), date(2026, 1, 1))
        )
    assert error.value.field == "close_between"
