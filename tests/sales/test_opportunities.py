"""The opportunity aggregate: moves on the pipeline's table, revisions, history, bad input."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel import codec
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import event_from_json
from crmcore.kernel.money import Money
from crmcore.sales import opportunity_events as ev
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_changes import LineItem, StageChange
from crmcore.sales.pipeline import DEFAULT_PIPELINE as P
from crmcore.sales.pipeline_machine import PipelineMove
from crmcore.sales.pipeline_stages import StageKind

from .opportunity_strategies import STRICT, opportunity, pipelines, times

T = datetime(2026, 3, 2, 9, tzinfo=UTC)
EUR = "EUR"


def deal(**overrides: object) -> Opportunity:
    args: dict[str, object] = {
        "owner": "rep-1",
        "amount": Money("1000", EUR),
        "close_date": date(2026, 4, 30),
        "at": T,
    }
    args.update(overrides)
    return Opportunity.open("opp-1", P, **args).value  # type: ignore[arg-type]


def test_open_records_the_deal_and_raises_an_event() -> None:
    outcome = Opportunity.open(
        "opp-1",
        P,
        owner="rep-1",
        amount=Money("1000", EUR),
        close_date=date(2026, 4, 30),
        at=T,
        account_id="acme",
        source="Web Form",
        lead_id="lead-9",
    )
    o = outcome.value
    assert (o.stage, o.status, o.source, o.version) == (
        "appointment_scheduled",
        StageKind.OPEN,
        "web_form",
        0,
    )
    (event,) = outcome.events
    assert isinstance(event, ev.OpportunityOpened)
    assert (event.stage, event.lead_id, event.amount) == (o.stage, "lead-9", o.amount)
    assert event_from_json(event.kind, event.payload()) == event


def test_moves_follow_the_table_and_raise_the_right_events() -> None:
    o = deal()
    step = o.move_to("presentation_scheduled", T + timedelta(days=1), P)
    assert isinstance(step.events[0], ev.OpportunityStageChanged)
    assert step.events[0].move is PipelineMove.ADVANCE
    back = step.value.move_to("qualified_to_buy", T + timedelta(days=2), P)
    assert back.events[0].move is PipelineMove.MOVE_BACK
    lost = back.value.lose(T + timedelta(days=3), P, reason="Competitor", note="went with X")
    assert isinstance(lost.events[0], ev.OpportunityLost)
    assert (lost.events[0].reason, lost.events[0].days_open) == ("competitor", 3)
    assert (lost.value.status, lost.value.close_reason) == (StageKind.LOST, "competitor")
    again = lost.value.reopen(T + timedelta(days=4), P)
    assert isinstance(again.events[0], ev.OpportunityReopened)
    assert again.value.stage == "qualified_to_buy"  # back where it closed from
    won = again.value.win(T + timedelta(days=5), P, reason="value")
    assert isinstance(won.events[0], ev.OpportunityWon) and won.value.is_open is False
    assert won.value.closed_at == T + timedelta(days=5)
    assert [c.move for c in won.value.stage_history] == [
        PipelineMove.ADVANCE,
        PipelineMove.MOVE_BACK,
        PipelineMove.LOSE,
        PipelineMove.REOPEN,
        PipelineMove.WIN,
    ]
    won.value.check(P)


def test_advance_goes_to_the_next_open_stage() -> None:
    o = deal().advance(T + timedelta(hours=1), P).value
    assert o.stage == "qualified_to_buy"
    last = deal(stage="contract_sent")
    with pytest.raises(IllegalTransitionError, match="no later open stage"):
        last.advance(T + timedelta(hours=1), P)


@pytest.mark.parametrize(
    ("call", "error", "field"),
    [
        (lambda: deal(stage="demo"), ValidationError, "stage"),
        (lambda: deal(stage="closed_won"), ValidationError, "stage"),
        (lambda: deal(amount=Money("-1", EUR)), ValidationError, "amount"),
        (lambda: deal(amount=100), ValidationError, "amount"),
        (lambda: deal(at=datetime(2026, 3, 2)), ValidationError, "created_at"),
        (lambda: deal(close_date=date(2026, 3, 1)), ValidationError, "close_date"),
        (lambda: deal(close_date=datetime(2026, 4, 1, tzinfo=UTC)), ValidationError, "close_date"),
        (lambda: deal(owner="no spaces"), ValidationError, "owner"),
        (lambda: deal(probability="1.2"), ValidationError, "probability"),
        (lambda: deal(amount=Money(0, EUR), stage="contract_sent"), ValidationError, "stage"),
        (lambda: deal(amount=None), ValidationError, "amount"),
    ],
)
def test_bad_input_at_open_names_the_field(call: object, error: type, field: str) -> None:
    with pytest.raises(error) as raised:
        call()  # type: ignore[operator]
    assert raised.value.field == field


def test_bad_moves_change_nothing() -> None:
    o = deal()
    later = T + timedelta(days=1)
    with pytest.raises(ValidationError) as unknown:
        o.move_to("demo", later, P)
    assert unknown.value.field == "stage"
    with pytest.raises(ValidationError) as naive:
        o.move_to("qualified_to_buy", datetime(2026, 3, 3), P)
    assert naive.value.field == "at"
    with pytest.raises(ValidationError) as early:
        o.move_to("qualified_to_buy", T - timedelta(seconds=1), P)
    assert early.value.field == "at"
    with pytest.raises(IllegalTransitionError) as no_reason:
        o.lose(later, P)
    assert no_reason.value.to_state.value == "closed_lost"
    with pytest.raises(IllegalTransitionError, match="needs a positive amount"):
        deal(amount=Money(0, EUR)).move_to("contract_sent", later, P)
    with pytest.raises(ValidationError) as wrong:
        o.move_to("lead", later, STRICT)
    assert wrong.value.field == "pipeline"
    with pytest.raises(IllegalTransitionError, match="already there"):
        o.move_to(o.stage, later, P)
    with pytest.raises(ValidationError, match="must be a won stage"):
        o.win(later, P, stage="closed_lost")
    with pytest.raises(IllegalTransitionError, match="not closed"):
        o.reopen(later, P)
    assert o == deal() and o.stage_history == ()


def test_a_stage_move_not_in_a_strict_pipeline_is_illegal() -> None:
    o = Opportunity.open(
        "s", STRICT, owner="ann", amount=Money(5, EUR), close_date=date(2026, 5, 1), at=T
    ).value
    with pytest.raises(IllegalTransitionError) as skip:
        o.move_to("verbal", T + timedelta(days=1), STRICT)
    assert (skip.value.from_state.value, skip.value.to_state.value) == ("lead", "verbal")
    o = o.move_to("qualified", T + timedelta(days=1), STRICT).value
    with pytest.raises(IllegalTransitionError):
        o.move_to("lead", T + timedelta(days=2), STRICT)


def test_amount_close_date_line_items_owner_and_probability_revisions() -> None:
    o = deal()
    o2 = o.change_amount(Money("1500", EUR), T + timedelta(days=1))
    assert isinstance(o2.events[0], ev.OpportunityAmountChanged)
    pushed = o2.value.change_close_date(date(2026, 6, 30), T + timedelta(days=2))
    assert pushed.events[0].slipped is True
    pulled = pushed.value.change_close_date(date(2026, 5, 31), T + timedelta(days=3)).value
    assert (pulled.slip_count, pulled.slipped_days) == (1, 61)
    items = [
        LineItem("seat", 10, Money("99.50", EUR)),
        LineItem("setup", 1, Money("500", EUR), "0.2"),
    ]
    with_items = pulled.set_line_items(items, T + timedelta(days=4))
    assert with_items.value.amount == Money("1395.00", EUR)
    assert with_items.events[0].from_line_items is True
    with pytest.raises(ValidationError, match="line items' total"):
        with_items.value.change_amount(Money("1", EUR), T + timedelta(days=5))
    owned = with_items.value.reassign("rep-2", T + timedelta(days=5))
    assert owned.events[0].new_owner == "rep-2"
    odds = owned.value.set_probability("0.35", T + timedelta(days=6))
    assert odds.value.effective_probability(P) == Decimal("0.35")
    assert odds.value.weighted_amount(P) == Money("488.2500", EUR)
    assert odds.value.set_probability("0.35", T + timedelta(days=7)).events == ()
    assert o.amount == Money("1000", EUR)  # the old value never changes


def test_revisions_are_refused_on_closed_deals_and_in_another_currency() -> None:
    o = deal()
    with pytest.raises(ValidationError, match="must stay in EUR"):
        o.change_amount(Money("5", "USD"), T)
    with pytest.raises(ValidationError) as early:
        o.change_close_date(date(2026, 3, 1), T)
    assert early.value.field == "close_date"
    won = o.win(T + timedelta(days=1), P).value
    with pytest.raises(ValidationError, match="reopen it first"):
        won.change_amount(Money("5", EUR), T + timedelta(days=2))
    with pytest.raises(ValidationError, match="must be in EUR"):
        deal(
            amount=None,
            line_items=[LineItem("x", 1, Money(5, EUR)), LineItem("y", 1, Money(5, "USD"))],
        )


def test_history_queries_answer_as_of_any_time() -> None:
    o = deal()
    o = o.move_to("qualified_to_buy", T + timedelta(days=2), P).value
    o = o.change_amount(Money("2000", EUR), T + timedelta(days=3)).value
    o = o.win(T + timedelta(days=10), P).value
    assert o.stage_at(T - timedelta(seconds=1)) is None
    assert o.stage_at(T) == "appointment_scheduled"
    assert o.stage_at(T + timedelta(days=2)) == "qualified_to_buy"  # a change counts at its instant
    assert o.status_at(T + timedelta(days=9)) is StageKind.OPEN
    assert o.status_at(T + timedelta(days=10)) is StageKind.WON
    assert o.amount_at(T + timedelta(days=1)) == Money("1000", EUR)
    assert o.close_date_at(T + timedelta(days=1)) == date(2026, 4, 30)
    periods = o.stage_periods()
    assert [(p.stage, p.left_at is None) for p in periods] == [
        ("appointment_scheduled", False),
        ("qualified_to_buy", False),
        ("closed_won", True),
    ]
    assert periods[1].days(T) == 8.0
    assert o.days_in_stage(T + timedelta(days=5)) == 3.0
    assert o.age_days(T + timedelta(days=30)) == 10.0


def test_stored_histories_are_checked_on_construction() -> None:
    o = deal().move_to("qualified_to_buy", T + timedelta(days=1), P).value
    change = o.stage_history[0]
    with pytest.raises(ValidationError) as broken:
        attrs.evolve(o, stage="appointment_scheduled")
    assert broken.value.field == "stage"
    with pytest.raises(ValidationError) as early:
        attrs.evolve(o, stage_history=(attrs.evolve(change, at=T - timedelta(days=1)),))
    assert early.value.field == "history[0].at"
    with pytest.raises(ValidationError):
        StageChange(at=T, from_state="a", to_state="a", move="advance")
    bad_kind = attrs.evolve(o, stage_history=(attrs.evolve(change, move=PipelineMove.WIN),))
    with pytest.raises(ValidationError, match="not a move of the pipeline"):
        bad_kind.check(P)


def test_redacted_blanks_the_name_and_notes_only() -> None:
    o = (
        deal(name="Renewal for Jane Doe")
        .lose(T + timedelta(days=1), P, reason="price", note="Jane said no")
        .value
    )
    r = o.redacted()
    assert (r.name, r.stage_history[0].note, r.stage_history[0].reason) == ("", "", "price")
    assert r.amount == o.amount and r.redacted() is r


@settings(max_examples=60, deadline=None)
@given(pipelines.flatmap(lambda p: st.tuples(st.just(p), opportunity(1, p))), times)
def test_stage_history_invariants(pair: tuple[object, Opportunity], t: datetime) -> None:
    pipeline, o = pair
    o.check(pipeline)  # type: ignore[arg-type]
    previous_at, previous = o.created_at, o.opened_stage
    assert pipeline.stage(o.opened_stage).is_open  # type: ignore[attr-defined]
    for change in o.stage_history:
        assert change.at >= previous_at and change.from_state == previous
        previous_at, previous = change.at, change.to_state
    assert previous == o.stage
    periods = o.stage_periods()
    assert [p.stage for p in periods] == [o.opened_stage, *(c.to_state for c in o.stage_history)]
    assert all(a.left_at == b.entered_at for a, b in itertools.pairwise(periods))
    if t >= o.created_at:
        current = o.stage_periods(t)[-1]
        assert current.stage == o.stage_at(t) and current.entered_at <= t
    assert o.stage_at(o.last_changed_at + timedelta(days=1)) == o.stage
    assert codec.decode(Opportunity, codec.encode(o, Opportunity)) == o
