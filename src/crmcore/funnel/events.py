"""Events raised by funnel positions, and the vocabulary of how a stage was entered.

Like every crmcore event they carry ids and codes, not personal data: the
customer id, stages, the source touchpoint or interaction id, and for a
regress the business reason given by the caller (keep reasons operational,
e.g. ``"disqualified: no budget"``, never personal details).

Every entry added to a position's history raises exactly one
[`StageEntered`][crmcore.funnel.events.StageEntered], so a consumer can rebuild a position from
those events alone; a regress additionally raises
[`StageRegressed`][crmcore.funnel.events.StageRegressed] (before the
[`StageEntered`][crmcore.funnel.events.StageEntered]) carrying the reason.
"""

from __future__ import annotations

import enum

import attrs

from crmcore.kernel.events import DomainEvent, event_type
from crmcore.kernel.stage import Stage

__all__ = ["StageEntered", "StageMove", "StageRegressed"]


class StageMove(enum.StrEnum):
    """How a position came to a stage (one per history entry).

    ``START`` is the stage a position began at; ``ADVANCE`` a forward move
    to the next stage; ``SKIP`` a stage passed through on the way to a later
    one (recorded at the same instant as the move, so every stage up to the
    current one has an entry time); ``REGRESS`` an explicit move back, which
    always has a reason.
    """

    START = "start"
    ADVANCE = "advance"
    SKIP = "skip"
    REGRESS = "regress"


@event_type("funnel.stage_entered")
@attrs.frozen(kw_only=True)
class StageEntered(DomainEvent):
    """The customer's funnel position entered ``stage`` (one event per history entry).

    ``previous`` is the stage the position was at just before this entry
    (``None`` for the first entry of a new position), ``how`` how it got
    there, and ``source`` the touchpoint or interaction id that caused it.
    """

    stage: Stage
    how: StageMove
    previous: Stage | None = None
    source: str | None = None


@event_type("funnel.stage_regressed")
@attrs.frozen(kw_only=True)
class StageRegressed(DomainEvent):
    """The customer's funnel position was moved back from ``previous`` to ``stage``.

    ``reason`` is the business reason the caller gave; it is required so that
    a backward move always has a receipt.
    """

    stage: Stage
    previous: Stage
    reason: str
    source: str | None = None
