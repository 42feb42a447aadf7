from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from crmcore.customers import (
    ConsentStatus,
    Contact,
    Customer,
    Demographics,
    Geography,
    Interaction,
    MarketingChannel,
    Psychographics,
    Purchase,
    ServiceRecord,
)
from crmcore.funnel import Stage
from crmcore.kernel.errors import CurrencyMismatchError, CustomerErasedError, ValidationError
from crmcore.kernel.money import Money

T = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def ann() -> Customer:
    return Customer.register(
        "c-1",
        "  Ann   Lee ",
        T,
        contact=Contact(email="Ann@Example.com", phone="+44 20 7946 0958"),
        demographics=Demographics(birth_date=date(1990, 6, 15)),
        geography=Geography(country="GB", city="London"),
        psychographics=Psychographics(interests=["music"]),
        tags=["VIP"],
        attributes={"plan": "gold", "seats": 3},
    ).value


def test_register_normalises_and_raises_one_event() -> None:
    outcome = Customer.register("c-1", "Ann", T, geography=Geography(country="de"))
    assert outcome.value.version == 0
    assert [e.kind for e in outcome.events] == ["customer.registered"]
    assert outcome.events[0].aggregate_id == "c-1"
    assert outcome.events[0].country == "DE"  # type: ignore[attr-defined]
    assert ann().name == "Ann Lee"
    assert ann().tags == {"vip"}


def test_register_rejects_naive_time_and_empty_name() -> None:
    with pytest.raises(ValidationError) as info:
        Customer.register("c-1", "Ann", datetime(2024, 1, 1))
    assert info.value.field == "created_at"
    with pytest.raises(ValidationError):
        Customer.register("c-1", "   ", T)
    with pytest.raises(ValidationError):
        Customer.register("c 1", "Ann", T)


def test_operations_never_mutate_the_original() -> None:
    original = ann()
    snapshot = attrs.asdict(original, recurse=False)
    original.tag(["new"], T)
    original.set_attribute("plan", "silver", T)
    original.grant_consent("sms", T)
    original.record_purchase(Purchase("o1", "c-1", T, Money("5", "EUR")))
    original.erase(T)
    assert attrs.asdict(original, recurse=False) == snapshot


def test_profile_update_reports_only_real_changes() -> None:
    c = ann()
    same = c.update_profile(T, name="Ann Lee", geography=c.geography)
    assert same.value is c and same.events == ()
    changed = c.update_profile(T, name="Ann Smith", demographics=Demographics())
    assert changed.value.name == "Ann Smith"
    assert changed.events[0].fields == ("demographics", "name")  # type: ignore[attr-defined]


def test_contact_change_names_fields_not_values() -> None:
    c = ann()
    outcome = c.change_contact(Contact(email="ann@new.example", phone=c.contact.phone), T)
    assert outcome.events[0].fields == ("email",)  # type: ignore[attr-defined]
    assert "ann@new.example" not in str(outcome.events[0].payload())
    assert c.change_contact(c.contact, T).events == ()


def test_consent_is_answered_as_of_a_time_even_when_recorded_out_of_order() -> None:
    c = ann()
    c = c.grant_consent(MarketingChannel.EMAIL, T, "signup form").value
    c = c.withdraw_consent("email", T + timedelta(days=10), "unsubscribe link").value
    c = c.grant_consent("email", T + timedelta(days=5)).value  # arrives late
    assert c.consent_status("email", T - timedelta(days=1)) is ConsentStatus.UNKNOWN
    assert c.consent_status("email", T + timedelta(days=6)) is ConsentStatus.GRANTED
    assert c.consent_status("email", T + timedelta(days=11)) is ConsentStatus.WITHDRAWN
    assert not c.can_market("sms", T + timedelta(days=6))
    assert [r.at for r in c.consents] == sorted(r.at for r in c.consents)
    with pytest.raises(ValidationError):
        c.grant_consent("carrier_pigeon", T)


