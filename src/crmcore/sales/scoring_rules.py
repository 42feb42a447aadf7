"""The parts of a lead scoring: fit rules, engagement rules, decay, bands and thresholds.

A lead score adds up two kinds of evidence (HubSpot's 2025 scoring tool and its users' main
request, PEERS.md §1.3: fit and engagement kept apart, with decay):

* a [`FitRule`][crmcore.sales.scoring_rules.FitRule] gives its points when the lead matches a
  segment rule, written in the segment language (``attr.industry = "software" and country in
  ("DE", "AT")``): who the lead *is*;
* an [`EngagementRule`][crmcore.sales.scoring_rules.EngagementRule] gives its points for each event
  of some kinds (``"pricing_page_view"``, ``"webinar_attended"``) in a window before ``as_of``,
  each event's points fading with a [`Decay`][crmcore.sales.scoring_rules.Decay] (halving every
  ``H`` days) and the rule's total capped: what the lead *did*.

A rule's points are never negative: a rule that should take points away says so with
``penalty=True`` (its points are then subtracted), so negative scores appear only when a
penalty is configured. [`ScoreBands`][crmcore.sales.scoring_rules.ScoreBands] turn a total into a
label (A-D, or hot/warm/cold) and a [`Threshold`][crmcore.sales.scoring_rules.Threshold] marks a
lead marketing- or sales-qualified (HubSpot guides require fit and engagement each to reach a
minimum as well as the total, PEERS.md §1.2).

Examples:
    >>> rule = FitRule("big_company", "attr.employees >= 200", points=15)
    >>> rule.points, rule.text
    (15.0, 'attr.employees >= 200')
    >>> FitRule("bad", "attr.employees >=", points=5)
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.RuleSyntaxError: line 1, column 18: fit rule 'bad': expected a value ...
    >>> Decay(half_life_days=30).weights(np.array([0, 30 * DAY_US, 60 * DAY_US])).tolist()
    [1.0, 0.5, 0.25]
    >>> ScoreBands.letters(a=80, b=60, c=40).label_of(65.0)
    'B'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal, get_args

import attrs
import numpy as np

from crmcore.columnar.arguments import float_column, int_column
from crmcore.customers.records import normalize_slug
from crmcore.kernel.arrays import BoolArray, Float64Array, Int8Array, Int64Array, read_only
from crmcore.kernel.clock import DAY_US
from crmcore.kernel.errors import RuleError, RuleSyntaxError, ValidationError
from crmcore.kernel.validators import choice, items_of, mapping_of, number
from crmcore.segments.jsonform import rule_from_json, rule_to_json
from crmcore.segments.parser import parse_rule
from crmcore.segments.printer import to_text
from crmcore.segments.rules import Predicate

__all__ = [
    "Band",
    "Decay",
    "DecayMode",
    "EngagementRule",
    "FitRule",
    "ScoreBands",
    "Threshold",
]

DecayMode = Literal["continuous", "step"]
"""``continuous``: ``0.5 ** (age / H)``; ``step``: halves at each whole ``H`` days of age."""
_MAX_DAYS: Final = 36_500.0


def _finite(value: object, field: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(field, value, "must be a finite number")
    number = float(value)
    if positive and number <= 0:
        raise ValidationError(field, value, "must be greater than 0")
    if number < 0:
        raise ValidationError(field, value, "must not be negative (use penalty=True to subtract)")
    return number


def _days(value: object, field: str) -> float:
    number = _finite(value, field, positive=True)
    if number > _MAX_DAYS:
        raise ValidationError(field, value, f"must be at most {_MAX_DAYS:g} days")
    return number


def _half_life(value: object) -> float:
    return _days(value, "half_life_days")


def _json(
    data: object, what: str, required: tuple[str, ...], field: str = "data"
) -> dict[str, Any]:
    """JSON data of a ``what``: a mapping with string keys holding the ``required`` keys."""
    found = mapping_of(data, field, str)
    missing = [key for key in required if key not in found]
    if missing:
        raise ValidationError(field, sorted(found), f"{what} data misses {', '.join(missing)}")
    return found


def _mode(value: object) -> DecayMode:
    mode: DecayMode = choice(value, "mode", get_args(DecayMode))
    return mode


@attrs.frozen
class Decay:
    """How an event's points fade with its age: they halve every ``half_life_days``.

    ``mode="continuous"`` (the default) weighs an event ``age`` days old ``0.5 ** (age / H)``;
    ``mode="step"`` halves at each whole ``H`` days (``0.5 ** floor(age / H)``), exact in binary.
    """

    half_life_days: float = attrs.field(converter=_half_life)
    mode: DecayMode = attrs.field(default="continuous", converter=_mode)

    @property
    def half_life_us(self) -> int:
        """The half-life in whole microseconds (the unit of event ages)."""
        return max(1, round(self.half_life_days * DAY_US))

    def weights(self, age_us: Int64Array) -> Float64Array:
        """The weight of events ``age_us`` microseconds old (an ``int64`` array, ages ≥ 0).

        The one implementation both scoring paths call, so a lead scored alone and in a batch
        gets bit-identical weights.
        """
        ages = int_column(age_us, "age_us", what="ages in µs")
        if self.mode == "step":
            out: Float64Array = np.ldexp(1.0, -(ages // self.half_life_us))
            return out
        halvings = ages.astype(np.float64) / float(self.half_life_us)
        return np.exp2(-halvings)

    def to_json(self) -> dict[str, object]:
        """The decay as JSON data."""
        return {"half_life_days": self.half_life_days, "mode": self.mode}


def _name(value: object) -> str:
    return normalize_slug(value, "name")


def _points(value: object) -> float:
    return _finite(value, "points")


def _description(value: object) -> str:
    if not isinstance(value, str) or len(value) > 500:
        raise ValidationError("description", value, "must be a string of at most 500 characters")
    return value


def _flag(_instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise ValidationError(attribute.name, value, "must be True or False")


def _parsed(value: object, name: str) -> Predicate:
    if isinstance(value, Predicate):
        return value
    if not isinstance(value, str):
        raise ValidationError("rule", value, "must be rule text or a parsed rule")
    try:
        return parse_rule(value)
    except RuleError as error:
        raise type(error)(
            f"fit rule {name!r}: {error.message}", error.text, error.line, error.column
        ) from None


@attrs.frozen(init=False)
class FitRule:
    """Points for leads that match a segment rule (who the lead is).

    ``rule`` is rule text (parsed here: a syntax error is a
    [`RuleSyntaxError`][crmcore.kernel.errors.RuleSyntaxError] naming this rule) or a parsed rule;
    ``points`` ≥ 0 are added, or subtracted when ``penalty`` is true.
    """

    name: str
    rule: Predicate
    points: float
    penalty: bool
    description: str

    def __init__(
        self,
        name: str,
        rule: str | Predicate,
        points: float,
        *,
        penalty: bool = False,
        description: str = "",
    ) -> None:
        """Check and hold the rule (the rule text is parsed here)."""
        slug = _name(name)
        _flag(self, attrs.fields(FitRule).penalty, penalty)
        self.__attrs_init__(
            slug, _parsed(rule, slug), _points(points), penalty, _description(description)
        )

    @property
    def signed_points(self) -> float:
        """The points as they count: negative for a penalty."""
        return -self.points if self.penalty else self.points

    @property
    def text(self) -> str:
        """The rule as text."""
        return to_text(self.rule)

    def to_json(self) -> dict[str, object]:
        """The rule as JSON data (the segment rule in its versioned JSON form)."""
        return {
            "name": self.name,
            "rule": rule_to_json(self.rule),
            "points": self.points,
            "penalty": self.penalty,
            "description": self.description,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FitRule:
        """A rule from [`to_json()`][crmcore.sales.scoring_rules.FitRule.to_json] data."""
        data = _json(data, "fit rule", ("name", "rule", "points"))
        try:
            rule = rule_from_json(data["rule"])
        except RuleSyntaxError as error:
            raise RuleSyntaxError(f"fit rule {data.get('name')!r}: {error.message}") from None
        return cls(
            data["name"],
            rule,
            data["points"],
            penalty=data.get("penalty", False),
            description=data.get("description", ""),
        )


def _kinds(value: object) -> frozenset[str]:
    if isinstance(value, str):
        value = (value,)
    kinds: set[str] = set()
    for kind in items_of(value, "kinds", "event kinds"):
        if not isinstance(kind, str) or not kind.strip():
            raise ValidationError("kinds", kind, "must be non-empty strings")
        kinds.add(kind)
    if not kinds:
        raise ValidationError("kinds", value, "must name at least one event kind")
    return frozenset(kinds)


def _optional_cap(value: object) -> float | None:
    return None if value is None else _finite(value, "cap", positive=True)


def _window(value: object) -> float | None:
    return None if value is None else _days(value, "window_days")


def _decay(value: object) -> Decay | None:
    if value is None or isinstance(value, Decay):
        return value
    raise ValidationError("decay", value, "must be a Decay or None")


@attrs.frozen(kw_only=True)
class EngagementRule:
    """Points for each event of some ``kinds`` (what the lead did), in a window, decaying.

    Each event in ``(as_of - window_days, as_of]`` (all events up to ``as_of`` without a window:
    an event *expires* after ``window_days``) gives ``points`` times its
    [`Decay`][crmcore.sales.scoring_rules.Decay] weight (1 without decay); the rule's sum is
    capped at ``cap`` points (in size, for a penalty).
    """

    name: str = attrs.field(converter=_name)
    kinds: frozenset[str] = attrs.field(converter=_kinds)
    points: float = attrs.field(converter=_points)
    penalty: bool = attrs.field(default=False, validator=_flag)
    cap: float | None = attrs.field(default=None, converter=_optional_cap)
    window_days: float | None = attrs.field(default=None, converter=_window)
    decay: Decay | None = attrs.field(default=None, converter=_decay)
    description: str = attrs.field(default="", converter=_description)

    @property
    def window_us(self) -> int | None:
        """The window in whole microseconds (``None``: no window)."""
        return None if self.window_days is None else round(self.window_days * DAY_US)

    def to_json(self) -> dict[str, object]:
        """The rule as JSON data."""
        return {
            "name": self.name,
            "kinds": sorted(self.kinds),
            "points": self.points,
            "penalty": self.penalty,
            "cap": self.cap,
            "window_days": self.window_days,
            "decay": None if self.decay is None else self.decay.to_json(),
            "description": self.description,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EngagementRule:
        """A rule from [`to_json()`][crmcore.sales.scoring_rules.EngagementRule.to_json] data."""
        data = _json(data, "engagement rule", ("name", "kinds", "points"))
        decay = data.get("decay")
        if decay is not None:
            decay = _json(decay, "decay", ("half_life_days",), "data.decay")
        return cls(
            name=data["name"],
            kinds=data["kinds"],
            points=data["points"],
            penalty=data.get("penalty", False),
            cap=data.get("cap"),
            window_days=data.get("window_days"),
            decay=(
                None
                if decay is None
                else Decay(decay["half_life_days"], decay.get("mode", "continuous"))
            ),
            description=data.get("description", ""),
        )


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(field, value, "must be a number")
    if not math.isfinite(value):
        raise ValidationError(field, value, "must be finite")
    return float(value)


def _total(value: object) -> float:
    return _number(value, "total")


def _optional_fit(value: object) -> float | None:
    return None if value is None else _number(value, "fit")


def _optional_engagement(value: object) -> float | None:
    return None if value is None else _number(value, "engagement")


def _band_label(value: object) -> str:
    return normalize_slug(value, "band.label").upper()


def _band_minimum(value: object) -> float | None:
    return None if value is None else _number(value, "band.minimum")


@attrs.frozen
class Threshold:
    """When a lead counts as qualified: its total reaches ``total`` and, if given, its fit and
    engagement reach ``fit`` and ``engagement`` (all inclusive)."""

    total: float = attrs.field(converter=_total)
    fit: float | None = attrs.field(default=None, converter=_optional_fit)
    engagement: float | None = attrs.field(default=None, converter=_optional_engagement)

    def met(self, fit: float, engagement: float, total: float) -> bool:
        """Whether scores ``fit``, ``engagement`` and ``total`` reach the threshold."""
        fit = number(fit, "fit")
        engagement = number(engagement, "engagement")
        total = number(total, "total")
        return (
            total >= self.total
            and (self.fit is None or fit >= self.fit)
            and (self.engagement is None or engagement >= self.engagement)
        )

    def met_all(
        self, fit: Float64Array, engagement: Float64Array, total: Float64Array
    ) -> BoolArray:
        """[`met()`][crmcore.sales.scoring_rules.Threshold.met] over arrays (a bool array)."""
        total = float_column(total, "total", finite=True, what="scores")
        fit = float_column(fit, "fit", finite=True, what="scores")
        engagement = float_column(engagement, "engagement", finite=True, what="scores")
        if not fit.shape == engagement.shape == total.shape:
            raise ValidationError("total", total.shape, "must be one score per lead, as fit")
        out: BoolArray = total >= self.total
        if self.fit is not None:
            out &= fit >= self.fit
        if self.engagement is not None:
            out &= engagement >= self.engagement
        return out

    def to_json(self) -> dict[str, object]:
        """The threshold as JSON data."""
        return {"total": self.total, "fit": self.fit, "engagement": self.engagement}


@attrs.frozen
class Band:
    """A score band: ``label`` for totals at or above ``minimum`` (``None``: the lowest band)."""

    label: str = attrs.field(converter=_band_label)
    minimum: float | None = attrs.field(default=None, converter=_band_minimum)


def _bands(value: object) -> tuple[Band, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("bands", value, "must be a sequence of Band")
    bands = tuple(value)
    if not bands or any(not isinstance(b, Band) for b in bands):
        raise ValidationError("bands", value, "must be a non-empty sequence of Band")
    *upper, lowest = bands
    if lowest.minimum is not None or any(b.minimum is None for b in upper):
        raise ValidationError("bands", value, "only the last (lowest) band has no minimum")
    minima = [float(b.minimum or 0.0) for b in upper]
    if minima != sorted(minima, reverse=True) or len(set(minima)) != len(minima):
        raise ValidationError("bands", value, "minima must fall strictly from first to last")
    if len({b.label for b in bands}) != len(bands):
        raise ValidationError("bands", value, "labels must differ")
    return bands


@attrs.frozen
class ScoreBands:
    """Score bands from the highest down; the last catches every lower total."""

    bands: tuple[Band, ...] = attrs.field(converter=_bands)

    @classmethod
    def letters(cls, a: float = 80, b: float = 60, c: float = 40) -> ScoreBands:
        """A (≥ ``a``), B (≥ ``b``), C (≥ ``c``), D (the rest)."""
        return cls((Band("A", a), Band("B", b), Band("C", c), Band("D")))

    @classmethod
    def heat(cls, hot: float = 70, warm: float = 40) -> ScoreBands:
        """HOT (≥ ``hot``), WARM (≥ ``warm``), COLD (the rest)."""
        return cls((Band("HOT", hot), Band("WARM", warm), Band("COLD")))

    @property
    def labels(self) -> tuple[str, ...]:
        """The band labels, highest first (band codes index this)."""
        return tuple(b.label for b in self.bands)

    def code_of(self, total: float) -> int:
        """The band code (index into ``labels``) of a total."""
        for i, band in enumerate(self.bands):
            if band.minimum is None or total >= band.minimum:
                return i
        raise AssertionError("the last band has no minimum")  # pragma: no cover

    def label_of(self, total: float) -> str:
        """The band label of a total."""
        return self.labels[self.code_of(total)]

    def codes(self, totals: Float64Array) -> Int8Array:
        """Band codes of many totals (vectorised ``code_of``)."""
        totals = float_column(totals, "totals", finite=True, what="scores")
        minima = np.array([b.minimum for b in self.bands[:-1]], dtype=np.float64)[::-1]
        # ascending minima; a total's band counts the minima it does not reach
        reached: Int64Array = np.searchsorted(minima, totals, side="right")
        return read_only((len(minima) - reached).astype(np.int8))

    def to_json(self) -> list[dict[str, object]]:
        """The bands as JSON data."""
        return [{"label": b.label, "minimum": b.minimum} for b in self.bands]

    @classmethod
    def from_json(cls, data: Iterable[Mapping[str, Any]]) -> ScoreBands:
        """Bands from [`to_json()`][crmcore.sales.scoring_rules.ScoreBands.to_json] data."""
        rows = items_of(data, "data", "bands")
        found = [_json(b, "band", ("label",), f"data[{i}]") for i, b in enumerate(rows)]
        return cls(tuple(Band(b["label"], b.get("minimum")) for b in found))
