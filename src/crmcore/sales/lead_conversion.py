"""Converting a qualified lead: the lead marked converted, and what the service must create or link.

[`convert_lead()`][crmcore.sales.lead_conversion.convert_lead] is the domain side of a conversion,
all in one [`Outcome`][crmcore.kernel.events.Outcome], so a service saves everything in one unit of
work or nothing:

* the lead moves qualified → converted and names its customer and opportunity
  (``lead.status_changed``, ``lead.converted``);
* the customer is either **linked** (the lead was already a known customer, or the caller names
  an existing one with ``customer_id``; the service checks that it exists) or **created** from the
  lead's name, contact, country, tags and attributes with the id the caller chose
  (``new_customer_id``; ``customer.registered``);
* the opportunity is only named: its id, and the facts an opportunity is opened with (the lead,
  source, owner, time) are in the returned
  [`LeadConversion`][crmcore.sales.lead_conversion.LeadConversion]; the service opens it with the
  pipeline's rules.

Converting a lead that is not qualified raises
[`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError] (``from_state`` is its
status, ``to_state`` ``converted``), before anything else is looked at.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.customers.contact import Contact
    >>> from crmcore.sales.leads import Lead
    >>> t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> lead = Lead.create("l-1", t, source="referral", name="Ann Lee",
    ...                    contact=Contact(email="ann@example.com"), owner="rep-7").value
    >>> lead = lead.qualify(t).value
    >>> done = convert_lead(lead, t, opportunity_id="opp-1", new_customer_id="c-9")
    >>> c = done.value
    >>> c.lead.status.value, c.customer_id, c.customer.contact.email, c.opportunity_id, c.owner
    ('converted', 'c-9', 'ann@example.com', 'opp-1', 'rep-7')
    >>> [e.kind for e in done.events]
    ['lead.status_changed', 'lead.converted', 'customer.registered']
"""

from __future__ import annotations

from datetime import datetime

import attrs

from crmcore.customers.customer import Customer
from crmcore.customers.profile import Geography
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.ids import CustomerId, validate_id
from crmcore.sales.lead_machine import MACHINE, LeadTrigger
from crmcore.sales.leads import Lead

__all__ = ["LeadConversion", "convert_lead"]


@attrs.frozen(kw_only=True)
class LeadConversion:
    """What a conversion produced: the converted lead, its customer, the opportunity to open.

    ``customer`` is the new [`Customer`][crmcore.customers.customer.Customer] to add, or ``None``
    when the lead was linked to an existing one (``customer_id``). ``opportunity_id``,
    ``source``, ``owner`` and ``converted_at`` are what the opportunity is opened with.
    """

    lead: Lead
    customer_id: CustomerId
    customer: Customer | None
    opportunity_id: str

    @property
    def new_customer(self) -> bool:
        """Whether the conversion created the customer (rather than linking one)."""
        return self.customer is not None

    @property
    def lead_id(self) -> str:
        """The converted lead's id."""
        return self.lead.id

    @property
    def source(self) -> str:
        """The lead's source, which the opportunity inherits (win rate by source)."""
        return self.lead.source

    @property
    def owner(self) -> str | None:
        """The lead's owner, who owns the opportunity by default."""
        return self.lead.owner

    @property
    def converted_at(self) -> datetime:
        """When the lead was converted."""
        return self.lead.last_changed_at


def convert_lead(
    lead: Lead,
    at: datetime,
    *,
    opportunity_id: str,
    customer_id: str | None = None,
    new_customer_id: str | None = None,
    name: str | None = None,
    note: str = "",
) -> Outcome[LeadConversion]:
    """Convert a qualified lead: mark it converted, and create or link its customer.

    The customer is the lead's own when it is linked to one; otherwise exactly one of
    ``customer_id`` (link an existing customer) and ``new_customer_id`` (create one, named
    ``name`` or the lead's name) must be given.

    Raises:
        IllegalTransitionError: the lead is not qualified (or was erased).
        ValidationError: no customer or two (naming ``customer_id``), a customer other than the
            lead's own, a new customer without a name (naming ``name``), a bad id.
    """
    if not isinstance(lead, Lead):
        raise ValidationError("lead", lead, "must be a Lead")
    MACHINE.triggered(lead.status, LeadTrigger.CONVERT)  # not qualified: refused first
    customer_id = None if customer_id is None else validate_id(customer_id, "customer_id")
    if new_customer_id is not None:
        new_customer_id = validate_id(new_customer_id, "new_customer_id")
    if lead.customer_id is not None and new_customer_id is not None:
        raise ValidationError(
            "new_customer_id",
            new_customer_id,
            f"the lead is already customer {lead.customer_id!r}; nothing to create",
        )
    if lead.customer_id is not None and customer_id not in (None, lead.customer_id):
        raise ValidationError(
            "customer_id", customer_id, f"the lead is linked to customer {lead.customer_id!r}"
        )
    if lead.customer_id is None and (customer_id is None) == (new_customer_id is None):
        raise ValidationError(
            "customer_id",
            customer_id,
            "give either customer_id (an existing customer) or new_customer_id (to create one)",
        )
    full_name = name if name is not None else lead.name
    if new_customer_id is not None and full_name is None:
        raise ValidationError("name", None, "a new customer needs a name: the lead has none")
    who = lead.customer_id or customer_id or new_customer_id
    moved = lead.mark_converted(
        at,
        customer_id=str(who),
        opportunity_id=opportunity_id,
        new_customer=new_customer_id is not None,
        note=note,
    )
    converted = moved.value
    customer: Customer | None = None
    events: tuple[DomainEvent, ...] = ()
    if new_customer_id is not None:
        registered = Customer.register(
            new_customer_id,
            str(full_name),
            converted.last_changed_at,
            contact=lead.contact,
            geography=Geography(country=lead.country),
            tags=lead.tags,
            attributes=lead.attributes,
        )
        customer, events = registered.value, registered.events
    assert converted.customer_id is not None
    assert converted.opportunity_id is not None
    conversion = LeadConversion(
        lead=converted,
        customer_id=converted.customer_id,
        customer=customer,
        opportunity_id=converted.opportunity_id,
    )
    return Outcome(conversion, (*moved.events, *events))
