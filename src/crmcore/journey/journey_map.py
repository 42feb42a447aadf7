"""The journey map: which funnel stage each touchpoint belongs to.

A map is data: an explicit ``{touchpoint: stage}`` table of
[`Touchpoint`][crmcore.journey.touchpoint.Touchpoint] keys, optionally filled in
from the stages that the interactions themselves carry (``derive=True``).
Explicit entries always win over derived ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from crmcore.funnel.touchpoints import TouchpointMap
from crmcore.journey.event_log import derive_stages, event_stages, event_touchpoints
from crmcore.journey.touchpoint import Touchpoint
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.stage import Stage

if TYPE_CHECKING:
    from crmcore.columnar import EventLog

__all__ = ["JourneyMap"]


def _stages(value: object) -> FrozenDict[Touchpoint, Stage]:
    if not isinstance(value, Mapping):
        raise ValidationError("journey_map", value, "must map touchpoints to stages")
    out: dict[Touchpoint, Stage] = {}
    for key, raw in value.items():
        touchpoint = Touchpoint.parse(key, "journey_map")
        stage = Stage.parse(raw, f"journey_map[{touchpoint.label}]")
        if out.get(touchpoint, stage) != stage:
            raise ValidationError(
                f"journey_map[{touchpoint.label}]",
                raw,
                f"conflicts with {out[touchpoint].label} given for the same touchpoint",
            )
        out[touchpoint] = stage
    return FrozenDict(sorted(out.items()))


def _check_derive(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, bool):
        raise ValidationError("journey_map.derive", value, "must be True or False")


@attrs.frozen
class JourneyMap:
    """Which funnel stage each touchpoint belongs to.

    ``stages`` is the explicit table; keys may be
    [`Touchpoint`][crmcore.journey.touchpoint.Touchpoint],
    ``(channel, kind)`` or ``"channel/kind"``, values a
    [`Stage`][crmcore.kernel.stage.Stage], its label or number. With
    ``derive=True`` (the default) a touchpoint missing from the table takes
    the stage its interactions carry most often (ties: the earlier stage);
    see [`derived_from()`][crmcore.journey.journey_map.JourneyMap.derived_from]. A touchpoint with
    neither is *unmapped*: the journey report still lists it, under "unmapped", with no conversion.

    Examples:
        >>> m = JourneyMap({"web/website_visit": "awareness", ("phone", "sales_call"): 4})
        >>> m.stage_of(Touchpoint("phone", "sales_call"))
        <Stage.INTENT: 4>
        >>> m.to_dict()
        {'stages': {'phone/sales_call': 'intent', 'web/website_visit': 'awareness'}, 'derive': True}
    """

    stages: FrozenDict[Touchpoint, Stage] = attrs.field(factory=FrozenDict, converter=_stages)
    derive: bool = attrs.field(default=True, validator=_check_derive)

    @property
    def touchpoints(self) -> tuple[Touchpoint, ...]:
        """The explicitly mapped touchpoints, in order."""
        return tuple(self.stages)

    def stage_of(self, touchpoint: Touchpoint | tuple[str, str] | str) -> Stage | None:
        """The explicit stage of ``touchpoint`` (``None`` when the table does not list it)."""
        return self.stages.get(Touchpoint.parse(touchpoint))

    def by_stage(self) -> dict[Stage, tuple[Touchpoint, ...]]:
        """The explicit touchpoints of each stage, in funnel order (empty stages left out)."""
        out: dict[Stage, list[Touchpoint]] = {}
        for touchpoint, stage in sorted(self.stages.items(), key=lambda item: item[1]):
            out.setdefault(stage, []).append(touchpoint)
        return {stage: tuple(points) for stage, points in out.items()}

    def with_stage(
        self, touchpoint: Touchpoint | tuple[str, str] | str, stage: Stage | str | int
    ) -> JourneyMap:
        """A copy that maps ``touchpoint`` to ``stage`` (replacing any entry it had)."""
        point = Touchpoint.parse(touchpoint)
        table = {k: v for k, v in self.stages.items() if k != point}
        table[point] = Stage.parse(stage, f"journey_map[{point.label}]")
        return attrs.evolve(self, stages=table)

    @classmethod
    def derived_from(cls, log: EventLog) -> JourneyMap:
        """The map the log's own ``stage`` column implies, as an explicit table.

        Each touchpoint gets the stage most of its staged events carry (ties:
        the earlier stage); touchpoints whose events carry no stage are left
        out. Useful to pin a derived map, edit it
        ([`with_stage()`][crmcore.journey.journey_map.JourneyMap.with_stage]) and pass it back with
        ``derive=False``. Unknown stage labels raise a
        [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the row.
        """
        touchpoints, index = event_touchpoints(log)
        derived = derive_stages(index, event_stages(log), len(touchpoints))
        return cls(
            {tp: Stage(int(s)) for tp, s in zip(touchpoints, derived.tolist(), strict=True) if s}
        )

    @classmethod
    def from_touchpoint_map(
        cls, touchpoints: TouchpointMap, log: EventLog, *, derive: bool = False
    ) -> JourneyMap:
        """The map a funnel [`TouchpointMap`][crmcore.funnel.touchpoints.TouchpointMap] implies for
        ``log``.

        Each touchpoint of the log gets the stage the rules give it
        (``touchpoints.lookup(kind, channel)``: an exact ``(channel, kind)``
        rule, else a kind-only rule), so funnel positions driven by those
        rules and the journey report put every touchpoint in the same stage.
        Touchpoints no rule covers are left to ``derive`` (off by default:
        they are reported as unmapped).
        """
        if not isinstance(touchpoints, TouchpointMap):
            raise ValidationError("touchpoints", touchpoints, "must be a TouchpointMap")
        points, _ = event_touchpoints(log)
        table: dict[Touchpoint, Stage] = {}
        for point in points:
            stage = touchpoints.lookup(point.kind, point.channel)
            if stage is not None:
                table[point] = stage
        return cls(table, derive)

    def to_dict(self) -> dict[str, object]:
        """JSON-compatible data: ``{"stages": {"channel/kind": label}, "derive": bool}``."""
        return {
            "stages": {tp.label: stage.label for tp, stage in self.stages.items()},
            "derive": self.derive,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> JourneyMap:
        """Inverse of [`to_dict()`][crmcore.journey.journey_map.JourneyMap.to_dict]."""
        if not isinstance(data, Mapping):
            raise ValidationError("journey_map", data, "must be a mapping")
        unknown = set(data) - {"stages", "derive"}
        if unknown:
            raise ValidationError("journey_map", sorted(unknown), "unknown keys")
        return cls(data.get("stages", {}), data.get("derive", True))  # type: ignore[arg-type]
