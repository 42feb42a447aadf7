"""The account aggregate: a company or household, its contacts in roles, and its parent account.

B2B hosts sell to companies, and many B2C hosts to households: an
[`Account`][crmcore.sales.accounts.Account] groups the customers who buy together. Its contacts are
customers (by id) in [`ContactRole`][crmcore.sales.accounts.ContactRole] s — decision maker,
influencer, champion, user, billing — a customer may hold several roles, each recorded once with
the time it began. An account may have a parent (a subsidiary under its group, a branch under its
head office); the hierarchy is kept acyclic: setting a parent that would make the account its own
ancestor is refused with a [`ValidationError`][crmcore.kernel.errors.ValidationError] that quotes
the cycle. Hierarchies and rollups over many accounts are in
[`crmcore.sales.account_hierarchy`][crmcore.sales.account_hierarchy] and
[`crmcore.sales.account_rollups`][crmcore.sales.account_rollups].

Operations return an [`Outcome`][crmcore.kernel.events.Outcome]; events carry ids and codes only.

Examples:
    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 3, 2, tzinfo=UTC)
    >>> acme = Account.open("acme", "ACME Corp", t, owner="rep-1").value
    >>> acme = acme.add_contact("c-1", "decision_maker", t).value
    >>> acme = acme.add_contact("c-2", ContactRole.BILLING, t).value
    >>> acme.contacts_in(ContactRole.DECISION_MAKER), acme.customer_ids
    (('c-1',), ('c-1', 'c-2'))
    >>> group = Account.open("acme-group", "ACME Group", t).value
    >>> group.set_parent("acme", t, parents={"acme": "acme-group"})
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: parent_id: would make a cycle: acme-group -> acme ...
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final

import attrs

from crmcore.customers.records import normalize_slug
from crmcore.kernel import validators
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import Outcome
from crmcore.kernel.ids import validate_id
from crmcore.kernel.machine import parse_member
from crmcore.sales import account_events as ev

__all__ = ["ERASED_NAME", "Account", "AccountContact", "AccountKind", "ContactRole"]

ERASED_NAME: Final = "(erased)"
"""What a household account's name reads after its members' data is erased."""
_MAX_NAME: Final = 200


class AccountKind(enum.StrEnum):
    """What an account is: a company (B2B) or a household (B2C)."""

    COMPANY = "company"
    HOUSEHOLD = "household"


class ContactRole(enum.StrEnum):
    """The part a contact plays in the account's buying (a buying-committee role)."""

    DECISION_MAKER = "decision_maker"
    """Signs off the purchase."""
    INFLUENCER = "influencer"
    """Shapes the decision without making it."""
    CHAMPION = "champion"
    """Sells for you inside the account."""
    USER = "user"
    """Uses the product."""
    BILLING = "billing"
    """Receives and pays the invoices."""


def _customer(value: object) -> str:
    return validate_id(value, "customer_id")


def _role(value: object) -> ContactRole:
    return parse_member(ContactRole, value, "role")


def _since(value: object) -> datetime:
    return to_utc(value, "since")


@attrs.frozen
class AccountContact:
    """A customer in one role at an account, since ``since``."""

    customer_id: str = attrs.field(converter=_customer)
    role: ContactRole = attrs.field(converter=_role)
    since: datetime = attrs.field(converter=_since)


def _id(value: object) -> str:
    return validate_id(value, "id")


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_NAME:
        raise ValidationError(
            "name", value, f"must be non-empty text of at most {_MAX_NAME} characters"
        )
    return value.strip()


def _kind(value: object) -> AccountKind:
    return parse_member(AccountKind, value, "kind")


def _created(value: object) -> datetime:
    return to_utc(value, "created_at")


def _owner(value: object) -> str | None:
    return None if value is None else validate_id(value, "owner")


def _parent(value: object) -> str | None:
    return None if value is None else validate_id(value, "parent_id")


def _segment(value: object) -> str | None:
    return None if value is None else normalize_slug(value, "segment")


def _industry(value: object) -> str | None:
    return None if value is None else normalize_slug(value, "industry")


def _contacts(value: object) -> tuple[AccountContact, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("contacts", value, "must be a sequence of AccountContact")
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, AccountContact):
            raise ValidationError(f"contacts[{i}]", item, "must be an AccountContact")
    return items


