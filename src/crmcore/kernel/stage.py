"""The seven funnel stages, in order (DOMAIN.md §2, seed 001 "客户管理漏斗").

A kernel vocabulary type: customer interactions carry a stage, so it sits
below the customer and funnel modules (imported as ``crmcore.kernel.stage.Stage``,
and re-exported by [`crmcore.funnel`][crmcore.funnel]).
"""

from __future__ import annotations

import enum

from crmcore.kernel.errors import ValidationError

__all__ = ["Stage"]


class Stage(enum.IntEnum):
    """A funnel stage. Ordered: ``Stage.INTEREST > Stage.AWARENESS``.

    Stored and serialised by [`label`][crmcore.kernel.stage.Stage.label] (``"awareness"``), so the
    numbering may grow without breaking stored data.
    """

    AWARENESS = 1
    INTEREST = 2
    CONSIDERATION = 3
    INTENT = 4
    CONVERSION = 5
    RETENTION = 6
    ADVOCACY = 7

    @property
    def label(self) -> str:
        """The lower-case name used in storage, JSON and rule text."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: object, field: str = "stage") -> Stage:
        """A stage from its label (``"intent"``), name or number; ValidationError otherwise."""
        if isinstance(value, Stage):
            return value
        if isinstance(value, str) and value.strip().upper() in cls.__members__:
            return cls[value.strip().upper()]
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7:
            return cls(value)
        labels = ", ".join(s.label for s in cls)
        raise ValidationError(field, value, f"must be one of {labels}")
