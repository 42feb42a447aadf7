"""Feedback scores given at touchpoints, on a declared survey scale.

The journey map measures experience at each touchpoint by the scores
customers gave there (DOMAIN.md §7; seed 000 "分析客户体验 … 通过客户反馈、
满意度调查"). Until a feedback module exists the scores come in as plain data:
[`TouchpointScore`][crmcore.journey.scores.TouchpointScore] objects or parallel arrays
([`TouchpointScores.from_arrays()`][crmcore.journey.scores.TouchpointScores.from_arrays]).

Every score declares its [`Scale`][crmcore.journey.scores.Scale], because "negative" means something
different on each (definitions from PEERS.md §5.2):

* ``csat``, 1-5: negative 1-2 (below the neutral 3; "satisfied" is the
  top-two box 4-5). Neutral point 3.
* ``nps``, 0-10: negative 0-6, the detractors (passives 7-8, promoters 9-10;
  Reichheld, "The One Number You Need to Grow", HBR 2003). Neutral point 7.5,
  the centre of the passive band.
* ``ces``, 1-7: negative 1-3, "difficult" in the CES 2.0 index (neutral 4-5,
  easy 6-7). Neutral point 4.5, the centre of the neutral band.

CES here is CES 2.0 (CEB): agreement with "the company made it easy for me
to handle my issue", so a *high* score is good. Scores from the older
effort-worded question ("how much effort did you have to put in", high =
bad) must be reversed first (``8 - score`` on a 1-7 scale).
"""

from __future__ import annotations

import enum
import math
import warnings
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.columnar import STRING_DTYPE, Column
from crmcore.customers.records import normalize_slug
from crmcore.journey.touchpoint import Touchpoint
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.ids import CustomerId, customer_id
from crmcore.kernel.validators import items_of

__all__ = ["Scale", "TouchpointScore", "TouchpointScores"]


class Scale(enum.StrEnum):
    """A survey scale: its range, its negative band and its neutral point (PEERS.md §5.2).

    Examples:
        >>> Scale.NPS.low, Scale.NPS.high, Scale.NPS.negative_max, Scale.NPS.neutral
        (0, 10, 6, 7.5)
        >>> Scale.CSAT.is_negative(2), Scale.CSAT.is_negative(3)
        (True, False)
    """

    CSAT = "csat"
    NPS = "nps"
    CES = "ces"

    @property
    def low(self) -> int:
        """The lowest answer on the scale."""
        return _SCALES[self][0]

    @property
    def high(self) -> int:
        """The highest answer on the scale."""
        return _SCALES[self][1]

    @property
    def negative_max(self) -> int:
        """Answers ``<= negative_max`` are negative (CSAT 2, NPS 6: detractors, CES 3)."""
        return _SCALES[self][2]

    @property
    def neutral(self) -> float:
        """The centre of the scale's neutral band: the point a mean score should reach."""
        return _NEUTRAL[self]

    def is_negative(self, score: float) -> bool:
        """Whether ``score`` falls in the scale's negative band."""
        return score <= self.negative_max

    @classmethod
    def parse(cls, value: object, field: str = "scale") -> Scale:
        """A scale from itself or its name (``"nps"``); ValidationError otherwise."""
        if isinstance(value, Scale):
            return value
        if isinstance(value, str) and value.strip().lower() in cls._value2member_map_:
            return cls(value.strip().lower())
        raise ValidationError(field, value, f"must be one of {', '.join(s.value for s in cls)}")


# scale -> (low, high, negative_max); PEERS.md §5.2.
_SCALES: Final[dict[Scale, tuple[int, int, int]]] = {
    Scale.CSAT: (1, 5, 2),
    Scale.NPS: (0, 10, 6),
    Scale.CES: (1, 7, 3),
}
_NEUTRAL: Final[dict[Scale, float]] = {Scale.CSAT: 3.0, Scale.NPS: 7.5, Scale.CES: 4.5}


