"""Retries for units of work: bounded exponential backoff with full jitter.

Optimistic concurrency turns a race into an error instead of a lost update: two writers load the
same account, the first to commit wins, the second gets a
[`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError]. The right answer for
the loser is to reload and redo its work, a little later. [`retry()`][crmcore.services.retry.retry]
does that for any operation that reloads what it changes (every service in
[`crmcore.services`][crmcore.services] does), also after the transient failures a database reports
for the same situation ([`is_transient()`][crmcore.services.retry.is_transient]: a serialization
failure or deadlock in PostgreSQL, a lock wait that timed out in SQLite).

The wait before attempt ``n + 1`` is drawn uniformly from ``[0, min(max_delay, base_delay *
2**(n - 1))]`` ("full jitter", M. Brooker, *Exponential Backoff And Jitter*, AWS Architecture Blog,
2015): writers that collided spread out instead of colliding again in lock step, and the total
wait is bounded by
[`RetryPolicy.max_total_wait`][crmcore.services.retry.RetryPolicy.max_total_wait]. After
``attempts`` tries the last error propagates. The sleep and the random source are part of the
policy, so tests inject them and never sleep.

**What the defaults sustain.** Measured with ``python3 scripts/dev.py bench postgres`` (PostgreSQL
15 on loopback, 2 shared cores): with [`DEFAULT_RETRY`][crmcore.services.retry.DEFAULT_RETRY],
8 processes posting to one loyalty account at once completed all of their 240 operations (0.55
retries each on average); at 12 processes 4 % gave up. Writers of different accounts never
collide. ``docs/postgres.md`` has the table.

Examples:
    >>> from crmcore.kernel.errors import ConcurrencyConflictError
    >>> waits = []
    >>> policy = RetryPolicy(attempts=4, sleep=waits.append, random=lambda: 0.5)
    >>> tries = iter([ConcurrencyConflictError("account", "A-1", 3, 4), None])
    >>> def operation():
    ...     error = next(tries)
    ...     if error is not None:
    ...         raise error
    ...     return "done"
    >>> retry(operation, policy), waits
    ('done', [0.0025])
"""

from __future__ import annotations

import math
import random as _random
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

import attrs

from crmcore.kernel.errors import ConcurrencyConflictError, StorageError, ValidationError

__all__ = ["DEFAULT_RETRY", "NO_RETRY", "RetryPolicy", "is_transient", "retry"]

T = TypeVar("T")

_TRANSIENT_SQLITE: Final = ("SQLITE_BUSY", "SQLITE_LOCKED")


def _attempts(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise ValidationError("attempts", value, "must be an integer from 1 to 1000")
    return value


def _seconds(value: object, field: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or value > 3600
    ):
        raise ValidationError(field, value, "must be a number of seconds from 0 to 3600")
    return float(value)


def _base(value: object) -> float:
    return _seconds(value, "base_delay")


def _cap(value: object) -> float:
    return _seconds(value, "max_delay")


def _callable(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise ValidationError(attribute.name, value, "must be callable")


def is_transient(error: BaseException) -> bool:
    """Whether redoing the unit of work may succeed: a conflict, or a transient database failure.

    True for [`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError], and for
    a [`StorageError`][crmcore.kernel.errors.StorageError] caused by a transaction rollback
    (SQLSTATE class ``40``: PostgreSQL's serialization failure ``40001`` and deadlock ``40P01``)
    or by SQLite's lock waits running out (``SQLITE_BUSY``, ``SQLITE_LOCKED``). Everything else
    (a validation error, a duplicate, a connection failure) is not retried.

    Examples:
        >>> is_transient(ConcurrencyConflictError("customer", "c-1", 1, 2))
        True
        >>> is_transient(ValidationError("at", None, "must be a datetime"))
        False
    """
    if isinstance(error, ConcurrencyConflictError):
        return True
    if not isinstance(error, StorageError):
        return False
    cause = error.__cause__
    state = getattr(cause, "sqlstate", None)
    if isinstance(state, str) and state.startswith("40"):
        return True
    name = getattr(cause, "sqlite_errorname", None)
    return isinstance(name, str) and name.startswith(_TRANSIENT_SQLITE)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How often and how patiently to redo a unit of work.

    ``attempts``: tries in all (1 = no retry). Before try ``n + 1`` the policy waits
    ``random() * min(max_delay, base_delay * 2**(n - 1))`` seconds (full jitter). ``retry_if``
    decides which errors are worth another try
    ([`is_transient()`][crmcore.services.retry.is_transient] by default); ``sleep`` and ``random``
    are injectable (tests pass fakes and never sleep).
    """

    attempts: int = attrs.field(default=20, converter=_attempts)
    base_delay: float = attrs.field(default=0.005, converter=_base)
    max_delay: float = attrs.field(default=0.5, converter=_cap)
    retry_if: Callable[[BaseException], bool] = attrs.field(
        default=is_transient, validator=_callable, eq=False
    )
    sleep: Callable[[float], object] = attrs.field(
        default=time.sleep, validator=_callable, eq=False, repr=False
    )
    random: Callable[[], float] = attrs.field(
        default=_random.random, validator=_callable, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        if self.max_delay < self.base_delay:
            raise ValidationError(
                "max_delay", self.max_delay, f"must be at least base_delay ({self.base_delay})"
            )

    def ceiling(self, attempt: int) -> float:
        """The longest wait after failed try number ``attempt`` (1-based)."""
        if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
            raise ValidationError("attempt", attempt, "must be an integer of at least 1")
        exponent = min(attempt - 1, 64)  # beyond 2**64 the cap has long applied
        return min(self.max_delay, self.base_delay * 2.0**exponent)

    def delay(self, attempt: int) -> float:
        """The wait after failed try number ``attempt``: uniform in ``[0, ceiling(attempt)]``."""
        draw = self.random()
        if not isinstance(draw, int | float) or not 0 <= draw <= 1:
            raise ValidationError("random()", draw, "must return a number from 0 to 1")
        return float(draw) * self.ceiling(attempt)

    @property
    def max_total_wait(self) -> float:
        """The most a retried operation can spend waiting, in seconds (every draw at its top)."""
        return sum(self.ceiling(n) for n in range(1, self.attempts))


DEFAULT_RETRY: Final = RetryPolicy()
"""20 tries, waits drawn below 5 ms, 10 ms, 20 ms, … 500 ms: at most 6.6 s of waiting in all
(about half that on average), only ever spent when a change collides again and again."""
NO_RETRY: Final = RetryPolicy(attempts=1)
"""One try: errors propagate at once."""


def retry(operation: Callable[[], T], policy: RetryPolicy | None = DEFAULT_RETRY) -> T:
    """Run ``operation``; after an error ``policy.retry_if`` accepts, wait and run it again.

    ``operation`` must redo the whole unit of work (reload, decide, save), never replay a stale
    copy. ``policy=None`` runs it once. After the last try the error propagates unchanged.
    """
    if policy is None:
        return operation()
    if not isinstance(policy, RetryPolicy):
        raise ValidationError("policy", policy, "must be a RetryPolicy or None")
    if not callable(operation):
        raise ValidationError("operation", operation, "must be callable")
    attempt = 1
    while True:
        try:
            return operation()
        except Exception as error:
            if attempt >= policy.attempts or not policy.retry_if(error):
                raise
        policy.sleep(policy.delay(attempt))
        attempt += 1
