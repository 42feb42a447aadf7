from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crmcore import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    Contact,
    Customer,
    CustomerErasedError,
    Interaction,
    MemoryStore,
    Money,
    NotFoundError,
    Purchase,
    ServiceRecord,
    SqliteStore,
    Store,
    ValidationError,
)
from crmcore.customers import import_customer_export
from crmcore.services import (
    change_customer,
    erase_customer,
    export_customer_data,
    import_customers,
    record_interaction,
    record_purchase,
    record_service,
    register_customer,
    retry_on_conflict,
    set_consent,
)

T = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "s.db")
    yield made
    made.close()


def _ann(store: Store) -> Customer:
    return register_customer(
        store, Customer.register("C1", "Ann", T, contact=Contact(email="ann@example.com"))
    )


def test_register_then_record_activity_updates_summary_and_records(store: Store) -> None:
    assert _ann(store).version == 1
    purchase = Purchase("O1", "C1", T + timedelta(days=1), Money("25.00", "EUR"))
    after = record_purchase(store, purchase)
    assert after.purchases.total == Money("25.00", "EUR") and after.version == 2
    record_interaction(store, Interaction("I1", "C1", T, "web", "website_visit"))
    final = record_service(store, ServiceRecord("S1", "C1", T, "inquiry", "chat", "hi"))
    assert (final.interactions.count, final.service.count, final.version) == (1, 1, 4)
    kinds = [m.kind for m in store.outbox.pending()]
    assert kinds == [
        "customer.registered",
        "customer.purchase_recorded",
        "customer.interaction_recorded",
        "customer.service_recorded",
    ]


def test_a_repeated_order_is_refused_and_counted_once(store: Store) -> None:
    _ann(store)
    purchase = Purchase("O1", "C1", T, Money("25.00", "EUR"))
    record_purchase(store, purchase)
    with pytest.raises(AlreadyExistsError):
        record_purchase(store, purchase)
    with store.unit_of_work() as uow:
        assert uow.customers.get("C1").purchases.count == 1
        assert uow.purchases.count() == 1


def test_purchase_for_an_unknown_customer_stores_nothing(store: Store) -> None:
    with pytest.raises(NotFoundError):
        record_purchase(store, Purchase("O1", "ghost", T, Money("1", "EUR")))
    with store.unit_of_work() as uow:
        assert uow.purchases.count() == 0
    assert store.outbox.pending() == []


def test_expected_version_guards_against_lost_updates(store: Store) -> None:
    seen = _ann(store)
    change_customer(store, "C1", lambda c: c.tag(["a"], T))
    with pytest.raises(ConcurrencyConflictError):
        change_customer(store, "C1", lambda c: c.tag(["b"], T), expected_version=seen.version)
    assert change_customer(store, "C1", lambda c: c.tag(["b"], T)).tags == {"a", "b"}


def test_consent_export_and_erase(store: Store) -> None:
    _ann(store)
    set_consent(store, "C1", "email", True, T, "form")
    record_interaction(store, Interaction("I1", "C1", T, "chat", "question", note="my flat is 4B"))
    document = export_customer_data(store, "C1")
    bundle = import_customer_export(document)
    assert bundle.customer.can_market("email", T)
    assert bundle.interactions[0].note == "my flat is 4B"
    erased = erase_customer(store, "C1", T + timedelta(days=1))
    assert erased.is_erased and erased.contact.email is None
    assert not erased.can_market("email", T + timedelta(days=2))
    after = import_customer_export(export_customer_data(store, "C1"))
    assert after.interactions[0].note is None
    with store.unit_of_work() as uow:
        assert uow.customers.find_by_email("ann@example.com") is None
    with pytest.raises(CustomerErasedError):
        set_consent(store, "C1", "sms", True, T)


def test_import_is_all_or_nothing(store: Store) -> None:
    good = Customer.register("C1", "Ann", T).value
    duplicate = Customer.register("C1", "Ann again", T).value
    with pytest.raises(AlreadyExistsError):
        import_customers(store, [good, duplicate])
    with store.unit_of_work() as uow:
        assert uow.customers.count() == 0


def test_retry_on_conflict_retries_then_gives_up() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConcurrencyConflictError("customer", "C1", 1, 2)
        return "done"

    assert retry_on_conflict(flaky, attempts=3) == "done"
    calls.clear()
    with pytest.raises(ConcurrencyConflictError):
        retry_on_conflict(flaky, attempts=2)
    with pytest.raises(ValidationError):
        retry_on_conflict(flaky, attempts=0)


def test_the_export_holds_the_customers_feedback_and_erasure_blanks_its_text(
    store: Store,
) -> None:
    from crmcore.feedback import Feedback
    from crmcore.kernel.codec import decode
    from crmcore.services import submit_feedback

    _ann(store)
    said = Feedback(
        id="F1", customer_id="C1", channel="email", kind="complaint", at=T,
        text="the parcel was opened", scores={"csat": 1},
    )  # fmt: skip
    submit_feedback(store, said)
    document = export_customer_data(store, "C1")
    assert [decode(Feedback, f) for f in document["feedback"]] == [said]  # type: ignore[union-attr]
    assert import_customer_export(document).customer.id == "C1"  # the extra key is no obstacle
    erase_customer(store, "C1", T + timedelta(days=1))
    (kept,) = export_customer_data(store, "C1")["feedback"]  # type: ignore[misc]
    assert decode(Feedback, kept).text == ""
    assert decode(Feedback, kept).score("csat") == 1


def test_erasure_blanks_the_notes_and_actions_of_the_customers_cases(store: Store) -> None:
    from crmcore.feedback import ERASED_TEXT, Feedback
    from crmcore.services import act_on_case, submit_feedback

    _ann(store)
    said = Feedback(
        id="F1", customer_id="C1", channel="phone", kind="complaint", at=T,
        text="my neighbour at no. 4 signed for it",
    )  # fmt: skip
    case = submit_feedback(store, said).case
    assert case is not None
    worked = act_on_case(
        store,
        case.id,
        lambda c: c.acknowledge(T + timedelta(hours=1), note="called Ann on 0207 946 0958"),
    )
    worked = act_on_case(store, case.id, lambda c: c.start(T + timedelta(hours=1)))
    worked = act_on_case(
        store,
        case.id,
        lambda c: c.resolve(
            T + timedelta(hours=2), root_cause="courier", action_taken="refunded to card 4242"
        ),
    )
    erase_customer(store, "C1", T + timedelta(days=1))
    with store.unit_of_work() as uow:
        kept = uow.cases.get(case.id)
    assert kept.version == worked.version + 1
    assert [c.note for c in kept.history] == [""] * len(kept.history)
    assert kept.resolution is not None
    assert (kept.resolution.root_cause, kept.resolution.action_taken) == ("courier", ERASED_TEXT)
    assert (kept.state, kept.resolved_at) == (worked.state, worked.resolved_at)
    assert kept.redacted() is kept  # erasing twice changes nothing