def test_tags_and_attributes() -> None:
    c = ann()
    assert c.tag(["vip"], T).events == ()
    tagged = c.tag(["Gold Member"], T)
    assert tagged.value.has_tag("gold member")
    assert tagged.events[0].added == ("gold_member",)  # type: ignore[attr-defined]
    assert c.untag(["nope"], T).events == ()
    assert c.set_attribute("plan", "gold", T).events == ()
    silver = c.set_attribute("plan", "silver", T).value
    assert silver.attribute("plan") == "silver"
    assert c.set_attribute("seats", True, T).events != ()  # True is not 3
    removed = silver.remove_attribute("plan", T)
    assert removed.value.attribute("plan") is None and removed.events[0].removed  # type: ignore[attr-defined]
    for name, value in [
        ("Bad Name", 1),
        ("ok", float("nan")),
        ("ok", object()),
        ("ok", "x" * 1001),
    ]:
        with pytest.raises(ValidationError):
            c.set_attribute(name, value, T)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        c.set_attribute("when", datetime(2024, 1, 1), T)


def test_purchases_update_the_summary_in_any_time_order() -> None:
    c = ann()
    later = Purchase("o2", "c-1", T + timedelta(days=3), Money("30.00", "EUR"), items=2)
    earlier = Purchase("o1", "c-1", T, Money("10.00", "EUR"), channel="Store", category="books")
    outcome = c.record_purchase(later)
    c = outcome.then(lambda x: x.record_purchase(earlier)).value
    summary = c.purchases
    assert (summary.count, summary.items) == (2, 3)
    assert summary.total == Money("40.00", "EUR")
    assert (summary.first_at, summary.last_at) == (earlier.at, later.at)
    assert summary.average_order_value == Money("20.00", "EUR")
    assert earlier.channel == "store"
    assert outcome.events[0].order_id == "o2"  # type: ignore[attr-defined]
    with pytest.raises(CurrencyMismatchError):
        c.record_purchase(Purchase("o3", "c-1", T, Money("1", "USD")))
    with pytest.raises(ValidationError):
        c.record_purchase(Purchase("o4", "someone-else", T, Money("1", "EUR")))


def test_purchase_validation() -> None:
    with pytest.raises(ValidationError) as info:
        Purchase("o1", "c-1", T, Money("-1", "EUR"))
    assert info.value.field == "purchase.amount"
    with pytest.raises(ValidationError):
        Purchase("o1", "c-1", datetime(2024, 1, 1), Money("1", "EUR"))
    with pytest.raises(ValidationError):
        Purchase("o1", "c-1", T, Money("1", "EUR"), items=-1)
    with pytest.raises(ValidationError):
        Purchase("o1", "c-1", T, Decimal("1"))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="whole number of minor units") as info:
        Purchase("o1", "c-1", T, Money("19.995", "EUR"))  # a fraction of a cent was not paid
    assert info.value.field == "purchase.amount"
    with pytest.raises(ValidationError, match="minor units"):
        Purchase("o1", "c-1", T, Money("1999.5", "JPY"))
    assert Purchase("o1", "c-1", T, Money("19.990", "EUR")).amount == Money("19.99", "EUR")


def test_interactions_and_service_records() -> None:
    c = ann()
    visit = Interaction("i1", "c-1", T, "Web", "Website Visit", stage="interest")
    assert (visit.channel, visit.kind, visit.stage) == ("web", "website_visit", Stage.INTEREST)
    c = c.record_interaction(visit).value
    ticket = ServiceRecord("s1", "c-1", T, "repair", "phone", "screen", T + timedelta(hours=2))
    c = c.record_service(ticket).value
    assert (c.interactions.count, c.service.count) == (1, 1)
    assert c.interactions.last_at == T
    with pytest.raises(ValidationError):
        ServiceRecord("s2", "c-1", T, "repair", "phone", resolved_at=T - timedelta(seconds=1))
    with pytest.raises(ValidationError):
        Interaction("i2", "c-1", T, "web", "visit", stage="nirvana")


