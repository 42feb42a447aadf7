"""State machines as data: a transition table, named guards, and histories of changes.

A [`Machine`][crmcore.kernel.machine.Machine] is a table of
[`Transition`][crmcore.kernel.machine.Transition] rows over two enums, its states and its triggers.
Each row reads "from ``source``, on ``trigger``, go to ``target`` if the guard named ``guard``
holds"; a pair ``(source, trigger)`` may have several rows told apart by their guards, and the first
whose guard holds wins. A guard is a named predicate over a *context*, the facts a move is judged on
(the evidence of a lifecycle move, the case and the follow-up of a case move, ...), so it can be
listed, documented and explained when it refuses. The machine is immutable and holds no state of its
own: an aggregate keeps its current state and its history, and asks the machine which row a move
takes ([`Machine.fire()`][crmcore.kernel.machine.Machine.fire],
[`Machine.move()`][crmcore.kernel.machine.Machine.move]). A move with no row, or with no row whose
guard holds, raises [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError] naming
the state, the trigger and the target.

For batches the table is also an array:
[`Machine.targets()`][crmcore.kernel.machine.Machine.targets] maps arrays of state and trigger codes
to target codes and [`Machine.rows_between()`][crmcore.kernel.machine.Machine.rows_between] arrays
of (from, to) state codes to row numbers, without a Python loop.

A history is a tuple of changes, each with ``at``, ``from_state`` and
``to_state`` ([`Change`][crmcore.kernel.machine.Change]):
[`state_at()`][crmcore.kernel.machine.state_at] answers "which state as of ``t``",
[`changes_between()`][crmcore.kernel.machine.changes_between] slices by time, and
[`check_history()`][crmcore.kernel.machine.check_history] re-checks a stored history against the
table (times never go back, each change starts where the previous ended and is a row of the table).

A small machine, defined as data:

Examples:
    >>> import enum
    >>> class Door(enum.StrEnum):
    ...     OPEN = "open"
    ...     CLOSED = "closed"
    ...     LOCKED = "locked"
    >>> class Act(enum.StrEnum):
    ...     CLOSE = "close"
    ...     OPEN = "open"
    ...     LOCK = "lock"
    ...     UNLOCK = "unlock"
    >>> has_key = Guard("has_key", "the person holds the key", lambda person: person == "owner")
    >>> door = Machine(
    ...     "door", Door, Act, initial=Door.OPEN,
    ...     transitions=[
    ...         Transition(Door.OPEN, Act.CLOSE, Door.CLOSED),
    ...         Transition(Door.CLOSED, Act.OPEN, Door.OPEN),
    ...         Transition(Door.CLOSED, Act.LOCK, Door.LOCKED, guard="has_key"),
    ...         Transition(Door.LOCKED, Act.UNLOCK, Door.CLOSED, guard="has_key"),
    ...     ],
    ...     guards=[has_key],
    ... )
    >>> door.fire(Door.CLOSED, Act.LOCK, "owner").target
    <Door.LOCKED: 'locked'>
    >>> door.fire(Door.CLOSED, Act.LOCK, "guest")
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.IllegalTransitionError: cannot go from closed to locked on 'lock': ...
    >>> door.allowed_triggers(Door.LOCKED)
    (<Act.UNLOCK: 'unlock'>,)
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Generic, Protocol, TypeVar

import attrs
import numpy as np

from crmcore.kernel.arrays import AnyArray, Int16Array, read_only
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.validators import items_of, text

__all__ = [
    "Change",
    "Guard",
    "GuardLike",
    "Machine",
    "Row",
    "Transition",
    "changes_between",
    "check_history",
    "parse_member",
    "state_at",
]

S = TypeVar("S", bound=enum.Enum)
T = TypeVar("T", bound=enum.Enum)
C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)
R = TypeVar("R", bound="Row[Any, Any]")
S_co = TypeVar("S_co", bound=enum.Enum, covariant=True)
T_co = TypeVar("T_co", bound=enum.Enum, covariant=True)
E = TypeVar("E", bound=enum.Enum)
H = TypeVar("H")
H_co = TypeVar("H_co", covariant=True)


def parse_member(kind: type[E], value: object, field: str) -> E:
    """``value`` as a member of the enum ``kind`` (the member or its value); ValidationError else.

    Examples:
        >>> class Colour(enum.StrEnum):
        ...     RED = "red"
        >>> parse_member(Colour, "red", "colour")
        <Colour.RED: 'red'>
    """
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except (ValueError, TypeError):
        allowed = ", ".join(str(m.value) for m in kind)
        raise ValidationError(field, value, f"must be one of {allowed}") from None


class GuardLike(Protocol[C_contra]):
    """What a machine needs of a guard: a name, a description, a test and an explanation."""

    @property
    def name(self) -> str:
        """The guard's name, as the rows of the table refer to it."""
        ...

    @property
    def description(self) -> str:
        """What the guard requires, in a sentence."""
        ...

    def allows(self, context: C_contra) -> bool:
        """Whether the move may happen with these facts."""
        ...

    def explain(self, context: C_contra) -> str:
        """Why the guard refuses the move (the text of the IllegalTransitionError)."""
        ...


