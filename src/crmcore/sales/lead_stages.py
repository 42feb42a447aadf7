"""Lead statuses on the seven-stage funnel: a mapping the host can change.

A lead's status says where the sale stands; the funnel
([`crmcore.funnel.position`][crmcore.funnel.position]) says where the *customer* stands. A
[`LeadStageMap`][crmcore.sales.lead_stages.LeadStageMap] ties the two: the funnel
[`Stage`][crmcore.kernel.stage.Stage] each status means, as data. The default follows the issue's
reading of PEERS.md §1.1 (Interest ≈ a lead, Intent ≈ a sales-qualified lead, Conversion ≈ a
customer):

| status | stage |
|---|---|
| new, working, nurturing | interest |
| qualified | intent |
| converted | conversion |
| disqualified | none (the funnel does not move) |

A host that buys lists maps ``new`` to awareness; one that calls qualified leads "considering"
maps ``qualified`` to consideration; ``LeadStageMap({...})`` with any subset of the statuses.

[`LeadStageMap.apply()`][crmcore.sales.lead_stages.LeadStageMap.apply] is how the funnel consumes a
lead's [`LeadStatusChanged`][crmcore.sales.lead_events.LeadStatusChanged] or
[`LeadConverted`][crmcore.sales.lead_events.LeadConverted] event: it starts or advances the
customer's [`FunnelPosition`][crmcore.funnel.position.FunnelPosition] to the status's stage. The
funnel only moves forward this way (a lead sent back to working does not pull a customer back
from intent: a regress needs a reason, and is the host's decision), and a lead with no known
customer moves no position.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.sales.lead_events import LeadStatusChanged
    >>> t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    >>> moved = LeadStatusChanged(aggregate_id="l-1", occurred_at=t, from_state="working",
    ...                           to_state="qualified", trigger="qualify", customer_id="c-1")
    >>> position = DEFAULT_LEAD_STAGES.apply(moved, None).value
    >>> position.customer_id, position.stage
    ('c-1', <Stage.INTENT: 4>)
    >>> LeadStageMap({"qualified": "consideration"}).stage_of("qualified")
    <Stage.CONSIDERATION: 3>
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs

from crmcore.funnel.position import FunnelPosition
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.machine import parse_member
from crmcore.kernel.stage import Stage
from crmcore.sales.lead_events import LeadConverted, LeadStatusChanged
from crmcore.sales.lead_machine import LeadStatus

__all__ = ["DEFAULT_LEAD_STAGES", "LeadStageMap"]

_ID_LIMIT: Final = 128


def _stages(value: object) -> FrozenDict[LeadStatus, Stage]:
    if not isinstance(value, Mapping):
        raise ValidationError("stages", value, "must be a mapping of lead status to funnel stage")
    out: dict[LeadStatus, Stage] = {}
    for key, stage in value.items():
        status = parse_member(LeadStatus, key, "stages")
        out[status] = Stage.parse(stage, f"stages.{status.value}")
    return FrozenDict(out)


@attrs.frozen
class LeadStageMap:
    """The funnel stage each lead status means (a status left out moves no funnel position)."""

    stages: FrozenDict[LeadStatus, Stage] = attrs.field(converter=_stages)

    def stage_of(self, status: LeadStatus | str) -> Stage | None:
        """The funnel stage of ``status`` (``None``: the funnel does not move)."""
        return self.stages.get(parse_member(LeadStatus, status, "status"))

    def stage_for(self, event: DomainEvent) -> Stage | None:
        """The stage a lead event moves its customer to (``None``: none, or not a status event)."""
        if isinstance(event, LeadConverted):
            return self.stage_of(LeadStatus.CONVERTED)
        if isinstance(event, LeadStatusChanged):
            return self.stage_of(event.to_state)
        return None

    def apply(
        self, event: DomainEvent, position: FunnelPosition | None
    ) -> Outcome[FunnelPosition | None]:
        """The customer's funnel position after a lead ``event`` (started or advanced).

        ``position`` is the customer's current position (``None``: none yet, so one is started).
        Nothing moves (the outcome holds ``position`` unchanged, no events) when the event is
        not a status event, the lead has no known customer, its status maps to no stage, or the
        position is already at or beyond that stage. The funnel records the lead id as the
        move's source.

        Raises:
            ValidationError: ``position`` belongs to another customer than the event's.
        """
        stage = self.stage_for(event)
        who = getattr(event, "customer_id", None)
        if stage is None or who is None:
            return Outcome(position)
        if position is not None and position.customer_id != who:
            raise ValidationError(
                "position", position.customer_id, f"is not the position of customer {who!r}"
            )
        source = f"lead:{event.aggregate_id}"
        if len(source) > _ID_LIMIT:
            source = event.aggregate_id
        if position is None:
            started = FunnelPosition.start(who, stage, event.occurred_at, source=source)
            return Outcome(started.value, started.events)
        if stage <= position.stage:
            return Outcome(position)
        advanced = position.advance(stage, event.occurred_at, source=source)
        return Outcome(advanced.value, advanced.events)


DEFAULT_LEAD_STAGES: Final = LeadStageMap(
    {
        LeadStatus.NEW: Stage.INTEREST,
        LeadStatus.WORKING: Stage.INTEREST,
        LeadStatus.NURTURING: Stage.INTEREST,
        LeadStatus.QUALIFIED: Stage.INTENT,
        LeadStatus.CONVERTED: Stage.CONVERSION,
    }
)
"""The default mapping (the table in the module docs)."""
