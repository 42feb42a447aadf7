"""The account aggregate: contacts in roles, parents without cycles, erasure, events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crmcore.kernel import codec
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import event_from_json
from crmcore.sales import account_events as ev
from crmcore.sales.accounts import ERASED_NAME, Account, AccountContact, AccountKind, ContactRole

T = datetime(2026, 3, 2, tzinfo=UTC)


def test_contacts_hold_roles_once_each() -> None:
    a = Account.open("acme", "ACME", T, owner="rep-1", segment="Enterprise").value
    assert a.segment == "enterprise" and a.kind is AccountKind.COMPANY
    step = a.add_contact("c1", "decision_maker", T)
    assert isinstance(step.events[0], ev.AccountContactAdded)
    a = step.value.add_contact("c1", ContactRole.BILLING, T).value
    a = a.add_contact("c2", "user", T).value
    assert a.add_contact("c1", "billing", T).events == ()
    assert a.roles_of("c1") == (ContactRole.DECISION_MAKER, ContactRole.BILLING)
    assert a.customer_ids == ("c1", "c2") and a.contacts_in("user") == ("c2",)
    gone = a.remove_contact("c1", T, role="billing")
    assert gone.events[0].roles == ("billing",) and gone.value.roles_of("c1") == (
        ContactRole.DECISION_MAKER,
    )
    assert a.remove_contact("c1", T).value.customer_ids == ("c2",)
    assert a.remove_contact("nobody", T).events == ()
    with pytest.raises(ValidationError) as error:
        a.add_contact("c3", "janitor", T)
    assert error.value.field == "role"
    with pytest.raises(ValidationError):
        Account(id="x", name="X", created_at=T, contacts=[AccountContact("c", "user", T)] * 2)


def test_a_parent_that_would_make_a_cycle_is_refused_with_the_cycle() -> None:
    parents = {"group": None, "eu": "group", "de": "eu"}
    group = Account.open("group", "Group", T).value
    with pytest.raises(ValidationError, match="group -> de -> eu -> group") as error:
        group.set_parent("de", T, parents=parents)
    assert error.value.field == "parent_id"
    with pytest.raises(ValidationError):
        group.set_parent("group", T, parents=parents)
    uk = Account.open("uk", "UK", T).value
    step = uk.set_parent("eu", T, parents=parents)
    assert step.value.parent_id == "eu" and isinstance(step.events[0], ev.AccountParentChanged)
    assert step.value.set_parent("eu", T, parents=parents).events == ()
    assert step.value.set_parent(None, T, parents=parents).value.parent_id is None
    with pytest.raises(ValidationError):
        uk.set_parent("eu", T, parents=[("eu", "group")])  # type: ignore[arg-type]


def test_renames_owners_erasure_and_storage() -> None:
    home = Account.open("h1", "The Smiths", T, kind="household").value
    renamed = home.rename("Smith family", T)
    assert isinstance(renamed.events[0], ev.AccountRenamed)
    assert "Smith" not in str(renamed.events[0].payload())
    owned = renamed.value.reassign("rep-2", T)
    assert owned.events[0].new_owner == "rep-2" and owned.value.reassign("rep-2", T).events == ()
    erased = owned.value.redacted()
    assert erased.name == ERASED_NAME and erased.redacted() is erased
    company = Account.open("acme", "ACME", T).value
    assert company.redacted() is company
    for e in (*renamed.events, *owned.events):
        assert event_from_json(e.kind, e.payload()) == e
    stored = codec.encode(owned.value.add_contact("c1", "user", T).value, Account)
    assert codec.decode(Account, stored).contacts[0].role is ContactRole.USER


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("kind", "club"),
        ("owner", "two words"),
        ("parent_id", "acme"),
        ("created_at", datetime(2026, 3, 2)),
        ("industry", "1st"),
    ],
)
def test_bad_fields_are_named(field: str, value: object) -> None:
    args: dict[str, object] = {"id": "acme", "name": "ACME", "created_at": T}
    with pytest.raises(ValidationError) as error:
        Account(**(args | {field: value}))  # type: ignore[arg-type]
    assert error.value.field == field