@attrs.frozen
class Guard(Generic[C]):
    """A named predicate over a move's context; ``check`` answers whether it holds.

    ``explain`` (optional) words a refusal from the context; by default the
    refusal quotes `description`.
    """

    name: str
    description: str
    check: Callable[[C], bool] = attrs.field(eq=False, repr=False)
    explain_with: Callable[[C], str] | None = attrs.field(default=None, eq=False, repr=False)

    def allows(self, context: C) -> bool:
        """Whether the guard holds for ``context``."""
        return self.check(context)

    def explain(self, context: C) -> str:
        """Why the guard refuses ``context``."""
        return self.description if self.explain_with is None else self.explain_with(context)


class Row(Protocol[S_co, T_co]):
    """What a machine needs of a row of its table ([`Transition`][crmcore.kernel.machine.Transition]
    is the ready-made one)."""

    @property
    def source(self) -> S_co:
        """The state the move starts from."""
        ...

    @property
    def trigger(self) -> T_co:
        """What fires the move."""
        ...

    @property
    def target(self) -> S_co:
        """The state the move leads to."""
        ...

    @property
    def guard(self) -> str | None:
        """The name of the guard that must hold (``None``: no condition)."""
        ...


@attrs.frozen
class Transition(Generic[S, T]):
    """One row of a table: ``source`` --``trigger``--> ``target`` if guard ``guard`` holds.

    ``guard`` is the name of one of the machine's guards (``None``: no
    condition). A machine whose rows carry more (the lifecycle's kind of
    move, for one) uses its own row class with these attributes
    ([`Row`][crmcore.kernel.machine.Row]).
    """

    source: S
    trigger: T
    target: S
    guard: str | None = None
    description: str = ""


