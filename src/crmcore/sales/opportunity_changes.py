"""The history of an opportunity: stage moves, amount and close-date revisions, and line items.

Salesforce keeps an ``OpportunityHistory`` row per change of stage, amount or close date (PEERS.md
§1, source S5); an [`Opportunity`][crmcore.sales.opportunities.Opportunity] keeps three histories
in time order, each change with its instant:

* [`StageChange`][crmcore.sales.opportunity_changes.StageChange]: from which stage to which, the
  kind of move, a reason code (why it was won or lost) and a free-text note;
* [`AmountChange`][crmcore.sales.opportunity_changes.AmountChange]: the amount before and after;
* [`CloseDateChange`][crmcore.sales.opportunity_changes.CloseDateChange]: the expected close date
  before and after; a later date is a *slip* (the deal was pushed).

So "which stage, amount and close date as of ``t``" is answerable for any past ``t``, which is what
pipeline snapshots and the waterfall need. A
[`LineItem`][crmcore.sales.opportunity_changes.LineItem] is a product quoted on the deal: quantity
times unit price less a discount, and a
[`StagePeriod`][crmcore.sales.opportunity_changes.StagePeriod] one stay in a stage.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Final

import attrs

from crmcore.customers.records import normalize_slug
from crmcore.kernel.clock import DAY_US, ensure_date, to_micros, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.ids import validate_id
from crmcore.kernel.machine import parse_member
from crmcore.kernel.money import Money, to_decimal
from crmcore.kernel.validators import instances_of
from crmcore.sales.pipeline_machine import PipelineMove

__all__ = [
    "ERASED_NOTE",
    "AmountChange",
    "CloseDateChange",
    "LineItem",
    "StageChange",
    "StagePeriod",
    "line_items_total",
    "reason_code",
]

ERASED_NOTE: Final = ""
"""What an erased note reads afterwards."""
MAX_NOTE: Final = 2000


def _at(value: object) -> datetime:
    return to_utc(value, "at")


def _stage_key(value: object) -> str:
    return normalize_slug(value, "stage")


def _move(value: object) -> PipelineMove:
    return parse_member(PipelineMove, value, "move")


def reason_code(value: object, field: str = "reason") -> str | None:
    """A reason code (a slug such as ``"price"`` or ``"competitor"``), or ``None``."""
    return None if value is None else normalize_slug(value, field)


def _reason(value: object) -> str | None:
    return reason_code(value)


def _note(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_NOTE:
        raise ValidationError("note", value, f"must be text of at most {MAX_NOTE} characters")
    return value


@attrs.frozen(kw_only=True)
class StageChange:
    """One stage move: when, from which stage to which, the kind of move, why.

    ``reason`` is a code (``"price"``, ``"competitor"``, ``"budget"``...) so win/loss analysis
    can count by it; ``note`` is free text (blanked when a person's data is erased).
    """

    at: datetime = attrs.field(converter=_at)
    from_state: str = attrs.field(converter=_stage_key)
    to_state: str = attrs.field(converter=_stage_key)
    move: PipelineMove = attrs.field(converter=_move)
    reason: str | None = attrs.field(default=None, converter=_reason)
    note: str = attrs.field(default="", converter=_note)

    def __attrs_post_init__(self) -> None:
        if self.from_state == self.to_state:
            raise ValidationError("to_state", self.to_state, "a stage move changes the stage")

    @property
    def is_close(self) -> bool:
        """Whether the move closed the opportunity (won or lost)."""
        return self.move in (PipelineMove.WIN, PipelineMove.LOSE)


def _money(value: object, field: str) -> Money:
    if not isinstance(value, Money):
        raise ValidationError(field, value, "must be a Money")
    if value.is_negative:
        raise ValidationError(field, value, "must not be negative")
    return value


def _old_amount(value: object) -> Money:
    return _money(value, "amount_history.old")


def _new_amount(value: object) -> Money:
    return _money(value, "amount_history.new")


@attrs.frozen(kw_only=True)
class AmountChange:
    """The amount was revised at ``at`` from ``old`` to ``new`` (same currency, both ≥ 0)."""

    at: datetime = attrs.field(converter=_at)
    old: Money = attrs.field(converter=_old_amount)
    new: Money = attrs.field(converter=_new_amount)

    def __attrs_post_init__(self) -> None:
        if self.old.currency != self.new.currency:
            raise ValidationError(
                "amount_history.new", self.new, f"must stay in {self.old.currency}"
            )


def _old_date(value: object) -> date:
    return ensure_date(value, "close_date_history.old")


def _new_date(value: object) -> date:
    return ensure_date(value, "close_date_history.new")


@attrs.frozen(kw_only=True)
class CloseDateChange:
    """The expected close date moved at ``at`` from ``old`` to ``new``."""

    at: datetime = attrs.field(converter=_at)
    old: date = attrs.field(converter=_old_date)
    new: date = attrs.field(converter=_new_date)

    @property
    def slipped(self) -> bool:
        """Whether the deal was pushed (the new date is later)."""
        return self.new > self.old

    @property
    def days(self) -> int:
        """Days moved: positive when pushed, negative when pulled in."""
        return (self.new - self.old).days


def _product(value: object) -> str:
    return validate_id(value, "line_items.product_id")


def _quantity(value: object) -> Decimal:
    number = to_decimal(value, "line_items.quantity")
    if number <= 0:
        raise ValidationError("line_items.quantity", value, "must be positive")
    return number


def _unit_price(value: object) -> Money:
    return _money(value, "line_items.unit_price")


def _discount(value: object) -> Decimal:
    number = to_decimal(value, "line_items.discount")
    if not Decimal(0) <= number <= Decimal(1):
        raise ValidationError("line_items.discount", value, "must be a rate in [0, 1]")
    return number


@attrs.frozen
class LineItem:
    """A product quoted on an opportunity: ``quantity`` x ``unit_price``, less ``discount``.

    ``discount`` is a rate in ``[0, 1]`` (``"0.1"``: ten percent off).

    Examples:
        >>> LineItem("seat", 12, Money("49.90", "EUR"), "0.1").total
        Money('538.92', 'EUR')
    """

    product_id: str = attrs.field(converter=_product)
    quantity: Decimal = attrs.field(converter=_quantity)
    unit_price: Money = attrs.field(converter=_unit_price)
    discount: Decimal = attrs.field(default=Decimal(0), converter=_discount)

    @property
    def total(self) -> Money:
        """``quantity x unit_price x (1 - discount)``, rounded to the minor unit (half even)."""
        return (self.unit_price * (self.quantity * (1 - self.discount))).rounded()


def line_items_total(items: tuple[LineItem, ...], currency: str) -> Money:
    """The sum of the items' totals, all in ``currency``; zero for none.

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the item in another
    currency.
    """
    total = Money.zero(currency)
    for i, item in enumerate(instances_of(items, LineItem, "items")):
        if item.unit_price.currency != currency:
            raise ValidationError(
                f"line_items[{i}].unit_price", item.unit_price, f"must be in {currency}"
            )
        total = total + item.total
    return total


@attrs.frozen
class StagePeriod:
    """A stay in one stage: entered at ``entered_at``, left at ``left_at`` (``None``: still on)."""

    stage: str
    entered_at: datetime
    left_at: datetime | None

    def days(self, as_of: datetime) -> float:
        """The length of the stay in days (up to ``as_of`` while it lasts)."""
        end = self.left_at if self.left_at is not None else to_utc(as_of, "as_of")
        return (to_micros(end) - to_micros(self.entered_at)) / DAY_US
