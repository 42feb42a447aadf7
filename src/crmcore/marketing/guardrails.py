"""Guardrails every message passes, whatever the workflow says: consent, caps, quiet hours, limits.

A [`SendMessage`][crmcore.marketing.steps.SendMessage] step is checked when it runs, in this order
([`check_send()`][crmcore.marketing.guardrails.check_send]):

1. **consent** on the channel, at the instant of sending (a customer's consent history, or their
   record's flag): no consent, no message; the reason says whether consent was withdrawn or never
   given ([`SuppressionReason`][crmcore.marketing.guardrails.SuppressionReason]);
2. **quiet hours** in the customer's time zone
   ([`QuietHours`][crmcore.marketing.guardrails.QuietHours]): the message *waits* until they end,
   then is checked again from 1;
3. **frequency caps** per customer and channel
   ([`FrequencyCap`][crmcore.marketing.guardrails.FrequencyCap]): at most ``limit`` messages in any
   window of ``window`` ending now, counted over every workflow from the customer's
   [`ContactHistory`][crmcore.marketing.guardrails.ContactHistory]; over the cap the message is
   skipped (Klaviyo's smart sending), not delayed;
4. **global send limits** ([`SendLimit`][crmcore.marketing.guardrails.SendLimit]): at most
   ``limit`` messages per window (windows aligned to the epoch: whole hours, whole UTC days) over
   all customers, counted in [`SendCounts`][crmcore.marketing.guardrails.SendCounts]; over the
   limit the message waits for the next window (Braze's rate limit), then is checked again.

A step that is due more than [`Guardrails.max_lateness`][crmcore.marketing.guardrails.Guardrails]
before the engine runs (a scheduler that stalled) is checked at the engine's ``now`` rather than
at its due time, so a late run never sends into quiet hours.

Examples:
    >>> from datetime import UTC, datetime, time, timedelta
    >>> rails = Guardrails(caps=[FrequencyCap(2, timedelta(days=7), channel="email")],
    ...                    quiet_hours=QuietHours(time(21), time(8)))
    >>> [cap.label for cap in rails.caps]
    ['email: 2 per 7 days']
    >>> rails.quiet_hours.release(datetime(2026, 5, 4, 22, tzinfo=UTC), "UTC", "email")
    datetime.datetime(2026, 5, 5, 8, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Callable, Iterable
from datetime import datetime, time, timedelta
from typing import Any, Final, TypeAlias

import attrs

from crmcore.customers.records import ConsentStatus, MarketingChannel, parse_channel
from crmcore.kernel import validators
from crmcore.kernel.clock import from_micros, to_micros, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.ids import CustomerId, customer_id, validate_id
from crmcore.marketing.local_time import check_wall_time, in_quiet_period, quiet_release

__all__ = [
    "DEFAULT_GUARDRAILS",
    "ContactHistory",
    "Decision",
    "Defer",
    "FrequencyCap",
    "Guardrails",
    "QuietHours",
    "Send",
    "SendCounts",
    "SendLimit",
    "SentMessage",
    "Suppress",
    "SuppressionReason",
    "WindowCount",
    "check_send",
]


class SuppressionReason(enum.StrEnum):
    """Why a message was skipped."""

    NO_CONSENT = "no_consent"
    """The customer never gave consent on the channel (no consent means no)."""
    CONSENT_WITHDRAWN = "consent_withdrawn"
    """The customer withdrew consent on the channel."""
    FREQUENCY_CAP = "frequency_cap"
    """The customer already got as many messages as a cap allows in its window."""


def _channel(value: object) -> MarketingChannel | None:
    return None if value is None else parse_channel(value)


def _positive_int(field: str) -> Callable[[object, object, Any], None]:
    def check(_instance: object, _attribute: object, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(field, value, "must be a whole number >= 1")

    return check


def _window(field: str) -> Callable[[object, object, Any], None]:
    def check(_instance: object, _attribute: object, value: Any) -> None:
        if not isinstance(value, timedelta) or value <= timedelta(0):
            raise ValidationError(field, value, "must be a positive timedelta")
        if value % timedelta(seconds=1):
            raise ValidationError(field, value, "must be a whole number of seconds")

    return check


def _span(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


@attrs.frozen
class FrequencyCap:
    """At most ``limit`` messages per customer in any window of ``window`` (on ``channel``; on all
    channels together when ``None``)."""

    limit: int = attrs.field(validator=_positive_int("caps.limit"))
    window: timedelta = attrs.field(validator=_window("caps.window"))
    channel: MarketingChannel | None = attrs.field(default=None, converter=_channel)

    @property
    def label(self) -> str:
        """How suppressions and reports name the cap: ``"email: 2 per 7 days"``."""
        scope = self.channel.value if self.channel is not None else "all channels"
        return f"{scope}: {self.limit} per {_span(self.window)}"

    def covers(self, channel: MarketingChannel) -> bool:
        """Whether messages on ``channel`` count toward this cap."""
        return self.channel is None or self.channel is channel


def _channels(value: object) -> frozenset[MarketingChannel] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("quiet_hours.channels", value, "must be a collection of channels")
    return frozenset(parse_channel(v) for v in value)


def _quiet_start(value: object) -> time:
    return check_wall_time(value, "quiet_hours.start")


def _quiet_end(value: object) -> time:
    return check_wall_time(value, "quiet_hours.end")


@attrs.frozen
class QuietHours:
    """No message on ``channels`` (all when ``None``) between ``start`` and ``end``, local time.

    ``start > end`` wraps midnight (21:00-08:00). A message due inside waits until ``end``.
    """

    start: time = attrs.field(converter=_quiet_start)
    end: time = attrs.field(converter=_quiet_end)
    channels: frozenset[MarketingChannel] | None = attrs.field(default=None, converter=_channels)

    def __attrs_post_init__(self) -> None:
        if self.start == self.end:
            raise ValidationError("quiet_hours.end", self.end, "must differ from start")

    def covers(self, channel: MarketingChannel | str) -> bool:
        """Whether the quiet hours hold back messages on ``channel``."""
        return self.channels is None or parse_channel(channel) in self.channels

    def is_quiet(self, at: datetime, zone_name: str, channel: MarketingChannel | str) -> bool:
        """Whether a message on ``channel`` at ``at`` falls in the quiet hours of ``zone_name``."""
        return self.covers(channel) and in_quiet_period(at, zone_name, self.start, self.end)

    def release(
        self, at: datetime, zone_name: str, channel: MarketingChannel | str
    ) -> datetime | None:
        """When a message on ``channel`` held at ``at`` may go (``None``: it need not wait)."""
        if not self.covers(channel):
            return None
        return quiet_release(at, zone_name, self.start, self.end)


@attrs.frozen
class SendLimit:
    """At most ``limit`` messages (on ``channel``, or all) per window of ``window`` over every
    customer. Windows are aligned to the epoch, so one hour is a clock hour (UTC)."""

    limit: int = attrs.field(validator=_positive_int("send_limits.limit"))
    window: timedelta = attrs.field(validator=_window("send_limits.window"))
    channel: MarketingChannel | None = attrs.field(default=None, converter=_channel)

    @property
    def label(self) -> str:
        """How counts and reports name the limit: ``"email: 10000 per 1 hour"``."""
        scope = self.channel.value if self.channel is not None else "all channels"
        return f"{scope}: {self.limit} per {_span(self.window)}"

    def covers(self, channel: MarketingChannel) -> bool:
        """Whether messages on ``channel`` count toward this limit."""
        return self.channel is None or self.channel is channel

    def window_of(self, at: datetime) -> datetime:
        """The start of the window holding ``at``."""
        us = to_micros(at)
        size = self.window // timedelta(microseconds=1)
        return from_micros(us - us % size)


def _caps(value: object) -> tuple[FrequencyCap, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("caps", value, "must be a sequence of FrequencyCap")
    caps = tuple(value)
    for i, cap in enumerate(caps):
        if not isinstance(cap, FrequencyCap):
            raise ValidationError(f"caps[{i}]", cap, "must be a FrequencyCap")
    return caps


def _limits(value: object) -> tuple[SendLimit, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("send_limits", value, "must be a sequence of SendLimit")
    limits = tuple(value)
    for i, limit in enumerate(limits):
        if not isinstance(limit, SendLimit):
            raise ValidationError(f"send_limits[{i}]", limit, "must be a SendLimit")
    labels = [limit.label for limit in limits]
    if len(set(labels)) != len(labels):
        raise ValidationError("send_limits", labels, "must not repeat a limit")
    return limits


def _quiet(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, QuietHours):
        raise ValidationError("quiet_hours", value, "must be QuietHours or None")


def _lateness(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and (not isinstance(value, timedelta) or value < timedelta(0)):
        raise ValidationError("max_lateness", value, "must be a non-negative timedelta or None")


@attrs.frozen(kw_only=True)
class Guardrails:
    """The guardrails of every workflow: caps, quiet hours, global limits and ``max_lateness``.

    ``max_lateness``: a step due more than this before the engine's ``now`` runs at ``now``
    (``None``: always at its due time, as the dry run assumes).
    """

    caps: tuple[FrequencyCap, ...] = attrs.field(default=(), converter=_caps)
    quiet_hours: QuietHours | None = attrs.field(default=None, validator=_quiet)
    send_limits: tuple[SendLimit, ...] = attrs.field(default=(), converter=_limits)
    max_lateness: timedelta | None = attrs.field(default=timedelta(hours=1), validator=_lateness)

    @property
    def retention(self) -> timedelta:
        """How far back a contact history must reach: the longest cap window."""
        return max((cap.window for cap in self.caps), default=timedelta(0))


DEFAULT_GUARDRAILS: Final = Guardrails()
"""No caps, no quiet hours, no limits; late steps run at ``now`` after an hour."""


def _at(value: object) -> datetime:
    return to_utc(value, "at")


def _key(value: object) -> str:
    return validate_id(value, "key")


def _start(value: object) -> datetime:
    return to_utc(value, "start")


@attrs.frozen
class SentMessage:
    """One message sent to a customer: its channel, when, and its idempotency key."""

    channel: MarketingChannel = attrs.field(converter=parse_channel)
    at: datetime = attrs.field(converter=_at)
    key: str = attrs.field(converter=_key)


def _sends(value: object) -> tuple[SentMessage, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("sends", value, "must be a sequence of SentMessage")
    sends = tuple(value)
    for i, send in enumerate(sends):
        if not isinstance(send, SentMessage):
            raise ValidationError(f"sends[{i}]", send, "must be a SentMessage")
    return tuple(sorted(sends, key=lambda s: s.at))


@attrs.frozen(kw_only=True)
class ContactHistory:
    """The messages recently sent to one customer (``id`` is the customer id), over every workflow.

    Frequency caps count it; its keys stop a message from going out twice. The engine keeps only
    what the longest cap needs ([`Guardrails.retention`][crmcore.marketing.guardrails.Guardrails]).
    """

    id: CustomerId = attrs.field(converter=customer_id)
    sends: tuple[SentMessage, ...] = attrs.field(default=(), converter=_sends)
    version: int = attrs.field(default=0, validator=validators.version)

    def count(self, channel: MarketingChannel | None, after: datetime, until: datetime) -> int:
        """Messages (on ``channel``; all when ``None``) sent in ``(after, until]``."""
        lo = bisect.bisect_right(self.sends, after, key=_sent_at)
        hi = bisect.bisect_right(self.sends, until, key=_sent_at)
        return sum(1 for s in self.sends[lo:hi] if channel is None or s.channel is channel)

    def has(self, key: str) -> bool:
        """Whether the message with idempotency key ``key`` was sent."""
        return any(s.key == key for s in self.sends)

    def record(self, channel: MarketingChannel, at: datetime, key: str) -> ContactHistory:
        """The history with one more message (kept in time order)."""
        sent = SentMessage(channel, at, key)
        i = bisect.bisect_right(self.sends, sent.at, key=_sent_at)
        return self._with((*self.sends[:i], sent, *self.sends[i:]))

    def pruned(self, before: datetime) -> ContactHistory:
        """The history without messages sent at or before ``before``."""
        cut = bisect.bisect_right(self.sends, to_utc(before, "before"), key=_sent_at)
        return self if cut == 0 else self._with(self.sends[cut:])

    def _with(self, sends: tuple[SentMessage, ...]) -> ContactHistory:
        # The sends are checked SentMessage values in time order: no need to check them again.
        new = object.__new__(ContactHistory)
        object.__setattr__(new, "id", self.id)
        object.__setattr__(new, "sends", sends)
        object.__setattr__(new, "version", self.version)
        return new


def _sent_at(sent: SentMessage) -> datetime:
    return sent.at


@attrs.frozen
class WindowCount:
    """How many messages a send limit (by its label) counted in the window starting at ``start``."""

    limit: str
    start: datetime = attrs.field(converter=_start)
    count: int = attrs.field(validator=validators.non_negative_int)


def _windows(value: object) -> tuple[WindowCount, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("windows", value, "must be a sequence of WindowCount")
    windows = tuple(value)
    for i, window in enumerate(windows):
        if not isinstance(window, WindowCount):
            raise ValidationError(f"windows[{i}]", window, "must be a WindowCount")
    return tuple(sorted(windows, key=lambda w: (w.limit, w.start)))


@attrs.frozen
class SendCounts:
    """Messages counted per global send limit and window (what the limits have used up)."""

    windows: tuple[WindowCount, ...] = attrs.field(default=(), converter=_windows)

    def count(self, limit: SendLimit, at: datetime) -> int:
        """Messages counted by ``limit`` in the window holding ``at``."""
        start = validators.instance_of(limit, SendLimit, "limit").window_of(at)
        return next(
            (w.count for w in self.windows if w.limit == limit.label and w.start == start), 0
        )

    def add(self, limit: SendLimit, at: datetime) -> SendCounts:
        """The counts with one more message in ``limit``'s window holding ``at``."""
        start = validators.instance_of(limit, SendLimit, "limit").window_of(at)
        kept = [w for w in self.windows if not (w.limit == limit.label and w.start == start)]
        return SendCounts((*kept, WindowCount(limit.label, start, self.count(limit, at) + 1)))

    def pruned(self, limits: Iterable[SendLimit], now: datetime) -> SendCounts:
        """Only the windows of ``limits`` that end after ``now`` (older ones can no longer fill)."""
        checked = validators.instances_of(limits, SendLimit, "limits")
        spans = {limit.label: limit.window for limit in checked}
        instant = to_utc(now, "now")
        kept = tuple(
            w for w in self.windows if w.limit in spans and w.start + spans[w.limit] > instant
        )
        return self if kept == self.windows else SendCounts(kept)


