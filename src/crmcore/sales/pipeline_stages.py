"""Pipeline stages as data: key, name, default win probability, forecast category and kind.

A [`PipelineStage`][crmcore.sales.pipeline_stages.PipelineStage] is one row of a
[`Pipeline`][crmcore.sales.pipeline.Pipeline]: a key (a slug such as ``"proposal"``), a display
name, a default win probability (a decimal in ``[0, 1]`` with at most six places, so that weighted
amounts stay exact), a forecast category (Salesforce's Pipeline / Best Case / Commit / Closed /
Omitted, PEERS.md §1, sources S2 and S4) and a kind: *open*, *won* or *lost*. Won stages have
probability 1 and category *closed*, lost stages probability 0 and category *omitted*, as
Salesforce's
``IsClosed``/``IsWon`` and HubSpot's closed won / closed lost stages. A stage may *require* facts
of an opportunity entering it ([`StageRequirement`][crmcore.sales.pipeline_stages.StageRequirement],
HubSpot's required deal properties per stage).

Examples:
    >>> stage = PipelineStage("Contract Sent", "Contract sent", "0.9", "commit")
    >>> stage.key, stage.probability_units, stage.is_open
    ('contract_sent', 900000, True)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

import attrs

from crmcore.customers.records import normalize_slug
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.machine import parse_member
from crmcore.kernel.money import to_decimal
from crmcore.sales._exact import probability_units

__all__ = [
    "ForecastCategory",
    "PipelineStage",
    "StageKind",
    "StageRequirement",
    "probability",
]


class StageKind(enum.StrEnum):
    """Whether a stage is still in play, or closes the opportunity as won or lost."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"

    @property
    def code(self) -> int:
        """The kind's integer code in batch arrays (open 0, won 1, lost 2)."""
        return _KIND_CODE[self]


_KIND_CODE: Final = {k: i for i, k in enumerate(StageKind)}


class ForecastCategory(enum.StrEnum):
    """Salesforce's forecast categories (PEERS.md §1, sources S2 and S4).

    *pipeline* (may close), *best_case* (could close), *commit* (will close), *closed* (won) and
    *omitted* (lost, or kept out of the forecast).
    """

    PIPELINE = "pipeline"
    BEST_CASE = "best_case"
    COMMIT = "commit"
    CLOSED = "closed"
    OMITTED = "omitted"

    @property
    def code(self) -> int:
        """The category's integer code in batch arrays (declaration order, from 0)."""
        return _CATEGORY_CODE[self]


_CATEGORY_CODE: Final = {c: i for i, c in enumerate(ForecastCategory)}


class StageRequirement(enum.StrEnum):
    """A fact an opportunity must have to enter a stage (HubSpot's required deal properties)."""

    AMOUNT = "amount"
    """A positive amount."""
    ACCOUNT = "account"
    """An account (the company or household buying)."""
    CONTACT = "contact"
    """A contact: the customer the deal is with."""
    LINE_ITEMS = "line_items"
    """At least one line item (the products quoted)."""


def probability(value: object, field: str = "probability") -> Decimal:
    """A win probability: a decimal in ``[0, 1]`` with at most six places.

    Decimals, integers and numeric strings are taken as they are; a float is read through its
    shortest representation (``0.3`` is ``Decimal("0.3")``).

    Examples:
        >>> probability("0.25"), probability(0.3), probability(1)
        (Decimal('0.25'), Decimal('0.3'), Decimal('1'))
        >>> probability("1.5")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: probability: must lie in [0, 1] (got '1.5')
    """
    raw = repr(value) if isinstance(value, float) else value
    number = to_decimal(raw, field)
    if not Decimal(0) <= number <= Decimal(1):
        raise ValidationError(field, value, "must lie in [0, 1]")
    try:
        probability_units(number)
    except ValidationError:
        raise ValidationError(field, value, "must have at most 6 decimal places") from None
    return number


def _key(value: object) -> str:
    return normalize_slug(value, "stage.key")


def _stage_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 80:
        raise ValidationError(
            "stage.name", value, "must be non-empty text of at most 80 characters"
        )
    return value.strip()


def _stage_probability(value: object) -> Decimal:
    return probability(value, "stage.probability")


def _category(value: object) -> ForecastCategory:
    return parse_member(ForecastCategory, value, "stage.forecast_category")


def _kind(value: object) -> StageKind:
    return parse_member(StageKind, value, "stage.kind")


def _requirements(value: object) -> frozenset[StageRequirement]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("stage.requires", value, "must be a collection of requirements")
    return frozenset(parse_member(StageRequirement, v, "stage.requires") for v in value)


@attrs.frozen
class PipelineStage:
    """One stage of a pipeline: key, display name, default win probability, forecast category, kind.

    ``requires`` lists the facts an opportunity must have to enter the stage. Won stages must have
    probability 1 and category *closed*; lost stages probability 0 and category *omitted*.

    Examples:
        >>> PipelineStage.won().kind, PipelineStage.lost().probability
        (<StageKind.WON: 'won'>, Decimal('0'))
    """

    key: str = attrs.field(converter=_key)
    name: str = attrs.field(converter=_stage_name)
    probability: Decimal = attrs.field(converter=_stage_probability)
    forecast_category: ForecastCategory = attrs.field(
        default=ForecastCategory.PIPELINE, converter=_category
    )
    kind: StageKind = attrs.field(default=StageKind.OPEN, converter=_kind, kw_only=True)
    requires: frozenset[StageRequirement] = attrs.field(
        default=frozenset(), converter=_requirements, kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        where = f"stages[{self.key}]"
        if self.kind is StageKind.WON and (
            self.probability != 1 or self.forecast_category is not ForecastCategory.CLOSED
        ):
            raise ValidationError(
                where, self.probability, "a won stage has probability 1 and category closed"
            )
        if self.kind is StageKind.LOST and (
            self.probability != 0 or self.forecast_category is not ForecastCategory.OMITTED
        ):
            raise ValidationError(
                where, self.probability, "a lost stage has probability 0 and category omitted"
            )
        if self.kind is StageKind.OPEN and self.forecast_category is ForecastCategory.CLOSED:
            raise ValidationError(where, self.forecast_category, "an open stage is not closed")

    @classmethod
    def won(cls, key: str = "closed_won", name: str = "Closed won") -> PipelineStage:
        """A won stage (probability 1, category *closed*)."""
        return cls(key, name, 1, ForecastCategory.CLOSED, kind=StageKind.WON)

    @classmethod
    def lost(cls, key: str = "closed_lost", name: str = "Closed lost") -> PipelineStage:
        """A lost stage (probability 0, category *omitted*)."""
        return cls(key, name, 0, ForecastCategory.OMITTED, kind=StageKind.LOST)

    @property
    def is_open(self) -> bool:
        """Whether the stage is still in play (neither won nor lost)."""
        return self.kind is StageKind.OPEN

    @property
    def probability_units(self) -> int:
        """The probability in whole millionths (``0.25`` is ``250_000``)."""
        return probability_units(self.probability)
