"""Posting at array speed: earns, awards and redemptions for many accounts in one call.

[`post_batch()`][crmcore.loyalty.posting_batch.post_batch] takes the accounts of one program, their
state as [`LedgerColumns`][crmcore.loyalty.ledger_batch.LedgerColumns] (built once, then carried
from batch to batch) and the operations as [`Postings`][crmcore.loyalty.posting_batch.Postings]
(arrays: account row, kind, time, points or amount, codes; keys and references). It returns a
[`BatchPosting`][crmcore.loyalty.posting_batch.BatchPosting]: per operation a
[`PostingStatus`][crmcore.loyalty.posting_batch.PostingStatus], the points posted, the balance the
event reports and the points expired with it; the new columns; and, built on first use, the new
[`LoyaltyAccount`][crmcore.loyalty.ledger.LoyaltyAccount] values and the events, equal to what the
per-account calls (``earn``, ``award``, ``redeem`` in the same order) return.

**Same rules.** Each account's operations are applied in the order given, with the rules of
[`crmcore.loyalty.ledger`][crmcore.loyalty.ledger]: expiry due first, purchase points by the
program (campaigns, multipliers, rounding, per-order and per-day caps), pending lots, debt settled
first, FIFO redemption across lots. Outcomes are statuses, not exceptions: a redemption beyond the
balance is ``INSUFFICIENT`` (later operations see the account without it), a key replayed with the
same request ``REPLAYED``, a key or order used for something else ``DUPLICATE``, an operation dated
more than the program's out-of-order tolerance before the account's latest entry ``TOO_LATE``.
Malformed input (an unknown account row or action, points the redemption rule refuses, an amount
in another currency, points beyond [`MAX_POINTS`][crmcore.loyalty.entries.MAX_POINTS]) raises
[`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``postings.<column>[i]``, and
nothing is posted.

**Two paths, one result.** Accounts whose operations are in time order with fresh keys (the
common case) are posted by the engine in `crmcore.loyalty._batch_engine`, a round of numpy
arithmetic per operation depth; the others (a key or order seen before, a late arrival, a lot that
would not sort last, a purchase whose points do not fit int64 arithmetic) go through the
per-account methods themselves. The tests check both against the per-account path on random
operation mixes, and the entries the engine's results materialise are re-checked as they are
appended.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> from crmcore.customers import Purchase
    >>> from crmcore.kernel.money import Money
    >>> from crmcore.loyalty.ledger import LoyaltyAccount
    >>> from crmcore.loyalty.program import LoyaltyProgram
    >>> program = LoyaltyProgram(id="P", currency="EUR", point_value=Money("0.01", "EUR"))
    >>> at = datetime(2026, 3, 1, tzinfo=UTC)
    >>> accounts = [LoyaltyAccount(id=f"A-{i}", customer_id=f"c-{i}", program_id="P")
    ...             for i in range(2)]
    >>> postings = Postings.from_rows([
    ...     {"account": 0, "kind": "earn", "key": "e-1",
    ...      "purchase": Purchase("o-1", "c-0", at, Money("120.50", "EUR"))},
    ...     {"account": 1, "kind": "redeem", "key": "r-1", "points": 10, "at": at},
    ...     {"account": 0, "kind": "redeem", "key": "r-2", "points": 100,
    ...      "at": at + timedelta(hours=1)},
    ... ])
    >>> done = post_batch(program, accounts, postings)
    >>> [PostingStatus(s).name for s in done.status], done.balance.tolist()
    (['POSTED', 'INSUFFICIENT', 'POSTED'], [120, 0, 20])
    >>> done.accounts[0] == accounts[0].earn(program, postings.purchase(0, "c-0"), key="e-1"
    ...     ).value.redeem(program, 100, at=at + timedelta(hours=1), key="r-2").value
    True
"""

from __future__ import annotations

