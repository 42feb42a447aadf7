"""Sales services: leads captured with a duplicate check, worked, converted in one unit of work;
opportunities moved; accounts and the relationship graph; erasure of a person's sales data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.kernel.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    DuplicateOperationError,
    IllegalTransitionError,
    NotFoundError,
    ValidationError,
)
from crmcore.kernel.money import Money
from crmcore.ports import Store
from crmcore.sales.accounts import Account
from crmcore.sales.lead_machine import LeadStatus
from crmcore.sales.leads import Lead
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.pipeline import DEFAULT_PIPELINE as P
from crmcore.sales.relationships import Relationship
from crmcore.sales.snapshots import pipeline_snapshot as domain_snapshot
from crmcore.services.customers import erase_customer, register_customer
from crmcore.services.opportunities import (
    lose_opportunity,
    move_opportunity,
    open_opportunity,
    pipeline_snapshot,
    save_pipeline,
    win_opportunity,
)
from crmcore.services.retry import RetryPolicy
from crmcore.services.sales import (
    capture_lead,
    change_lead,
    change_lead_status,
    complete_activity,
    convert_lead,
    disqualify_lead,
    log_activity,
    merge_leads,
    qualify_lead,
    schedule_activity,
)
from crmcore.services.sales_accounts import (
    add_relationship,
    change_sales_account,
    end_relationship,
    open_sales_account,
    set_account_parent,
)
from crmcore.storage.memory import MemoryStore

T = datetime(2026, 3, 2, 9, tzinfo=UTC)
H, D = timedelta(hours=1), timedelta(days=1)
PHONE = "+442079460958"
QUIET = RetryPolicy(attempts=3, sleep=lambda _s: None)


def _kinds(store: Store) -> list[str]:
    return [m.kind for m in store.outbox.pending(limit=10_000)]


# -- capture ----------------------------------------------------------------------------------


def test_capture_reports_duplicate_leads_and_known_customers(any_store: Store) -> None:
    register_customer(
        any_store, Customer.register("c-1", "Ann", T, contact=Contact(email="ann@example.com"))
    )
    register_customer(any_store, Customer.register("c-2", "Bo", T, contact=Contact(phone=PHONE)))
    ann = Contact(email="ANN@example.com")
    first = capture_lead(any_store, Lead.create("l-1", T, source="ads", contact=ann))
    assert first.value.duplicates == ()
    assert [c.id for c in first.value.customers] == ["c-1"]
    assert [e.kind for e in first.events] == ["lead.created"]
    second = capture_lead(
        any_store,
        Lead.create("l-2", T + H, source="web", contact=Contact(email="ann@example.com",
                                                                 phone="+44 20 7946 0958")),
    )  # fmt: skip
    assert [lead.id for lead in second.value.duplicates] == ["l-1"]
    assert [c.id for c in second.value.customers] == ["c-1", "c-2"]
    assert second.value.lead.version == 1
    with pytest.raises(AlreadyExistsError) as refused:
        capture_lead(
            any_store,
            Lead.create("l-3", T, source="web", contact=Contact(phone=PHONE)),
            on_duplicate="refuse",
        )
    assert (refused.value.field, refused.value.key) == ("phone", PHONE)
    with pytest.raises(AlreadyExistsError):  # a taken id
        capture_lead(any_store, Lead.create("l-1", T, source="web"))
    with any_store.unit_of_work() as uow:
        assert uow.leads.count() == 2
        assert uow.leads.find("l-3") is None
    with pytest.raises(ValidationError):
        capture_lead(any_store, Lead.create("l-4", T, source="web"), on_duplicate="merge")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        capture_lead(any_store, "l-5")  # type: ignore[arg-type]


# -- working a lead ---------------------------------------------------------------------------


def test_activities_are_idempotent_by_their_id(any_store: Store) -> None:
    capture_lead(any_store, Lead.create("l-1", T, source="web", owner="rep-1",
                                        contact=Contact(email="a@example.com")))  # fmt: skip
    logged = log_activity(any_store, "l-1", "call-1", "call", T + H, "connected", note="keen")
    assert [e.kind for e in logged.events] == ["lead.activity_scheduled", "lead.activity_completed"]
    again = log_activity(any_store, "l-1", "call-1", "call", T + H, "connected", note="keen")
    assert (again.value.version, again.events) == (logged.value.version, ())
    with pytest.raises(DuplicateOperationError):
        log_activity(any_store, "l-1", "call-1", "email", T + H, "sent")
    planned = schedule_activity(any_store, "l-1", "meet-1", "meeting", T + H, due_at=T + 2 * D)
    assert planned.value.activity("meet-1").is_open
    assert schedule_activity(any_store, "l-1", "meet-1", "meeting", T + H).events == ()
    done = complete_activity(any_store, "l-1", "meet-1", T + 2 * D, "held")
    assert done.value.activity("meet-1").outcome is not None
    assert complete_activity(any_store, "l-1", "meet-1", T + 2 * D, "held").events == ()
    with any_store.unit_of_work() as uow:
        stored = uow.leads.get("l-1")
    assert stored.time_to_first_touch == H
    assert stored.version == 4


def test_status_changes_follow_the_lead_machine_and_store_nothing_when_refused(
    any_store: Store,
) -> None:
    capture_lead(any_store, Lead.create("l-1", T, source="web"))  # unreachable: no contact
    with pytest.raises(IllegalTransitionError):
        qualify_lead(any_store, "l-1", T + H)
    change_lead_status(any_store, "l-1", "assign", T + H, owner="rep-2")
    dropped = disqualify_lead(any_store, "l-1", T + 2 * H, "no_budget")
    assert dropped.value.disqualify_reason == "no_budget"
    assert dropped.value.owner == "rep-2"
    with pytest.raises(NotFoundError):
        qualify_lead(any_store, "l-9", T)
    with pytest.raises(ValidationError):
        change_lead(any_store, "l-1", lambda lead: lead)  # type: ignore[arg-type,return-value]
    with any_store.unit_of_work() as uow:
        assert uow.leads.get("l-1").version == 3
    assert _kinds(any_store) == ["lead.created", "lead.assigned", "lead.status_changed"]


def test_a_change_is_redone_after_a_concurrent_change(tmp_path: object) -> None:
    store = MemoryStore()
    capture_lead(store, Lead.create("l-1", T, source="web", contact=Contact(email="a@x.com")))
    calls: list[int] = []

    def nurture(lead: Lead):  # type: ignore[no-untyped-def]
        calls.append(lead.version)
        if len(calls) == 1:  # someone else works the lead meanwhile
            with store.unit_of_work() as uow:
                uow.leads.save(uow.take(uow.leads.get(lead.id).work(T + H)))
        return lead.nurture(T + 2 * H)

    saved = change_lead(store, "l-1", nurture, retry=QUIET)
    assert calls == [1, 2]
    assert (saved.value.status, saved.value.version) == (LeadStatus.NURTURING, 3)
    capture_lead(store, Lead.create("l-2", T, source="web", contact=Contact(email="b@x.com")))
    calls.clear()
    with pytest.raises(ConcurrencyConflictError):
        change_lead(store, "l-2", nurture, retry=None)
    assert calls == [1]


# -- conversion -------------------------------------------------------------------------------


def _qualified(store: Store, n: int = 1, **fields: object) -> None:
    capture_lead(store, Lead.create(
        f"l-{n}", T, source="webinar", name="Ann Lee", company="Acme", owner="rep-7",
        contact=Contact(email=f"ann{n}@example.com"), notes="met at the fair", **fields,  # type: ignore[arg-type]
    ))  # fmt: skip
    qualify_lead(store, f"l-{n}", T + D)


def test_convert_stores_lead_customer_and_opportunity_together(any_store: Store) -> None:
    save_pipeline(any_store, P)
    _qualified(any_store)
    done = convert_lead(
        any_store, "l-1", T + 2 * D, opportunity_id="opp-1", new_customer_id="c-1",
        pipeline_id="sales", close_date=date(2026, 4, 30), amount=Money("12000", "EUR"),
    )  # fmt: skip
    conversion = done.value
    assert conversion.new_customer
    assert conversion.lead.status is LeadStatus.CONVERTED
    assert conversion.customer.contact.email == "ann1@example.com"
    assert conversion.opportunity.lead_id == "l-1"
    assert conversion.opportunity.customer_id == "c-1"
    assert (conversion.opportunity.owner, conversion.opportunity.source) == ("rep-7", "webinar")
    kinds = [e.kind for e in done.events]
    assert kinds == [
        "lead.status_changed", "lead.converted", "customer.registered", "opportunity.opened",
    ]  # fmt: skip
    assert _kinds(any_store)[-4:] == kinds
    with any_store.unit_of_work() as uow:
        assert uow.customers.get("c-1") == conversion.customer
        assert uow.opportunities.find_by_lead("l-1") == conversion.opportunity
        found = uow.leads.find_by_opportunity("opp-1")
        assert found == conversion.lead
    # a replay (the request timed out and was sent again) writes nothing
    again = convert_lead(
        any_store, "l-1", T + 2 * D, opportunity_id="opp-1", new_customer_id="c-1",
        pipeline_id="sales", close_date=date(2026, 4, 30), amount=Money("12000", "EUR"),
    )  # fmt: skip
    assert again.events == ()
    assert again.value.opportunity == conversion.opportunity
    assert _kinds(any_store) == ["lead.created", "lead.assigned", "lead.status_changed", *kinds]


def test_convert_links_an_existing_customer(any_store: Store) -> None:
    save_pipeline(any_store, P)
    register_customer(any_store, Customer.register("c-9", "Ann Lee", T))
    _qualified(any_store)
    done = convert_lead(
        any_store, "l-1", T + 2 * D, opportunity_id="opp-1", customer_id="c-9",
        pipeline_id="sales", close_date=date(2026, 4, 30), amount=Money("500", "EUR"),
        owner="rep-2", stage="qualified_to_buy",
    )  # fmt: skip
    assert not done.value.new_customer
    assert done.value.customer.id == "c-9"
    assert (done.value.opportunity.owner, done.value.opportunity.stage) == (
        "rep-2", "qualified_to_buy")  # fmt: skip
    assert "customer.registered" not in [e.kind for e in done.events]


@pytest.mark.parametrize(
    "problem",
    ["opportunity_taken", "email_taken", "no_pipeline", "unknown_customer", "not_qualified"],
)
def test_a_refused_conversion_stores_nothing(any_store: Store, problem: str) -> None:
    if problem != "no_pipeline":
        save_pipeline(any_store, P)
    _qualified(any_store)
    if problem == "opportunity_taken":
        opened = Opportunity.open("opp-1", P, owner="rep-1", close_date=date(2026, 5, 1), at=T,
                                  amount=Money("1", "EUR"))  # fmt: skip
        open_opportunity(any_store, opened)
    if problem == "email_taken":
        register_customer(any_store, Customer.register(
            "c-5", "Other", T, contact=Contact(email="ann1@example.com")))  # fmt: skip
    if problem == "not_qualified":
        disqualify_lead(any_store, "l-1", T + D, "no_budget")
    before = len(_kinds(any_store))
    expected = {
        "opportunity_taken": AlreadyExistsError,
        "email_taken": AlreadyExistsError,
        "no_pipeline": NotFoundError,
        "unknown_customer": NotFoundError,
        "not_qualified": IllegalTransitionError,
    }[problem]
    with pytest.raises(expected):
        convert_lead(
            any_store, "l-1", T + 2 * D, opportunity_id="opp-1",
            new_customer_id=None if problem == "unknown_customer" else "c-1",
            customer_id="c-404" if problem == "unknown_customer" else None,
            pipeline_id="sales", close_date=date(2026, 4, 30), amount=Money("10", "EUR"),
        )  # fmt: skip
    with any_store.unit_of_work() as uow:
        assert uow.leads.get("l-1").status is not LeadStatus.CONVERTED
        assert uow.customers.find("c-1") is None
        assert uow.opportunities.find_by_lead("l-1") is None
    assert len(_kinds(any_store)) == before


def test_merge_leads_saves_both_sides(any_store: Store) -> None:
    capture_lead(any_store, Lead.create("l-1", T, source="web", contact=Contact(email="a@x.com")))
    capture_lead(any_store, Lead.create("l-2", T + H, source="ads",
                                        contact=Contact(email="A@x.com", phone=PHONE)))  # fmt: skip
    merged = merge_leads(any_store, "l-1", "l-2", T + D, survivor="l-1")
    assert merged.value.survivor.contact.phone == PHONE
    assert merged.value.absorbed.merged_into == "l-1"
    with any_store.unit_of_work() as uow:
        assert [lead.id for lead in uow.leads.merged_into("l-1")] == ["l-2"]
        assert uow.leads.get("l-1").version == 2
    assert "lead.merged" in [e.kind for e in merged.events]


# -- opportunities ----------------------------------------------------------------------------


def test_opportunities_move_win_and_lose_and_replays_write_nothing(any_store: Store) -> None:
    save_pipeline(any_store, P)
    for n in (1, 2):
        open_opportunity(any_store, Opportunity.open(
            f"opp-{n}", P, owner="rep-1", close_date=date(2026, 5, 1), at=T,
            amount=Money(1000 * n, "EUR")))  # fmt: skip
    moved = move_opportunity(any_store, "opp-1", "presentation_scheduled", T + D)
    assert moved.value.version == 2
    assert move_opportunity(any_store, "opp-1", "presentation_scheduled", T + D).events == ()
    with pytest.raises(ValidationError):
        move_opportunity(any_store, "opp-1", "no_such_stage", T + 2 * D)
    won = win_opportunity(any_store, "opp-1", T + 3 * D, reason="value")
    assert [e.kind for e in won.events] == ["opportunity.won"]
    assert win_opportunity(any_store, "opp-1", T + 3 * D, reason="value").events == ()
    lost = lose_opportunity(any_store, "opp-2", T + 3 * D, reason="price")
    assert lost.value.close_reason == "price"
    with pytest.raises(IllegalTransitionError):
        lose_opportunity(any_store, "opp-1", T + 4 * D, reason="price")
    with pytest.raises(NotFoundError):
        open_opportunity(any_store, Opportunity.open(
            "opp-3", attrs.evolve(P, id="other"), owner="rep-1", close_date=date(2026, 5, 1),
            at=T, amount=Money(1, "EUR")))  # fmt: skip
    snap = pipeline_snapshot(any_store, "sales", T + 2 * D)
    assert snap.open_count == 2
    assert pipeline_snapshot(any_store, "sales", T + 4 * D).open_count == 0


def test_a_pipeline_keeps_the_stages_its_deals_stand_in(any_store: Store) -> None:
    save_pipeline(any_store, P)
    open_opportunity(any_store, Opportunity.open(
        "opp-1", P, owner="rep-1", close_date=date(2026, 5, 1), at=T,
        amount=Money(10, "EUR"), stage="qualified_to_buy"))  # fmt: skip
    shorter = attrs.evolve(P, stages=[s for s in P.stages if s.key != "qualified_to_buy"])
    with pytest.raises(ValidationError):
        save_pipeline(any_store, shorter)
    renamed = attrs.evolve(P, name="Renamed")
    assert save_pipeline(any_store, renamed).value == renamed
    with any_store.unit_of_work() as uow:
        assert uow.pipelines.get("sales").name == "Renamed"


_DEALS = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 4), st.integers(1, 500), st.sampled_from("owl")),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deals=_DEALS, day=st.integers(0, 90))
def test_the_stored_snapshot_equals_the_domains(
    deals: list[tuple[int, int, int, str]], day: int
) -> None:
    store = MemoryStore()
    save_pipeline(store, P)
    made = []
    for i, (opened, steps, amount, fate) in enumerate(deals):
        at = T + opened * D
        deal = Opportunity.open(f"d{i}", P, owner="rep", close_date=(at + 30 * D).date(), at=at,
                                amount=Money(amount, "EUR")).value  # fmt: skip
        for stage in [s.key for s in P.open_stages[1:]][:steps]:
            at += D
            deal = deal.move_to(stage, at, P).value
        if fate != "o":
            at += D
            deal = (deal.win(at, P) if fate == "w" else deal.lose(at, P, reason="price")).value
        made.append(deal)
        open_opportunity(store, Opportunity.open(
            deal.id, P, owner="rep", close_date=deal.opening_close_date, at=deal.created_at,
            amount=deal.opening_amount))  # fmt: skip
        with store.unit_of_work() as uow:
            uow.opportunities.save(attrs.evolve(deal, version=1))
    as_of = T + day * D
    assert pipeline_snapshot(store, "sales", as_of) == domain_snapshot(made, as_of, pipeline=P)


# -- accounts and relationships ---------------------------------------------------------------


def test_account_hierarchies_and_referrals_refuse_loops(any_store: Store) -> None:
    open_sales_account(any_store, Account.open("group", "Acme Group", T))
    open_sales_account(any_store, Account.open("acme", "Acme", T))
    open_sales_account(any_store, Account.open("acme-de", "Acme GmbH", T))
    set_account_parent(any_store, "acme", "group", T)
    set_account_parent(any_store, "acme-de", "acme", T)
    with pytest.raises(ValidationError) as loop:
        set_account_parent(any_store, "group", "acme-de", T + H)
    assert loop.value.field == "parent_id"
    with pytest.raises(NotFoundError):
        set_account_parent(any_store, "acme", "nope", T)
    added = change_sales_account(
        any_store, "acme", lambda a: a.add_contact("c-1", "decision_maker", T + H)
    )
    assert [e.kind for e in added.events] == ["account.contact_added"]
    add_relationship(any_store, Relationship.referred("ann", "bo", T))
    add_relationship(any_store, Relationship.referred("bo", "cy", T + H))
    with pytest.raises(ValidationError) as referral:
        add_relationship(any_store, Relationship.referred("cy", "ann", T + 2 * H))
    assert referral.value.field == "source"
    with pytest.raises(AlreadyExistsError):
        add_relationship(any_store, Relationship.referred("dee", "cy", T + 2 * H))
    colleague = Relationship.between("colleague", "bo", "ann", T)
    add_relationship(any_store, colleague)
    ended = end_relationship(any_store, colleague, T + D)
    assert ended.value.until == T + D
    assert end_relationship(any_store, colleague, T + D).value == ended.value
    with pytest.raises(NotFoundError):
        end_relationship(any_store, Relationship.between("colleague", "x", "y", T), T + D)
    with any_store.unit_of_work() as uow:
        assert [a.id for a in uow.accounts.children_of("acme")] == ["acme-de"]
        assert uow.relationships.count() == 3


# -- erasure ----------------------------------------------------------------------------------


def test_erasing_a_customer_erases_their_leads_deals_and_household(any_store: Store) -> None:
    save_pipeline(any_store, P)
    register_customer(any_store, Customer.register(
        "c-1", "Ann Lee", T, contact=Contact(email="ann@example.com", phone=PHONE)))  # fmt: skip
    capture_lead(any_store, Lead.create(
        "l-1", T, source="web", name="Ann Lee", customer_id="c-1", notes="allergic to cats",
        contact=Contact(email="ann.work@example.com"), owner="rep-1"))  # fmt: skip
    log_activity(any_store, "l-1", "a-1", "call", T + H, "connected", note="lives at 1 Elm St")
    her = Contact(email="ANN@example.com")  # not linked, but her e-mail address
    capture_lead(any_store, Lead.create("l-2", T, source="ads", name="A. Lee", contact=her))
    other = Contact(email="bo@example.com")
    capture_lead(any_store, Lead.create("l-3", T, source="ads", name="Someone Else", contact=other))
    open_opportunity(any_store, Opportunity.open(
        "opp-1", P, owner="rep-1", close_date=date(2026, 5, 1), at=T, amount=Money(5, "EUR"),
        customer_id="c-1", name="Ann's kitchen"))  # fmt: skip
    open_sales_account(any_store, Account.open("lees", "The Lees", T, kind="household"))
    change_sales_account(any_store, "lees", lambda a: a.add_contact("c-1", "billing", T))
    erase_customer(any_store, "c-1", T + D)
    with any_store.unit_of_work() as uow:
        for lid in ("l-1", "l-2"):
            lead = uow.leads.get(lid)
            assert lead.erased
            assert (lead.name, lead.contact, lead.notes) == (None, Contact(), "")
            assert all(a.note == "" for a in lead.activities)
        assert uow.leads.get("l-3").name == "Someone Else"
        assert uow.leads.with_email("ann@example.com") == ()
        assert uow.leads.get("l-1").first_touch_at == T + H  # the reports still count it
        assert uow.opportunities.get("opp-1").name == ""
        assert uow.accounts.get("lees").name == "(erased)"
    payloads = json.dumps([m.payload for m in any_store.outbox.pending(limit=10_000)])
    for secret in ("Ann", "ann@", "Elm St", "cats", "7946"):
        assert secret not in payloads