def _whole_score(value: object) -> int:
    """A survey answer as an int: ints, or floats/Decimals with no fractional part."""
    if isinstance(value, bool):
        raise ValidationError("score", value, "must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal) and math.isfinite(value) and value == int(value):
        return int(value)
    raise ValidationError("score", value, "must be a whole number")


def _score_customer(value: object) -> CustomerId:
    return customer_id(value)


def _score_channel(value: object) -> str:
    return normalize_slug(value, "score.channel")


def _score_kind(value: object) -> str:
    return normalize_slug(value, "score.kind")


def _score_at(value: object) -> datetime:
    return to_utc(value, "score.at")


def _score_scale(value: object) -> Scale:
    return Scale.parse(value, "score.scale")


@attrs.frozen
class TouchpointScore:
    """One survey answer a customer gave about a touchpoint.

    ``score`` is a whole number within ``scale`` (CSAT 1-5, NPS 0-10, CES
    1-7); ``at`` is when it was given (aware, stored in UTC).

    Examples:
        >>> from datetime import UTC, datetime
        >>> at = datetime(2026, 1, 5, tzinfo=UTC)
        >>> s = TouchpointScore("C1", "phone", "service_inquiry", at, 2, "csat")
        >>> s.touchpoint.label, s.negative
        ('phone/service_inquiry', True)
    """

    customer_id: CustomerId = attrs.field(converter=_score_customer)
    channel: str = attrs.field(converter=_score_channel)
    kind: str = attrs.field(converter=_score_kind)
    at: datetime = attrs.field(converter=_score_at)
    score: int = attrs.field(converter=_whole_score)
    scale: Scale = attrs.field(converter=_score_scale)

    @score.validator
    def _check_score(self, _attribute: object, value: int) -> None:
        scale = self.scale
        if not scale.low <= value <= scale.high:
            raise ValidationError(
                "score", value, f"must lie in {scale.low}..{scale.high} on the {scale} scale"
            )

    @property
    def touchpoint(self) -> Touchpoint:
        """Where the score was given."""
        return Touchpoint(self.channel, self.kind)

    @property
    def negative(self) -> bool:
        """Whether the answer is in the scale's negative band
        ([`Scale.is_negative()`][crmcore.journey.scores.Scale.is_negative])."""
        return self.scale.is_negative(self.score)


_NAT: Final = np.datetime64("NaT", "us")


def _column(value: object, dtype: npt.DTypeLike, name: str) -> AnyArray:
    """A read-only one-dimensional copy of ``value`` (the caller's array is left alone)."""
    try:
        with warnings.catch_warnings():
            # numpy warns (and goes on) on NaN cast to int or a time zone in datetime64
            warnings.simplefilter("error")
            array = np.array(value, dtype=dtype, copy=True)
    except (TypeError, ValueError, OverflowError, Warning):
        raise ValidationError(name, value, f"cannot be read as {np.dtype(dtype)}") from None
    if array.ndim != 1:
        raise ValidationError(name, array.shape, "must be one-dimensional")
    array.flags.writeable = False
    return array


def _code_array(value: object) -> Int64Array:
    return _column(value, np.int64, "codes")


def _id_array(value: object) -> AnyArray:
    return _column(value, STRING_DTYPE, "customer_ids")


def _score_array(value: object) -> Float64Array:
    return _column(value, np.float64, "scores")


def _time_array(value: object) -> AnyArray:
    return _column(value, "datetime64[us]", "at")


def _touchpoint_tuple(value: object) -> tuple[Touchpoint, ...]:
    if not isinstance(value, Iterable):
        raise ValidationError("touchpoints", value, "must be a sequence of touchpoints")
    points = tuple(Touchpoint.parse(v, "touchpoints") for v in value)
    if list(points) != sorted(set(points)):
        raise ValidationError("touchpoints", points, "must be distinct and sorted")
    return points


@attrs.frozen(eq=False)
class TouchpointScores:
    """Scores on one scale as columns: the batch form that the journey report reads.

    ``codes`` index `touchpoints` (sorted, distinct), one per score;
    ``scores`` are ``float64`` whole numbers within `scale`; ``at`` is
    ``datetime64[us]`` UTC (``NaT`` where unknown). ``customer_ids`` say who
    answered (carried for joins; the per-touchpoint aggregates do not use
    them). Usually built with [`from_scores()`][crmcore.journey.scores.TouchpointScores.from_scores]
    or [`from_arrays()`][crmcore.journey.scores.TouchpointScores.from_arrays]; the constructor
    copies the arrays, makes them read-only and checks lengths, codes and score range.

    One instance holds one scale: a mean of CSAT and NPS answers would mean
    nothing. Split mixed feedback by scale and build one report per scale.
    """

    scale: Scale = attrs.field(converter=_score_scale)
    touchpoints: tuple[Touchpoint, ...] = attrs.field(converter=_touchpoint_tuple)
    codes: Int64Array = attrs.field(converter=_code_array)
    customer_ids: AnyArray = attrs.field(converter=_id_array)
    scores: Float64Array = attrs.field(converter=_score_array)
    at: AnyArray = attrs.field(converter=_time_array)

    def __attrs_post_init__(self) -> None:
        n = len(self.codes)
        for name in ("customer_ids", "scores", "at"):
            size = len(getattr(self, name))
            if size != n:
                raise ValidationError(name, size, f"must have as many rows as codes ({n})")
        bad = (self.codes < 0) | (self.codes >= len(self.touchpoints))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValidationError(
                f"row {i}: code", int(self.codes[i]), f"must lie in 0..{len(self.touchpoints) - 1}"
            )
        _score_values(self.scores, self.scale)

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def negative(self) -> BoolArray:
        """Mask of negative answers (the scale's negative band)."""
        mask: BoolArray = self.scores <= self.scale.negative_max
        return mask

    @classmethod
    def from_scores(
        cls, scores: Iterable[TouchpointScore], scale: Scale | str | None = None
    ) -> TouchpointScores:
        """Columns of ``scores``; all must be on one scale (``scale``, or the first one's).

        A row on another scale, or not a
        [`TouchpointScore`][crmcore.journey.scores.TouchpointScore], raises a
        [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the row. An empty input
        needs ``scale``.
        """
        items = list(items_of(scores, "scores", "touchpoint scores"))
        for i, item in enumerate(items):
            if not isinstance(item, TouchpointScore):
                raise ValidationError(f"row {i}", item, "must be a TouchpointScore")
        if scale is None:
            if not items:
                raise ValidationError("scale", None, "is needed when there are no scores")
            scale = items[0].scale
        chosen = Scale.parse(scale)
        for i, item in enumerate(items):
            if item.scale is not chosen:
                raise ValidationError(
                    f"row {i}: scale",
                    item.scale.value,
                    f"differs from {chosen.value}: one report summarises one scale",
                )
        return cls.from_arrays(
            [s.customer_id for s in items],
            [s.channel for s in items],
            [s.kind for s in items],
            np.array([s.score for s in items], dtype=np.float64),
            scale=chosen,
            at=[s.at for s in items],
        )

    @classmethod
    def from_arrays(
        cls,
        customer_ids: Sequence[str] | npt.ArrayLike,
        channels: Sequence[str] | npt.ArrayLike,
        kinds: Sequence[str] | npt.ArrayLike,
        scores: npt.ArrayLike,
        *,
        scale: Scale | str,
        at: Sequence[datetime] | npt.ArrayLike | None = None,
    ) -> TouchpointScores:
        """Columns from parallel arrays: who, which touchpoint (channel, kind), what score.

        ``scores`` must be whole numbers within ``scale``; ``at`` (optional)
        aware datetimes or a ``datetime64`` array (taken as UTC, as frames
        do). Errors name the row (``"row 7: score"``). Validation is
        vectorised; Python runs once per *distinct* touchpoint only.
        """
        chosen = Scale.parse(scale)
        ids = _strings(customer_ids, "customer_id")
        ch = _strings(channels, "channel")
        kd = _strings(kinds, "kind")
        values = _score_values(scores, chosen)
        n = len(values)
        for name, array in (("customer_ids", ids), ("channels", ch), ("kinds", kd)):
            if len(array) != n:
                raise ValidationError(name, len(array), f"must have as many rows as scores ({n})")
        touchpoints, codes = _encode_touchpoints(ch, kd)
        stamps = _times(at, n)
        return cls(chosen, touchpoints, codes, ids, values, stamps)


def _strings(values: object, name: str) -> AnyArray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValidationError(name, array.shape, "must be one-dimensional")
    if array.size and array.dtype != STRING_DTYPE and array.dtype.kind not in "UO":
        raise ValidationError(name, array.dtype, "must hold strings")
    if array.dtype.kind == "O":
        bad = [i for i, v in enumerate(array.tolist()) if not isinstance(v, str)]
        if bad:
            raise ValidationError(f"row {bad[0]}: {name}", array[bad[0]], "must be a str")
    out = array.astype(STRING_DTYPE)
    empty = np.strings.str_len(out) == 0
    if empty.any():
        i = int(np.argmax(empty))
        raise ValidationError(f"row {i}: {name}", "", "must not be empty")
    return out


def _score_values(scores: npt.ArrayLike, scale: Scale) -> Float64Array:
    raw = np.asarray(scores)
    if raw.ndim != 1:
        raise ValidationError("scores", raw.shape, "must be one-dimensional")
    if raw.size and (raw.dtype.kind not in "iuf" or raw.dtype == np.bool_):
        if raw.dtype.kind != "O":
            raise ValidationError("scores", raw.dtype, "must be numbers")
        for i, value in enumerate(raw.tolist()):
            try:
                _whole_score(value)
            except ValidationError:
                raise ValidationError(f"row {i}: score", value, "must be a whole number") from None
    values = raw.astype(np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values != np.round(values))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(f"row {i}: score", raw[i].item(), "must be a whole number")
    out_of_range = (values < scale.low) | (values > scale.high)
    if out_of_range.any():
        i = int(np.argmax(out_of_range))
        raise ValidationError(
            f"row {i}: score",
            raw[i].item(),
            f"must lie in {scale.low}..{scale.high} on the {scale.value} scale",
        )
    return values


def _encode_touchpoints(ch: AnyArray, kd: AnyArray) -> tuple[tuple[Touchpoint, ...], Int64Array]:
    """Distinct touchpoints (sorted) and each row's code; one Python step per distinct pair."""
    pairs = np.strings.add(np.strings.add(ch, "\x1f"), kd)
    distinct, first, inverse = np.unique(pairs, return_index=True, return_inverse=True)
    found: list[Touchpoint] = []
    for at in first.tolist():
        channel = normalize_slug(str(ch[at]), f"row {at}: channel")
        kind = normalize_slug(str(kd[at]), f"row {at}: kind")
        found.append(Touchpoint(channel, kind))
    touchpoints = tuple(sorted(set(found)))
    position = {tp: i for i, tp in enumerate(touchpoints)}
    lut = np.array([position[tp] for tp in found], dtype=np.int64)
    codes: Int64Array = lut[inverse.reshape(-1)] if len(distinct) else np.empty(0, np.int64)
    return touchpoints, codes


def _times(at: object, n: int) -> AnyArray:
    """``at`` as ``datetime64[us]`` UTC: aware datetimes or a datetime64 array (NaT if absent)."""
    if at is None:
        return np.full(n, _NAT)
    if isinstance(at, np.ndarray) and at.dtype.kind == "M":
        column = Column.from_numpy("datetime", at)
    elif isinstance(at, Iterable) and not isinstance(at, str | bytes):
        column = Column.from_values("datetime", list(at), name="at")
    else:
        raise ValidationError("at", at, "must be a sequence of aware datetimes or datetime64")
    if len(column) != n:
        raise ValidationError("at", len(column), f"must have as many rows as scores ({n})")
    values: AnyArray = column.values
    return values
