"""Coupon codes: bulk generation that cannot collide, with a check character that catches typos.

A [`CodeFormat`][crmcore.marketing.coupon_codes.CodeFormat] fixes the alphabet, the number of body
characters, an optional prefix and grouping (``SPRING-7KQ2-M9TX``). Codes are generated in bulk by
[`generate_codes()`][crmcore.marketing.coupon_codes.generate_codes]:

* **Unique by construction.** Code number ``i`` is the body spelling of ``P(i)``, where ``P`` is a
  keyed pseudo-random permutation of ``[0, N^L)`` (N characters, L body characters): a balanced
  Feistel network of six rounds on the smallest even number of bits covering ``N^L``, restricted
  to ``[0, N^L)`` by cycle walking (Black and Rogaway, "Ciphers with arbitrary finite domains",
  CT-RSA 2002). A permutation never maps two numbers to one, so codes ``start .. start + count``
  are distinct, and later batches from the same seed (another ``start``) never repeat earlier
  ones. No set of issued codes has to be consulted.
* **Deterministic.** The round keys come from SHA-256 of the seed: the same seed, format and
  numbers give the same codes on every machine, and a different seed gives an unrelated sequence,
  so codes cannot be guessed from one another without the seed.
* **A check character** (Luhn mod N, the Luhn algorithm over an alphabet of N characters) ends
  each code. It detects every single mistyped character, provided N is **even**: only then is
  "double and add the digits in base N" a permutation of the characters, so the alphabet must have
  an even number of characters (a [`ValidationError`][crmcore.kernel.errors.ValidationError]
  says so otherwise). It also catches most swaps of neighbouring characters.

Generation is vectorised (numpy ``uint64`` arithmetic over all numbers at once), a million codes
in about a second; [`CodeFormat.is_valid()`][crmcore.marketing.coupon_codes.CodeFormat.is_valid]
checks a typed code without any look-up.

Examples:
    >>> fmt = CodeFormat(length=8, prefix="SPRING", group=4)
    >>> codes = generate_codes(fmt, 3, seed="2026-spring")
    >>> codes == generate_codes(fmt, 3, seed="2026-spring"), len(set(codes))
    (True, 3)
    >>> all(fmt.is_valid(code) for code in codes), fmt.is_valid(codes[0][:-1] + "#")
    (True, False)
"""

from __future__ import annotations

import hashlib
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.kernel.arrays import AnyArray
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import instance_of, storable_text

__all__ = [
    "DEFAULT_ALPHABET",
    "CodeFormat",
    "check_character",
    "generate_code_array",
    "generate_codes",
    "luhn_mod_n_valid",
]