class Machine(Generic[S, T, R, C]):
    """A transition table over the states ``S`` and triggers ``T``, with guards over ``C``.

    ``transitions`` are rows of type ``R`` (a [`Transition`][crmcore.kernel.machine.Transition], or
    any class with its attributes, [`Row`][crmcore.kernel.machine.Row]); ``guards`` the named
    predicates the rows refer to; ``initial`` where every instance starts; ``final`` the states no
    row may leave. The table is checked once, here: members of the right enums, known guards, no row
    out of a final state, no two rows alike.
    """

    def __init__(
        self,
        name: str,
        states: type[S],
        triggers: type[T],
        *,
        initial: S,
        transitions: Iterable[R],
        guards: Iterable[GuardLike[C]] = (),
        final: Iterable[S] = (),
    ) -> None:
        for field, kind in (("states", states), ("triggers", triggers)):
            if not (isinstance(kind, type) and issubclass(kind, enum.Enum)) or not len(kind):
                raise ValidationError(field, _shown_rows(kind), "must be an Enum class")
        guard_list = items_of(guards, "guards", "guards")
        for i, guard in enumerate(guard_list):
            if not isinstance(getattr(guard, "name", None), str):
                raise ValidationError(f"guards[{i}]", _shown_rows(guard), "must be a Guard")
        self.name: Final = text(name, "name", limit=200)
        self.states: Final = states
        self.triggers: Final = triggers
        self.initial: Final = initial
        self.transitions: Final[tuple[R, ...]] = items_of(transitions, "transitions", "rows")
        self.guards: Final[Mapping[str, GuardLike[C]]] = FrozenDict((g.name, g) for g in guard_list)
        self._guards: Final[dict[str, GuardLike[C]]] = dict(self.guards)
        self.final: Final = frozenset(
            parse_member(states, state, "final") for state in items_of(final, "final", "states")
        )
        self._state_list: Final[tuple[S, ...]] = tuple(states)
        self._trigger_list: Final[tuple[T, ...]] = tuple(triggers)
        self._state_code: Final = {s: i for i, s in enumerate(self._state_list)}
        self._trigger_code: Final = {t: i for i, t in enumerate(self._trigger_list)}
        self._on: Final[dict[tuple[S, T], tuple[R, ...]]] = {}
        self._between: Final[dict[tuple[S, S], tuple[R, ...]]] = {}
        self._check_and_index()
        self._target_table = self._build_target_table()
        self._row_table = self._build_row_table()

    def __repr__(self) -> str:
        return f"Machine({self.name!r}, {len(self.transitions)} transitions)"

    def _where(self, i: int) -> str:
        return f"{self.name}.transitions[{i}]"

    def _check_and_index(self) -> None:
        if not isinstance(self.initial, self.states):
            raise ValidationError(f"{self.name}.initial", self.initial, "must be a state")
        seen: set[tuple[S, T, str | None]] = set()
        for i, row in enumerate(self.transitions):
            if not all(hasattr(row, a) for a in ("source", "trigger", "target", "guard")):
                raise ValidationError(self._where(i), row, "must be a Transition")
            if not isinstance(row.source, self.states) or not isinstance(row.target, self.states):
                raise ValidationError(self._where(i), row, f"states must be {self.states.__name__}")
            if not isinstance(row.trigger, self.triggers):
                raise ValidationError(
                    self._where(i), row, f"trigger must be a {self.triggers.__name__}"
                )
            if row.guard is not None and row.guard not in self.guards:
                known = ", ".join(self.guards) or "none"
                raise ValidationError(
                    f"{self._where(i)}.guard", row.guard, f"must be one of {known}"
                )
            if row.source in self.final:
                raise ValidationError(self._where(i), row, "a final state has no way out")
            key = (row.source, row.trigger, row.guard)
            if key in seen:
                raise ValidationError(self._where(i), row, "duplicate row")
            seen.add(key)
            self._on[row.source, row.trigger] = (*self._on.get((row.source, row.trigger), ()), row)
            self._between[row.source, row.target] = (
                *self._between.get((row.source, row.target), ()),
                row,
            )

    # -- the table --------------------------------------------------------------------------------
    def _state(self, value: object, field: str) -> S:
        # A member passes on one isinstance check (the lookups are on hot paths); anything else
        # is parsed, so a member's value still works and a stranger is a ValidationError.
        if isinstance(value, self.states):
            return value
        return parse_member(self.states, value, field)

    def _trigger(self, value: object, field: str) -> T:
        if isinstance(value, self.triggers):
            return value
        return parse_member(self.triggers, value, field)

    def rows_on(self, source: S, trigger: T) -> tuple[R, ...]:
        """The rows for ``trigger`` in ``source``, in table order (empty when none).

        ``source`` and ``trigger`` are members of the machine's enums (or their values); anything
        else is a [`ValidationError`][crmcore.kernel.errors.ValidationError] naming it, as in every
        lookup below.
        """
        try:
            rows = self._on.get((source, trigger))
        except TypeError:  # from the lookup only: an unhashable argument, checked below
            rows = None
        if rows is not None:  # a hit needs no check: the keys are the table's own members
            return rows
        return self._on.get((self._state(source, "source"), self._trigger(trigger, "trigger")), ())

    def rows_between(self, source: S, target: S) -> tuple[R, ...]:
        """The rows that move ``source`` to ``target``, in table order (empty when none)."""
        try:
            rows = self._between.get((source, target))
        except TypeError:  # from the lookup only: an unhashable argument, checked below
            rows = None
        if rows is not None:
            return rows
        return self._between.get((self._state(source, "source"), self._state(target, "target")), ())

    def allowed_triggers(self, source: S) -> tuple[T, ...]:
        """The triggers with a row from ``source``, in table order, each once."""
        source = self._state(source, "source")
        return tuple(dict.fromkeys(row.trigger for row in self.transitions if row.source is source))

    def allowed_targets(self, source: S) -> tuple[S, ...]:
        """The states reachable from ``source`` in one move, in table order, each once."""
        source = self._state(source, "source")
        return tuple(dict.fromkeys(row.target for row in self.transitions if row.source is source))

    # -- moves ------------------------------------------------------------------------------------
    def fire(self, state: S, trigger: T, context: C) -> R:
        """The row ``trigger`` takes from ``state`` given ``context``: the first whose guard holds.

        Raises [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError] when the
        table has no row for the pair (naming the allowed triggers) or no
        row whose guard holds (saying why each guard refuses).
        """
        return self.choose(self.triggered(state, trigger), context)

    def move(self, state: S, target: S, context: C) -> R:
        """The row that moves ``state`` to ``target`` given ``context`` (first guard that holds).

        Raises [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError] when no
        row leads there (naming the reachable states) or no such row's guard holds.
        """
        return self.choose(self.reaching(state, target), context)

    def triggered(self, state: S, trigger: T) -> tuple[R, ...]:
        """The rows for ``trigger`` in ``state``; IllegalTransitionError when there are none.

        The first half of [`fire()`][crmcore.kernel.machine.Machine.fire], for an aggregate that
        checks other facts (times, say) before the guards.
        """
        try:
            rows = self._on.get((state, trigger))
        except TypeError:  # from the lookup only: an unhashable argument, checked below
            rows = None
        if rows is not None:
            return rows
        state = self._state(state, "state")
        trigger = self._trigger(trigger, "trigger")
        rows = self._on.get((state, trigger), ())
        if not rows:
            allowed = ", ".join(str(t.value) for t in self.allowed_triggers(state)) or "none"
            raise IllegalTransitionError(state, None, f"no such move (allowed: {allowed})", trigger)
        return rows

    def reaching(self, state: S, target: S) -> tuple[R, ...]:
        """The rows from ``state`` to ``target``; IllegalTransitionError when there are none."""
        try:
            rows = self._between.get((state, target))
        except TypeError:  # from the lookup only: an unhashable argument, checked below
            rows = None
        if rows is not None:
            return rows
        state = self._state(state, "state")
        target = self._state(target, "target")
        rows = self._between.get((state, target), ())
        if not rows:
            allowed = ", ".join(str(s.value) for s in self.allowed_targets(state)) or "none"
            raise IllegalTransitionError(
                state,
                target,
                f"the {self.name} table has no move from {state.value} to {target.value} "
                f"(allowed: {allowed})",
            )
        return rows

    def choose(self, rows: Sequence[R], context: C) -> R:
        """The first of ``rows`` whose guard holds for ``context``.

        Raises [`IllegalTransitionError`][crmcore.kernel.errors.IllegalTransitionError] from
        the first row's source to its target, quoting why each guard refused;
        [`ValidationError`][crmcore.kernel.errors.ValidationError] when ``rows`` is empty or not
        rows of this table (as [`triggered()`][crmcore.kernel.machine.Machine.triggered] and
        [`reaching()`][crmcore.kernel.machine.Machine.reaching] return them).
        """
        if (type(rows) is not tuple and not isinstance(rows, Sequence)) or not rows:
            raise ValidationError("rows", _shown_rows(rows), "must be a non-empty sequence of rows")
        for row in rows:
            try:
                guard = row.guard
                named = None if guard is None else self._guards[guard]
            except (AttributeError, KeyError, TypeError):  # from the two lookups only
                raise ValidationError(
                    "rows", _shown_rows(row), f"must be rows of {self.name}"
                ) from None
            if named is None or named.allows(context):
                return row
        why = " / ".join(
            self._guards[row.guard].explain(context) for row in rows if row.guard is not None
        )
        first = rows[0]
        raise IllegalTransitionError(first.source, first.target, why, first.trigger)

    # -- the table as arrays ----------------------------------------------------------------------
    def state_code(self, state: S) -> int:
        """The integer code of ``state``: its position in the enum's declaration order."""
        try:
            return self._state_code[state]
        except (KeyError, TypeError):  # from the lookup only: checked (and refused) below
            return self._state_code[self._state(state, "state")]

    def trigger_code(self, trigger: T) -> int:
        """The integer code of ``trigger``: its position in the enum's declaration order."""
        try:
            return self._trigger_code[trigger]
        except (KeyError, TypeError):  # from the lookup only: checked (and refused) below
            return self._trigger_code[self._trigger(trigger, "trigger")]

    def _build_target_table(self) -> Int16Array:
        table = np.full((len(self._state_list), len(self._trigger_list)), -1, dtype=np.int16)
        for (source, trigger), rows in self._on.items():
            targets = {row.target for row in rows}
            # Rows told apart by guards may lead to different states: not a table lookup.
            code = self._state_code[rows[0].target] if len(targets) == 1 else -2
            table[self._state_code[source], self._trigger_code[trigger]] = code
        return read_only(table)

    def _build_row_table(self) -> Int16Array:
        n = len(self._state_list)
        table = np.full((n, n), -1, dtype=np.int16)
        index = {id(row): i for i, row in enumerate(self.transitions)}
        for (source, target), rows in self._between.items():
            table[self._state_code[source], self._state_code[target]] = index[id(rows[0])]
        return read_only(table)

    @property
    def target_table(self) -> Int16Array:
        """``table[state, trigger]`` (codes): the target's code; -1 no row, -2 guards decide."""
        return self._target_table

    @property
    def row_table(self) -> Int16Array:
        """``table[from code, to code]``: the number of the first row between them, or -1."""
        return self._row_table

    def targets(self, states: AnyArray, triggers: AnyArray) -> Int16Array:
        """Vectorised [`fire()`][crmcore.kernel.machine.Machine.fire] without guards: target codes
        of (state, trigger) code arrays.

        -1 where the table has no row, -2 where guards choose between targets. Codes that are
        not integers within the enums are a
        [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the array.
        """
        rows = _codes(states, len(self._state_list), "states")
        columns = _codes(triggers, len(self._trigger_list), "triggers")
        _same_shape(rows, columns, "triggers")
        # A flat take is faster than 2-D fancy indexing, and safe once the codes are in range.
        out: Int16Array = self._target_table.ravel().take(rows * len(self._trigger_list) + columns)
        return out

    def rows_of(self, sources: AnyArray, targets: AnyArray) -> Int16Array:
        """Vectorised [`rows_between()`][crmcore.kernel.machine.Machine.rows_between]: the first
        row's number per (from, to) pair, or -1."""
        n = len(self._state_list)
        rows = _codes(sources, n, "sources")
        columns = _codes(targets, n, "targets")
        _same_shape(rows, columns, "targets")
        out: Int16Array = self._row_table.ravel().take(rows * n + columns)
        return out

    def to_mermaid(self) -> str:
        """The table as a Mermaid ``stateDiagram-v2`` (for docs), guards in brackets."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial.value}"]
        for row in self.transitions:
            label = str(row.trigger.value) + (f" [{row.guard}]" if row.guard else "")
            lines.append(f"    {row.source.value} --> {row.target.value}: {label}")
        lines.extend(
            f"    {state.value} --> [*]" for state in self._state_list if state in self.final
        )
        return "\n".join(lines)


# -- histories -----------------------------------------------------------------------------------


class Change(Protocol[H_co]):
    """One recorded move of a history: when, from which state, to which."""

    @property
    def at(self) -> datetime:
        """When the move happened (aware, UTC)."""
        ...

    @property
    def from_state(self) -> H_co:
        """The state before the move."""
        ...

    @property
    def to_state(self) -> H_co:
        """The state after the move."""
        ...


def _at(change: Change[Any]) -> datetime:
    return change.at


def state_at(history: Sequence[Change[H]], when: datetime, initial: H) -> H:
    """The state as of ``when``: where the last change at or before it ended (``initial`` if none).

    ``history`` is in time order, as every aggregate keeps it.
    """
    i = bisect.bisect_right(history, to_utc(when, "when"), key=_at)
    return history[i - 1].to_state if i else initial


def changes_between(
    history: Sequence[Change[H]], start: datetime, end: datetime
) -> tuple[Any, ...]:
    """The changes recorded in ``(start, end]``, in time order."""
    lo = bisect.bisect_right(history, to_utc(start, "start"), key=_at)
    hi = bisect.bisect_right(history, to_utc(end, "end"), key=_at)
    return tuple(history[lo:hi])


def check_history(
    history: Sequence[Change[H]],
    initial: H,
    *,
    start: datetime | None = None,
    start_name: str = "the start",
    rule: Callable[[int, Any], None] | None = None,
) -> H:
    """Re-check a stored history; return the state where it ends.

    Times never go back (nor before ``start``, called ``start_name`` in the
    error, e.g. when a case was opened); each change starts where the
    previous one ended; ``rule(i, change)`` checks that change ``i`` is a move
    of the table (it raises). Errors name ``history[i]`` and the field.
    """
    current, previous = initial, start
    for i, change in enumerate(history):
        where = f"history[{i}]"
        if previous is not None and change.at < previous:
            what = "the previous change" if i else start_name
            raise ValidationError(f"{where}.at", change.at, f"must not be before {what}")
        if change.from_state != current:
            raise ValidationError(
                f"{where}.from_state",
                change.from_state,
                f"must be {_shown(current)} (the state then)",
            )
        if rule is not None:
            rule(i, change)
        current, previous = change.to_state, change.at
    return current


def _shown(state: object) -> object:
    return state.value if isinstance(state, enum.Enum) else state


def _shown_rows(value: object) -> object:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."


def _codes(values: object, size: int, field: str) -> AnyArray:
    """``values`` as an integer array of codes in ``[0, size)``; a ValidationError else.

    Negative codes would index from the end, silently: they are refused with the rest.
    """
    try:
        array = np.asarray(values)
    except ValueError:  # from the conversion only: a ragged nest of lists
        raise ValidationError(field, _shown_rows(values), "must be integer codes") from None
    if array.dtype.kind not in "iu":
        raise ValidationError(field, _shown_rows(values), "must be integer codes")
    if array.size and (array.min() < 0 or array.max() >= size):
        raise ValidationError(field, _shown_rows(values), f"must be codes from 0 to {size - 1}")
    return array.astype(np.intp, copy=False)


def _same_shape(rows: AnyArray, columns: AnyArray, field: str) -> None:
    try:
        np.broadcast_shapes(rows.shape, columns.shape)
    except ValueError:  # from the shape check only
        raise ValidationError(
            field, columns.shape, f"must have the shape of the first array {rows.shape}"
        ) from None