@attrs.frozen
class Send:
    """The message may go now."""


@attrs.frozen
class Suppress:
    """The message is skipped: ``reason`` and, for a cap, the cap's label."""

    reason: SuppressionReason
    rule: str | None = None


@attrs.frozen
class Defer:
    """The message waits until ``until`` (``reason``: ``quiet_hours`` or ``send_limit``)."""

    until: datetime
    reason: str


Decision: TypeAlias = Send | Suppress | Defer
"""What the guardrails decide for one message."""


def check_send(
    guardrails: Guardrails,
    channel: MarketingChannel,
    at: datetime,
    *,
    consent: ConsentStatus,
    zone_name: str,
    history: ContactHistory,
    counts: SendCounts,
) -> Decision:
    """Decide one message on ``channel`` at ``at`` for a customer with ``consent`` on it, living in
    ``zone_name``, with the sends in ``history``, given the global ``counts`` (module docstring)."""
    validators.instance_of(guardrails, Guardrails, "guardrails")
    if consent is not ConsentStatus.GRANTED:
        reason = (
            SuppressionReason.CONSENT_WITHDRAWN
            if consent is ConsentStatus.WITHDRAWN
            else SuppressionReason.NO_CONSENT
        )
        return Suppress(reason)
    quiet = guardrails.quiet_hours
    if quiet is not None:
        release = quiet.release(at, zone_name, channel)
        if release is not None and release > at:
            return Defer(release, "quiet_hours")
    for cap in guardrails.caps:
        if cap.covers(channel) and history.count(cap.channel, at - cap.window, at) >= cap.limit:
            return Suppress(SuppressionReason.FREQUENCY_CAP, cap.label)
    for limit in guardrails.send_limits:
        if limit.covers(channel) and counts.count(limit, at) >= limit.limit:
            return Defer(limit.window_of(at) + limit.window, "send_limit")
    return Send()
