"""Feedback: what a customer told the company, on which channel, with which scores.

A [`Feedback`][crmcore.feedback.feedback.Feedback] is one piece of customer voice (DOMAIN.md §6,
"collect"): a complaint, suggestion, praise or inquiry that arrived on a channel from a closed set,
with free text, optional survey scores on their own scales (NPS 0-10, CSAT 1-5, CES 1-7, several
allowed, keyed by [`Scale`][crmcore.journey.scores.Scale]), the touchpoint and funnel stage it
concerns, theme tags, and the time it was given. It is validated on construction; every bad value
raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the field.

[`FeedbackLog`][crmcore.feedback.feedback.FeedbackLog] is the same data as columns (numpy arrays)
for vectorised metrics (NPS, CSAT, CES, themes): integer codes for channel, kind, stage and
touchpoint, one ``float64`` score array per scale (``NaN`` where the feedback carries no score on
that scale), ``datetime64[us]`` UTC times, and the themes in compressed sparse row (CSR) form.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

import attrs
import numpy as np

from crmcore.columnar import STRING_DTYPE
from crmcore.customers.records import normalize_slug
from crmcore.feedback.events import FeedbackReceived
from crmcore.feedback.vocabulary import CHANNELS, KINDS, Channel, FeedbackKind
from crmcore.journey.scores import Scale
from crmcore.journey.touchpoint import Touchpoint
from crmcore.kernel import validators
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array, read_only
from crmcore.kernel.clock import EPOCH, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import Outcome
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.ids import CustomerId, customer_id, validate_id
from crmcore.kernel.stage import Stage

__all__ = [
    "CHANNELS",
    "KINDS",
    "Channel",
    "Feedback",
    "FeedbackKind",
    "FeedbackLog",
    "receive_feedback",
]

MAX_TEXT: Final = 20_000
"""The longest feedback text accepted, in characters."""


_CHANNEL_CODE: Final = {c: i for i, c in enumerate(CHANNELS)}
_KIND_CODE: Final = {k: i for i, k in enumerate(KINDS)}


def _whole(value: object, field: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(field, value, "must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal) and math.isfinite(value) and value == int(value):
        return int(value)
    raise ValidationError(field, value, "must be a whole number")


def _scores(value: object) -> FrozenDict[Scale, int]:
    if value is None:
        return FrozenDict()
    if not isinstance(value, Mapping):
        raise ValidationError("scores", value, "must map scales (nps, csat, ces) to scores")
    out: dict[Scale, int] = {}
    for key, raw in value.items():
        scale = Scale.parse(key, "scores")
        field = f"scores.{scale.value}"
        score = _whole(raw, field)
        if not scale.low <= score <= scale.high:
            raise ValidationError(
                field, raw, f"must lie in {scale.low}..{scale.high} on the {scale.value} scale"
            )
        out[scale] = score
    return FrozenDict(sorted(out.items(), key=lambda item: _SCALE_ORDER[item[0]]))


_SCALE_ORDER: Final = {s: i for i, s in enumerate(Scale)}


def _feedback_id(value: object) -> str:
    return validate_id(value, "id")


def _customer(value: object) -> CustomerId:
    return customer_id(value)


def _channel(value: object) -> Channel:
    return Channel.parse(value)


def _kind(value: object) -> FeedbackKind:
    return FeedbackKind.parse(value)


def _text(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ValidationError("text", value, f"must be a string of at most {MAX_TEXT} characters")
    return value


def _touchpoint(value: object) -> Touchpoint | None:
    return None if value is None else Touchpoint.parse(value, "touchpoint")


def _stage(value: object) -> Stage | None:
    return None if value is None else Stage.parse(value, "stage")


def _themes(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("themes", value, "must be a collection of theme tags")
    return tuple(sorted({normalize_slug(v, "themes") for v in value}))


def _at(value: object) -> datetime:
    return to_utc(value, "at")


@attrs.frozen(kw_only=True)
class Feedback:
    """One piece of customer feedback.

    ``channel`` and ``kind`` accept their enums or names; ``scores`` maps
    scales (or ``"nps"``, ``"csat"``, ``"ces"``) to whole numbers on that
    scale; ``touchpoint`` is a [`Touchpoint`][crmcore.journey.touchpoint.Touchpoint]
    (or ``"channel/kind"``); ``stage`` a [`Stage`][crmcore.kernel.stage.Stage] (or its
    label); ``themes`` are tags, stored as sorted distinct slugs; ``at`` is
    aware (stored in UTC). ``version`` is the stored version (0 until saved).

    Examples:
        >>> from datetime import UTC, datetime
        >>> f = Feedback(id="fb-1", customer_id="c-1", channel="in-app", kind="complaint",
        ...              text="Refund took three weeks", scores={"nps": 3, "csat": 2},
        ...              themes=["Refunds", "speed"], at=datetime(2026, 3, 2, 9, tzinfo=UTC))
        >>> f.channel, f.score(Scale.NPS), f.score("ces"), f.themes
        (<Channel.IN_APP: 'in_app'>, 3, None, ('refunds', 'speed'))
        >>> Feedback(id="fb-2", customer_id="c-1", channel="survey", kind="praise",
        ...          scores={"csat": 6}, at=datetime(2026, 3, 2, tzinfo=UTC))
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: scores.csat: must lie in 1..5 on the csat scale ...
    """

    id: str = attrs.field(converter=_feedback_id)
    customer_id: CustomerId = attrs.field(converter=_customer)
    channel: Channel = attrs.field(converter=_channel)
    kind: FeedbackKind = attrs.field(converter=_kind)
    at: datetime = attrs.field(converter=_at)
    text: str = attrs.field(default="", converter=_text)
    scores: FrozenDict[Scale, int] = attrs.field(factory=FrozenDict, converter=_scores)
    touchpoint: Touchpoint | None = attrs.field(default=None, converter=_touchpoint)
    stage: Stage | None = attrs.field(default=None, converter=_stage)
    themes: tuple[str, ...] = attrs.field(default=(), converter=_themes)
    version: int = attrs.field(default=0, validator=validators.version)

    def score(self, scale: Scale | str) -> int | None:
        """The score on ``scale``, or ``None`` when this feedback has none."""
        return self.scores.get(Scale.parse(scale))

    def is_negative(self, scale: Scale | str) -> bool:
        """Whether the score on ``scale`` is in its negative band (False when absent)."""
        chosen = Scale.parse(scale)
        value = self.scores.get(chosen)
        return value is not None and chosen.is_negative(value)


def receive_feedback(feedback: Feedback) -> Outcome[Feedback]:
    """Record that ``feedback`` arrived: the feedback itself and a ``feedback.received`` event.

    The event carries the ids, channel, kind, scores and themes, never the text.

    Examples:
        >>> from datetime import UTC, datetime
        >>> f = Feedback(id="f1", customer_id="c1", channel="chat", kind="praise",
        ...              at=datetime(2026, 3, 2, tzinfo=UTC))
        >>> [e.kind for e in receive_feedback(f).events]
        ['feedback.received']
    """
    if not isinstance(feedback, Feedback):
        raise ValidationError("feedback", feedback, "must be a Feedback")
    event = FeedbackReceived(
        aggregate_id=feedback.id,
        occurred_at=feedback.at,
        customer_id=feedback.customer_id,
        channel=feedback.channel,
        feedback_type=feedback.kind,
        scores=feedback.scores,
        themes=feedback.themes,
    )
    return Outcome(feedback, (event,))


def _column(value: object, dtype: object, name: str, n: int | None = None) -> AnyArray:
    if isinstance(value, str | bytes | Mapping) or np.ndim(value) != 1:  # type: ignore[arg-type]
        raise ValidationError(name, _shown(value), "must be a one-dimensional array")
    if dtype is np.int64:
        # A float, NaN, or an integer beyond int64 would be truncated or wrapped by the cast.
        source = np.asarray(value)
        if source.size and (
            source.dtype.kind not in "iu"
            or (source.dtype.kind == "u" and source.max() > np.iinfo(np.int64).max)
        ):
            raise ValidationError(name, _shown(value), "must be 64-bit integers")
    try:
        array = np.array(value, dtype=dtype, copy=True)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):  # from the conversion only
        raise ValidationError(name, _shown(value), f"cannot be read as {dtype}") from None
    if array.ndim != 1:
        raise ValidationError(name, array.shape, "must be one-dimensional")
    if n is not None and len(array) != n:
        raise ValidationError(name, len(array), f"must have {n} rows")
    return read_only(array)


def _check_codes(codes: AnyArray, low: int, high: int, name: str) -> None:
    bad = (codes < low) | (codes > high)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(f"row {i}: {name}", int(codes[i]), f"must lie in {low}..{high}")


@attrs.frozen(eq=False, kw_only=True)
class FeedbackLog:
    """Feedback as columns, for vectorised metrics.

    One row per feedback, in the order given. Columns:

    * ``ids``, ``customer_ids``: string arrays;
    * ``channel``: ``int64`` codes into [`CHANNELS`][crmcore.feedback.feedback.CHANNELS]; ``kind``:
      codes into [`KINDS`][crmcore.feedback.feedback.KINDS];
    * ``stage``: ``int64`` stage numbers 1-7, ``0`` where the feedback names no stage;
    * ``touchpoints``: the distinct touchpoints (sorted), ``touchpoint``: codes into it,
      ``-1`` where none;
    * ``scores``: one ``float64`` array per [`Scale`][crmcore.journey.scores.Scale]
      (all three always present), ``NaN`` where that row has no score on the scale;
    * ``at``: ``datetime64[us]`` UTC;
    * ``themes``: the distinct theme tags (sorted); ``theme_offsets`` (``n + 1``
      entries) and ``theme_codes`` hold each row's themes in CSR form: row
      ``i``'s theme codes are ``theme_codes[theme_offsets[i]:theme_offsets[i + 1]]``.

    Build it with [`from_feedback()`][crmcore.feedback.feedback.FeedbackLog.from_feedback]; arrays
    are copied and read-only.

    Examples:
        >>> from datetime import UTC, datetime
        >>> at = datetime(2026, 3, 2, tzinfo=UTC)
        >>> log = FeedbackLog.from_feedback([
        ...     Feedback(id="a", customer_id="c1", channel="survey", kind="praise", at=at,
        ...              scores={"nps": 10}, themes=["staff"]),
        ...     Feedback(id="b", customer_id="c2", channel="email", kind="complaint", at=at,
        ...              themes=["price", "staff"]),
        ... ])
        >>> log.scores[Scale.NPS].tolist(), log.themes, log.theme_mask("staff").tolist()
        ([10.0, nan], ('price', 'staff'), [True, True])
    """

    ids: AnyArray
    customer_ids: AnyArray
    channel: Int64Array
    kind: Int64Array
    stage: Int64Array
    touchpoints: tuple[Touchpoint, ...]
    touchpoint: Int64Array
    scores: FrozenDict[Scale, Float64Array]
    at: AnyArray
    themes: tuple[str, ...]
    theme_offsets: Int64Array
    theme_codes: Int64Array

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "ids", _column(self.ids, STRING_DTYPE, "ids"))
        n = len(self.ids)
        touchpoints = validators.instances_of(self.touchpoints, Touchpoint, "touchpoints")
        object.__setattr__(self, "touchpoints", touchpoints)
        object.__setattr__(self, "themes", validators.instances_of(self.themes, str, "themes"))
        if not isinstance(self.scores, Mapping):
            raise ValidationError("scores", _shown(self.scores), "must map each Scale to an array")
        checks = (
            ("customer_ids", self.customer_ids, STRING_DTYPE),
            ("channel", self.channel, np.int64),
            ("kind", self.kind, np.int64),
            ("stage", self.stage, np.int64),
            ("touchpoint", self.touchpoint, np.int64),
            ("at", self.at, "datetime64[us]"),
            ("theme_offsets", self.theme_offsets, np.int64),
            ("theme_codes", self.theme_codes, np.int64),
        )
        for name, value, dtype in checks:
            size = n + 1 if name == "theme_offsets" else None if name == "theme_codes" else n
            object.__setattr__(self, name, _column(value, dtype, name, size))
        if set(self.scores) != set(Scale):
            raise ValidationError("scores", sorted(self.scores), "must hold one array per scale")
        scores: dict[Scale, Float64Array] = {}
        for scale in Scale:
            values = _column(self.scores[scale], np.float64, f"scores.{scale.value}", n)
            present = ~np.isnan(values)
            bad = present & ((values < scale.low) | (values > scale.high))
            if bad.any():
                i = int(np.argmax(bad))
                raise ValidationError(
                    f"row {i}: scores.{scale.value}", float(values[i]), "is off the scale"
                )
            scores[scale] = values
        object.__setattr__(self, "scores", FrozenDict(scores))
        _check_codes(self.channel, 0, len(CHANNELS) - 1, "channel")
        _check_codes(self.kind, 0, len(KINDS) - 1, "kind")
        _check_codes(self.stage, 0, len(Stage), "stage")
        _check_codes(self.touchpoint, -1, len(self.touchpoints) - 1, "touchpoint")
        offsets = self.theme_offsets
        if offsets[0] != 0 or offsets[-1] != len(self.theme_codes) or (np.diff(offsets) < 0).any():
            raise ValidationError("theme_offsets", offsets, "must rise from 0 to len(theme_codes)")
        _check_codes(self.theme_codes, 0, len(self.themes) - 1, "theme_codes")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_feedback(cls, items: Iterable[Feedback]) -> FeedbackLog:
        """Columns of ``items`` (in order); a non-[`Feedback`][crmcore.feedback.feedback.Feedback]
        row raises ValidationError."""
        rows = validators.items_of(items, "items", "Feedback items")
        for i, item in enumerate(rows):
            if not isinstance(item, Feedback):
                raise ValidationError(f"row {i}", item, "must be a Feedback")
        touchpoints = tuple(sorted({f.touchpoint for f in rows if f.touchpoint is not None}))
        tp_code = {tp: i for i, tp in enumerate(touchpoints)}
        themes = tuple(sorted({t for f in rows for t in f.themes}))
        theme_code = {t: i for i, t in enumerate(themes)}
        lengths = np.array([len(f.themes) for f in rows], dtype=np.int64)
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        micros = [(f.at - EPOCH) // _MICRO for f in rows]
        return cls(
            ids=np.array([f.id for f in rows], dtype=STRING_DTYPE),
            customer_ids=np.array([f.customer_id for f in rows], dtype=STRING_DTYPE),
            channel=np.array([_CHANNEL_CODE[f.channel] for f in rows], dtype=np.int64),
            kind=np.array([_KIND_CODE[f.kind] for f in rows], dtype=np.int64),
            stage=np.array([0 if f.stage is None else int(f.stage) for f in rows], np.int64),
            touchpoints=touchpoints,
            touchpoint=np.array(
                [-1 if f.touchpoint is None else tp_code[f.touchpoint] for f in rows], np.int64
            ),
            scores=FrozenDict(
                {
                    scale: np.array(
                        [float(f.scores.get(scale, math.nan)) for f in rows], dtype=np.float64
                    )
                    for scale in Scale
                }
            ),
            at=np.array(micros, dtype=np.int64).astype("datetime64[us]"),
            themes=themes,
            theme_offsets=offsets,
            theme_codes=np.array([theme_code[t] for f in rows for t in f.themes], np.int64),
        )

    def channel_mask(self, channel: Channel | str) -> BoolArray:
        """Rows that arrived on ``channel``."""
        mask: BoolArray = self.channel == _CHANNEL_CODE[Channel.parse(channel)]
        return mask

    def kind_mask(self, kind: FeedbackKind | str) -> BoolArray:
        """Rows of ``kind``."""
        mask: BoolArray = self.kind == _KIND_CODE[FeedbackKind.parse(kind)]
        return mask

    def has_score(self, scale: Scale | str) -> BoolArray:
        """Rows with a score on ``scale``."""
        mask: BoolArray = ~np.isnan(self.scores[Scale.parse(scale)])
        return mask

    def theme_rows(self) -> Int64Array:
        """The row of each entry of `theme_codes` (the CSR row index, expanded)."""
        rows: Int64Array = np.repeat(
            np.arange(len(self), dtype=np.int64), np.diff(self.theme_offsets)
        )
        return rows

    def theme_mask(self, theme: str) -> BoolArray:
        """Rows tagged with ``theme`` (all False when no row carries it)."""
        slug = normalize_slug(theme, "theme")
        mask = np.zeros(len(self), dtype=np.bool_)
        if slug in self.themes:
            hit = self.theme_codes == self.themes.index(slug)
            mask[self.theme_rows()[hit]] = True
        return mask

    def theme_matrix(self) -> BoolArray:
        """A dense ``(rows, themes)`` boolean matrix: ``[i, j]`` when row ``i`` has theme ``j``."""
        matrix = np.zeros((len(self), len(self.themes)), dtype=np.bool_)
        matrix[self.theme_rows(), self.theme_codes] = True
        return matrix


_MICRO: Final = timedelta(microseconds=1)


def _shown(value: object) -> object:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."
