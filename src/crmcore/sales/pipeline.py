"""Sales pipelines: stages in order, and the rules of moving between them.

A [`Pipeline`][crmcore.sales.pipeline.Pipeline] is frozen configuration, like a loyalty program:
an id, a name and its [`PipelineStage`][crmcore.sales.pipeline_stages.PipelineStage] s **in order**
(a stage's order is its position, so two stages never share one), with at least one open, one won
and one lost stage. A host may keep several pipelines (new business, renewals, partner deals); an
opportunity names the one it runs in.

The moves between stages are a table on the kernel's state machine,
[`Pipeline.machine`][crmcore.sales.pipeline.Pipeline.machine], built from the data by
[`crmcore.sales.pipeline_machine`][crmcore.sales.pipeline_machine]: forward (*advance*), back
(*move_back*, unless ``allow_backward`` is off), to a won stage (*win*) or a lost stage (*lose*),
and from a closed stage back into the pipeline (*reopen*, unless ``allow_reopen`` is off; closed
stages are then final). ``allow_skip=False`` makes the open stages strictly sequential. A stage may
require facts on entry, and a lost stage a reason code (``require_lost_reason``).

For batches the stages are arrays indexed by stage code (the position):
[`probability_units`][crmcore.sales.pipeline.Pipeline.probability_units],
[`kind_codes`][crmcore.sales.pipeline.Pipeline.kind_codes],
[`category_codes`][crmcore.sales.pipeline.Pipeline.category_codes].

Examples:
    >>> pipeline = Pipeline(
    ...     id="new-business", name="New business",
    ...     stages=[
    ...         PipelineStage("qualify", "Qualify", "0.1"),
    ...         PipelineStage("propose", "Propose", "0.5", ForecastCategory.BEST_CASE),
    ...         PipelineStage("negotiate", "Negotiate", "0.8", ForecastCategory.COMMIT),
    ...         PipelineStage.won("won", "Closed won"),
    ...         PipelineStage.lost("lost", "Closed lost"),
    ...     ],
    ... )
    >>> pipeline.stage("propose").probability, pipeline.order("negotiate")
    (Decimal('0.5'), 2)
    >>> [s.key for s in pipeline.open_stages]
    ['qualify', 'propose', 'negotiate']
    >>> pipeline.stage("demo")
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: stage: is not a stage of pipeline 'new-business' ...
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Final

import attrs
import numpy as np

from crmcore.kernel import validators
from crmcore.kernel.arrays import Int8Array, Int64Array, read_only
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.ids import validate_id
from crmcore.sales.pipeline_machine import PipelineMachine, build_machine
from crmcore.sales.pipeline_stages import (
    ForecastCategory,
    PipelineStage,
    StageKind,
    StageRequirement,
)

__all__ = ["DEFAULT_PIPELINE", "Pipeline"]


def _pipeline_id(value: object) -> str:
    return validate_id(value, "pipeline.id")


def _pipeline_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 120:
        raise ValidationError(
            "pipeline.name", value, "must be non-empty text of at most 120 characters"
        )
    return value.strip()


def _stages(value: object) -> tuple[PipelineStage, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("pipeline.stages", value, "must be a sequence of PipelineStage")
    stages = tuple(value)
    for i, stage in enumerate(stages):
        if not isinstance(stage, PipelineStage):
            raise ValidationError(f"pipeline.stages[{i}]", stage, "must be a PipelineStage")
    return stages


@attrs.frozen(kw_only=True)
class Pipeline:
    """A sales pipeline: its stages in order, and the rules of moving between them.

    ``allow_backward``: an open opportunity may go back to an earlier open stage (default yes);
    ``allow_skip``: it may jump over open stages when advancing (default yes; no makes the open
    stages sequential; winning and losing are allowed from every open stage either way);
    ``allow_reopen``: a won or lost opportunity may be reopened into an open stage (default yes;
    no makes closed stages final); ``require_lost_reason``: losing needs a reason code (default
    yes). Stage keys are unique; there is at least one open, one won and one lost stage.
    """

    id: str = attrs.field(converter=_pipeline_id)
    name: str = attrs.field(converter=_pipeline_name)
    stages: tuple[PipelineStage, ...] = attrs.field(converter=_stages)
    allow_backward: bool = attrs.field(default=True, validator=validators.flag)
    allow_skip: bool = attrs.field(default=True, validator=validators.flag)
    allow_reopen: bool = attrs.field(default=True, validator=validators.flag)
    require_lost_reason: bool = attrs.field(default=True, validator=validators.flag)

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for stage in self.stages:
            if stage.key in seen:
                raise ValidationError("pipeline.stages", stage.key, "stage keys must be unique")
            seen.add(stage.key)
        for kind in StageKind:
            if not any(s.kind is kind for s in self.stages):
                raise ValidationError(
                    "pipeline.stages", [s.key for s in self.stages], f"needs a {kind.value} stage"
                )

    # -- lookups ---------------------------------------------------------------------------------
    @functools.cached_property
    def _index(self) -> dict[str, int]:
        return {s.key: i for i, s in enumerate(self.stages)}

    def order(self, key: object, field: str = "stage") -> int:
        """The position of stage ``key`` (its integer code in batch arrays).

        Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``field`` when
        the pipeline has no such stage.
        """
        found = self._index.get(key) if isinstance(key, str) else None
        if found is None:
            known = ", ".join(self._index)
            raise ValidationError(field, key, f"is not a stage of pipeline {self.id!r} ({known})")
        return found

    def stage(self, key: object, field: str = "stage") -> PipelineStage:
        """The stage with ``key``; [`ValidationError`][crmcore.kernel.errors.ValidationError]
        naming ``field`` when there is none."""
        return self.stages[self.order(key, field)]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._index

    @property
    def keys(self) -> tuple[str, ...]:
        """The stage keys, in order."""
        return tuple(s.key for s in self.stages)

    @property
    def open_stages(self) -> tuple[PipelineStage, ...]:
        """The open stages, in order."""
        return tuple(s for s in self.stages if s.kind is StageKind.OPEN)

    @property
    def won_stages(self) -> tuple[PipelineStage, ...]:
        """The won stages, in order."""
        return tuple(s for s in self.stages if s.kind is StageKind.WON)

    @property
    def lost_stages(self) -> tuple[PipelineStage, ...]:
        """The lost stages, in order."""
        return tuple(s for s in self.stages if s.kind is StageKind.LOST)

    @property
    def first_stage(self) -> PipelineStage:
        """The first open stage: where a new opportunity starts by default."""
        return self.open_stages[0]

    def next_open_stage(self, key: str) -> PipelineStage | None:
        """The open stage after ``key`` in order (``None`` after the last open stage)."""
        start = self.order(key)
        return next((s for s in self.stages[start + 1 :] if s.is_open), None)

    def open_rank(self, key: str) -> int:
        """The position of open stage ``key`` among the open stages (0 for the first).

        Won stages rank after every open stage (``len(open_stages)``); lost stages ``-1``.
        """
        stage = self.stage(key)
        if stage.kind is StageKind.WON:
            return len(self.open_stages)
        if stage.kind is StageKind.LOST:
            return -1
        return self.open_stages.index(stage)

    @functools.cached_property
    def machine(self) -> PipelineMachine:
        """The pipeline's moves as a table on the kernel's state machine (built once)."""
        return build_machine(
            self.id,
            self.stages,
            allow_backward=self.allow_backward,
            allow_skip=self.allow_skip,
            allow_reopen=self.allow_reopen,
            require_lost_reason=self.require_lost_reason,
        )

    # -- the stages as arrays (indexed by stage code) --------------------------------------------
    @functools.cached_property
    def probability_units(self) -> Int64Array:
        """Each stage's default probability in millionths (read-only, by stage code)."""
        return read_only(np.array([s.probability_units for s in self.stages], dtype=np.int64))

    @functools.cached_property
    def kind_codes(self) -> Int8Array:
        """Each stage's [`StageKind`][crmcore.sales.pipeline_stages.StageKind] code (open 0, won 1,
        lost 2), by stage code."""
        return read_only(np.array([s.kind.code for s in self.stages], dtype=np.int8))

    @functools.cached_property
    def category_codes(self) -> Int8Array:
        """Each stage's
        [`ForecastCategory`][crmcore.sales.pipeline_stages.ForecastCategory] code, by stage code."""
        return read_only(np.array([s.forecast_category.code for s in self.stages], dtype=np.int8))

    @functools.cached_property
    def open_ranks(self) -> Int64Array:
        """[`open_rank()`][crmcore.sales.pipeline.Pipeline.open_rank] of every stage, by stage
        code."""
        return read_only(np.array([self.open_rank(s.key) for s in self.stages], dtype=np.int64))


# fmt: off
DEFAULT_PIPELINE: Final = Pipeline(
    id="sales",
    name="Sales pipeline",
    stages=(
        PipelineStage("appointment_scheduled", "Appointment scheduled", "0.2"),
        PipelineStage("qualified_to_buy", "Qualified to buy", "0.4"),
        PipelineStage("presentation_scheduled", "Presentation scheduled", "0.6",
                      ForecastCategory.BEST_CASE),
        PipelineStage("decision_maker_bought_in", "Decision maker bought-in", "0.8",
                      ForecastCategory.BEST_CASE),
        PipelineStage("contract_sent", "Contract sent", "0.9", ForecastCategory.COMMIT,
                      requires=[StageRequirement.AMOUNT]),
        PipelineStage.won(),
        PipelineStage.lost(),
    ),
)
"""HubSpot's default deal pipeline (stages and probabilities), with Salesforce's forecast
categories; a contract needs an amount."""
# fmt: on
