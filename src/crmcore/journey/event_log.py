"""Decoding an [`EventLog`][crmcore.columnar.EventLog] into touchpoints and stages.

The event-log readers shared by [`JourneyMap`][crmcore.journey.journey_map.JourneyMap],
the vectorised journey report ([`crmcore.journey.analysis`][crmcore.journey.analysis]) and its
report rows ([`crmcore.journey.report`][crmcore.journey.report]). Work is per *distinct* label (a
handful), never per event; per-event work is numpy indexing.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from crmcore.columnar import EventLog
from crmcore.customers.records import normalize_slug
from crmcore.journey.touchpoint import Touchpoint
from crmcore.kernel.arrays import Int64Array
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.stage import Stage

__all__ = ["N_STAGES", "derive_stages", "event_stages", "event_touchpoints"]

N_STAGES: Final = max(Stage)
"""Stage numbers run 1..N_STAGES; 0 stands for "no stage" in the int arrays here."""


def event_touchpoints(log: EventLog) -> tuple[tuple[Touchpoint, ...], Int64Array]:
    """The log's distinct touchpoints (sorted) and each event's index into them.

    Events without a channel are not touchpoints (index ``-1``): e.g. stage
    markers written by a funnel. A channel or kind that is not a valid slug
    raises a [`ValidationError`][crmcore.kernel.errors.ValidationError] naming its first row.
    """
    if not isinstance(log, EventLog):
        raise ValidationError("log", log, "must be an EventLog")
    channel, kind = log["channel"], log["kind"]
    ch_codes = channel.values.astype(np.int64)
    kd_codes = kind.values.astype(np.int64)
    width = max(len(kind.categories), 1)
    rows = np.flatnonzero((ch_codes >= 0) & (kd_codes >= 0))
    keys = ch_codes[rows] * width + kd_codes[rows]
    distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    found: list[Touchpoint] = []
    for key, at in zip(distinct.tolist(), first.tolist(), strict=True):
        row = int(rows[at])
        ch = normalize_slug(channel.categories[key // width], f"row {row}: channel")
        kd = normalize_slug(kind.categories[key % width], f"row {row}: kind")
        found.append(Touchpoint(ch, kd))
    touchpoints = tuple(sorted(set(found)))
    position = {tp: i for i, tp in enumerate(touchpoints)}
    lut = np.array([position[tp] for tp in found], dtype=np.int64)
    index = np.full(len(log), -1, dtype=np.int64)
    index[rows] = lut[inverse.reshape(-1)]
    return touchpoints, index


def event_stages(log: EventLog) -> Int64Array:
    """Each event's own stage number (0 where the ``stage`` column is missing).

    A label that is not a funnel stage raises a
    [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the first row carrying it.
    """
    column = log["stage"]
    codes = column.values.astype(np.int64)
    lut = np.zeros(len(column.categories) + 1, dtype=np.int64)  # the last slot: code -1
    for code, label in enumerate(column.categories):
        try:
            lut[code] = Stage.parse(label)
        except ValidationError as error:
            row = int(np.argmax(codes == code))
            raise ValidationError(f"row {row}: stage", label, error.reason) from None
    return lut[codes]


def derive_stages(index: Int64Array, stages: Int64Array, count: int) -> Int64Array:
    """Per touchpoint, the stage its staged events carry most often (ties: earlier; 0: none).

    ``index`` is each event's touchpoint (``-1``: none) and ``stages`` its own
    stage number (0: none), as [`event_touchpoints()`][crmcore.journey.event_log.event_touchpoints]
    and [`event_stages()`][crmcore.journey.event_log.event_stages] return them; ``count`` is the
    number of touchpoints.
    """
    staged = (index >= 0) & (stages > 0)
    slots = N_STAGES + 1
    counts = np.bincount(index[staged] * slots + stages[staged], minlength=count * slots).reshape(
        count, slots
    )[:, 1:]
    # argmax takes the first maximum: the earliest stage wins a tie.
    derived: Int64Array = np.where(counts.any(axis=1), counts.argmax(axis=1) + 1, 0)
    return derived.astype(np.int64)