import enum
import functools
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.customers.records import Purchase, normalize_slug
from crmcore.kernel.arrays import BoolArray, Int8Array, Int32Array, Int64Array, read_only
from crmcore.kernel.clock import from_micros, to_micros
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.ids import validate_id
from crmcore.kernel.money import MAX_AMOUNT, Money, currency_code, minor_units
from crmcore.kernel.validators import integer, items_of
from crmcore.loyalty._batch_entries import Materialized, materialize
from crmcore.loyalty._batch_route import route
from crmcore.loyalty._batch_rules import FINGERPRINT_SEED
from crmcore.loyalty.entries import MAX_POINTS
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.ledger_batch import LedgerColumns, ledger_columns
from crmcore.loyalty.program import LoyaltyProgram

__all__ = ["BatchPosting", "PostingKind", "PostingStatus", "Postings", "post_batch"]


class PostingKind(enum.IntEnum):
    """What an operation of a batch does (the codes of [`Postings.kind`][
    crmcore.loyalty.posting_batch.Postings])."""

    EARN = 0
    AWARD = 1
    REDEEM = 2


class PostingStatus(enum.IntEnum):
    """What became of an operation of a batch (the codes of
    [`BatchPosting.status`][crmcore.loyalty.posting_batch.BatchPosting])."""

    POSTED = 0
    """Posted: its entry (and the expiry due before it) is in the account."""
    REPLAYED = 1
    """Its key was posted before with the same request: nothing posted (idempotent retry)."""
    INSUFFICIENT = 2
    """A redemption beyond the spendable balance (``InsufficientPointsError`` one at a time)."""
    DUPLICATE = 3
    """Its key was used for another request, or its order already earned
    (``DuplicateOperationError`` one at a time)."""
    TOO_LATE = 4
    """Dated further before the account's latest entry than the program's out-of-order tolerance
    (a ``ValidationError`` on ``at`` one at a time)."""


_KINDS = {kind.name.lower(): kind for kind in PostingKind}
_IDS = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127}\n)*\Z")
_IDS_OR_EMPTY = re.compile(r"(?:(?:[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127})?\n)*\Z")
_FIRST_US = to_micros(datetime.min.replace(tzinfo=UTC))
_LAST_US = to_micros(datetime.max.replace(tzinfo=UTC))


def _column(value: object, field: str) -> npt.NDArray[np.integer[Any]]:
    array = np.asarray(value)
    if array.ndim != 1 or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        raise ValidationError(f"postings.{field}", value, "must be a 1-D array of integers")
    return array


def _int64(value: object, field: str) -> Int64Array:
    return read_only(_column(value, field).astype(np.int64, copy=True))


def _int32(value: object, field: str) -> Int32Array:
    return read_only(_column(value, field).astype(np.int32, copy=True))


def _int8(value: object, field: str) -> Int8Array:
    array = _column(value, field)
    _first_bad((array < 0) | (array > 2), array, field, "must be a PostingKind (0, 1, 2)")
    return read_only(array.astype(np.int8, copy=True))


def _first_bad(mask: BoolArray, column: npt.NDArray[Any], field: str, reason: str) -> None:
    bad = np.flatnonzero(mask)
    if bad.size:
        i = int(bad[0])
        raise ValidationError(f"postings.{field}[{i}]", column[i].item(), reason)


def _ids(values: object, field: str, *, empty: bool) -> tuple[str, ...]:
    """A tuple of ids (``""`` too when ``empty``), checked by one regular-expression pass."""
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValidationError(f"postings.{field}", values, "must be a sequence of ids")
    out = tuple(values)
    try:
        ok = (_IDS_OR_EMPTY if empty else _IDS).match("".join(v + "\n" for v in out))
    except TypeError:
        ok = None
    if ok is None:
        for i, value in enumerate(out):
            if not (empty and value == ""):
                validate_id(value, f"postings.{field}[{i}]")
    return out


def _slugs(values: object, field: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValidationError(f"postings.{field}", values, "must be a sequence of names")
    out = tuple(values)
    for i, value in enumerate(out):
        if normalize_slug(value, f"postings.{field}[{i}]") != value:
            raise ValidationError(f"postings.{field}[{i}]", value, "must be a normalised slug")
    return out


def _tiers(values: object) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValidationError("postings.tiers", values, "must be a sequence of tier names")
    out = tuple(values)
    for i, value in enumerate(out):
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"postings.tiers[{i}]", value, "must be a non-empty tier name")
    return out


def _account_column(value: object) -> Int64Array:
    return _int64(value, "account")


