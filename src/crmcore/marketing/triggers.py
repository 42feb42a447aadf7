"""Enrolment triggers: what puts a customer into a workflow.

Two families (HubSpot's enrolment triggers, Klaviyo's flow triggers, Braze's canvas entry):

**Event triggers** listen to domain events, by their registered kind
([`event_kinds()`][crmcore.kernel.events.event_kinds]; a host registers its own with
[`event_type()`][crmcore.kernel.events.event_type]):

* [`EventTrigger`][crmcore.marketing.triggers.EventTrigger]: any event of ``kind`` whose fields
  equal ``where`` (a purchase, a closed case, a lead status change);
* [`SegmentTrigger`][crmcore.marketing.triggers.SegmentTrigger]: ``segment.entered`` or
  ``segment.exited`` of a named segment;
* [`LifecycleTrigger`][crmcore.marketing.triggers.LifecycleTrigger]: a lifecycle move into
  ``to_state`` (from ``from_state``), e.g. mature -> decline;
* [`ChurnRiskTrigger`][crmcore.marketing.triggers.ChurnRiskTrigger]: a churn warning whose risk
  score reaches ``level``.

**Time triggers** fire at instants computed from the customer's record, in their time zone:

* [`DateTrigger`][crmcore.marketing.triggers.DateTrigger]: a date field's yearly anniversary
  (birthday, signup) or the date itself, ``offset_days`` away, at a wall time;
* [`HolidayTrigger`][crmcore.marketing.triggers.HolidayTrigger]: each date of a holiday calendar
  the host supplies, at a wall time;
* [`InactivityTrigger`][crmcore.marketing.triggers.InactivityTrigger]: ``days`` after the latest
  activity (a datetime field), if nothing newer happened.

A yearly date fires first one year after the date (a birthday, not a birth); 29 February falls on
28 February in common years (``leap_day="feb28"``) or on 1 March (``"mar1"``). Datetime fields
(``created_at``) count by their UTC date.

Examples:
    >>> from datetime import UTC, date, datetime
    >>> birthday = DateTrigger("birth_date", at=time(9))
    >>> record = {"id": "c-1", "birth_date": date(1992, 2, 29)}
    >>> since, now = datetime(2026, 2, 27, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    >>> birthday.occurrences(record, "Asia/Shanghai", since, now)
    (datetime.datetime(2026, 2, 28, 1, 0, tzinfo=datetime.timezone.utc),)
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal, TypeAlias

import attrs

from crmcore.kernel.clock import shifted, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent, event_kinds
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.validators import instance_of, integer, items_of
from crmcore.lifecycle.events import EVENT_FOR_KIND
from crmcore.lifecycle.states import LifecycleState
from crmcore.marketing.local_time import check_wall_time, check_zone, local_instant

__all__ = [
    "DATE_FIELDS",
    "ChurnRiskTrigger",
    "DateTrigger",
    "EventTrigger",
    "HolidayTrigger",
    "InactivityTrigger",
    "LeapDay",
    "LifecycleTrigger",
    "SegmentTrigger",
    "SignalTrigger",
    "TimeTrigger",
    "Trigger",
    "WhereValue",
    "anniversary",
    "check_date_field",
    "check_event_kind",
]

WhereValue: TypeAlias = str | int | float | bool | None
"""A value an [`EventTrigger`][crmcore.marketing.triggers.EventTrigger] compares an event field
with."""

LeapDay = Literal["feb28", "mar1"]
"""Where a yearly 29 February falls in common years."""

DATE_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "birth_date",
        "created_at",
        "first_purchase_at",
        "last_purchase_at",
        "last_interaction_at",
        "last_service_at",
    }
)
"""The standard date and datetime fields a time trigger may read (besides ``attr.*`` ones)."""

_ATTRIBUTE = re.compile(r"attr\.[a-z][a-z0-9_]{0,39}\Z")
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _:./-]{0,99}\Z")
_NINE: Final = time(9)
_LIFECYCLE_KINDS: Final = frozenset(cls.kind for cls in EVENT_FOR_KIND.values())


def check_event_kind(value: object, field: str) -> str:
    """``value`` if it is a registered event kind; a `ValidationError` naming ``field`` else."""
    if not isinstance(value, str) or value not in event_kinds():
        raise ValidationError(
            field,
            value,
            "is not a registered event kind (see crmcore.kernel.events.event_kinds(); "
            "register a host kind with event_type)",
        )
    return value


def _event_kind(value: object) -> str:
    return check_event_kind(value, "trigger.kind")


def _field_value(event: DomainEvent, name: str) -> object:
    value = getattr(event, name, None)
    return value.value if isinstance(value, enum.Enum) else value


def _where(value: object) -> FrozenDict[str, WhereValue]:
    if value is None:
        return FrozenDict()
    if not isinstance(value, Mapping):
        raise ValidationError("trigger.where", value, "must be a mapping of field to value")
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ValidationError("trigger.where", key, "field names must be non-empty strings")
        if item is not None and not isinstance(item, str | int | float | bool):
            raise ValidationError(
                f"trigger.where.{key}", item, "must be a string, number, boolean or null"
            )
    return FrozenDict(value)


@attrs.frozen
class EventTrigger:
    """Enrol on every event of ``kind`` whose fields equal ``where`` (enum fields by value).

    Examples:
        >>> closed = EventTrigger("case.closed")
        >>> EventTrigger("case.clsoed")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: trigger.kind: is not a registered event kind ...
    """

    kind: str = attrs.field(converter=_event_kind)
    where: FrozenDict[str, WhereValue] = attrs.field(factory=FrozenDict, converter=_where)

    def __attrs_post_init__(self) -> None:
        cls = event_kinds()[self.kind]
        names = {f.name for f in attrs.fields(cls)}
        for key in self.where:
            if key not in names:
                raise ValidationError(
                    f"trigger.where.{key}", key, f"is not a field of {self.kind} events"
                )

    @property
    def kinds(self) -> frozenset[str]:
        """The event kinds this trigger listens to."""
        return frozenset({self.kind})

    @property
    def label(self) -> str:
        """How an enrolment names this trigger as its source."""
        return f"event:{self.kind}"

    def matches(self, event: DomainEvent) -> bool:
        """Whether ``event`` fires the trigger."""
        instance_of(event, DomainEvent, "event", "a DomainEvent")
        return event.kind == self.kind and all(
            _field_value(event, k) == v for k, v in self.where.items()
        )


def _segment_name(value: object) -> str:
    if not isinstance(value, str) or not _SEGMENT.match(value):
        raise ValidationError("trigger.segment", value, "must be a segment name")
    return value


def _on(value: object) -> Literal["entered", "exited"]:
    if not isinstance(value, str):
        raise ValidationError("trigger.on", value, "must be 'entered' or 'exited'")
    if value == "entered":
        return "entered"
    if value == "exited":
        return "exited"
    raise ValidationError("trigger.on", value, "must be 'entered' or 'exited'")


@attrs.frozen
class SegmentTrigger:
    """Enrol when a customer enters (or exits) the segment ``segment``.

    The events come from [`crmcore.segments.diff()`][crmcore.segments.diff].
    """

    segment: str = attrs.field(converter=_segment_name)
    on: Literal["entered", "exited"] = attrs.field(default="entered", converter=_on)

    @property
    def kinds(self) -> frozenset[str]:
        """The event kinds this trigger listens to."""
        return frozenset({f"segment.{self.on}"})

    @property
    def label(self) -> str:
        """How an enrolment names this trigger as its source."""
        return f"segment:{self.on}"

    def matches(self, event: DomainEvent) -> bool:
        """Whether ``event`` fires the trigger."""
        instance_of(event, DomainEvent, "event", "a DomainEvent")
        return event.kind in self.kinds and getattr(event, "segment", None) == self.segment


def _state(value: object) -> LifecycleState:
    return LifecycleState.parse(value, "trigger.to_state")


def _optional_state(value: object) -> LifecycleState | None:
    return None if value is None else LifecycleState.parse(value, "trigger.from_state")


@attrs.frozen
class LifecycleTrigger:
    """Enrol on a lifecycle move into ``to_state`` (from ``from_state`` only, when given).

    Examples:
        >>> LifecycleTrigger("decline", from_state="mature").label
        'lifecycle:mature->decline'
    """

    to_state: LifecycleState = attrs.field(converter=_state)
    from_state: LifecycleState | None = attrs.field(default=None, converter=_optional_state)

    def __attrs_post_init__(self) -> None:
        if self.from_state is self.to_state:
            raise ValidationError(
                "trigger.from_state", self.from_state, "must differ from to_state"
            )

    @property
    def kinds(self) -> frozenset[str]:
        """The event kinds this trigger listens to."""
        return _LIFECYCLE_KINDS

    @property
    def label(self) -> str:
        """How an enrolment names this trigger as its source."""
        start = self.from_state.value if self.from_state is not None else "*"
        return f"lifecycle:{start}->{self.to_state.value}"

    def matches(self, event: DomainEvent) -> bool:
        """Whether ``event`` fires the trigger."""
        instance_of(event, DomainEvent, "event", "a DomainEvent")
        if event.kind not in _LIFECYCLE_KINDS or getattr(event, "to_state", None) != self.to_state:
            return False
        return self.from_state is None or getattr(event, "from_state", None) == self.from_state


def _level(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValidationError("trigger.level", value, "must be a risk level in (0, 1]")
    return float(value)


@attrs.frozen
class ChurnRiskTrigger:
    """Enrol on a churn warning (``lifecycle.churn_warning``) with a risk score from ``level`` up.

    In a dry run, a risk column (such as `ChurnRisk.risk` of
    [`churn_risk()`][crmcore.analytics.churn.churn_risk]) stands for the warnings.
    """

    level: float = attrs.field(default=0.5, converter=_level)

    @property
    def kinds(self) -> frozenset[str]:
        """The event kinds this trigger listens to."""
        return frozenset({"lifecycle.churn_warning"})

    @property
    def label(self) -> str:
        """How an enrolment names this trigger as its source."""
        return f"churn_risk:{self.level:g}"

    def matches(self, event: DomainEvent) -> bool:
        """Whether ``event`` fires the trigger."""
        instance_of(event, DomainEvent, "event", "a DomainEvent")
        risk = getattr(event, "risk_score", None)
        return (
            event.kind == "lifecycle.churn_warning"
            and isinstance(risk, float)
            and (risk >= self.level)
        )


# -- time triggers ------------------------------------------------------------------------------


def check_date_field(value: object, field: str = "trigger.field") -> str:
    """A date or datetime field name: a standard one or ``attr.<name>``."""
    if not isinstance(value, str) or not (value in DATE_FIELDS or _ATTRIBUTE.match(value)):
        raise ValidationError(
            field, value, f"must be one of {', '.join(sorted(DATE_FIELDS))} or attr.<name>"
        )
    return value


def _leap(value: object) -> LeapDay:
    if not isinstance(value, str):
        raise ValidationError("trigger.leap_day", value, "must be 'feb28' or 'mar1'")
    if value == "feb28":
        return "feb28"
    if value == "mar1":
        return "mar1"
    raise ValidationError("trigger.leap_day", value, "must be 'feb28' or 'mar1'")


def _offset_days(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -366 <= value <= 366:
        raise ValidationError(
            "trigger.offset_days", value, "must be a whole number of days, -366..366"
        )
    return value


def _wall(value: object) -> time:
    return check_wall_time(value, "trigger.at")


def anniversary(day: date, year: int, leap_day: LeapDay = "feb28") -> date:
    """``day``'s month and day in ``year``; 29 February moves to ``leap_day`` in common years."""
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28) if leap_day == "feb28" else date(year, 3, 1)


