"""Duplicate leads: found by normalised e-mail address and phone number, merged deliberately.

Two leads are duplicates when they share a normalised e-mail address (lower case, ASCII domain:
[`normalize_email()`][crmcore.customers.contact.normalize_email]) or an E.164 phone number
([`normalize_phone()`][crmcore.customers.contact.normalize_phone]); sharing is transitive, so a
lead with Ann's e-mail and a lead with Ann's phone and a third with both are one group.
[`find_duplicates()`][crmcore.sales.duplicates.find_duplicates] reports the groups (and the known
customers each shares a key with: a lead that is already a customer should be linked, not
converted into a second one); [`duplicates_of()`][crmcore.sales.duplicates.duplicates_of] checks one
incoming lead at intake.

Nothing is merged silently. [`merge_leads()`][crmcore.sales.duplicates.merge_leads] merges two
leads on request and says which survived
([`choose_survivor()`][crmcore.sales.duplicates.choose_survivor] unless the caller names it):

* the **survivor** keeps its own fields and fills its gaps from the other (e-mail, phone, name,
  company, country, customer), takes the union of tags, the other's attributes it lacks, its
  activities (renamed ``<lead id>/<activity id>`` on a clash), and the other's whole status
  history as a [`MergedLead`][crmcore.sales.lead_history.MergedLead];
* the **absorbed** lead is disqualified with reason ``"duplicate"`` and points to the survivor
  (``merged_into``); its history stays, its open activities are cancelled (they live on in the
  survivor), and it can never be reopened.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.customers.contact import Contact
    >>> from crmcore.sales.leads import Lead
    >>> t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> a = Lead.create("l-1", t, source="web_form", contact=Contact(email="Ann@Example.com")).value
    >>> b = Lead.create("l-2", t, source="webinar", contact=Contact(email="ann@example.com",
    ...                                                          phone="+44 20 7946 0958")).value
    >>> report = find_duplicates([a, b])
    >>> [(g.lead_ids, g.kinds) for g in report.groups]
    [(('l-1', 'l-2'), ('email',))]
    >>> merged = merge_leads(a, b, t).value
    >>> merged.survivor.id, merged.survivor.contact.phone, merged.absorbed.merged_into
    ('l-1', '+442079460958', 'l-1')
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal

import attrs

from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import (
    IllegalTransitionError,
    MissingDependencyError,
    ValidationError,
)
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.reports import html_table
from crmcore.kernel.validators import instance_of
from crmcore.sales.activities import Activity
from crmcore.sales.lead_events import LeadActivityCancelled, LeadsMerged
from crmcore.sales.lead_history import MergedLead
from crmcore.sales.lead_machine import LeadStatus
from crmcore.sales.leads import Lead

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DuplicateGroup",
    "DuplicateReport",
    "KeyKind",
    "LeadMerge",
    "choose_survivor",
    "duplicate_keys",
    "duplicates_of",
    "find_duplicates",
    "merge_leads",
]

KeyKind = Literal["email", "phone"]
"""What two duplicates share: a normalised e-mail address or an E.164 phone number."""

_STATUS_RANK: Final = {
    LeadStatus.CONVERTED: 5,
    LeadStatus.QUALIFIED: 4,
    LeadStatus.WORKING: 3,
    LeadStatus.NURTURING: 2,
    LeadStatus.NEW: 1,
    LeadStatus.DISQUALIFIED: 0,
}


def duplicate_keys(contact: Contact | Lead | Customer) -> tuple[tuple[KeyKind, str], ...]:
    """The keys duplicates are found by: ``("email", address)`` and ``("phone", number)``.

    Values are normalised already ([`Contact`][crmcore.customers.contact.Contact] normalises on
    construction).
    """
    if isinstance(contact, Lead | Customer):
        contact = contact.contact
    if not isinstance(contact, Contact):
        raise ValidationError("contact", contact, "must be a Contact, Lead or Customer")
    keys: list[tuple[KeyKind, str]] = []
    if contact.email is not None:
        keys.append(("email", contact.email))
    if contact.phone is not None:
        keys.append(("phone", contact.phone))
    return tuple(keys)


def _survivor_key(lead: Lead) -> tuple[int, int, int, int, datetime, str]:
    return (
        -int(lead.status is LeadStatus.CONVERTED),
        -int(lead.customer_id is not None),
        -_STATUS_RANK[lead.status],
        -len(lead.activities),
        lead.created_at,
        lead.id,
    )


def choose_survivor(first: Lead, second: Lead) -> Lead:
    """Which of two duplicates should survive a merge.

    In order: a converted lead (it already became a customer and an opportunity); a lead linked
    to a known customer; the further status (qualified, working, nurturing, new, disqualified);
    more activities; the older lead; the smaller id.
    """
    pair = (instance_of(first, Lead, "first"), instance_of(second, Lead, "second"))
    return min(pair, key=_survivor_key)


@attrs.frozen
class DuplicateGroup:
    """Leads that share keys: their ids (the suggested survivor first), what they share, and the
    known customers sharing a key with them (a group of one lead when only a customer matches).
    """

    lead_ids: tuple[str, ...]
    keys: tuple[tuple[KeyKind, str], ...]
    customer_ids: tuple[str, ...] = ()

    @property
    def survivor(self) -> str:
        """The id of the lead [`choose_survivor()`][crmcore.sales.duplicates.choose_survivor]
        would keep."""
        return self.lead_ids[0]

    @property
    def kinds(self) -> tuple[KeyKind, ...]:
        """Which kinds of key are shared (``"email"``, ``"phone"``), each once."""
        return tuple(dict.fromkeys(kind for kind, _ in self.keys))


@attrs.frozen
class DuplicateReport:
    """The duplicate groups among some leads (largest first); a report object."""

    groups: tuple[DuplicateGroup, ...]
    leads: int

    def __len__(self) -> int:
        return len(self.groups)

    @property
    def duplicate_leads(self) -> int:
        """How many leads a merge of every group would absorb (group size minus one, summed)."""
        return sum(len(g.lead_ids) - 1 for g in self.groups)

    def to_dict(self) -> dict[str, object]:
        """The groups as JSON data."""
        return {
            "leads": self.leads,
            "duplicate_leads": self.duplicate_leads,
            "groups": [
                {
                    "lead_ids": list(g.lead_ids),
                    "survivor": g.survivor,
                    "keys": [{"kind": kind, "value": value} for kind, value in g.keys],
                    "customer_ids": list(g.customer_ids),
                }
                for g in self.groups
            ],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per group (a pandas DataFrame; needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "DuplicateReport.to_pandas") from None
        return pd.DataFrame(
            {
                "survivor": [g.survivor for g in self.groups],
                "lead_ids": [list(g.lead_ids) for g in self.groups],
                "leads": [len(g.lead_ids) for g in self.groups],
                "shared": [", ".join(g.kinds) for g in self.groups],
                "customer_ids": [list(g.customer_ids) for g in self.groups],
            }
        )

    def _repr_html_(self) -> str:
        rows = [
            (g.survivor, ", ".join(g.lead_ids[1:]), ", ".join(g.kinds), ", ".join(g.customer_ids))
            for g in self.groups[:50]
        ]
        return html_table(
            f"Duplicate leads: {len(self.groups)} groups, {self.duplicate_leads} to merge",
            ["survivor", "duplicates", "shared", "known customers"],
            rows,
            caption=f"{self.leads} leads checked" + (", first 50 groups" if len(self) > 50 else ""),
        )


class _Groups:
    """Union-find over lead positions: leads sharing a key end in one set."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def _checked_leads(leads: Iterable[Lead]) -> list[Lead]:
    if isinstance(leads, Lead) or not isinstance(leads, Iterable):
        raise ValidationError("leads", leads, "must be an iterable of Lead")
    out = list(leads)
    for i, lead in enumerate(out):
        if not isinstance(lead, Lead):
            raise ValidationError(f"leads[{i}]", lead, "must be a Lead")
    return out


