"""Funnel definitions shared by the vectorised and the per-customer paths.

A funnel is a sequence of *steps*; a step matches events by funnel stage (a
[`Stage`][crmcore.kernel.stage.Stage], compared with an event's ``stage``) or
by event kind (a ``str``, compared with its ``kind``). Exclusions name
events that disqualify a trial between two steps. Both paths parse and check
their arguments here, so they reject the same input with the same errors.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import Any, Final, Literal, TypeAlias, get_args

import attrs

from crmcore.kernel.clock import MICROSECOND
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.stage import Stage
from crmcore.kernel.validators import boolean

__all__ = [
    "DEFAULT_WINDOW",
    "MAX_STEPS",
    "Exclusion",
    "FunnelCounting",
    "FunnelMode",
    "FunnelStep",
    "Matcher",
    "Plan",
    "plan",
]

FunnelStep: TypeAlias = Stage | str
"""A funnel step: a stage (matches the event's ``stage``) or an event kind (its ``kind``)."""

FunnelMode: TypeAlias = Literal["ordered", "strict", "any"]
"""How steps must follow each other: in order with anything in between, in order with
nothing in between, or in any order (PostHog's ordered / strict / unordered).
"""
MODES: Final[tuple[str, ...]] = get_args(FunnelMode)

FunnelCounting: TypeAlias = Literal["trials", "max_step"]
"""Which attempts of a customer count (see [`crmcore.funnel.analytics`][crmcore.funnel.analytics]).

* ``"trials"``: Mixpanel's funnel trials. The first step-1 event opens a
  trial; a repeated step 1 inside it neither restarts it nor moves its
  window; the next trial opens only after this one closed (window over,
  strict interruption, exclusion). The furthest trial counts, ties to the
  earliest.
* ``"max_step"``: the sliding-window maximum of ClickHouse's ``windowFunnel``,
  PostHog's funnels and Pinot's ``FunnelMaxStep``. Every step-1 instant
  starts a chain of its own, with its own window; the customer counts at the
  furthest step any chain reaches, ties to the latest start.
"""
COUNTINGS: Final[tuple[str, ...]] = get_args(FunnelCounting)

DEFAULT_WINDOW: Final = timedelta(days=14)
"""PostHog's default conversion window (Mixpanel's is 7 or 30 days, depending on the docs' age)."""

MAX_STEPS: Final = 32
"""The most steps a funnel may have (plenty for a funnel, and it bounds the strict-mode work)."""

UNLIMITED_US: Final = 1 << 62
"""Window used internally for "no window": far beyond any real history, and
small enough that ``time + window`` cannot overflow int64 microseconds.
"""


def _check_event(value: object, field: str) -> None:
    if isinstance(value, Stage):
        return
    if not isinstance(value, str) or not value or value != value.strip():
        raise ValidationError(
            field,
            value,
            "must be a Stage (matched against the event's stage) or a non-empty event kind "
            "(a str without surrounding spaces, matched against the event's kind)",
        )


def _check_exclusion_event(
    _instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    _check_event(value, attribute.name)


def _check_step_number(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.name == "before":
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(attribute.name, value, "must be a step number (1 is the first step)")


@attrs.frozen
class Exclusion:
    """Events that disqualify a trial between two steps (PostHog's and Mixpanel's exclusion steps).

    A trial is excluded when an ``event`` happens strictly after its step
    ``after`` and strictly before its step ``before`` (1-based step numbers;
    ``before=None`` means the last step), or, when the trial never reached
    step ``before``, at any time while it was still open. An excluded trial
    is discarded; the customer may enter again later (Mixpanel's re-entry).
    A customer whose every trial was excluded is left out of the funnel
    altogether (PostHog's exclusion drop) and counted in
    `FunnelReport.excluded`.

    Examples:
        >>> Exclusion("support_ticket", after=2)
        Exclusion(event='support_ticket', after=2, before=None)
    """

    event: FunnelStep = attrs.field(validator=_check_exclusion_event)
    after: int = attrs.field(default=1, validator=_check_step_number)
    before: int | None = attrs.field(default=None, validator=_check_step_number)

    def to_dict(self) -> dict[str, object]:
        """The exclusion as JSON-compatible data."""
        return {**describe(self.event), "after": self.after, "before": self.before}


def describe(step: FunnelStep) -> dict[str, str]:
    """A step as JSON data: ``{"stage": "interest"}`` or ``{"kind": "demo_request"}``."""
    return {"stage": step.label} if isinstance(step, Stage) else {"kind": step}


def label(step: FunnelStep) -> str:
    """A short display name: the stage label or the kind."""
    return step.label if isinstance(step, Stage) else step


@attrs.frozen
class Matcher:
    """What one step or exclusion matches: a stage label or an event kind."""

    column: Literal["stage", "kind"]
    value: str

    @classmethod
    def of(cls, step: FunnelStep) -> Matcher:
        """The matcher of a (validated) step."""
        if isinstance(step, Stage):
            return cls("stage", step.label)
        return cls("kind", step)


@attrs.frozen
class Plan:
    """A validated funnel: steps, matchers, window in microseconds, mode, exclusions, counting.

    ``exclusion_bounds[i]`` holds exclusion ``i``'s steps as 0-based indices
    ``(after, before)``.
    """

    steps: tuple[FunnelStep, ...]
    matchers: tuple[Matcher, ...]
    mode: FunnelMode
    window: timedelta | None
    window_us: int | None
    exclusions: tuple[Exclusion, ...]
    exclusion_matchers: tuple[Matcher, ...]
    exclusion_bounds: tuple[tuple[int, int], ...]
    counting: FunnelCounting = "trials"

    @property
    def size(self) -> int:
        """The number of steps."""
        return len(self.steps)

    def check_kinds(self, seen: Collection[str], allow_unseen: bool) -> None:
        """Raise for a kind step or exclusion that no event has (a typo gives zero silently).

        Stage steps are never checked: the stages are a closed set, so a
        stage nobody has reached yet is a true zero, not a typo.
        """
        if boolean(allow_unseen, "allow_unseen_kinds"):
            return
        named = [(f"steps[{i}]", m) for i, m in enumerate(self.matchers)]
        named += [(f"exclusions[{i}].event", m) for i, m in enumerate(self.exclusion_matchers)]
        for field, matcher in named:
            if matcher.column == "kind" and matcher.value not in seen:
                hint = ""
                if matcher.value.upper() in Stage.__members__:
                    hint = f"; for the stage use Stage.{matcher.value.upper()}"
                raise ValidationError(
                    field,
                    matcher.value,
                    "is not the kind of any event in the log (a typo would silently count "
                    f"zero){hint}; pass allow_unseen_kinds=True if it is expected",
                )


def _window(window: object) -> tuple[timedelta | None, int | None]:
    if window is None:
        return None, None
    if not isinstance(window, timedelta):
        raise ValidationError(
            "window", window, "must be a datetime.timedelta (or None for no conversion window)"
        )
    if window <= timedelta(0):
        raise ValidationError("window", window, "must be positive (or None for no window)")
    return window, min(window // MICROSECOND, UNLIMITED_US)


def plan(
    steps: Sequence[FunnelStep],
    window: object,
    mode: object,
    exclusions: Sequence[Exclusion] = (),
    counting: object = "trials",
) -> Plan:
    """Validate a funnel definition; every error names the argument (``steps[2]``, ...)."""
    if isinstance(steps, str | Stage) or not isinstance(steps, Sequence):
        raise ValidationError("steps", steps, "must be a sequence of steps (Stage or event kind)")
    parsed = tuple(steps)
    if len(parsed) < 2:
        raise ValidationError("steps", parsed, "a funnel needs at least 2 steps")
    if len(parsed) > MAX_STEPS:
        raise ValidationError("steps", len(parsed), f"a funnel has at most {MAX_STEPS} steps")
    for i, step in enumerate(parsed):
        _check_event(step, f"steps[{i}]")
    if not isinstance(mode, str) or mode not in MODES:
        raise ValidationError("mode", mode, f"must be one of {', '.join(map(repr, MODES))}")
    if not isinstance(counting, str) or counting not in COUNTINGS:
        raise ValidationError(
            "counting", counting, f"must be one of {', '.join(map(repr, COUNTINGS))}"
        )
    matchers = tuple(Matcher.of(step) for step in parsed)
    if mode == "any":
        for i, matcher in enumerate(matchers):
            if matcher in matchers[:i]:
                raise ValidationError(
                    f"steps[{i}]",
                    parsed[i],
                    "repeats an earlier step; an 'any'-order funnel counts distinct steps",
                )
    span, window_us = _window(window)
    if isinstance(exclusions, Exclusion) or not isinstance(exclusions, Sequence):
        raise ValidationError("exclusions", exclusions, "must be a sequence of Exclusion")
    bounds: list[tuple[int, int]] = []
    for i, exclusion in enumerate(exclusions):
        if not isinstance(exclusion, Exclusion):
            raise ValidationError(f"exclusions[{i}]", exclusion, "must be an Exclusion")
        before = len(parsed) if exclusion.before is None else exclusion.before
        if not exclusion.after < before <= len(parsed):
            raise ValidationError(
                f"exclusions[{i}]",
                exclusion,
                f"needs 1 <= after < before <= {len(parsed)} (the number of steps)",
            )
        if Matcher.of(exclusion.event) in matchers:
            # PostHog refuses this too: an event cannot be both a step and an exclusion.
            raise ValidationError(
                f"exclusions[{i}].event", exclusion.event, "is also a step of this funnel"
            )
        bounds.append((exclusion.after - 1, before - 1))
    return Plan(
        steps=parsed,
        matchers=matchers,
        mode=mode,  # type: ignore[arg-type]
        window=span,
        window_us=window_us,
        exclusions=tuple(exclusions),
        exclusion_matchers=tuple(Matcher.of(e.event) for e in exclusions),
        exclusion_bounds=tuple(bounds),
        counting=counting,  # type: ignore[arg-type]
    )