def test_erase_removes_personal_data_and_keeps_aggregates() -> None:
    c = ann().grant_consent("email", T).value
    c = c.record_purchase(Purchase("o1", "c-1", T, Money("10", "EUR"))).value
    outcome = c.erase(T + timedelta(days=1), "GDPR art. 17 request")
    erased = outcome.value
    assert erased.is_erased
    assert erased.name == "[erased]"
    assert erased.contact == Contact()
    assert erased.demographics == Demographics()
    assert erased.geography == Geography(country="GB")
    assert erased.attributes == {} and erased.psychographics == Psychographics()
    assert erased.purchases == c.purchases
    assert erased.tags == c.tags
    assert not erased.can_market("email", T + timedelta(days=2))
    assert [e.kind for e in outcome.events] == ["customer.erased"]
    with pytest.raises(CustomerErasedError):
        erased.tag(["x"], T)
    with pytest.raises(CustomerErasedError):
        erased.record_purchase(Purchase("o2", "c-1", T, Money("1", "EUR")))
    with pytest.raises(CustomerErasedError):
        erased.erase(T)


@pytest.mark.parametrize(
    "name", ["Ann\x07Lee", "Ann\x00", "\x1b[31mAnn", "Ann\x9bLee", "Ann\ud800"]
)
def test_names_with_control_characters_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="control characters") as caught:
        Customer.register("C-9", name, T)
    assert caught.value.field == "name"


def test_register_takes_no_tags_as_none_and_refuses_wrong_types() -> None:
    assert Customer.register("c-1", "Ann", T, tags=None).value.tags == frozenset()  # type: ignore[arg-type]
    for bad in (5, "vip", {"vip": 1}, b"vip", [None]):
        with pytest.raises(ValidationError) as info:
            Customer.register("c-1", "Ann", T, tags=bad)  # type: ignore[arg-type]
        assert info.value.field.startswith("tags")
    with pytest.raises(ValidationError, match="attributes"):
        Customer.register("c-1", "Ann", T, attributes=[("plan", "gold")])  # type: ignore[arg-type]


def test_records_of_the_wrong_type_are_validation_errors() -> None:
    c = ann()
    for method, field in (
        (c.record_purchase, "purchase"),
        (c.record_interaction, "interaction"),
        (c.record_service, "record"),
    ):
        with pytest.raises(ValidationError) as info:
            method(None)  # type: ignore[arg-type]
        assert info.value.field == field
    with pytest.raises(ValidationError, match="on"):
        c.age_at(T)  # a datetime, not a date
    with pytest.raises(ValidationError, match="name"):
        c.attribute(["plan"])  # type: ignore[arg-type]


def test_free_text_refuses_only_what_cannot_be_stored() -> None:
    note = "line one\nline two\tand a bell \x07"  # kept as written
    assert Interaction("i1", "c-1", T, "web", "visit", note=note).note == note
    with pytest.raises(ValidationError, match="surrogate"):
        Interaction("i1", "c-1", T, "web", "visit", note="a\ud800")
    with pytest.raises(ValidationError, match="surrogate"):
        ann().set_attribute("plan", "gold\udc00", T)


def test_an_attribute_text_with_nul_is_refused_naming_the_attribute_and_position() -> None:
    # SQLite's string functions stop at NUL: stored, the value would differ between back ends.
    with pytest.raises(ValidationError, match=r"position 4") as info:
        ann().set_attribute("plan", "gold\x00plus", T)
    assert info.value.field == "attributes.plan"
    with pytest.raises(ValidationError, match="NUL") as info:
        Customer.register("c-9", "Bo", T, attributes={"code": "\x00"})
    assert info.value.field == "attributes.code"
    # other control characters are kept as written, as in other free text
    tabbed = ann().set_attribute("plan", "gold\tplus", T).value
    assert tabbed.attribute("plan") == "gold\tplus"