def _day_of(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo is not None else None
    if isinstance(value, date):
        return value
    return None


def _plus(day: date, shift: timedelta) -> date | None:
    """``day + shift``, or ``None`` past the calendar's ends (such a day never fires)."""
    try:
        return day + shift
    except OverflowError:
        return None


def _window_of(
    record: object, zone_name: object, since: object, now: object
) -> tuple[datetime, datetime]:
    """The checked arguments of ``occurrences``: the window ``(since, now]`` in UTC."""
    if not isinstance(record, Mapping):
        raise ValidationError("record", record, "must be a mapping of a customer's fields")
    check_zone(zone_name, "zone_name")
    return to_utc(since, "since"), to_utc(now, "now")


def _span(
    record: object, zone_name: object, since: object, now: object, margin: timedelta
) -> tuple[datetime, datetime, date, date]:
    """The window in UTC (as ``_window_of``) and the local dates around it that can fire.

    A local date is within a day of the UTC date, so only days from two days before ``since`` to
    two after ``now`` can fire; with ``margin`` more, those days must lie in years 1 to 9999.
    """
    start, end = _window_of(record, zone_name, since, now)
    reach = timedelta(days=2) + margin
    shifted(start, -reach, "since")
    shifted(end, reach, "now")
    return start, end, (start - timedelta(days=2)).date(), (end + timedelta(days=2)).date()


def _window(instants: Iterable[datetime], since: datetime, now: datetime) -> tuple[datetime, ...]:
    return tuple(sorted(t for t in instants if since < t <= now))


@attrs.frozen
class DateTrigger:
    """Enrol on a date field: its yearly anniversary (``yearly``) or the date itself.

    The trigger fires ``offset_days`` after the day (negative: before) at wall time ``at`` in the
    customer's zone: ``DateTrigger("birth_date")`` is the birthday at 09:00,
    ``DateTrigger("attr.points_expire_on", yearly=False, offset_days=-7)`` a week before points
    expire.
    """

    field: str = attrs.field(converter=check_date_field)
    yearly: bool = attrs.field(default=True)
    offset_days: int = attrs.field(default=0, converter=_offset_days)
    at: time = attrs.field(default=_NINE, converter=_wall)
    leap_day: LeapDay = attrs.field(default="feb28", converter=_leap)

    @yearly.validator
    def _check_yearly(self, _attribute: object, value: object) -> None:
        if not isinstance(value, bool):
            raise ValidationError("trigger.yearly", value, "must be True or False")

    @property
    def label(self) -> str:
        """How an enrolment names this trigger as its source."""
        return f"date:{self.field}"

    def days(self, value: date, first_year: int, last_year: int) -> tuple[date, ...]:
        """The trigger days of a field value whose occurrences may fall in the years given.

        A day that would lie past the calendar's ends (after shifting by ``offset_days``) is left
        out: it never comes.

        Raises:
            ValidationError: ``value`` is not a date, or a year is not an integer (``last_year``
                at most 9999).
        """
        if not isinstance(value, date):
            raise ValidationError("value", value, "must be a date")
        return self._days(
            value, integer(first_year, "first_year"), integer(last_year, "last_year", high=9999)
        )

    def _days(self, value: date, first_year: int, last_year: int) -> tuple[date, ...]:
        shift = timedelta(days=self.offset_days)
        if not self.yearly:
            found: tuple[date | None, ...] = (_plus(value, shift),)
        else:
            years = range(max(first_year, value.year + 1), last_year + 1)
            found = tuple(_plus(anniversary(value, y, self.leap_day), shift) for y in years)
        return tuple(d for d in found if d is not None)

    def occurrences(
        self, record: Mapping[str, object], zone_name: str, since: datetime, now: datetime
    ) -> tuple[datetime, ...]:
        """The instants in ``(since, now]`` at which the trigger fires for ``record``.

        Raises:
            ValidationError: ``record`` is not a mapping, ``zone_name`` no IANA time zone, or
                ``since``/``now`` not aware datetimes whose days around the window (and the
                trigger's offset) lie in years 1 to 9999.
        """
        margin = timedelta(days=abs(self.offset_days))
        start, end, first, last = _span(record, zone_name, since, now, margin)
        value = _day_of(record.get(self.field))
        if value is None:
            return ()
        years = ((first - margin).year, (last + margin).year)
        days = (d for d in self._days(value, *years) if first <= d <= last)
        return _window((local_instant(zone_name, d, self.at) for d in days), start, end)


def _holidays(value: object) -> frozenset[date]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("trigger.dates", value, "must be a collection of dates")
    given = items_of(value, "trigger.dates", "dates")
    if not given:
        raise ValidationError("trigger.dates", value, "must hold at least one date")
    for day in given:
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValidationError("trigger.dates", day, "must be a date (not a datetime)")
    return frozenset(given)


def _calendar(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", value):
        raise ValidationError("trigger.calendar", value, "must be 1-40 of a-z 0-9 _ -")
    return value


@attrs.frozen
class HolidayTrigger:
    """Enrol every customer on each of ``dates`` (a holiday calendar) at wall time ``at``."""

    dates: frozenset[date] = attrs.field(converter=_holidays)
    at: time = attrs.field(default=_NINE, converter=_wall)
    calendar: str = attrs.field(default="holidays", converter=_calendar)

    @property
    def label(self) -> str:
        """How an enrolment names this trigger as its source."""
        return f"holiday:{self.calendar}"

    def occurrences(
        self, record: Mapping[str, object], zone_name: str, since: datetime, now: datetime
    ) -> tuple[datetime, ...]:
        """The instants in ``(since, now]`` at which the trigger fires (the same for everyone
        in a zone).

        Raises:
            ValidationError: ``record`` is not a mapping, ``zone_name`` no IANA time zone, or
                ``since``/``now`` not aware datetimes whose days around the window (and the
                trigger's offset) lie in years 1 to 9999.
        """
        start, end, first, last = _span(record, zone_name, since, now, timedelta(0))
        days = (d for d in self.dates if first <= d <= last)
        return _window((local_instant(zone_name, d, self.at) for d in days), start, end)


def _inactive_days(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
        raise ValidationError("trigger.days", value, "must be a whole number of days, 1..3650")
    return value


def _activity_field(value: object) -> str:
    name = check_date_field(value)
    if name == "birth_date":
        raise ValidationError("trigger.field", value, "must be an activity time, not a date")
    return name


@attrs.frozen
class InactivityTrigger:
    """Enrol ``days`` after the time in ``field`` (default: the latest purchase).

    Each spell of inactivity fires once: a newer activity moves the instant on. Customers without
    a value (never bought) do not fire.
    """

    days: int = attrs.field(converter=_inactive_days)
    field: str = attrs.field(default="last_purchase_at", converter=_activity_field)

    @property
    def label(self) -> str:
        """How an enrolment names this trigger as its source."""
        return f"inactivity:{self.field}"

    def occurrences(
        self, record: Mapping[str, object], zone_name: str, since: datetime, now: datetime
    ) -> tuple[datetime, ...]:
        """The instant in ``(since, now]`` at which the trigger fires, if it falls there (never
        when ``days`` after the record's time lies past year 9999).

        Raises:
            ValidationError: ``record`` is not a mapping, ``zone_name`` no IANA time zone, or
                ``since``/``now`` not aware datetimes.
        """
        start, end = _window_of(record, zone_name, since, now)
        value = record.get(self.field)
        if not isinstance(value, datetime) or value.tzinfo is None:
            return ()
        try:
            fires = to_utc(value, self.field) + timedelta(days=self.days)
        except OverflowError:  # after year 9999: never within a window
            return ()
        return _window((fires,), start, end)


SignalTrigger: TypeAlias = EventTrigger | SegmentTrigger | LifecycleTrigger | ChurnRiskTrigger
"""A trigger that listens to events."""

TimeTrigger: TypeAlias = DateTrigger | HolidayTrigger | InactivityTrigger
"""A trigger that fires at instants computed from the customer's record."""

Trigger: TypeAlias = SignalTrigger | TimeTrigger
"""Any enrolment trigger."""