def _kind_column(value: object) -> Int8Array:
    return _int8(value, "kind")


def _at_column(value: object) -> Int64Array:
    return _int64(value, "at_us")


def _key_column(value: object) -> tuple[str, ...]:
    return _ids(value, "keys", empty=False)


def _ref_column(value: object) -> tuple[str, ...]:
    return _ids(value, "refs", empty=True)


def _points_column(value: object) -> Int64Array:
    return _int64(value, "points")


def _amount_column(value: object) -> Int64Array:
    return _int64(value, "amount_minor")


def _channel_column(value: object) -> Int32Array:
    return _int32(value, "channel")


def _category_column(value: object) -> Int32Array:
    return _int32(value, "category")


def _tier_column(value: object) -> Int32Array:
    return _int32(value, "tier")


def _channel_names(value: object) -> tuple[str, ...]:
    return _slugs(value, "channels")


def _category_names(value: object) -> tuple[str, ...]:
    return _slugs(value, "categories")


def _amount_values(value: object) -> tuple[Money | None, ...] | None:
    if value is None:
        return None
    found = items_of(value, "postings.amounts", "Money amounts (None: none)")
    for i, money in enumerate(found):
        if money is not None and not isinstance(money, Money):
            raise ValidationError(f"postings.amounts[{i}]", money, "must be Money or None")
    return found  # type: ignore[return-value]  # every item checked above


