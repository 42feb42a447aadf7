"""Time: aware datetimes only, and clocks passed in rather than read globally.

Domain code never reads the wall clock. A caller passes an explicit ``at=``
(an aware `datetime`) or a [`Clock`][crmcore.kernel.clock.Clock]; tests use
[`FixedClock`][crmcore.kernel.clock.FixedClock], applications
[`SystemClock`][crmcore.kernel.clock.SystemClock].

**The range of time** is Python's: years 1 to 9999, *in UTC* (also the range of every
``datetime64[us]`` column). ``9999-12-31T23:59:59.999999+00:00`` is a valid instant; a local
time whose UTC instant falls outside the range, such as ``9999-12-31T23:00-05:00`` (which is in
the year 10000 in UTC), is refused by [`to_utc()`][crmcore.kernel.clock.to_utc] with a
[`ValidationError`][crmcore.kernel.errors.ValidationError], never an ``OverflowError``.
[`shifted()`][crmcore.kernel.clock.shifted] moves an instant by a duration within that range.
"""

from __future__ import annotations

import operator
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs

from crmcore.kernel.errors import ValidationError

__all__ = [
    "DAY_US",
    "EPOCH",
    "MICROSECOND",
    "Clock",
    "FixedClock",
    "SystemClock",
    "ensure_aware",
    "ensure_date",
    "from_micros",
    "parse_datetime",
    "shifted",
    "to_micros",
    "to_utc",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The Unix epoch as an aware datetime (the origin of ``datetime64[us]`` columns)."""
MICROSECOND = timedelta(microseconds=1)
"""One microsecond: the resolution of every stored time and ``datetime64[us]`` column."""
DAY_US = 86_400_000_000
"""Microseconds in a day (of 24 hours): the unit of day windows in the batch arrays."""


def ensure_aware(value: object, field: str = "at") -> datetime:
    """Return ``value`` if it is a timezone-aware datetime, else raise.

    Naive datetimes are ambiguous (whose midnight?) and are rejected with a
    [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``field``.

    Examples:
        >>> ensure_aware(datetime(2024, 1, 1))
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: at: must be a timezone-aware datetime ...
    """
    if not isinstance(value, datetime):
        raise ValidationError(field, value, "must be a timezone-aware datetime")
    try:
        offset = None if value.tzinfo is None else value.utcoffset()
    except (ValueError, TypeError, OverflowError) as error:  # a broken tzinfo
        raise ValidationError(field, value, f"has an invalid time zone: {error}") from None
    if offset is None:
        raise ValidationError(
            field, value, "must be a timezone-aware datetime (naive datetimes are ambiguous)"
        )
    return value


def to_utc(value: object, field: str = "at") -> datetime:
    """Validate ``value`` as aware and convert it to UTC, in canonical form.

    ``fold`` only disambiguates local times repeated by a clock change; once
    converted to UTC it carries no meaning, so it is reset to 0 and equal
    instants have equal representations. An instant outside years 1 to 9999 in UTC is refused.

    Examples:
        >>> from datetime import timezone
        >>> to_utc(datetime(9999, 12, 31, 18, tzinfo=timezone(timedelta(hours=-5))))
        datetime.datetime(9999, 12, 31, 23, 0, tzinfo=datetime.timezone.utc)
        >>> to_utc(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))))
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: at: lies outside years 1 to 9999 in UTC ...
    """
    aware = ensure_aware(value, field)
    try:
        return aware.astimezone(UTC).replace(fold=0)
    except OverflowError:
        raise ValidationError(field, value, "lies outside years 1 to 9999 in UTC") from None


def shifted(at: datetime, delta: timedelta, field: str = "at") -> datetime:
    """``at + delta``, or a [`ValidationError`][crmcore.kernel.errors.ValidationError] naming
    ``field`` when the result would leave years 1 to 9999 (instead of an ``OverflowError``).

    Examples:
        >>> shifted(datetime(2024, 1, 31, tzinfo=UTC), timedelta(days=1))
        datetime.datetime(2024, 2, 1, 0, 0, tzinfo=datetime.timezone.utc)
        >>> shifted(datetime(9999, 12, 31, tzinfo=UTC), timedelta(days=1), "expires_at")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: expires_at: would lie outside years 1 to 9999 ...
    """
    try:
        return at + delta
    except OverflowError:
        raise ValidationError(
            field, f"{at.isoformat()} + {delta}", "would lie outside years 1 to 9999"
        ) from None


def to_micros(value: object, field: str = "at") -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact; naive ones are refused).

    The integer form of every time in the batch arrays (``datetime64[us]``).

    Examples:
        >>> to_micros(datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC))
        1000000
    """
    return (ensure_aware(value, field) - EPOCH) // MICROSECOND


def from_micros(value: int) -> datetime:
    """The aware UTC datetime ``value`` microseconds after the epoch (inverse of
    [`to_micros()`][crmcore.kernel.clock.to_micros]).

    ``value`` is an integer (numpy integers too); one outside years 1 to 9999 is refused.

    Examples:
        >>> from_micros(1_000_000)
        datetime.datetime(1970, 1, 1, 0, 0, 1, tzinfo=datetime.timezone.utc)
    """
    if isinstance(value, bool):
        raise ValidationError("micros", value, "must be an integer")
    try:
        micros = operator.index(value)
    except TypeError:
        raise ValidationError("micros", value, "must be an integer") from None
    try:
        return EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise ValidationError("micros", value, "lies outside years 1 to 9999") from None


def ensure_date(value: object, field: str) -> date:
    """Return ``value`` if it is a `date` (not a datetime)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError(field, value, "must be a date (not a datetime)")
    return value


def parse_datetime(text: str, field: str = "at") -> datetime:
    """Parse an ISO 8601 timestamp that carries an offset (``Z`` or ``±hh:mm``)."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except (TypeError, ValueError, AttributeError):
        raise ValidationError(field, text, "must be an ISO 8601 timestamp") from None
    return ensure_aware(parsed, field)


@runtime_checkable
class Clock(Protocol):
    """Something that tells the current time as an aware datetime."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """The real wall clock, in UTC."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


@attrs.define
class FixedClock:
    """A clock that stands still until told to move: deterministic tests.

    Examples:
        >>> clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
        >>> clock.advance(days=1).now()
        datetime.datetime(2024, 1, 2, 0, 0, tzinfo=datetime.timezone.utc)
    """

    current: datetime = attrs.field(validator=lambda _i, _a, v: ensure_aware(v, "current"))

    def now(self) -> datetime:
        """The instant the clock is set to."""
        return self.current

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> FixedClock:
        """Move the clock forward by ``delta`` (or ``timedelta(**kwargs)``); returns self."""
        if delta is None:
            try:
                step = timedelta(**kwargs)
            except (TypeError, ValueError, OverflowError) as error:
                raise ValidationError("delta", kwargs, f"is not a duration: {error}") from None
        elif isinstance(delta, timedelta):
            step = delta
        else:
            raise ValidationError("delta", delta, "must be a timedelta")
        if step < timedelta(0):
            raise ValidationError("delta", step, "a clock only moves forward")
        self.current = shifted(self.current, step, "current")
        return self

    def set(self, value: datetime) -> FixedClock:
        """Set the clock to ``value`` (aware); returns self."""
        self.current = ensure_aware(value, "value")
        return self
