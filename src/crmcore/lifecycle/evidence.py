"""Evidence: the reason codes and the activity facts behind a lifecycle state.

Every classification, every recorded transition and every lifecycle event
carries an [`Evidence`][crmcore.lifecycle.evidence.Evidence]: which rules fired
([`Reason`][crmcore.lifecycle.evidence.Reason] codes) and the facts they looked at (recency,
frequency and spend in the trend windows, the customer's usual gap between purchases), the risk
score, the as-of time and the name of the policy. That is what makes a lifecycle auditable: a state
comes with its receipts.

Examples:
    >>> from datetime import UTC, datetime
    >>> e = Evidence(datetime(2026, 1, 1, tzinfo=UTC), ["frequency_down"], 0.5)
    >>> e.reasons
    (<Reason.FREQUENCY_DOWN: 'frequency_down'>,)
    >>> reasons_from_bits(Reason.FREQUENCY_DOWN.bit | Reason.SPEND_DOWN.bit)
    (<Reason.FREQUENCY_DOWN: 'frequency_down'>, <Reason.SPEND_DOWN: 'spend_down'>)
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

import attrs

from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import choice, integer, items_of

__all__ = ["ActivityFacts", "Evidence", "Reason", "reasons_from_bits"]


class Reason(enum.StrEnum):
    """A reason code: one rule of the lifecycle policy that fired.

    Declared in the order the policy evaluates them. In batch results the
    reasons of a customer are a bit mask: reason ``r`` is bit
    [`bit`][crmcore.lifecycle.evidence.Reason.bit].
    """

    NO_PURCHASES = "no_purchases"
    """No purchase at or before the as-of time: a prospect."""
    NO_ACTIVITY_BEYOND_CHURN_HORIZON = "no_activity_beyond_churn_horizon"
    """No purchase within the churn horizon."""
    FIRST_PURCHASE_RECENT = "first_purchase_recent"
    """The first purchase lies within the new-customer window."""
    RECENCY_BEYOND_USUAL_GAP = "recency_beyond_usual_gap"
    """Silent for longer than ``gap_multiple`` times the customer's usual gap."""
    NO_REPEAT_PURCHASE = "no_repeat_purchase"
    """One purchase only, and the new-customer window has passed."""
    FREQUENCY_DOWN = "frequency_down"
    """Purchases in the current window fell to ``decline_ratio`` of the previous one or less."""
    SPEND_DOWN = "spend_down"
    """Spend in the current window fell to ``decline_ratio`` of the previous one or less."""
    FREQUENCY_UP = "frequency_up"
    """Purchases in the current window rose to ``growth_ratio`` of the previous one or more."""
    SPEND_UP = "spend_up"
    """Spend in the current window rose to ``growth_ratio`` of the previous one or more."""
    BUILDING_HISTORY = "building_history"
    """Fewer than ``mature_min_purchases`` purchases so far: still building a history."""
    STABLE_ACTIVITY = "stable_activity"
    """Active, established and no trend either way."""

    @property
    def bit(self) -> int:
        """This reason's bit in a batch reason mask (``1 << position``)."""
        return _BIT[self]


_REASONS: Final[tuple[Reason, ...]] = tuple(Reason)
_BIT: Final[dict[Reason, int]] = {reason: 1 << i for i, reason in enumerate(_REASONS)}
_ORDER: Final[dict[Reason, int]] = {reason: i for i, reason in enumerate(_REASONS)}


def reasons_from_bits(bits: int) -> tuple[Reason, ...]:
    """The reasons set in a batch reason mask, in declaration order."""
    value = integer(bits, "bits", low=0, high=(1 << len(_REASONS)) - 1)
    return tuple(r for r in _REASONS if value & _BIT[r])


def _reasons(values: Iterable[Reason | str]) -> tuple[Reason, ...]:
    if isinstance(values, str):
        raise ValidationError("reasons", values, "must be a collection of reason codes, not a str")
    out = {
        choice(value, "reasons", Reason) for value in items_of(values, "reasons", "reason codes")
    }
    return tuple(sorted(out, key=_ORDER.__getitem__))


def _count(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(attribute.name, value, "must be a non-negative integer")


def _amount(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, float) or not math.isfinite(value) or value < 0:
        raise ValidationError(attribute.name, value, "must be a finite, non-negative float")


def _optional_days(
    _instance: object, attribute: attrs.Attribute[float | None], value: object
) -> None:
    if value is not None:
        _amount(_instance, attribute, value)


def _optional_utc(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "at")


def _float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError("value", value, "must be a number")
    return float(value)


def _optional_float(value: object) -> float | None:
    return None if value is None else _float(value)


@attrs.frozen
class ActivityFacts:
    """What a customer did up to the as-of time, as the policy measured it.

    Counts are purchases (orders); spends are in the purchases' currency,
    summed exactly at 1/10,000 of a unit. ``current`` is the trend window
    ending at the as-of time, ``previous`` the window of equal length before
    it. ``recency_days`` and ``usual_gap_days`` (the mean time between
    purchases) are ``None`` when undefined (no purchase; fewer than two).
    """

    purchases: int = attrs.field(default=0, validator=_count)
    spend_total: float = attrs.field(default=0.0, converter=_float, validator=_amount)
    first_purchase_at: datetime | None = attrs.field(default=None, converter=_optional_utc)
    last_purchase_at: datetime | None = attrs.field(default=None, converter=_optional_utc)
    recency_days: float | None = attrs.field(
        default=None, converter=_optional_float, validator=_optional_days
    )
    usual_gap_days: float | None = attrs.field(
        default=None, converter=_optional_float, validator=_optional_days
    )
    frequency_current: int = attrs.field(default=0, validator=_count)
    frequency_previous: int = attrs.field(default=0, validator=_count)
    spend_current: float = attrs.field(default=0.0, converter=_float, validator=_amount)
    spend_previous: float = attrs.field(default=0.0, converter=_float, validator=_amount)


def _as_of(value: object) -> datetime:
    return to_utc(value, "as_of")


def _risk(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValidationError(attribute.name, value, "must lie in 0..1")


def _policy_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise ValidationError("policy", value, "must be a non-empty name of at most 100 characters")
    return value.strip()


@attrs.frozen
class Evidence:
    """Why a customer is in a state: reasons that fired, the facts, the risk score.

    ``as_of`` is the instant the facts describe, ``policy`` the name of the
    [`LifecyclePolicy`][crmcore.lifecycle.policy.LifecyclePolicy] that judged them and
    ``risk_score`` its churn risk (0 = none, 1 = churned; see the policy for
    the formula). Reasons are kept unique and in [`Reason`][crmcore.lifecycle.evidence.Reason]
    order.
    """

    as_of: datetime = attrs.field(converter=_as_of)
    reasons: tuple[Reason, ...] = attrs.field(converter=_reasons)
    risk_score: float = attrs.field(default=0.0, converter=_float, validator=_risk)
    facts: ActivityFacts = attrs.field(factory=ActivityFacts)
    policy: str = attrs.field(default="default", converter=_policy_name)

    @facts.validator
    def _check_facts(self, _attribute: object, value: object) -> None:
        if not isinstance(value, ActivityFacts):
            raise ValidationError("facts", value, "must be ActivityFacts")