@attrs.frozen(kw_only=True, eq=False)
class Postings:
    """Operations for many accounts, as columns (one row per operation, applied in row order
    within each account).

    ``account`` is the account's row in the accounts (and columns) given to
    [`post_batch()`][crmcore.loyalty.posting_batch.post_batch]; ``kind`` a
    [`PostingKind`][crmcore.loyalty.posting_batch.PostingKind] code; ``at_us`` the time
    (microseconds since the epoch, UTC; for an earn the purchase time, which is also its posting
    time); ``keys`` the idempotency keys; ``refs`` the order id (earn), the action (award) or the
    redemption id (redeem; ``""`` is the key). ``points``: a redemption's points, an award's points
    (0: the action's configured points), 0 for an earn. Earns carry ``amount_minor`` (the purchase
    amount in minor units of ``currency``) and codes into ``channels`` (normalised slugs),
    ``categories`` and ``tiers`` (-1: none). ``amounts`` (optional) keeps each earn's `Money`
    as given, so its canonical request text is the per-account one (``"12.3"`` and ``"12.30"``
    differ there); without it an amount reads as its minor units (``"12.30"``).

    [`Postings.from_rows()`][crmcore.loyalty.posting_batch.Postings.from_rows] builds one from
    one mapping per operation.
    """

    account: Int64Array = attrs.field(converter=_account_column)
    kind: Int8Array = attrs.field(converter=_kind_column)
    at_us: Int64Array = attrs.field(converter=_at_column)
    keys: tuple[str, ...] = attrs.field(converter=_key_column)
    refs: tuple[str, ...] = attrs.field(converter=_ref_column)
    points: Int64Array = attrs.field(converter=_points_column)
    amount_minor: Int64Array = attrs.field(converter=_amount_column)
    currency: str | None = None
    channel: Int32Array = attrs.field(converter=_channel_column)
    category: Int32Array = attrs.field(converter=_category_column)
    tier: Int32Array = attrs.field(converter=_tier_column)
    channels: tuple[str, ...] = attrs.field(default=("web",), converter=_channel_names)
    categories: tuple[str, ...] = attrs.field(default=(), converter=_category_names)
    tiers: tuple[str, ...] = attrs.field(default=(), converter=_tiers)
    amounts: tuple[Money | None, ...] | None = attrs.field(default=None, converter=_amount_values)

    def __attrs_post_init__(self) -> None:
        n = self.account.shape[0]
        for name in (
            "kind",
            "at_us",
            "keys",
            "refs",
            "points",
            "amount_minor",
            "channel",
            "category",
            "tier",
        ):
            if len(getattr(self, name)) != n:
                raise ValidationError(
                    f"postings.{name}",
                    len(getattr(self, name)),
                    f"must have {n} rows like postings.account",
                )
        if self.amounts is not None and len(self.amounts) != n:
            raise ValidationError("postings.amounts", len(self.amounts), f"must have {n} rows")
        kind = self.kind
        _first_bad(self.account < 0, self.account, "account", "must be an account row")
        _first_bad(
            (self.at_us < _FIRST_US) | (self.at_us > _LAST_US),
            self.at_us,
            "at_us",
            "must lie in years 1 to 9999",
        )
        earn = kind == PostingKind.EARN
        points = self.points
        _first_bad(earn & (points != 0), points, "points", "must be 0 for an earn")
        _first_bad(
            (points < 0) | (points >= MAX_POINTS),
            points,
            "points",
            "must be from 0 to below 10**12 (MAX_POINTS)",
        )
        _first_bad(
            (kind == PostingKind.REDEEM) & (points == 0),
            points,
            "points",
            "must be positive for a redemption",
        )
        needs_ref = np.flatnonzero(kind != PostingKind.REDEEM)
        for i in needs_ref[[self.refs[j] == "" for j in needs_ref.tolist()]].tolist():
            raise ValidationError(f"postings.refs[{i}]", "", "must name the order or action")
        if earn.any():
            if self.currency is None:
                raise ValidationError("postings.currency", None, "must be given for earns")
            object.__setattr__(self, "currency", currency_code(self.currency, "postings.currency"))
            limit = int(MAX_AMOUNT) * 10 ** minor_units(self.currency)
            amount = self.amount_minor
            _first_bad(
                earn & ((amount < 0) | (amount >= limit)),
                amount,
                "amount_minor",
                "must be from 0 to below MAX_AMOUNT",
            )
            for codes, size, name, low in (
                (self.channel, len(self.channels), "channel", 0),
                (self.category, len(self.categories), "category", -1),
                (self.tier, len(self.tiers), "tier", -1),
            ):
                _first_bad(
                    earn & ((codes < low) | (codes >= size)),
                    codes,
                    name,
                    f"must be a code of postings.{name}s",
                )
        if self.amounts is not None:
            self._check_amounts(np.flatnonzero(earn).tolist())

    def _check_amounts(self, earns: list[int]) -> None:
        if not earns or self.currency is None:  # earns have a currency (checked above)
            return
        digits = minor_units(self.currency)
        for i in earns:
            money = self.amounts[i] if self.amounts is not None else None
            if not isinstance(money, Money) or money.currency != self.currency:
                raise ValidationError(f"postings.amounts[{i}]", money, f"must be {self.currency}")
            if money.amount.scaleb(digits) != int(self.amount_minor[i]):
                raise ValidationError(f"postings.amounts[{i}]", money, "must be amount_minor")

    def __len__(self) -> int:
        return int(self.account.shape[0])

    def _row(self, i: object) -> int:
        # called once per row by the batch path: the common case costs one type check
        if type(i) is int and 0 <= i < self.account.shape[0]:
            return i
        return integer(i, "i", low=0, high=len(self) - 1)

    def money(self, i: int) -> Money:
        """The purchase amount of earn ``i`` as `Money`."""
        i = self._row(i)
        if self.amounts is not None and self.amounts[i] is not None:
            found = self.amounts[i]
            assert found is not None
            return found
        return Money.of_minor(int(self.amount_minor[i]), self.currency or "")

    def purchase(self, i: int, customer_id: str) -> Purchase:
        """Earn ``i`` as the [`Purchase`][crmcore.customers.records.Purchase] of ``customer_id``."""
        i = self._row(i)
        k = int(self.category[i])
        return Purchase(
            self.refs[i],
            customer_id,
            from_micros(int(self.at_us[i])),
            self.money(i),
            channel=self.channels[int(self.channel[i])],
            category=None if k < 0 else self.categories[k],
        )

    def tier_of(self, i: int) -> str | None:
        """The tier name earn ``i`` was made in (``None``: none)."""
        i = self._row(i)
        t = int(self.tier[i])
        return None if t < 0 else self.tiers[t]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, object]]) -> Postings:
        """Postings from one mapping per operation (small batches, tests and docs):

        * ``{"account": 3, "kind": "earn", "key": ..., "purchase": Purchase, "tier": None}``;
        * ``{"account": 3, "kind": "award", "key": ..., "action": "review", "at": datetime,
          "points": None}``;
        * ``{"account": 3, "kind": "redeem", "key": ..., "points": 500, "at": datetime,
          "redemption_id": None}``.
        """
        columns: dict[str, list[object]] = {
            name: []
            for name in (
                "account",
                "kind",
                "at_us",
                "keys",
                "refs",
                "points",
                "amount_minor",
                "channel",
                "category",
                "tier",
                "amounts",
            )
        }
        vocab: dict[str, dict[str, int]] = {"channels": {}, "categories": {}, "tiers": {}}
        currency: str | None = None
        if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
            raise ValidationError("rows", rows, "must be an iterable of mappings")
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise ValidationError(f"rows[{i}]", row, "must be a mapping")
            kind = _KINDS.get(str(row.get("kind")))
            if kind is None:
                raise ValidationError(
                    f"rows[{i}].kind", row.get("kind"), "must be earn, award or redeem"
                )
            codes = [0, -1, -1]
            money: Money | None = None
            if kind is PostingKind.EARN:
                purchase = row.get("purchase")
                if not isinstance(purchase, Purchase):
                    raise ValidationError(f"rows[{i}].purchase", purchase, "must be a Purchase")
                money = purchase.amount
                currency = currency or money.currency
                if money.currency != currency:
                    raise ValidationError(f"rows[{i}].purchase.amount", money, f"is not {currency}")
                at: object = purchase.at
                ref: object = purchase.order_id
                points: object = 0
                tier = row.get("tier")
                for j, (name, value) in enumerate(
                    (
                        ("channels", purchase.channel),
                        ("categories", purchase.category),
                        ("tiers", tier),
                    )
                ):
                    if value is not None:
                        if not isinstance(value, str):
                            raise ValidationError(f"rows[{i}].tier", value, "must be a tier name")
                        codes[j] = vocab[name].setdefault(value, len(vocab[name]))
            else:
                at = row.get("at")
                points = row.get("points") or 0
                ref = row.get("action") if kind is PostingKind.AWARD else row.get("redemption_id")
            columns["account"].append(row.get("account"))
            columns["kind"].append(int(kind))
            columns["at_us"].append(to_micros(at, f"rows[{i}].at"))
            columns["keys"].append(row.get("key"))
            columns["refs"].append("" if ref is None else ref)
            columns["points"].append(points)
            minor = 0 if money is None else int(money.amount.scaleb(money.minor_units))
            columns["amount_minor"].append(minor)
            for name, code in zip(("channel", "category", "tier"), codes, strict=True):
                columns[name].append(code)
            columns["amounts"].append(money)
        for name in ("account", "points"):
            for i, value in enumerate(columns[name]):
                if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**63:
                    raise ValidationError(f"rows[{i}].{name}", value, "must be an int64 integer")
        return cls(
            **{
                name: np.asarray(columns[name], dtype=np.int64)
                for name in (
                    "account",
                    "kind",
                    "at_us",
                    "points",
                    "amount_minor",
                    "channel",
                    "category",
                    "tier",
                )
            },
            keys=columns["keys"],
            refs=columns["refs"],
            currency=currency,
            channels=tuple(vocab["channels"]) or ("web",),
            categories=tuple(vocab["categories"]),
            tiers=tuple(vocab["tiers"]),
            amounts=tuple(columns["amounts"]),
        )


