"""Account hierarchies as arrays: roots, depths, subtrees and rollups, with cycles refused.

An [`AccountHierarchy`][crmcore.sales.account_hierarchy.AccountHierarchy] is the parent pointer of
every account as an integer array (``-1`` for a top-level account). Everything is vectorised:

* **roots and depths** by pointer jumping (each pass doubles the distance every pointer spans, so
  ``⌈log₂ depth⌉`` passes over the arrays, never a walk per account);
* **cycles** are found on construction: an account whose pointer chain never reaches a top-level
  account is on (or under) a cycle, and the error quotes the cycle;
* **subtree sums** (an account with all its descendants) one level at a time from the deepest up,
  ``np.add.at`` into the parents;
* **subtree membership** of one account the same way, top down.

Examples:
    >>> h = AccountHierarchy.from_parents({"group": None, "eu": "group", "de": "eu", "us": "group"})
    >>> h.depth.tolist(), [h.ids[r] for r in h.root]
    ([0, 1, 2, 1], ['group', 'group', 'group', 'group'])
    >>> h.subtree("eu")
    ('eu', 'de')
    >>> h.rollup([10, 5, 1, 2]).tolist()
    [18, 6, 1, 2]
    >>> AccountHierarchy.from_parents({"a": "b", "b": "c", "c": "a"})
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: parent_id: the hierarchy has a cycle: a -> b -> c -> ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.columnar.arguments import int_column, text_column
from crmcore.columnar.id_index import IdIndex
from crmcore.kernel.arrays import AnyArray, BoolArray, Int64Array, read_only
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.ids import validate_id
from crmcore.kernel.validators import instances_of
from crmcore.sales._forest import cycle_from, roots_and_depths, subtree_mask, subtree_sums
from crmcore.sales.accounts import Account

__all__ = ["AccountHierarchy", "id_positions"]


def id_positions(vocabulary: npt.ArrayLike, wanted: npt.ArrayLike) -> Int64Array:
    """For each id in ``wanted``, its position in ``vocabulary`` (-1 where absent; an id the
    vocabulary lists twice is found at its first position), compared exactly.

    The ids are joined by an [`IdIndex`][crmcore.columnar.id_index.IdIndex]; a vocabulary
    with repeated ids (which an index refuses) goes through a dict of first positions.

    Examples:
        >>> id_positions(["b", "a", "c"], ["c", "x", "b"]).tolist()
        [2, -1, 0]
    """
    table = text_column(vocabulary, "vocabulary", what="ids")
    want = text_column(wanted, "wanted", what="ids")
    try:
        index = IdIndex(table, "vocabulary")
    except ValidationError:  # a repeated id: the first position of each, as a dict keeps it
        first: dict[str, int] = {}
        for position, name in enumerate(table.tolist()):
            first.setdefault(name, position)
        return np.fromiter(
            (first.get(name, -1) for name in want.tolist()), dtype=np.int64, count=len(want)
        )
    return index.rows(want)


@attrs.frozen(eq=False)
class AccountHierarchy:
    """Accounts ``ids`` and their ``parent`` positions (``-1``: top level), acyclic.

    ``root`` is each account's top-level ancestor (itself for a top-level account), ``depth`` its
    distance from it. Arrays are read-only.
    """

    ids: tuple[str, ...]
    parent: Int64Array
    root: Int64Array = attrs.field(init=False)
    depth: Int64Array = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        ids = instances_of(self.ids, str, "ids")
        parent = int_column(self.parent, "parent", what="account positions")
        n = len(ids)
        if parent.shape != (n,) or (n and (parent.min() < -1 or parent.max() >= n)):
            raise ValidationError("parent", parent.shape, f"must be {n} positions in -1..{n - 1}")
        root, depth, stuck = roots_and_depths(parent)
        if stuck.any():
            first = int(np.argmax(stuck))
            loop = " -> ".join(self.ids[i] for i in cycle_from(parent, first))
            raise ValidationError(
                "parent_id", self.ids[first], f"the hierarchy has a cycle: {loop}"
            )
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "parent", read_only(parent))
        object.__setattr__(self, "root", read_only(root))
        object.__setattr__(self, "depth", read_only(depth))

    @classmethod
    def from_parents(cls, parents: Mapping[str, str | None]) -> AccountHierarchy:
        """From a mapping of every account id to its parent id (``None``: top level).

        A parent that is not itself a key is refused
        ([`ValidationError`][crmcore.kernel.errors.ValidationError] naming it).
        """
        if not isinstance(parents, Mapping):
            raise ValidationError("parents", parents, "must map account ids to parent ids")
        ids = tuple(validate_id(k, "id") for k in parents)
        index = {k: i for i, k in enumerate(ids)}
        codes = []
        for child, parent in parents.items():
            if parent is None:
                codes.append(-1)
            elif parent in index:
                codes.append(index[parent])
            else:
                raise ValidationError("parent_id", parent, f"of {child!r} names no known account")
        return cls(ids, np.array(codes, dtype=np.int64))

    @classmethod
    def from_accounts(cls, accounts: Iterable[Account]) -> AccountHierarchy:
        """From [`Account`][crmcore.sales.accounts.Account] s (every parent among them)."""
        return cls.from_parents(
            {a.id: a.parent_id for a in instances_of(accounts, Account, "accounts")}
        )

    def __len__(self) -> int:
        return len(self.ids)

    def position(self, account_id: str) -> int:
        """The position of ``account_id``; [`NotFoundError`][crmcore.kernel.errors.NotFoundError]
        when it is not in the hierarchy."""
        try:
            return self.ids.index(account_id)
        except ValueError:
            raise NotFoundError("account", account_id) from None

    def positions(self, ids: npt.ArrayLike) -> Int64Array:
        """The positions of many ids at once (-1 where an id is not in the hierarchy)."""
        return id_positions(self.ids, text_column(ids, "ids", what="ids"))

    def subtree_mask(self, account_id: str) -> BoolArray:
        """The accounts in the subtree of ``account_id`` (itself and all its descendants)."""
        return subtree_mask(self.parent, self.depth, self.position(account_id))

    def subtree(self, account_id: str) -> tuple[str, ...]:
        """The ids of ``account_id`` and all its descendants, in hierarchy order."""
        return tuple(self.ids[i] for i in np.flatnonzero(self.subtree_mask(account_id)))

    def children(self, account_id: str) -> tuple[str, ...]:
        """The direct children of ``account_id``."""
        position = self.position(account_id)
        return tuple(self.ids[i] for i in np.flatnonzero(self.parent == position))

    def ancestors(self, account_id: str) -> tuple[str, ...]:
        """The parent, grandparent, ... of ``account_id`` up to its top-level account."""
        out, node = [], int(self.parent[self.position(account_id)])
        while node >= 0:
            out.append(self.ids[node])
            node = int(self.parent[node])
        return tuple(out)

    def rollup(self, values: npt.ArrayLike) -> AnyArray:
        """Per account, the sum of ``values`` over its subtree (deepest level first, vectorised).

        Integers are summed as ``int64``, Python integers (an ``object`` array) exactly at any
        size, floats as floats.
        """
        array = np.asarray(values)
        if array.dtype.kind not in "biufO":
            raise ValidationError("values", array.dtype, "must be numbers")
        if array.shape != (len(self),):
            raise ValidationError(
                "values", array.shape, f"must be one value per account ({len(self)})"
            )
        kind = (
            object
            if array.dtype == object
            else np.int64
            if array.dtype.kind in "iub"
            else np.float64
        )
        return subtree_sums(self.parent, self.depth, array.astype(kind))

    def lift_pairs(self, accounts: Int64Array, items: Int64Array) -> tuple[Int64Array, Int64Array]:
        """Pairs (account, item) extended to every ancestor, each pair once: what a subtree holds
        when an item (a customer) may sit at several of its accounts.

        Raises:
            ValidationError: ``accounts`` are not positions of this hierarchy, or ``items`` not
                one non-negative integer per account.
        """
        accounts = int_column(accounts, "accounts", what="account positions")
        items = int_column(items, "items", what="non-negative integers")
        if items.shape != accounts.shape:
            raise ValidationError("items", items.shape, f"must be one per account {accounts.shape}")
        if len(accounts) and (int(accounts.min()) < 0 or int(accounts.max()) >= len(self)):
            raise ValidationError(
                "accounts", int(accounts.min()), f"must lie in 0..{len(self) - 1}"
            )
        if len(items) and int(items.min()) < 0:
            raise ValidationError("items", int(items.min()), "must not be negative")
        if len(items) and (int(items.max()) + 1) * len(self) >= 2**63:
            raise ValidationError("items", int(items.max()), "times the accounts must fit in int64")
        all_accounts, all_items = [accounts], [items]
        current, current_items = accounts, items
        while len(current):
            up = self.parent[current]
            keep = up >= 0
            current, current_items = up[keep], current_items[keep]
            all_accounts.append(current)
            all_items.append(current_items)
        a, i = np.concatenate(all_accounts), np.concatenate(all_items)
        if not len(a):
            return a, i
        key = np.unique(a * (int(i.max()) + 1) + i)
        return key // (int(i.max()) + 1), key % (int(i.max()) + 1)
