"""The moves of a pipeline as a table on the kernel's state machine, built from its stages.

The kernel ([`crmcore.kernel.machine`][crmcore.kernel.machine]) wants states and triggers as
enums. A pipeline's stages are data chosen by the host, so its state enum is built from them: one
``StrEnum`` member per stage key, in stage order (member ``PROPOSAL`` has value ``"proposal"``),
made once per pipeline by [`build_machine()`][crmcore.sales.pipeline_machine.build_machine] and
cached on the [`Pipeline`][crmcore.sales.pipeline.Pipeline]. As in the lifecycle's table, a trigger
names where it leads: the triggers are the same members ("go to ``proposal``"), so a pair (stage,
trigger) and a pair (stage, target) each pick at most one row, and the row carries the kind of
move, a [`PipelineMove`][crmcore.sales.pipeline_machine.PipelineMove], which selects the event an
opportunity raises. The kernel checks the table (members of the right enums, known guards, no way
out of a final state) when it is built.

Rows, from the pipeline's flags (``a`` and ``b`` open stages, ``a`` before ``b``):

* ``a --advance--> b`` (only to the next open stage when ``allow_skip`` is off);
* ``b --move_back--> a`` when ``allow_backward`` is on;
* ``a --win--> w`` for every won stage ``w``, ``a --lose--> l`` for every lost stage ``l``;
* ``w | l --reopen--> a`` when ``allow_reopen`` is on (closed stages are final otherwise).

A row into a stage with requirements, or into a lost stage when ``require_lost_reason`` is on,
carries the guard ``entry_rules``, which sees a
[`MoveContext`][crmcore.sales.pipeline_machine.MoveContext] (the facts of the opportunity) and
names what is missing when it refuses.

Examples:
    >>> from crmcore.sales.pipeline import DEFAULT_PIPELINE
    >>> machine = DEFAULT_PIPELINE.machine
    >>> S = machine.states
    >>> machine.row_between("qualified_to_buy", "closed_won", MoveContext.of()).move
    <PipelineMove.WIN: 'win'>
    >>> machine.rows_between(S.CLOSED_WON, S.CONTRACT_SENT)[0].move
    <PipelineMove.REOPEN: 'reopen'>
    >>> machine.row_between("qualified_to_buy", "closed_lost", MoveContext.of())
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.IllegalTransitionError: ...: entering closed_lost needs a lost reason
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Final, cast

import attrs

from crmcore.kernel.errors import ValidationError
from crmcore.kernel.machine import Guard, Machine
from crmcore.kernel.validators import boolean, choice, instance_of, instances_of, text
from crmcore.sales.pipeline_stages import PipelineStage, StageKind, StageRequirement

__all__ = [
    "ENTRY_RULES",
    "MoveContext",
    "PipelineMachine",
    "PipelineMove",
    "PipelineTransition",
    "build_machine",
    "entry_problems",
]


class PipelineMove(enum.StrEnum):
    """The kind of a stage move: it decides which event an opportunity raises."""

    ADVANCE = "advance"
    """To a later open stage."""
    MOVE_BACK = "move_back"
    """To an earlier open stage."""
    WIN = "win"
    """To a won stage."""
    LOSE = "lose"
    """To a lost stage."""
    REOPEN = "reopen"
    """From a won or lost stage back to an open one."""


@attrs.frozen
class MoveContext:
    """What the ``entry_rules`` guard sees: the target stage and the opportunity's facts.

    ``stage`` is the stage being entered (``None`` when only the facts are of interest);
    ``reason`` the reason code given with the move.
    """

    stage: PipelineStage | None = None
    amount_positive: bool = False
    has_account: bool = False
    has_contact: bool = False
    has_line_items: bool = False
    reason: str | None = None
    require_lost_reason: bool = False

    @classmethod
    def of(
        cls,
        *,
        amount_positive: bool = False,
        has_account: bool = False,
        has_contact: bool = False,
        has_line_items: bool = False,
        reason: str | None = None,
    ) -> MoveContext:
        """A context from the facts alone (the machine fills in the stage and the pipeline's
        rule)."""
        return cls(None, amount_positive, has_account, has_contact, has_line_items, reason, False)


_NEEDS: Final = {
    StageRequirement.AMOUNT: "a positive amount",
    StageRequirement.ACCOUNT: "an account",
    StageRequirement.CONTACT: "a contact",
    StageRequirement.LINE_ITEMS: "line items",
}


def entry_problems(context: MoveContext) -> tuple[str, ...]:
    """What the opportunity lacks to enter ``context.stage`` (empty: nothing)."""
    stage = instance_of(context, MoveContext, "context").stage
    if stage is None:
        return ()
    have = {
        StageRequirement.AMOUNT: context.amount_positive,
        StageRequirement.ACCOUNT: context.has_account,
        StageRequirement.CONTACT: context.has_contact,
        StageRequirement.LINE_ITEMS: context.has_line_items,
    }
    missing = [_NEEDS[r] for r in StageRequirement if r in stage.requires and not have[r]]
    if stage.kind is StageKind.LOST and context.require_lost_reason and context.reason is None:
        missing.append("a lost reason")
    return tuple(missing)


def _explain(context: MoveContext) -> str:
    stage = context.stage
    key = stage.key if stage is not None else "the stage"
    return f"entering {key} needs " + ", ".join(entry_problems(context))


ENTRY_RULES: Final = Guard[MoveContext](
    "entry_rules",
    "the opportunity has what the stage requires (and a reason, when losing needs one)",
    lambda context: not entry_problems(context),
    _explain,
)
"""The one guard of a pipeline table: the target stage's requirements are met."""


