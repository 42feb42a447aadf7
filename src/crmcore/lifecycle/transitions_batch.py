"""The lifecycle transition table at batch speed: diff two sets of states, vectorised.

[`transitions()`][crmcore.lifecycle.transitions_batch.transitions] compares two classifications of
the same customers (e.g. last night's and tonight's) row by row and looks every change up in the
table ([`MACHINE`][crmcore.lifecycle.transitions.MACHINE]'s array form), with no Python loop: a
change the table does not allow is refused, the others come back with their row, kind and trigger.

Examples:
    >>> import numpy as np
    >>> diff = transitions(np.array([1, 3, 3]), np.array([2, 3, 4]))
    >>> diff.positions.tolist(), [TRANSITIONS[r].kind.value for r in diff.rows.tolist()]
    ([0, 2], ['progression', 'warning'])
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from crmcore.columnar.id_index import same_ids
from crmcore.kernel.arrays import AnyArray, Int64Array, read_only
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.reports import data_frame, html_table
from crmcore.kernel.validators import choice
from crmcore.lifecycle.policy_batch import BatchClassification
from crmcore.lifecycle.states import LifecycleState
from crmcore.lifecycle.transitions import MACHINE, TRANSITIONS, TransitionKind, Trigger

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BatchTransitions", "transitions"]

_STATES: Final = tuple(LifecycleState)
_KINDS: Final = tuple(TransitionKind)
_TRIGGERS: Final = tuple(Trigger)


_ROW_KIND: Final = np.array([_KINDS.index(row.kind) for row in TRANSITIONS], dtype=np.int8)
_ROW_TRIGGER: Final = np.array([_TRIGGERS.index(row.trigger) for row in TRANSITIONS], np.int8)


class BatchTransitions:
    """The state changes between two classifications of the same customers.

    ``positions`` are the rows that changed, ``from_codes``/``to_codes`` their
    state codes, ``rows`` the index of the table row in
    [`TRANSITIONS`][crmcore.lifecycle.transitions.TRANSITIONS] that each change is,
    ``kinds`` and ``triggers`` its kind and trigger (as positions in
    [`TransitionKind`][crmcore.lifecycle.transitions.TransitionKind] and
    [`Trigger`][crmcore.lifecycle.transitions.Trigger]). A report: ``to_dict()``
    and ``_repr_html_()`` show the from → to counts.
    """

    __slots__ = (
        "customer_ids",
        "from_codes",
        "kinds",
        "positions",
        "rows",
        "size",
        "to_codes",
        "triggers",
    )

    customer_ids: AnyArray | None
    positions: Int64Array
    from_codes: npt.NDArray[np.int8]
    to_codes: npt.NDArray[np.int8]
    rows: npt.NDArray[np.int16]
    kinds: npt.NDArray[np.int8]
    triggers: npt.NDArray[np.int8]
    size: int

    def __init__(
        self,
        size: int,
        positions: Int64Array,
        from_codes: npt.NDArray[np.int8],
        to_codes: npt.NDArray[np.int8],
        rows: npt.NDArray[np.int16],
        customer_ids: AnyArray | None = None,
    ) -> None:
        """Assemble a diff (``transitions`` does this)."""
        self.size = size
        self.positions = read_only(positions)
        self.from_codes = read_only(from_codes)
        self.to_codes = read_only(to_codes)
        rows = np.asarray(rows)
        if rows.ndim != 1 or rows.dtype.kind not in "iu":
            raise ValidationError("rows", str(rows.dtype), "must be a 1-d integer array")
        if len(rows) and (rows.min() < 0 or rows.max() >= len(TRANSITIONS)):
            raise ValidationError("rows", rows.tolist()[:5], "must be rows of TRANSITIONS")
        self.rows = read_only(rows)
        self.kinds = read_only(_ROW_KIND[rows])
        self.triggers = read_only(_ROW_TRIGGER[rows])
        self.customer_ids = customer_ids

    def __len__(self) -> int:
        return len(self.positions)

    def __repr__(self) -> str:
        return f"BatchTransitions({len(self)} changes among {self.size} customers)"

    def of_kind(self, kind: TransitionKind | str) -> Int64Array:
        """Positions of the changes of ``kind`` (e.g. ``"warning"``: entered decline)."""
        code = _KINDS.index(choice(kind, "kind", TransitionKind))
        positions: Int64Array = self.positions[self.kinds == code]
        return positions

    @property
    def warnings(self) -> Int64Array:
        """Positions of customers who entered decline (the churn early warnings)."""
        return self.of_kind(TransitionKind.WARNING)

    @property
    def reactivations(self) -> Int64Array:
        """Positions of customers won back (decline or churned to an active state)."""
        return self.of_kind(TransitionKind.REACTIVATION)

    def matrix(self) -> npt.NDArray[np.int64]:
        """Change counts: ``matrix()[from.code, to.code]``."""
        n = len(_STATES)
        pairs = self.from_codes.astype(np.int64) * n + self.to_codes
        return np.bincount(pairs, minlength=n * n).reshape(n, n)

    def counts(self) -> dict[tuple[LifecycleState, LifecycleState], int]:
        """Changes per (from, to) pair that occurred, in table order."""
        matrix = self.matrix()
        out: dict[tuple[LifecycleState, LifecycleState], int] = {}
        for row in TRANSITIONS:
            count = int(matrix[row.source.code, row.target.code])
            if count:
                out[row.source, row.target] = count
        return out

    def to_dict(self) -> dict[str, object]:
        """Counts as JSON data: total, per kind, per from → to pair."""
        kinds = np.bincount(self.kinds, minlength=len(_KINDS)).tolist()
        return {
            "customers": self.size,
            "changed": len(self),
            "kinds": {k.value: kinds[i] for i, k in enumerate(_KINDS)},
            "moves": [
                {"from": a.value, "to": b.value, "count": c} for (a, b), c in self.counts().items()
            ],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per customer who changed state: ``position`` (row in the classifications),
        ``customer_id`` (``None`` when the classifications had no ids), ``from``, ``to``,
        ``kind`` and ``trigger``."""

        def names(values: tuple[enum.Enum, ...], codes: npt.NDArray[np.int8]) -> AnyArray:
            return np.array([v.value for v in values], dtype=object)[codes.astype(np.intp)]

        ids = self.customer_ids
        return data_frame(
            {
                "position": self.positions,
                "customer_id": [None] * len(self) if ids is None else ids[self.positions],
                "from": names(_STATES, self.from_codes),
                "to": names(_STATES, self.to_codes),
                "kind": names(_KINDS, self.kinds),
                "trigger": names(_TRIGGERS, self.triggers),
            },
            "BatchTransitions.to_pandas",
        )

    def _repr_html_(self) -> str:
        counts = self.counts()
        rows = []
        for row in TRANSITIONS:
            count = counts.get((row.source, row.target))
            if count:
                rows.append([row.source.value, row.target.value, row.kind.value, count])
        return html_table(
            "Lifecycle transitions",
            ["from", "to", "kind", "customers"],
            rows,
            kinds=["auto", "auto", "auto", "int"],
            bars={3: float(max(counts.values(), default=0))},
            caption=f"{len(self):,} of {self.size:,} customers changed state",
        )


