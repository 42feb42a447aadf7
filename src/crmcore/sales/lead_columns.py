"""Leads as columns: their records for scoring, and the arrays the lead reports read.

Two flat forms of many leads:

* [`lead_record()`][crmcore.sales.lead_columns.lead_record] and
  [`lead_frame()`][crmcore.sales.lead_columns.lead_frame]: each lead as a customer record, and a
  [`CustomerFrame`][crmcore.columnar.frame.CustomerFrame] of them, so segment rules (and the fit
  rules of lead scoring) read a lead like a customer: ``attr.source = "referral"``,
  ``country = "DE"``, ``has tag "webinar"``.
* [`LeadColumns`][crmcore.sales.lead_columns.LeadColumns]: one numpy array per fact of the leads,
  their status changes and their activities (statuses, sources, owners and kinds as integer codes,
  times as ``int64`` microseconds, ``NONE`` where absent), which
  [`crmcore.sales.lead_reports`][crmcore.sales.lead_reports] aggregates without a loop per lead.

The status changes and the activities are stored lead by lead (``change_offsets`` /
``activity_lead``), each lead's changes in time order, so "the status of every lead as of ``t``"
is one pass ([`LeadColumns.statuses_at()`][crmcore.sales.lead_columns.LeadColumns.statuses_at]).

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> from crmcore.customers.contact import Contact
    >>> from crmcore.sales.leads import Lead
    >>> t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> a = Lead.create("l-1", t, source="web_form", contact=Contact(email="a@example.com")).value
    >>> a = a.qualify(t + timedelta(days=1)).value
    >>> b = Lead.create("l-2", t, source="referral").value
    >>> cols = LeadColumns.from_leads([a, b])
    >>> [s.value for s in cols.statuses_at(t + timedelta(hours=1))]
    ['new', 'new']
    >>> [s.value for s in cols.statuses_at(t + timedelta(days=2))]
    ['qualified', 'new']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

import attrs
import numpy as np

from crmcore.columnar import STRING_DTYPE, CustomerFrame
from crmcore.customers.records import MarketingChannel
from crmcore.kernel.arrays import AnyArray, BoolArray, Int8Array, Int32Array, Int64Array, read_only
from crmcore.kernel.clock import to_micros
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import choice, instances_of
from crmcore.sales.activities import ActivityKind, ActivityOutcome
from crmcore.sales.lead_machine import LeadStatus, LeadTrigger
from crmcore.sales.leads import Lead

__all__ = ["NONE", "LeadColumns", "code_of", "lead_frame", "lead_record"]

NONE: Final = np.iinfo(np.int64).min
"""The ``int64`` time of "no such time" (an activity with no due time, a lead never touched)."""

STATUSES: Final = tuple(LeadStatus)
TRIGGERS: Final = tuple(LeadTrigger)
KINDS: Final = tuple(ActivityKind)
OUTCOMES: Final = tuple(ActivityOutcome)


def lead_record(lead: Lead) -> dict[str, object]:
    """The lead as a flat customer record (the columns of
    [`CUSTOMER_SCHEMA`][crmcore.columnar.schema.CUSTOMER_SCHEMA] plus ``attr.*``).

    The standard columns it has (id, name, e-mail, phone, country, tags, created_at), its touches
    as interactions (``interaction_count``, ``last_interaction_at``), no purchases, no consent;
    its own fields as ``attr.source``, ``attr.channel``, ``attr.campaign``, ``attr.status`` and
    ``attr.owner``, and its attributes as ``attr.<name>``.
    """
    if not isinstance(lead, Lead):
        raise ValidationError("lead", lead, "must be a Lead")
    touches = lead.touches
    record: dict[str, object] = {
        "id": lead.id,
        "name": lead.name or "",
        "email": lead.contact.email,
        "phone": lead.contact.phone,
        "created_at": lead.created_at,
        "country": lead.country,
        "tags": lead.tags,
        "purchase_count": 0,
        "items_purchased": 0,
        "total_spent": 0.0,
        "interaction_count": len(touches),
        "last_interaction_at": touches[-1].completed_at if touches else None,
        "service_count": 0,
        **{f"consent_{channel.value}": False for channel in MarketingChannel},
        "erased": lead.erased,
        "attr.source": lead.source,
        "attr.channel": lead.channel,
        "attr.campaign": lead.campaign,
        "attr.status": lead.status.value,
        "attr.owner": lead.owner,
    }
    record.update((f"attr.{name}", value) for name, value in lead.attributes.items())
    return record


def lead_frame(leads: Iterable[Lead]) -> CustomerFrame:
    """A [`CustomerFrame`][crmcore.columnar.frame.CustomerFrame] with one row per lead
    ([`lead_record()`][crmcore.sales.lead_columns.lead_record]); lead ids must be unique."""
    return CustomerFrame.from_records(
        lead_record(lead) for lead in instances_of(leads, Lead, "leads")
    )


def code_of(labels: Sequence[str], label: str) -> int:
    """The code of ``label`` among ``labels`` (-1 if absent)."""
    try:
        return labels.index(label)
    except ValueError:
        return -1


def _codes(values: list[str | None]) -> tuple[Int32Array, tuple[str, ...]]:
    labels = tuple(sorted({v for v in values if v is not None}))
    index = {label: i for i, label in enumerate(labels)}
    codes = np.array([-1 if v is None else index[v] for v in values], dtype=np.int32)
    return read_only(codes), labels


def _times(values: list[datetime | None]) -> Int64Array:
    return read_only(
        np.array([NONE if v is None else to_micros(v) for v in values], dtype=np.int64)
    )


def _small(values: list[int]) -> Int8Array:
    return read_only(np.array(values, dtype=np.int8))


@attrs.frozen(eq=False, kw_only=True)
class LeadColumns:
    """Many leads as read-only numpy arrays (see the module docs; times in UTC microseconds).

    Per lead (length ``n``): ``ids``, ``created``, ``status`` (codes in
    [`LeadStatus`][crmcore.sales.lead_machine.LeadStatus] order), ``source`` / ``channel`` /
    ``owner`` codes into ``sources`` / ``channels`` / ``owners`` (-1: none), ``merged`` (merged
    into another lead), ``customer`` (a known customer). Per status change, lead by lead in time
    order: ``change_offsets`` (``n + 1``), ``change_at``, ``change_from``, ``change_to``,
    ``change_trigger``, ``change_reason`` (codes into ``reasons``). Per activity:
    ``activity_lead`` (the lead's row), ``activity_ids``, ``activity_kind``, ``activity_created``,
    ``activity_due``, ``activity_completed``, ``activity_cancelled`` (``NONE``: absent),
    ``activity_outcome`` (-1: none), ``activity_owner`` (codes into ``owners``).
    """

    ids: AnyArray
    created: Int64Array
    status: Int8Array
    source: Int32Array
    sources: tuple[str, ...]
    channel: Int32Array
    channels: tuple[str, ...]
    owner: Int32Array
    owners: tuple[str, ...]
    merged: BoolArray
    customer: BoolArray
    change_offsets: Int64Array
    change_at: Int64Array
    change_from: Int8Array
    change_to: Int8Array
    change_trigger: Int8Array
    change_reason: Int32Array
    reasons: tuple[str, ...]
    activity_lead: Int64Array
    activity_ids: AnyArray
    activity_kind: Int8Array
    activity_created: Int64Array
    activity_due: Int64Array
    activity_completed: Int64Array
    activity_cancelled: Int64Array
    activity_outcome: Int8Array
    activity_owner: Int32Array

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_leads(cls, leads: Iterable[Lead]) -> LeadColumns:
        """The columns of ``leads`` (one pass over the objects; ids must be unique)."""
        if isinstance(leads, Lead) or not isinstance(leads, Iterable):
            raise ValidationError("leads", leads, "must be an iterable of Lead")
        items = list(leads)
        seen: set[str] = set()
        for i, lead in enumerate(items):
            if not isinstance(lead, Lead):
                raise ValidationError(f"leads[{i}]", lead, "must be a Lead")
            if lead.id in seen:
                raise ValidationError(f"leads[{i}].id", lead.id, "is used twice")
            seen.add(lead.id)
        changes = [c for lead in items for c in lead.history]
        acts = [(row, a) for row, lead in enumerate(items) for a in lead.activities]
        owner_names = [lead.owner for lead in items] + [a.owner for _, a in acts]
        owner_codes, owners = _codes(owner_names)
        source, sources = _codes([lead.source for lead in items])
        channel, channels = _codes([lead.channel for lead in items])
        reason, reasons = _codes([c.reason for c in changes])
        counts = np.array([len(lead.history) for lead in items], dtype=np.int64)
        offsets = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        n = len(items)
        return cls(
            ids=read_only(np.array([lead.id for lead in items], dtype=STRING_DTYPE)),
            created=_times([lead.created_at for lead in items]),
            status=_small([STATUSES.index(lead.status) for lead in items]),
            source=source,
            sources=sources,
            channel=channel,
            channels=channels,
            owner=read_only(owner_codes[:n].copy()),
            owners=owners,
            merged=read_only(np.array([lead.merged_into is not None for lead in items], bool)),
            customer=read_only(np.array([lead.customer_id is not None for lead in items], bool)),
            change_offsets=read_only(offsets),
            change_at=_times([c.at for c in changes]),
            change_from=_small([STATUSES.index(c.from_state) for c in changes]),
            change_to=_small([STATUSES.index(c.to_state) for c in changes]),
            change_trigger=_small([TRIGGERS.index(c.trigger) for c in changes]),
            change_reason=reason,
            reasons=reasons,
            activity_lead=read_only(np.array([row for row, _ in acts], dtype=np.int64)),
            activity_ids=read_only(np.array([a.id for _, a in acts], dtype=STRING_DTYPE)),
            activity_kind=_small([KINDS.index(a.kind) for _, a in acts]),
            activity_created=_times([a.created_at for _, a in acts]),
            activity_due=_times([a.due_at for _, a in acts]),
            activity_completed=_times([a.completed_at for _, a in acts]),
            activity_cancelled=_times([a.cancelled_at for _, a in acts]),
            activity_outcome=_small(
                [-1 if a.outcome is None else OUTCOMES.index(a.outcome) for _, a in acts]
            ),
            activity_owner=read_only(owner_codes[n:].copy()),
        )

    @property
    def change_lead(self) -> Int64Array:
        """The lead row of each status change."""
        counts = np.diff(self.change_offsets)
        return read_only(np.repeat(np.arange(len(self), dtype=np.int64), counts))

    def status_codes_at(self, when: datetime) -> Int8Array:
        """Each lead's status code as of ``when`` (-1 before the lead was created).

        Vectorised ``state_at``: the last change at or before ``when`` per lead, by counting the
        changes up to then in each lead's (time-ordered) run.
        """
        t = to_micros(when, "when")
        upto = np.bincount(self.change_lead[self.change_at <= t], minlength=len(self)).astype(
            np.int64
        )
        last = self.change_offsets[:-1] + upto - 1
        codes = np.zeros(len(self), dtype=np.int8)  # new
        has = upto > 0
        codes[has] = self.change_to[last[has]]
        codes[self.created > t] = -1
        return read_only(codes)

    def statuses_at(self, when: datetime) -> tuple[LeadStatus | None, ...]:
        """Each lead's status as of ``when`` (``None`` before it was created)."""
        return tuple(None if c < 0 else STATUSES[c] for c in self.status_codes_at(when).tolist())

    def reached_by(self, status: LeadStatus, when: datetime) -> BoolArray:
        """Whether each lead had entered ``status`` at or before ``when`` (ever, by then)."""
        status = choice(status, "status", LeadStatus)
        t = to_micros(when, "when")
        code = STATUSES.index(status)
        entered = (self.change_to == code) & (self.change_from != code) & (self.change_at <= t)
        hits = np.bincount(self.change_lead[entered], minlength=len(self)) > 0
        if status is LeadStatus.NEW:
            hits |= self.created <= t
        return read_only(hits)

    def first_entered(self, status: LeadStatus, when: datetime) -> Int64Array:
        """When each lead first entered ``status``, at or before ``when`` (``NONE``: not by
        then)."""
        status = choice(status, "status", LeadStatus)
        t = to_micros(when, "when")
        code = STATUSES.index(status)
        entered = (self.change_to == code) & (self.change_from != code) & (self.change_at <= t)
        out = np.full(len(self), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(out, self.change_lead[entered], self.change_at[entered])
        out[out == np.iinfo(np.int64).max] = NONE
        return read_only(out)