DEFAULT_ALPHABET: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""32 characters without 0/O and 1/I: codes survive being read aloud and typed from paper."""

_ROUNDS: Final = 6
_MAX_BITS: Final = 62
_SEPARATOR: Final = "-"
_U64: Final = np.uint64


def _alphabet(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError("alphabet", value, "must be a str of code characters")
    text = value.upper()
    if len(text) < 2 or len(text) % 2:
        raise ValidationError(
            "alphabet",
            value,
            "must have an even number (at least 2) of characters: Luhn mod N detects every "
            "single-character error only for even N",
        )
    seen: set[str] = set()
    for char in text:
        if not (char.isascii() and char.isalnum()):
            raise ValidationError(
                "alphabet", value, f"may hold only ASCII letters and digits, not {char!r}"
            )
        if char in seen:
            raise ValidationError(
                "alphabet", value, f"repeats {char!r} (letters count once, any case)"
            )
        seen.add(char)
    return text


def _length(_instance: object, _attribute: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 40:
        raise ValidationError("length", value, "must be a whole number of body characters, 1..40")


def _prefix(value: object) -> str:
    if not isinstance(value, str) or len(value) > 20:
        raise ValidationError("prefix", value, "must be a str of at most 20 characters")
    text = value.upper()
    if any(not (c.isascii() and c.isalnum()) for c in text):
        raise ValidationError("prefix", value, "may hold only ASCII letters and digits")
    return text


def _group(_instance: object, _attribute: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 40:
        raise ValidationError("group", value, "must be 0 (no groups) or a group size up to 40")


@attrs.frozen
class CodeFormat:
    """How codes look: ``alphabet`` (even size, unique characters), ``length`` body characters,
    a ``prefix``, groups of ``group`` characters joined by ``-``, and a final check character.

    The capacity ``N^length`` must be at most 2^62 (e.g. 12 characters of the 32 default ones).
    Codes are case-insensitive: the alphabet and the prefix are upper case, input is upper-cased.
    """

    alphabet: str = attrs.field(default=DEFAULT_ALPHABET, converter=_alphabet)
    length: int = attrs.field(default=10, validator=_length)
    prefix: str = attrs.field(default="", converter=_prefix)
    group: int = attrs.field(default=0, validator=_group)

    def __attrs_post_init__(self) -> None:
        if self.capacity > 1 << _MAX_BITS:
            raise ValidationError(
                "length", self.length, f"gives {len(self.alphabet)}^{self.length} codes, over 2^62"
            )

    @property
    def capacity(self) -> int:
        """How many distinct codes the format has: ``len(alphabet) ** length``."""
        return int(len(self.alphabet) ** self.length)

    def normalize(self, code: str) -> str:
        """``code`` upper-cased, without separators and spaces, and without the prefix."""
        if not isinstance(code, str):
            raise ValidationError("code", code, "must be a str")
        text = code.upper().replace(_SEPARATOR, "").replace(" ", "")
        prefix = self.prefix
        return text[len(prefix) :] if prefix and text.startswith(prefix) else text

    def is_valid(self, code: str) -> bool:
        """Whether ``code`` has this format (prefix, length, alphabet) and a correct check
        character; separators, spaces and case do not matter."""
        if not isinstance(code, str):
            return False
        text = code.upper().replace(_SEPARATOR, "").replace(" ", "")
        if self.prefix:
            if not text.startswith(self.prefix):
                return False
            text = text[len(self.prefix) :]
        return len(text) == self.length + 1 and luhn_mod_n_valid(text, self.alphabet)

    def display(self, body_with_check: str) -> str:
        """The printed form of a body plus check character: prefix and groups joined by ``-``."""
        text = body_with_check
        if self.group:
            text = _SEPARATOR.join(
                text[i : i + self.group] for i in range(0, len(text), self.group)
            )
        return f"{self.prefix}{_SEPARATOR}{text}" if self.prefix else text


def _luhn_sum(values: list[int], n: int, double_first: bool) -> int:
    """Luhn mod N sum of ``values`` read from the right; the rightmost doubled if asked."""
    total = 0
    double = double_first
    for value in reversed(values):
        addend = value * 2 if double else value
        total += addend // n + addend % n
        double = not double
    return total


def check_character(body: str, alphabet: str = DEFAULT_ALPHABET) -> str:
    """The Luhn mod N check character of ``body`` over ``alphabet``.

    Examples:
        >>> check_character("1789372997", "0123456789")  # the classic Luhn example
        '4'
    """
    chars = _alphabet(alphabet)
    n = len(chars)
    instance_of(body, str, "body", "a text")
    try:
        values = [chars.index(c) for c in body.upper()]
    except ValueError:
        raise ValidationError("body", body, "has a character outside the alphabet") from None
    remainder = _luhn_sum(values, n, double_first=True) % n
    return chars[(n - remainder) % n]


def luhn_mod_n_valid(code: str, alphabet: str = DEFAULT_ALPHABET) -> bool:
    """Whether the last character of ``code`` is the Luhn mod N check of the rest."""
    chars = _alphabet(alphabet)
    text = instance_of(code, str, "code", "a text").upper()
    if len(text) < 2 or any(c not in chars for c in text):
        return False
    values = [chars.index(c) for c in text]
    return _luhn_sum(values, len(chars), double_first=False) % len(chars) == 0


def _round_keys(seed: str | int) -> list[int]:
    if isinstance(seed, bool) or not isinstance(seed, str | int):
        raise ValidationError("seed", seed, "must be a str or int")
    if isinstance(seed, str):
        storable_text(seed, "seed")
    digest = hashlib.sha256(f"crmcore-coupon-codes\x1f{seed}".encode()).digest()
    return [int.from_bytes(digest[4 * r : 4 * r + 4], "big") for r in range(_ROUNDS)]


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    # MurmurHash3's fmix64: the Feistel round function's diffusion.
    x = x ^ (x >> _U64(33))
    x = x * _U64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> _U64(33))
    x = x * _U64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> _U64(33))


def _permute(
    numbers: npt.NDArray[np.uint64], capacity: int, keys: list[int]
) -> npt.NDArray[np.uint64]:
    """A keyed permutation of ``[0, capacity)``: Feistel on 2h bits, then cycle walking."""
    bits = max(2, (capacity - 1).bit_length())
    half = (bits + 1) // 2
    mask = _U64((1 << half) - 1)
    shift = _U64(half)
    limit = _U64(capacity)

    def encrypt(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
        left, right = x >> shift, x & mask
        for key in keys:
            left, right = right, left ^ (_mix(right ^ _U64(key)) & mask)
        out: npt.NDArray[np.uint64] = (left << shift) | right
        return out

    with np.errstate(over="ignore"):
        out = encrypt(numbers)
        pending = np.flatnonzero(out >= limit)
        while len(pending):
            out[pending] = encrypt(out[pending])
            pending = pending[out[pending] >= limit]
    return out


def generate_codes(
    fmt: CodeFormat, count: int, *, seed: str | int, start: int = 0
) -> tuple[str, ...]:
    """Codes number ``start`` to ``start + count - 1`` of ``fmt`` under ``seed`` (all distinct).

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] when the numbers run past
    the format's capacity.
    """
    body = generate_code_array(fmt, count, seed=seed, start=start)
    if not fmt.prefix and not fmt.group:
        return tuple(body.tolist())
    return tuple(fmt.display(text) for text in body.tolist())


def generate_code_array(
    fmt: CodeFormat, count: int, *, seed: str | int, start: int = 0
) -> AnyArray:
    """The codes of [`generate_codes()`][crmcore.marketing.coupon_codes.generate_codes] as a numpy
    array of ``str`` without prefix and groups: the fast path for millions of codes."""
    if not isinstance(fmt, CodeFormat):
        raise ValidationError("fmt", fmt, "must be a CodeFormat")
    for name, value in (("count", count), ("start", start)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(name, value, "must be a non-negative whole number")
    if start + count > fmt.capacity:
        raise ValidationError(
            "count", count, f"numbers {start}..{start + count - 1} exceed the {fmt.capacity} codes"
        )
    numbers = np.arange(start, start + count, dtype=np.uint64)
    values = _permute(numbers, fmt.capacity, _round_keys(seed))
    n = len(fmt.alphabet)
    digits = np.empty((count, fmt.length + 1), dtype=np.int64)
    for position in range(fmt.length - 1, -1, -1):
        digits[:, position] = (values % _U64(n)).astype(np.int64)
        values = values // _U64(n)
    # Luhn mod N over the body, rightmost body character doubled (the check goes after it).
    total = np.zeros(count, dtype=np.int64)
    for offset, position in enumerate(range(fmt.length - 1, -1, -1)):
        addend = digits[:, position] * (2 if offset % 2 == 0 else 1)
        total += addend // n + addend % n
    digits[:, fmt.length] = (n - total % n) % n
    table = np.frombuffer(fmt.alphabet.encode("ascii"), dtype=np.uint8)
    raw = np.ascontiguousarray(table[digits]).view(f"S{fmt.length + 1}").ravel()
    return raw.astype(str)
