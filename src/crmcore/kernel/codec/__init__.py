"""A type-directed JSON codec for crmcore's value objects.

``encode(value)`` turns frozen attrs objects (and the types they hold:
``Decimal``, aware ``datetime``, ``date``, ``timedelta``, enums, [`Money`][crmcore.Money],
tuples, frozensets, [`FrozenDict`][crmcore.kernel.frozen.FrozenDict]) into plain JSON data;
``decode(SomeType, data)`` rebuilds them from their annotations, validating as
it goes (every attrs validator runs again). The format is exact: decimals
travel as strings, datetimes as ISO 8601 with their offset, durations as whole
microseconds. Unions of several
scalar types (custom attribute values) are tagged ``{"$type": ..., "value": ...}``
so ``"2024-01-01"`` the string and ``2024-01-01`` the date stay apart.

It is the single serialisation used for domain events, the outbox, the stored
documents of the SQLite adapter and customer data exports.

Speed: the type is inspected once, not on every value. Each declared type is
compiled on first use into a decoder closure (and, where the declared type
matters, an encoder closure) kept in a per-type cache: an attrs class gets its
list of (field, init alias, field decoder, required) and its field names, a
container its item decoder, a union its members, a scalar a direct check. The
field list of an attrs class is built at its first decode or encode, so
recursive and forward-referenced classes work. The runtime type of an encoded
value is classified once per class. Behaviour, error paths and messages are
those of a plain recursive walk over the annotations:

Examples:
    >>> from crmcore.kernel.money import Money
    >>> encode(Money("1.50", "EUR"))
    {'amount': '1.50', 'currency': 'EUR'}
    >>> decode(tuple[int, ...], [1, 2, "3"])
    Traceback (most recent call last):
    ...
    crmcore.kernel.errors.ValidationError: $[2]: must be a JSON int ...
"""

from crmcore.kernel.codec.decoders import decode
from crmcore.kernel.codec.encoders import encode
from crmcore.kernel.codec.types import JSON

__all__ = ["JSON", "decode", "encode"]
