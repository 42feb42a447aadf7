"""The rules a change set must pass before anything is written, for every adapter.

[`Backend.apply()`][crmcore.storage.backend.Backend.apply] refuses a whole
[`ChangeSet`][crmcore.storage.backend.ChangeSet] when one write cannot apply, and every adapter
must refuse the same change sets with the same error. `check_changes()` holds those rules once;
an adapter only says what is stored: the version and unique keys of each aggregate the change
set writes (`Stored`), which aggregate holds a key value, and which records exist.

In order (the first failure is raised):

1. an insert (``expected == 0``) finds nothing stored under its id, else
   [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError]; an update finds the version
   it expects, else [`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError];
2. a unique key value an aggregate claims is free, held by the aggregate itself, or released by
   another write of the same change set (a swap of two e-mails passes), and no two writes claim
   it;
3. a record that replaces one (redaction) finds it stored
   ([`NotFoundError`][crmcore.kernel.errors.NotFoundError] otherwise), and a record inserted is
   neither stored nor inserted twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence, Set

import attrs

from crmcore.kernel.errors import AlreadyExistsError, ConcurrencyConflictError, NotFoundError
from crmcore.storage.backend import AggregateWrite, ChangeSet, RecordWrite

__all__ = ["KeyClaim", "Stored", "check_changes", "writes_by_kind"]

KeyClaim = tuple[str, str, str]
"""A unique key value claimed: (kind name, key name, value)."""


@attrs.define
class Stored:
    """The stored version and unique-key values (``None`` left out) of an aggregate a change set
    writes."""

    version: int
    keys: dict[str, str]


def writes_by_kind(writes: Sequence[AggregateWrite]) -> dict[str, list[str]]:
    """The ids ``writes`` touch, by kind name (in order of the writes)."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for write in writes:
        by_kind[write.kind.name].append(write.id)
    return by_kind


def check_changes(
    changes: ChangeSet,
    stored: Mapping[tuple[str, str], Stored],
    holders: Callable[[list[KeyClaim]], Mapping[KeyClaim, str]],
    existing: Callable[[list[RecordWrite]], Set[tuple[str, str]]],
    *,
    check_inserts: bool = True,
) -> None:
    """Raise the error the first write of ``changes`` that cannot apply earns (see the module).

    ``stored`` maps (kind name, id) to what is stored for the aggregates the change set writes;
    ``holders`` gives the id of the aggregate holding each claim asked for (claims nobody holds
    left out); ``existing`` gives the (kind name, id) of the records among those asked for that
    are stored. Inserted records are only asked for with ``check_inserts``: an adapter whose
    primary keys refuse a duplicate anyway may leave that to them, and explain a refusal by
    calling this again with it on.
    """
    released: dict[tuple[str, str], set[str]] = defaultdict(set)
    for write in changes.aggregates:
        kind, id = write.kind, write.id
        current = stored.get((kind.name, id))
        if write.expected == 0:
            if current is not None:
                raise AlreadyExistsError(kind.name, id)
        else:
            actual = None if current is None else current.version
            if actual != write.expected:
                raise ConcurrencyConflictError(kind.name, id, write.expected, actual)
        if current is not None:
            for key, value in current.keys.items():
                released[(kind.name, key)].add(value)
    new_keys = [(write, write.kind.keys_of(write.aggregate)) for write in changes.aggregates]
    wanted: list[KeyClaim] = []
    for write, keys in new_keys:
        current = stored.get((write.kind.name, write.id))
        held: dict[str, str] = {} if current is None else current.keys
        for key, claim in keys.items():
            if claim is not None and held.get(key) != claim:  # a value it holds is its own
                wanted.append((write.kind.name, key, claim))
    holding = holders(wanted)
    claimed: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for write, keys in new_keys:
        kind, id = write.kind, write.id
        for key, claim in keys.items():
            if claim is None:
                continue
            index = (kind.name, key)
            holder = holding.get((kind.name, key, claim))
            if holder is not None and holder != id and claim not in released[index]:
                raise AlreadyExistsError(kind.name, claim, key)
            other = claimed[index].setdefault(claim, id)
            if other != id:
                raise AlreadyExistsError(kind.name, claim, key)
    present = existing([w for w in changes.records if w.replace or check_inserts])
    seen: set[tuple[str, str]] = set()
    for record_write in changes.records:
        name, id = record_write.kind.name, record_write.id
        exists = (name, id) in present
        if record_write.replace and not exists:
            raise NotFoundError(name, id)
        if not record_write.replace and (exists or (name, id) in seen):
            raise AlreadyExistsError(name, id)
        seen.add((name, id))
