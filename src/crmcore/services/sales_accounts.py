"""Account use cases: companies and households, their hierarchy, and the relationship graph.

Each function is one unit of work over a [`Store`][crmcore.ports.Store] returning an
[`Outcome`][crmcore.kernel.events.Outcome] (what was stored, the events written with it), and
redoes its unit of work after a concurrent change with the ``retry`` policy
([`DEFAULT_RETRY`][crmcore.services.retry.DEFAULT_RETRY]).

* [`set_account_parent()`][crmcore.services.sales_accounts.set_account_parent] reads the chain of
  stored parents above the new parent, so a hierarchy that would loop is refused (naming the
  cycle) before anything is written.
* [`add_relationship()`][crmcore.services.sales_accounts.add_relationship] stores an edge of the
  customer relationship graph; a customer is referred once at most, and a referral that would
  close a loop (Ann referred Bo who referred Ann) is refused.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.sales.accounts import Account
    >>> from crmcore.sales.relationships import Relationship
    >>> from crmcore.storage.memory import MemoryStore
    >>> store, t = MemoryStore(), datetime(2026, 3, 2, tzinfo=UTC)
    >>> _ = open_sales_account(store, Account.open("group", "Acme Group", t))
    >>> _ = open_sales_account(store, Account.open("acme-de", "Acme GmbH", t))
    >>> set_account_parent(store, "acme-de", "group", t).value.parent_id
    'group'
    >>> set_account_parent(store, "group", "acme-de", t)
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: parent_id: ...
    >>> _ = add_relationship(store, Relationship.referred("ann", "bo", t))
    >>> add_relationship(store, Relationship.referred("bo", "ann", t))
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: source: ...
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.events import Outcome
from crmcore.kernel.ids import validate_id
from crmcore.ports import Store
from crmcore.sales.accounts import Account
from crmcore.sales.relationships import Relationship, RelationshipKind
from crmcore.services._checks import callback, store_of
from crmcore.services.retry import DEFAULT_RETRY, RetryPolicy
from crmcore.services.retry import retry as run_retrying

__all__ = [
    "add_relationship",
    "change_sales_account",
    "end_relationship",
    "open_sales_account",
    "set_account_parent",
]

_MAX_DEPTH: Final = 10_000
"""How far up a chain of parents or referrers is followed before it is called broken."""


def open_sales_account(
    store: Store, outcome: Outcome[Account], *, retry: RetryPolicy | None = DEFAULT_RETRY
) -> Outcome[Account]:
    """Store an account made with [`Account.open()`][crmcore.sales.accounts.Account.open]; a
    taken id raises [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError]."""
    store = store_of(store)
    if not isinstance(outcome, Outcome) or not isinstance(outcome.value, Account):
        raise ValidationError("outcome", outcome, "must be an Outcome of Account.open()")

    def once() -> Outcome[Account]:
        with store.unit_of_work() as uow:
            stored = uow.accounts.add(uow.take(outcome))
        return Outcome(stored, outcome.events)

    return run_retrying(once, retry)


def change_sales_account(
    store: Store,
    account_id: str,
    change: Callable[[Account], Outcome[Account]],
    *,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Account]:
    """Apply ``change`` (add or remove a contact, rename, reassign) to the stored account and save
    it; nothing is written when it returns the account unchanged."""
    store = store_of(store)
    callback(change, "change")

    def once() -> Outcome[Account]:
        with store.unit_of_work() as uow:
            current = uow.accounts.get(account_id)
            outcome = change(current)
            if not isinstance(outcome, Outcome):
                raise ValidationError("change", outcome, "must return an Outcome")
            if outcome.value is current:
                return Outcome(current)
            saved = uow.accounts.save(uow.take(outcome))
        return Outcome(saved, outcome.events)

    return run_retrying(once, retry)


def set_account_parent(
    store: Store,
    account_id: str,
    parent_id: str | None,
    at: datetime,
    *,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Account]:
    """Put the stored account under the stored account ``parent_id`` (``None``: top level).

    Raises [`NotFoundError`][crmcore.kernel.errors.NotFoundError] for an account or parent not
    stored and [`ValidationError`][crmcore.kernel.errors.ValidationError] (naming
    ``parent_id``) for a parent whose chain leads back to the account.
    """
    store = store_of(store)
    if parent_id is not None:
        validate_id(parent_id, "parent_id")

    def once() -> Outcome[Account]:
        with store.unit_of_work() as uow:
            current = uow.accounts.get(account_id)
            parents: dict[str, str | None] = {}
            above = parent_id
            while above is not None and above not in parents and len(parents) < _MAX_DEPTH:
                parents[above] = uow.accounts.get(above).parent_id
                above = parents[above]
            outcome = current.set_parent(parent_id, at, parents=parents)
            if outcome.value is current:
                return Outcome(current)
            saved = uow.accounts.save(uow.take(outcome))
        return Outcome(saved, outcome.events)

    return run_retrying(once, retry)


def add_relationship(
    store: Store, relationship: Relationship, *, retry: RetryPolicy | None = DEFAULT_RETRY
) -> Outcome[Relationship]:
    """Store an edge of the relationship graph (no events: edges carry ids only and are read as
    a graph, [`RelationshipGraph`][crmcore.sales.relationship_graph.RelationshipGraph]).

    Raises [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] for an edge already
    stored or a second referral of a customer, and
    [`ValidationError`][crmcore.kernel.errors.ValidationError] (naming ``source``) for a referral
    whose referrer was referred, directly or not, by the referee.
    """
    store = store_of(store)
    if not isinstance(relationship, Relationship):
        raise ValidationError("relationship", relationship, "must be a Relationship")

    def once() -> Outcome[Relationship]:
        with store.unit_of_work() as uow:
            if relationship.kind is RelationshipKind.REFERRED:
                chain = [relationship.target, relationship.source]
                edge = uow.relationships.referrer_of(relationship.source)
                while edge is not None and len(chain) <= _MAX_DEPTH:
                    chain.append(edge.source)
                    if edge.source == relationship.target:
                        raise ValidationError(
                            "source",
                            relationship.source,
                            "the referral would close a loop: " + " <- ".join(chain),
                        )
                    edge = uow.relationships.referrer_of(edge.source)
            uow.relationships.add(relationship)
        return Outcome(relationship)

    return run_retrying(once, retry)


def end_relationship(
    store: Store,
    relationship: Relationship,
    at: datetime,
    *,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Relationship]:
    """Record that a stored edge ended at ``at`` (a colleague left, a partner contract ran out);
    return it ended. Ending it again at the same time changes nothing."""
    store = store_of(store)
    if not isinstance(relationship, Relationship):
        raise ValidationError("relationship", relationship, "must be a Relationship")
    when = to_utc(at, "at")

    def once() -> Outcome[Relationship]:
        with store.unit_of_work() as uow:
            stored = next(
                (
                    edge
                    for edge in uow.relationships.from_node(
                        relationship.source_kind, relationship.source
                    )
                    if edge.key == relationship.key and edge.since == relationship.since
                ),
                None,
            )
            if stored is None:
                raise NotFoundError("relationship", " ".join(relationship.key))
            if stored.until is not None and stored.until == when:
                return Outcome(stored)
            ended = uow.relationships.end(relationship, when)
        return Outcome(ended)

    return run_retrying(once, retry)
