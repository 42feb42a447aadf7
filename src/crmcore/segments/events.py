"""Events raised when customers enter or leave a segment.

[`crmcore.segments.segment.diff()`][crmcore.segments.segment.diff] compares two membership
evaluations and raises one [`SegmentEntered`][crmcore.segments.events.SegmentEntered] per customer
that joined a segment and one [`SegmentExited`][crmcore.segments.events.SegmentExited] per customer
that left it: the hook for automation (send the welcome mail when someone becomes "vip"). They carry
ids and the segment name only, no personal data.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from crmcore.kernel.events import DomainEvent, event_type

__all__ = ["SegmentEntered", "SegmentEvent", "SegmentExited"]


@attrs.frozen(kw_only=True)
class SegmentEvent(DomainEvent):
    """Base of the segment membership events.

    ``aggregate_id`` is the customer id, ``occurred_at`` when the change was
    recorded, ``segment`` the segment name and ``as_of`` the instant of the
    evaluation that saw the change.
    """

    segment: str
    as_of: datetime


@event_type("segment.entered")
@attrs.frozen(kw_only=True)
class SegmentEntered(SegmentEvent):
    """The customer matches the segment now and did not at the previous evaluation."""


@event_type("segment.exited")
@attrs.frozen(kw_only=True)
class SegmentExited(SegmentEvent):
    """The customer matched the segment at the previous evaluation and does not now."""