def _customer_keys(customers: Iterable[Customer]) -> dict[tuple[KeyKind, str], list[str]]:
    if isinstance(customers, Customer) or not isinstance(customers, Iterable):
        raise ValidationError("customers", customers, "must be an iterable of Customer")
    index: dict[tuple[KeyKind, str], list[str]] = {}
    for i, customer in enumerate(customers):
        if not isinstance(customer, Customer):
            raise ValidationError(f"customers[{i}]", customer, "must be a Customer")
        if customer.is_erased:
            continue
        for key in duplicate_keys(customer):
            index.setdefault(key, []).append(customer.id)
    return index


def find_duplicates(
    leads: Iterable[Lead], *, customers: Iterable[Customer] = ()
) -> DuplicateReport:
    """Groups of leads sharing a normalised e-mail or phone, with the customers they match.

    Leads already merged into another, and erased leads, take no part. A lead that shares a key
    with a known customer but with no other lead forms a group of one (unless it is already
    linked to that customer), so the report also answers "which new leads are customers
    already". Groups are ordered largest first, then by survivor id; ids within a group by
    [`choose_survivor()`][crmcore.sales.duplicates.choose_survivor]'s order.
    """
    checked = _checked_leads(leads)
    by_customer = _customer_keys(customers)
    live = [lead for lead in checked if lead.merged_into is None and not lead.erased]
    groups = _Groups(len(live))
    first_with: dict[tuple[KeyKind, str], int] = {}
    keys_of = [duplicate_keys(lead) for lead in live]
    for i, keys in enumerate(keys_of):
        for key in keys:
            j = first_with.setdefault(key, i)
            if j != i:
                groups.union(i, j)
    members: dict[int, list[int]] = {}
    for i in range(len(live)):
        members.setdefault(groups.find(i), []).append(i)
    out: list[DuplicateGroup] = []
    for positions in members.values():
        shared = _shared_keys([keys_of[i] for i in positions])
        found = dict.fromkeys(
            c for i in positions for key in keys_of[i] for c in by_customer.get(key, ())
        )
        known = {live[i].customer_id for i in positions}
        customer_ids = tuple(sorted(c for c in found if c not in known))
        if len(positions) == 1 and not customer_ids:
            continue
        ordered = sorted((live[i] for i in positions), key=_survivor_key)
        out.append(DuplicateGroup(tuple(x.id for x in ordered), shared, customer_ids))
    out.sort(key=lambda g: (-len(g.lead_ids), g.survivor))
    return DuplicateReport(tuple(out), len(checked))