@attrs.frozen(kw_only=True)
class Account:
    """A company or household: name, kind, owner, segment, industry, parent, contacts in roles.

    Each (customer, role) pair appears once in ``contacts``; the parent is never the account
    itself (longer cycles are checked by [`set_parent()`][crmcore.sales.accounts.Account.set_parent]
    and by [`AccountHierarchy`][crmcore.sales.account_hierarchy.AccountHierarchy]).
    """

    id: str = attrs.field(converter=_id)
    name: str = attrs.field(converter=_name)
    created_at: datetime = attrs.field(converter=_created)
    kind: AccountKind = attrs.field(default=AccountKind.COMPANY, converter=_kind)
    owner: str | None = attrs.field(default=None, converter=_owner)
    parent_id: str | None = attrs.field(default=None, converter=_parent)
    segment: str | None = attrs.field(default=None, converter=_segment)
    industry: str | None = attrs.field(default=None, converter=_industry)
    contacts: tuple[AccountContact, ...] = attrs.field(default=(), converter=_contacts)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        if self.parent_id == self.id:
            raise ValidationError("parent_id", self.parent_id, "an account is not its own parent")
        seen: set[tuple[str, ContactRole]] = set()
        for i, contact in enumerate(self.contacts):
            key = (contact.customer_id, contact.role)
            if key in seen:
                raise ValidationError(f"contacts[{i}]", key, "each customer holds a role once")
            seen.add(key)

    # -- queries ---------------------------------------------------------------------------------
    @property
    def customer_ids(self) -> tuple[str, ...]:
        """The contacts' customer ids, each once, in the order they were added."""
        return tuple(dict.fromkeys(c.customer_id for c in self.contacts))

    def contacts_in(self, role: ContactRole | str) -> tuple[str, ...]:
        """The customers holding ``role``, in the order they were added."""
        wanted = _role(role)
        return tuple(c.customer_id for c in self.contacts if c.role is wanted)

    def roles_of(self, customer_id: str) -> tuple[ContactRole, ...]:
        """The roles ``customer_id`` holds at this account (empty: not a contact)."""
        return tuple(c.role for c in self.contacts if c.customer_id == customer_id)

    def redacted(self) -> Account:
        """This account without personal data, for a member's erasure: a household's name
        becomes ``"(erased)"`` (a company's name is not personal data and stays)."""
        if self.kind is AccountKind.HOUSEHOLD and self.name != ERASED_NAME:
            return attrs.evolve(self, name=ERASED_NAME)
        return self

    # -- operations ------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        id: str,
        name: str,
        at: datetime,
        *,
        kind: AccountKind | str = AccountKind.COMPANY,
        owner: str | None = None,
        segment: str | None = None,
        industry: str | None = None,
    ) -> Outcome[Account]:
        """Open a top-level account (give it a parent with
        [`set_parent()`][crmcore.sales.accounts.Account.set_parent])."""
        account = cls(
            id=id,
            name=name,
            created_at=at,
            kind=kind,
            owner=owner,
            segment=segment,
            industry=industry,
        )
        event = ev.AccountOpened(
            aggregate_id=account.id,
            occurred_at=account.created_at,
            account_kind=account.kind.value,
            owner=account.owner,
            segment=account.segment,
        )
        return Outcome(account, (event,))

    def add_contact(
        self, customer_id: str, role: ContactRole | str, at: datetime
    ) -> Outcome[Account]:
        """Make ``customer_id`` a contact in ``role`` (no change if it already holds it)."""
        contact = AccountContact(customer_id, role, at)
        if contact.role in self.roles_of(contact.customer_id):
            return Outcome(self)
        event = ev.AccountContactAdded(
            aggregate_id=self.id,
            occurred_at=contact.since,
            customer_id=contact.customer_id,
            role=contact.role.value,
        )
        return Outcome(attrs.evolve(self, contacts=(*self.contacts, contact)), (event,))

    def remove_contact(
        self, customer_id: str, at: datetime, *, role: ContactRole | str | None = None
    ) -> Outcome[Account]:
        """Remove ``customer_id`` from ``role`` (default: from every role it holds)."""
        who = _customer(customer_id)
        instant = to_utc(at, "at")
        wanted = None if role is None else _role(role)
        gone = tuple(
            c
            for c in self.contacts
            if c.customer_id == who and (wanted is None or c.role is wanted)
        )
        if not gone:
            return Outcome(self)
        kept = tuple(c for c in self.contacts if c not in gone)
        event = ev.AccountContactRemoved(
            aggregate_id=self.id,
            occurred_at=instant,
            customer_id=who,
            roles=tuple(c.role.value for c in gone),
        )
        return Outcome(attrs.evolve(self, contacts=kept), (event,))

    def set_parent(
        self, parent_id: str | None, at: datetime, *, parents: Mapping[str, str | None]
    ) -> Outcome[Account]:
        """Put the account under ``parent_id`` (``None``: make it top-level).

        ``parents`` maps the host's other accounts to their parents (at least the chain above
        ``parent_id``); a parent whose chain leads back to this account is refused, naming the
        cycle, and nothing changes.
        """
        new = None if parent_id is None else validate_id(parent_id, "parent_id")
        instant = to_utc(at, "at")
        if not isinstance(parents, Mapping):
            raise ValidationError("parents", parents, "must map account ids to parent ids")
        if new is not None:
            path, current = [self.id, new], new
            while True:
                if current == self.id:
                    raise ValidationError(
                        "parent_id", new, "would make a cycle: " + " -> ".join(path)
                    )
                nxt = parents.get(current)
                if nxt is None or len(path) > len(parents) + 2:
                    break
                path.append(nxt)
                current = nxt
        if new == self.parent_id:
            return Outcome(self)
        event = ev.AccountParentChanged(
            aggregate_id=self.id,
            occurred_at=instant,
            old_parent_id=self.parent_id,
            new_parent_id=new,
        )
        return Outcome(attrs.evolve(self, parent_id=new), (event,))

    def reassign(self, owner: str | None, at: datetime) -> Outcome[Account]:
        """Give the account to another owner (``None``: unowned)."""
        new = None if owner is None else validate_id(owner, "owner")
        instant = to_utc(at, "at")
        if new == self.owner:
            return Outcome(self)
        event = ev.AccountOwnerChanged(
            aggregate_id=self.id, occurred_at=instant, old_owner=self.owner, new_owner=new
        )
        return Outcome(attrs.evolve(self, owner=new), (event,))

    def rename(self, name: str, at: datetime) -> Outcome[Account]:
        """Change the account's name."""
        new = _name(name)
        instant = to_utc(at, "at")
        if new == self.name:
            return Outcome(self)
        event = ev.AccountRenamed(aggregate_id=self.id, occurred_at=instant)
        return Outcome(attrs.evolve(self, name=new), (event,))