def _codes(states: BatchClassification | npt.ArrayLike, field: str) -> npt.NDArray[np.int8]:
    if isinstance(states, BatchClassification):
        return states.states
    array = np.asarray(states)
    if array.ndim != 1:
        raise ValidationError(field, array.shape, "must be one-dimensional")
    if array.dtype.kind in "iu":
        if len(array) and (array.min() < 0 or array.max() >= len(_STATES)):
            bad = int(np.argmax((array < 0) | (array >= len(_STATES))))
            raise ValidationError(f"{field}[{bad}]", int(array[bad]), "is not a state code 0..5")
        return array.astype(np.int8)
    values = array.tolist()
    return np.array(
        [LifecycleState.parse(v, f"{field}[{i}]").code for i, v in enumerate(values)],
        dtype=np.int8,
    )


def transitions(
    previous: BatchClassification | npt.ArrayLike, new: BatchClassification | npt.ArrayLike
) -> BatchTransitions:
    """Diff two sets of states row by row against the transition table, vectorised.

    Each side is a [`BatchClassification`][crmcore.lifecycle.transitions_batch.BatchClassification]
    or an array of state codes (or states). Two classifications must list the same customers in the
    same order. A change the table does not allow raises
    [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError] naming the first such
    row and how many there are; unchanged rows are not transitions.
    """
    ids: AnyArray | None = None
    if isinstance(previous, BatchClassification) and isinstance(new, BatchClassification):
        if not same_ids(previous.customer_ids, new.customer_ids):
            raise ValidationError(
                "new", "customer_ids", "must list the same customers in the same order as previous"
            )
        ids = new.customer_ids
    elif isinstance(new, BatchClassification):
        ids = new.customer_ids
    elif isinstance(previous, BatchClassification):
        ids = previous.customer_ids
    before = _codes(previous, "previous")
    after = _codes(new, "new")
    if len(before) != len(after):
        raise ValidationError("new", len(after), f"must have {len(before)} rows like previous")
    positions = np.flatnonzero(before != after)
    from_codes = before[positions]
    to_codes = after[positions]
    rows = MACHINE.rows_of(from_codes, to_codes)
    illegal = rows < 0
    if illegal.any():
        j = int(np.argmax(illegal))
        source, target = _STATES[from_codes[j]], _STATES[to_codes[j]]
        who = f"row {int(positions[j])}" + (
            f" (customer {str(ids[positions[j]])!r})" if ids is not None else ""
        )
        more = int(np.count_nonzero(illegal)) - 1
        raise IllegalTransitionError(
            source,
            target,
            f"{who}{f' and {more} more' if more else ''}: the lifecycle table has no such move",
        )
    return BatchTransitions(
        len(before), positions.astype(np.int64), from_codes, to_codes, rows, ids
    )
