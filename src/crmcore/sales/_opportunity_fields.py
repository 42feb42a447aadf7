"""The fields of an opportunity: converters, history checks and the events of stage moves.

The inside of [`Opportunity`][crmcore.sales.opportunities.Opportunity], kept apart so the
aggregate's module holds its behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from crmcore.customers.records import normalize_slug
from crmcore.kernel.clock import DAY_US, ensure_date, to_micros, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.ids import validate_id
from crmcore.kernel.money import Money
from crmcore.sales import opportunity_events as ev
from crmcore.sales.opportunity_changes import (
    AmountChange,
    CloseDateChange,
    LineItem,
    StageChange,
)
from crmcore.sales.pipeline_machine import PipelineMove
from crmcore.sales.pipeline_stages import probability as to_probability

if TYPE_CHECKING:
    from crmcore.sales.opportunities import Opportunity

__all__ = [
    "account_id",
    "amount",
    "amount_history",
    "check_revisions",
    "close_date",
    "close_date_history",
    "created",
    "customer_id",
    "lead_id",
    "line_items",
    "name",
    "opportunity_id",
    "optional_id",
    "optional_slug",
    "owner",
    "pipeline_ref",
    "probability_override",
    "segment",
    "source",
    "stage",
    "stage_event",
    "stage_history",
    "tuple_of",
]

_MAX_NAME: Final = 200


def opportunity_id(value: object) -> str:
    return validate_id(value, "id")


def pipeline_ref(value: object) -> str:
    return validate_id(value, "pipeline_id")


def owner(value: object) -> str:
    return validate_id(value, "owner")


def created(value: object) -> datetime:
    return to_utc(value, "created_at")


def amount(value: object) -> Money:
    if not isinstance(value, Money):
        raise ValidationError("amount", value, "must be a Money")
    if value.is_negative:
        raise ValidationError("amount", value, "must not be negative")
    return value


def close_date(value: object) -> date:
    return ensure_date(value, "close_date")


def stage(value: object) -> str:
    return normalize_slug(value, "stage")


def name(value: object) -> str:
    if not isinstance(value, str) or len(value) > _MAX_NAME:
        raise ValidationError("name", value, f"must be text of at most {_MAX_NAME} characters")
    return value


def optional_id(field: str) -> Callable[[object], str | None]:
    def convert(value: object) -> str | None:
        return None if value is None else validate_id(value, field)

    return convert


def optional_slug(field: str) -> Callable[[object], str | None]:
    def convert(value: object) -> str | None:
        return None if value is None else normalize_slug(value, field)

    return convert


def probability_override(value: object) -> Decimal | None:
    return None if value is None else to_probability(value)


def tuple_of(kind: type, field: str) -> Any:
    def convert(value: object) -> tuple[Any, ...]:
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ValidationError(field, value, f"must be a sequence of {kind.__name__}")
        items = tuple(value)
        for i, item in enumerate(items):
            if not isinstance(item, kind):
                raise ValidationError(f"{field}[{i}]", item, f"must be a {kind.__name__}")
        return items

    return convert


def account_id(value: object) -> str | None:
    """An optional account id."""
    return None if value is None else validate_id(value, "account_id")


def customer_id(value: object) -> str | None:
    """An optional customer id."""
    return None if value is None else validate_id(value, "customer_id")


def lead_id(value: object) -> str | None:
    """An optional lead id (the lead the opportunity was converted from)."""
    return None if value is None else validate_id(value, "lead_id")


def source(value: object) -> str | None:
    """An optional source code (a slug)."""
    return None if value is None else normalize_slug(value, "source")


def segment(value: object) -> str | None:
    """An optional segment code (a slug)."""
    return None if value is None else normalize_slug(value, "segment")


def line_items(value: object) -> tuple[LineItem, ...]:
    """A tuple of line items."""
    items: tuple[LineItem, ...] = tuple_of(LineItem, "line_items")(value)
    return items


def stage_history(value: object) -> tuple[StageChange, ...]:
    """A tuple of stage changes."""
    items: tuple[StageChange, ...] = tuple_of(StageChange, "stage_history")(value)
    return items


def amount_history(value: object) -> tuple[AmountChange, ...]:
    """A tuple of amount changes."""
    items: tuple[AmountChange, ...] = tuple_of(AmountChange, "amount_history")(value)
    return items


def close_date_history(value: object) -> tuple[CloseDateChange, ...]:
    """A tuple of close-date changes."""
    items: tuple[CloseDateChange, ...] = tuple_of(CloseDateChange, "close_date_history")(value)
    return items


def check_revisions(
    field: str, history: tuple[Any, ...], current: object, created_at: datetime
) -> None:
    """Re-check a revision history: times in order from ``created_at``, each change starting
    where the previous ended, the last ending at ``current``."""
    previous_at, previous = created_at, history[0].old if history else current
    for i, change in enumerate(history):
        if change.at < previous_at:
            raise ValidationError(f"{field}[{i}].at", change.at, "must not go back in time")
        if change.old != previous:
            raise ValidationError(f"{field}[{i}].old", change.old, f"must be {previous}")
        previous_at, previous = change.at, change.new
    if previous != current:
        raise ValidationError(field, current, f"must end at {previous}")


def stage_event(opportunity: Opportunity, change: StageChange) -> DomainEvent:
    """The event of a stage move: stage changed, won, lost or reopened."""
    common: dict[str, Any] = {
        "aggregate_id": opportunity.id,
        "occurred_at": change.at,
        "pipeline_id": opportunity.pipeline_id,
        "from_stage": change.from_state,
        "to_stage": change.to_state,
        "move": change.move,
        "amount": opportunity.amount,
        "close_date": opportunity.close_date,
    }
    days = (to_micros(change.at) - to_micros(opportunity.created_at)) // DAY_US
    if change.move is PipelineMove.WIN:
        return ev.OpportunityWon(**common, reason=change.reason, days_open=days)
    if change.move is PipelineMove.LOSE:
        return ev.OpportunityLost(**common, reason=change.reason, days_open=days)
    if change.move is PipelineMove.REOPEN:
        return ev.OpportunityReopened(**common)
    return ev.OpportunityStageChanged(**common)