def _shared_keys(
    keys: list[tuple[tuple[KeyKind, str], ...]],
) -> tuple[tuple[KeyKind, str], ...]:
    """The keys held by more than one member (all of them for a group of one)."""
    if len(keys) == 1:
        return keys[0]
    counts: dict[tuple[KeyKind, str], int] = {}
    for member in keys:
        for key in dict.fromkeys(member):
            counts[key] = counts.get(key, 0) + 1
    return tuple(sorted(key for key, n in counts.items() if n > 1))


def duplicates_of(candidate: Lead | Contact, leads: Iterable[Lead]) -> tuple[Lead, ...]:
    """The leads sharing a key with ``candidate`` (an incoming lead or contact), for intake.

    Leads merged into another and erased leads are skipped, and so is the candidate itself
    (same id). Ordered by [`choose_survivor()`][crmcore.sales.duplicates.choose_survivor]'s order.
    """
    wanted = set(duplicate_keys(candidate))
    own = candidate.id if isinstance(candidate, Lead) else None
    found = [
        lead
        for lead in _checked_leads(leads)
        if lead.id != own
        and lead.merged_into is None
        and not lead.erased
        and wanted.intersection(duplicate_keys(lead))
    ]
    return tuple(sorted(found, key=_survivor_key))


@attrs.frozen
class LeadMerge:
    """The result of a merge: the surviving lead and the absorbed one (both to be saved)."""

    survivor: Lead
    absorbed: Lead

    @property
    def survivor_id(self) -> str:
        """The id of the lead that survived."""
        return self.survivor.id