@attrs.frozen(kw_only=True, eq=False, slots=False)
class BatchPosting:
    """The result of [`post_batch()`][crmcore.loyalty.posting_batch.post_batch].

    Per operation (input order): ``status`` ([`PostingStatus`][
    crmcore.loyalty.posting_batch.PostingStatus] codes), ``points`` (the signed points of its
    entry; 0 unless posted), ``balance`` (posted: the spendable balance its event reports; refused
    for insufficient points: the balance it was judged on; otherwise 0) and ``expired`` (points
    whose expiry was posted just before it). ``columns`` is the state after the batch (pass it to
    the next one); [`accounts`][crmcore.loyalty.posting_batch.BatchPosting.accounts] and
    [`events`][crmcore.loyalty.posting_batch.BatchPosting.events] are built on first use.
    """

    status: Int8Array
    points: Int64Array
    balance: Int64Array
    expired: Int64Array
    columns: LedgerColumns
    materialized: Materialized = attrs.field(repr=False)

    @functools.cached_property
    def accounts(self) -> tuple[LoyaltyAccount, ...]:
        """Every account after the batch, in input order (untouched ones as they were)."""
        return self.materialized.accounts()

    @functools.cached_property
    def events(self) -> tuple[DomainEvent, ...]:
        """The events of the posted operations in input order (an operation's expiry first)."""
        return self.materialized.events()

    def counts(self) -> dict[str, int]:
        """How many operations ended in each status (by status name)."""
        found = np.bincount(self.status, minlength=len(PostingStatus))
        return {status.name: int(found[status]) for status in PostingStatus}


