"""Domain events of accounts: opened, contacts added and removed, hierarchy and owner changes.

``aggregate_id`` is the account id. Events carry ids and codes only: never an account's name (a
household's name is personal data), so renaming raises an event without the new name.
"""

from __future__ import annotations

import attrs

from crmcore.kernel.events import DomainEvent, event_type

__all__ = [
    "AccountContactAdded",
    "AccountContactRemoved",
    "AccountOpened",
    "AccountOwnerChanged",
    "AccountParentChanged",
    "AccountRenamed",
]


@event_type("account.opened")
@attrs.frozen(kw_only=True)
class AccountOpened(DomainEvent):
    """An account (a company or a household) was opened."""

    account_kind: str
    owner: str | None = None
    segment: str | None = None


@event_type("account.contact_added")
@attrs.frozen(kw_only=True)
class AccountContactAdded(DomainEvent):
    """A customer became a contact of the account in ``role``."""

    customer_id: str
    role: str


@event_type("account.contact_removed")
@attrs.frozen(kw_only=True)
class AccountContactRemoved(DomainEvent):
    """A customer stopped being a contact of the account in ``roles``."""

    customer_id: str
    roles: tuple[str, ...]


@event_type("account.parent_changed")
@attrs.frozen(kw_only=True)
class AccountParentChanged(DomainEvent):
    """The account moved in the hierarchy (``None``: a top-level account)."""

    old_parent_id: str | None
    new_parent_id: str | None


@event_type("account.owner_changed")
@attrs.frozen(kw_only=True)
class AccountOwnerChanged(DomainEvent):
    """The account's owner changed (``None``: unowned)."""

    old_owner: str | None
    new_owner: str | None


@event_type("account.renamed")
@attrs.frozen(kw_only=True)
class AccountRenamed(DomainEvent):
    """The account's name changed (the name itself is not in the event)."""
