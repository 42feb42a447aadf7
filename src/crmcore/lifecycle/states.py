"""The six lifecycle states of a customer (DOMAIN.md §3, seed 002 §2.1).

Prospect (潜在客户) → new (新客户) → growth (成长) → mature (成熟) → decline
(衰退) → churned (流失), with win-back from decline or churned to an active
state. States are inferred from purchases by a
[`LifecyclePolicy`][crmcore.lifecycle.policy.LifecyclePolicy]; the moves between them are
declared in [`crmcore.lifecycle.transitions`][crmcore.lifecycle.transitions].

Examples:
    >>> LifecycleState.parse("decline")
    <LifecycleState.DECLINE: 'decline'>
    >>> LifecycleState.DECLINE.code, LifecycleState.from_code(4)
    (4, <LifecycleState.DECLINE: 'decline'>)
"""

from __future__ import annotations

import enum
from typing import Final

from crmcore.kernel.errors import ValidationError

__all__ = ["ACTIVE_STATES", "LifecycleState"]


class LifecycleState(enum.StrEnum):
    """Where a customer stands in the relationship.

    Stored and serialised by value (``"mature"``). In batch results a state
    is an ``int8`` [`code`][crmcore.lifecycle.states.LifecycleState.code]: its position in
    declaration order (prospect 0 ... churned 5), which never changes for existing states.
    """

    PROSPECT = "prospect"
    """Known, no purchase yet (潜在客户)."""
    NEW = "new"
    """First purchase within the new-customer window (新客户)."""
    GROWTH = "growth"
    """Buying more: rising frequency or spend, or still building a history (成长)."""
    MATURE = "mature"
    """Stable, established buyer: the main revenue (成熟)."""
    DECLINE = "decline"
    """Buying less or overdue: the churn early warning (衰退, 流失预警)."""
    CHURNED = "churned"
    """No purchase within the churn horizon (流失)."""

    @property
    def code(self) -> int:
        """The state's integer code in batch arrays (declaration order, from 0)."""
        return _CODE[self]

    @property
    def is_active(self) -> bool:
        """True for new, growth and mature: buying customers not at risk."""
        return self in ACTIVE_STATES

    @classmethod
    def from_code(cls, code: int) -> LifecycleState:
        """The state with integer ``code``;
        [`ValidationError`][crmcore.ValidationError] otherwise.
        """
        if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code < len(_STATES):
            raise ValidationError("state", code, f"must be a state code 0..{len(_STATES) - 1}")
        return _STATES[code]

    @classmethod
    def parse(cls, value: object, field: str = "state") -> LifecycleState:
        """A state from itself or its value (``"growth"``, any case); ValidationError otherwise."""
        if isinstance(value, LifecycleState):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        names = ", ".join(s.value for s in cls)
        raise ValidationError(field, value, f"must be one of {names}")


_STATES: Final[tuple[LifecycleState, ...]] = tuple(LifecycleState)
_CODE: Final[dict[LifecycleState, int]] = {state: i for i, state in enumerate(_STATES)}

ACTIVE_STATES: Final = frozenset({LifecycleState.NEW, LifecycleState.GROWTH, LifecycleState.MATURE})
"""The states of a buying customer who is not at risk: win-back leads into one of these."""