def merge_leads(
    first: Lead, second: Lead, at: datetime, *, survivor: str | None = None
) -> Outcome[LeadMerge]:
    """Merge two duplicate leads at ``at``; the outcome says which survived.

    ``survivor`` names the lead to keep (one of the two ids); by default
    [`choose_survivor()`][crmcore.sales.duplicates.choose_survivor] picks it. What each side keeps
    is in the module docs. Events: ``lead.merged`` on the survivor; ``lead.status_changed``
    (disqualified, reason ``duplicate``) and a ``lead.activity_cancelled`` per open activity on
    the absorbed lead.

    Raises:
        ValidationError: the same lead twice, an erased or already merged lead, two leads linked
            to different customers, ``survivor`` not one of the two, ``at`` before either lead.
        IllegalTransitionError: the lead to absorb is converted (a converted lead only survives).
    """
    if not isinstance(first, Lead) or not isinstance(second, Lead):
        bad = first if not isinstance(first, Lead) else second
        raise ValidationError("leads", bad, "must be Lead")
    if first.id == second.id:
        raise ValidationError("second", second.id, "is the same lead as the first")
    if survivor is None:
        keep = choose_survivor(first, second)
    elif instance_of(survivor, str, "survivor", "a lead id") in (first.id, second.id):
        keep = first if survivor == first.id else second
    else:
        raise ValidationError("survivor", survivor, f"must be {first.id!r} or {second.id!r}")
    gone = second if keep is first else first
    for role, lead in (("survivor", keep), ("absorbed", gone)):
        if lead.erased:
            raise ValidationError(role, lead.id, "was erased: it takes no part in a merge")
        if lead.merged_into is not None:
            raise ValidationError(role, lead.id, f"was already merged into {lead.merged_into!r}")
    if gone.status is LeadStatus.CONVERTED:
        raise IllegalTransitionError(
            LeadStatus.CONVERTED,
            LeadStatus.DISQUALIFIED,
            f"lead {gone.id!r} is converted: a converted lead can only survive a merge",
        )
    if keep.customer_id and gone.customer_id and keep.customer_id != gone.customer_id:
        raise ValidationError(
            "customer_id",
            gone.customer_id,
            f"the leads belong to different customers ({keep.customer_id!r}): not duplicates",
        )
    instant = to_utc(at, "at")
    if instant < keep.created_at:
        raise ValidationError(
            "at", at, f"must not be before the survivor's creation ({keep.created_at})"
        )
    absorbed, absorbed_events = _absorb(gone, keep.id, instant)
    merged = _survive(keep, gone, instant)
    shared = tuple(
        dict.fromkeys(
            kind for kind, value in duplicate_keys(keep) if (kind, value) in duplicate_keys(gone)
        )
    )
    event = LeadsMerged(aggregate_id=keep.id, occurred_at=instant, absorbed_id=gone.id, keys=shared)
    return Outcome(LeadMerge(merged, absorbed), (event, *absorbed_events))


def _absorb(lead: Lead, into: str, at: datetime) -> tuple[Lead, tuple[DomainEvent, ...]]:
    events: list[DomainEvent] = []
    if lead.status is not LeadStatus.DISQUALIFIED:
        moved = lead.disqualify(at, "duplicate")
        lead = moved.value
        events.extend(moved.events)
    elif at < lead.last_changed_at:
        raise ValidationError(
            "at",
            at,
            f"must not be before the absorbed lead's latest change ({lead.last_changed_at})",
        )
    activities = []
    for activity in lead.activities:
        if activity.is_open and at >= activity.created_at:
            activity = activity.cancel(at)
            events.append(
                LeadActivityCancelled(
                    aggregate_id=lead.id,
                    occurred_at=at,
                    activity_id=activity.id,
                    activity_kind=activity.kind,
                )
            )
        activities.append(activity)
    return attrs.evolve(lead, activities=activities, merged_into=into), tuple(events)


def _survive(keep: Lead, gone: Lead, at: datetime) -> Lead:
    own_ids = {a.id for a in keep.activities}
    taken: list[Activity] = []
    for activity in gone.activities:
        if activity.id in own_ids:
            activity = attrs.evolve(activity, id=f"{gone.id}/{activity.id}")
        taken.append(activity)
    record = MergedLead(
        id=gone.id,
        created_at=gone.created_at,
        merged_at=at,
        source=gone.source,
        channel=gone.channel,
        campaign=gone.campaign,
        history=gone.history,
    )
    contact = Contact(
        email=keep.contact.email or gone.contact.email,
        phone=keep.contact.phone or gone.contact.phone,
    )
    attributes = {**gone.attributes, **keep.attributes}
    notes = "\n\n".join(n for n in (keep.notes, gone.notes) if n)
    return attrs.evolve(
        keep,
        name=keep.name or gone.name,
        company=keep.company or gone.company,
        contact=contact,
        country=keep.country or gone.country,
        customer_id=keep.customer_id or gone.customer_id,
        tags=keep.tags | gone.tags,
        attributes=attributes,
        notes=notes,
        activities=(*keep.activities, *taken),
        merged=(*keep.merged, record, *gone.merged),
    )