@attrs.frozen
class PipelineTransition:
    """A row of a pipeline's table: ``source`` --``trigger``--> ``target`` if ``guard`` holds.

    ``trigger`` is the target's member ("go to the target stage"); ``move`` the kind of move.
    """

    source: enum.StrEnum
    trigger: enum.StrEnum
    target: enum.StrEnum
    move: PipelineMove
    guard: str | None = None


# The functional API builds the enum from data; typed as the factory it is here.
_NAME_LIMIT: Final = 200
_StrEnumFactory = cast(Callable[[str, list[tuple[str, str]]], type[enum.StrEnum]], enum.StrEnum)


class PipelineMachine(Machine[enum.StrEnum, enum.StrEnum, PipelineTransition, MoveContext]):
    """A pipeline's table on the kernel: its stage enum, the rows, and the pipeline's rules.

    ``stage_of(key)`` is the member for a stage key; ``move(...)`` (the kernel's) finds the row
    between two members, with the stage and the ``require_lost_reason`` rule filled into the
    context by [`row_between()`][crmcore.sales.pipeline_machine.PipelineMachine.row_between].
    """

    def __init__(
        self,
        name: str,
        states: type[enum.StrEnum],
        stages: Sequence[PipelineStage],
        transitions: Sequence[PipelineTransition],
        *,
        final: Sequence[enum.StrEnum],
        require_lost_reason: bool,
    ) -> None:
        if not (isinstance(states, type) and issubclass(states, enum.StrEnum)) or not len(states):
            raise ValidationError("states", states, "must be a StrEnum with one member per stage")
        stages = instances_of(stages, PipelineStage, "stages")
        if len(stages) != len(states):
            raise ValidationError("stages", len(stages), f"must be one per state ({len(states)})")
        require_lost_reason = boolean(require_lost_reason, "require_lost_reason")
        super().__init__(
            name,
            states,
            states,
            initial=next(iter(states)),
            transitions=transitions,
            guards=[ENTRY_RULES],
            final=final,
        )
        self.stages: Final = tuple(stages)
        self.require_lost_reason: Final = require_lost_reason

    def stage_of(self, key: str) -> enum.StrEnum:
        """The state member of stage ``key`` (a valid key of the pipeline)."""
        if isinstance(key, str):
            try:
                return self.states(key)  # the enum's own lookup by value: a dict access
            except ValueError:
                pass
        return choice(key, "key", self.states)  # a member passes; anything else is refused

    def row_between(self, source: str, target: str, context: MoveContext) -> PipelineTransition:
        """The row from stage ``source`` to stage ``target`` given the opportunity's facts.

        Raises [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError] when the
        table has no such move, or the target's entry rules refuse (naming what is missing).
        """
        instance_of(context, MoveContext, "context")
        code = self.state_code(self.stage_of(target))
        full = attrs.evolve(
            context, stage=self.stages[code], require_lost_reason=self.require_lost_reason
        )
        return self.move(self.stage_of(source), self.stage_of(target), full)

    def to_mermaid(self) -> str:
        """The table as a Mermaid ``stateDiagram-v2``, each row labelled with its kind of move."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial.value}"]
        for row in self.transitions:
            label = row.move.value + (f" [{row.guard}]" if row.guard else "")
            lines.append(f"    {row.source.value} --> {row.target.value}: {label}")
        lines.extend(f"    {state.value} --> [*]" for state in self.states if state in self.final)
        return "\n".join(lines)


def build_machine(
    name: str,
    stages: Sequence[PipelineStage],
    *,
    allow_backward: bool,
    allow_skip: bool,
    allow_reopen: bool,
    require_lost_reason: bool,
) -> PipelineMachine:
    """The table of a pipeline with these ``stages`` (in order) and flags, on the kernel."""
    name = text(name, "name", limit=_NAME_LIMIT)
    stages = instances_of(stages, PipelineStage, "stages")
    if not stages:
        raise ValidationError("stages", stages, "must hold at least one stage")
    if len({s.key for s in stages}) != len(stages):
        raise ValidationError("stages", [s.key for s in stages], "must have distinct keys")
    allow_backward = boolean(allow_backward, "allow_backward")
    allow_skip = boolean(allow_skip, "allow_skip")
    allow_reopen = boolean(allow_reopen, "allow_reopen")
    require_lost_reason = boolean(require_lost_reason, "require_lost_reason")
    states = _StrEnumFactory(f"{name}_stages", [(s.key.upper(), s.key) for s in stages])
    member = dict(zip((s.key for s in stages), states, strict=True))
    opened = [s for s in stages if s.kind is StageKind.OPEN]
    closed = [s for s in stages if s.kind is not StageKind.OPEN]

    def guard(target: PipelineStage) -> str | None:
        lost_needs_reason = target.kind is StageKind.LOST and require_lost_reason
        return ENTRY_RULES.name if target.requires or lost_needs_reason else None

    def row(a: PipelineStage, b: PipelineStage, move: PipelineMove) -> PipelineTransition:
        return PipelineTransition(member[a.key], member[b.key], member[b.key], move, guard(b))

    rows: list[PipelineTransition] = []
    for i, a in enumerate(opened):
        for j, b in enumerate(opened):
            if j > i and (allow_skip or j == i + 1):
                rows.append(row(a, b, PipelineMove.ADVANCE))
            elif j < i and allow_backward:
                rows.append(row(a, b, PipelineMove.MOVE_BACK))
        for c in closed:
            rows.append(
                row(a, c, PipelineMove.WIN if c.kind is StageKind.WON else PipelineMove.LOSE)
            )
    if allow_reopen:
        rows.extend(row(c, a, PipelineMove.REOPEN) for c in closed for a in opened)
    final = [] if allow_reopen else [member[c.key] for c in closed]
    return PipelineMachine(
        name,
        states,
        stages,
        rows,
        final=final,
        require_lost_reason=require_lost_reason,
    )
