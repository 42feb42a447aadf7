"""The history of a lead: each recorded status move, and the leads merged into it.

A [`LeadChange`][crmcore.sales.lead_history.LeadChange] is one entry of
[`Lead.history`][crmcore.sales.leads.Lead]: when, which trigger, from which status to which, and
the facts the trigger records (a reason code on ``disqualify``, the new owner on ``assign``) plus a
free-text note. A [`MergedLead`][crmcore.sales.lead_history.MergedLead] is what a surviving lead
keeps of a lead it absorbed ([`merge_leads()`][crmcore.sales.duplicates.merge_leads]): its origin
and its whole status history, so a merge loses no history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from crmcore.customers.records import normalize_slug
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.ids import validate_id
from crmcore.kernel.machine import parse_member
from crmcore.sales.lead_machine import LeadStatus, LeadTrigger, normalize_reason

__all__ = ["LeadChange", "MergedLead"]


def _at(value: object) -> datetime:
    return to_utc(value, "at")


def _trigger(value: object) -> LeadTrigger:
    return parse_member(LeadTrigger, value, "trigger")


def _from(value: object) -> LeadStatus:
    return parse_member(LeadStatus, value, "from_state")


def _to(value: object) -> LeadStatus:
    return parse_member(LeadStatus, value, "to_state")


def _reason(value: object) -> str | None:
    return None if value is None else normalize_reason(value)


def _owner(value: object) -> str | None:
    return None if value is None else validate_id(value, "owner")


def _note(value: object) -> str:
    if not isinstance(value, str) or len(value) > 2000:
        raise ValidationError("note", value, "must be a string of at most 2000 characters")
    return value


@attrs.frozen(kw_only=True)
class LeadChange:
    """One move of a lead's status: when, which trigger, from which status to which.

    ``reason`` is the disqualification reason code (a slug, kept on erasure: it is not personal
    data), ``owner`` the new owner on ``assign`` (``None``: unassigned), ``note`` free text
    (blanked on erasure).
    """

    at: datetime = attrs.field(converter=_at)
    trigger: LeadTrigger = attrs.field(converter=_trigger)
    from_state: LeadStatus = attrs.field(converter=_from)
    to_state: LeadStatus = attrs.field(converter=_to)
    reason: str | None = attrs.field(default=None, converter=_reason)
    owner: str | None = attrs.field(default=None, converter=_owner)
    note: str = attrs.field(default="", converter=_note)


def _merged_id(value: object) -> str:
    return validate_id(value, "merged.id")


def _merged_created(value: object) -> datetime:
    return to_utc(value, "merged.created_at")


def _merged_at(value: object) -> datetime:
    return to_utc(value, "merged.merged_at")


def _merged_source(value: object) -> str:
    return normalize_slug(value, "merged.source")


def _merged_channel(value: object) -> str | None:
    return None if value is None else normalize_slug(value, "merged.channel")


def _merged_campaign(value: object) -> str | None:
    return None if value is None else validate_id(value, "merged.campaign")


def _merged_history(value: object) -> tuple[LeadChange, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("merged.history", value, "must be a sequence of LeadChange")
    changes = tuple(value)
    for i, change in enumerate(changes):
        if not isinstance(change, LeadChange):
            raise ValidationError(f"merged.history[{i}]", change, "must be a LeadChange")
    return changes


@attrs.frozen(kw_only=True)
class MergedLead:
    """A lead absorbed by a merge, as the survivor keeps it: its origin and full status history."""

    id: str = attrs.field(converter=_merged_id)
    created_at: datetime = attrs.field(converter=_merged_created)
    merged_at: datetime = attrs.field(converter=_merged_at)
    source: str = attrs.field(converter=_merged_source)
    channel: str | None = attrs.field(default=None, converter=_merged_channel)
    campaign: str | None = attrs.field(default=None, converter=_merged_campaign)
    history: tuple[LeadChange, ...] = attrs.field(default=(), converter=_merged_history)