def _accounts(program: LoyaltyProgram, accounts: object) -> tuple[LoyaltyAccount, ...]:
    if isinstance(accounts, str) or not isinstance(accounts, Sequence):
        raise ValidationError("accounts", accounts, "must be a sequence of LoyaltyAccount")
    out = tuple(accounts)
    # Once per distinct type and program (in C); a loop only to name the first bad one.
    if set(map(type, out)) <= {LoyaltyAccount} and set(map(_PROGRAM_ID, out)) <= {program.id}:
        return out
    for i, acc in enumerate(out):
        if not isinstance(acc, LoyaltyAccount) or acc.program_id != program.id:
            raise ValidationError(f"accounts[{i}]", acc, f"must be an account of {program.id!r}")
    return out


_PROGRAM_ID = operator.attrgetter("program_id")
_ID = operator.attrgetter("id")


def post_batch(
    program: LoyaltyProgram,
    accounts: Sequence[LoyaltyAccount],
    postings: Postings,
    *,
    columns: LedgerColumns | None = None,
) -> BatchPosting:
    """Post ``postings`` to ``accounts`` (all of ``program``) by the per-account rules, at array
    speed (see the module docstring).

    ``columns`` are the accounts' [`LedgerColumns`][crmcore.loyalty.ledger_batch.LedgerColumns]
    (from [`ledger_columns()`][crmcore.loyalty.ledger_batch.ledger_columns] or the previous
    batch's result); without them they are built here, one pass over the open lots.

    Raises:
        ValidationError: malformed input (naming ``postings.<column>[i]``); nothing is posted.
    """
    if not isinstance(program, LoyaltyProgram):
        raise ValidationError("program", program, "must be a LoyaltyProgram")
    if not isinstance(postings, Postings):
        raise ValidationError("postings", postings, "must be Postings")
    values = _accounts(program, accounts)
    if columns is None:
        columns = ledger_columns(program, values)
    elif not isinstance(columns, LedgerColumns) or columns.program_id != program.id:
        raise ValidationError("columns", columns, f"must be LedgerColumns of {program.id!r}")
    elif columns.account_ids != tuple(map(_ID, values)):
        raise ValidationError("columns", len(columns), "are not the columns of these accounts")
    elif columns.seed != FINGERPRINT_SEED:
        raise ValidationError("columns", columns.seed, "come from another process: rebuild them")
    inside = postings.account[postings.account < len(values)]
    touched = np.flatnonzero(np.bincount(inside, minlength=len(values))).tolist()
    lengths = np.fromiter(map(len, map(values.__getitem__, touched)), np.int64, len(touched))
    if not np.array_equal(columns.entries[touched], lengths):
        raise ValidationError("columns", len(columns), "are stale: the accounts have moved on")
    _first_bad(
        postings.account >= len(values),
        postings.account,
        "account",
        f"must be below the number of accounts ({len(values)})",
    )
    if (postings.kind == PostingKind.EARN).any() and postings.currency != program.currency:
        raise ValidationError(
            "postings.currency",
            postings.currency,
            f"must be the program currency {program.currency}",
        )
    outcome = route(program, values, columns, postings)
    return BatchPosting(
        status=outcome.status,
        points=outcome.points,
        balance=outcome.balance,
        expired=outcome.expired,
        columns=outcome.columns,
        materialized=materialize(program, values, postings, outcome),
    )
