"""An immutable, hashable mapping for fields of frozen value objects."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar, overload

from crmcore.kernel.errors import ValidationError

__all__ = ["FrozenDict"]

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class FrozenDict(Mapping[K, V]):
    """A read-only ``dict``: hashable (when its values are), equal by content.

    Built from a mapping or an iterable of ``(key, value)`` pairs; anything else (or a pair whose
    key cannot be hashed) is a [`ValidationError`][crmcore.kernel.errors.ValidationError] naming
    ``data``.

    Examples:
        >>> FrozenDict({"b": 2, "a": 1}) == FrozenDict([("a", 1), ("b", 2)])
        True
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] = (), /) -> None:
        if isinstance(data, str | bytes | bytearray) or not isinstance(data, Iterable):
            raise ValidationError("data", _shown(data), "must be a mapping or (key, value) pairs")
        if isinstance(data, Mapping):
            self._data: dict[K, V] = dict(data)
            self._hash: int | None = None
            return
        pairs = list(data)  # what the iterable itself raises (a ValidationError, say) passes
        try:
            self._data = dict(pairs)
        except (TypeError, ValueError):  # from dict() only: a bad pair or an unhashable key
            raise ValidationError(
                "data", _shown(data), "must be a mapping or (key, value) pairs with hashable keys"
            ) from None
        self._hash = None

    def __getitem__(self, key: K) -> V:
        try:
            return self._data[key]
        except TypeError:  # from the lookup only: an unhashable key
            _check_key(key)
            raise

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenDict):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenDict({self._data!r})"

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V | T, /) -> V | T: ...
    def get(self, key: K, default: object = None, /) -> object:
        """The value of ``key``, or ``default`` when absent; an unhashable key is refused.

        Examples:
            >>> FrozenDict({"a": 1}).get("b", 0)
            0
        """
        _check_key(key)
        return self._data.get(key, default)

    def set(self, key: K, value: V) -> FrozenDict[K, V]:
        """A copy with ``key`` set to ``value`` (a ValidationError if ``key`` is unhashable)."""
        _check_key(key)
        data = dict(self._data)
        data[key] = value
        return FrozenDict(data)

    def delete(self, key: K) -> FrozenDict[K, V]:
        """A copy without ``key`` (no error when absent)."""
        return FrozenDict((k, v) for k, v in self._data.items() if k != key)


def _check_key(key: object) -> None:
    try:
        hash(key)
    except TypeError:
        raise ValidationError("key", _shown(key), "must be hashable") from None


def _shown(value: object) -> object:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."
