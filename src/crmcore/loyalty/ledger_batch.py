"""The ledger's array path over many accounts: nightly expiry and the points liability report.

The per-account path is [`LoyaltyAccount`][crmcore.loyalty.ledger.LoyaltyAccount].

Both start from [`lot_columns()`][crmcore.loyalty.ledger_batch.lot_columns], which flattens the open
lots of every account into numpy columns once (account index, available points, earned, expiry and
pending instants as ``int64`` microseconds since the epoch, with the inactivity deadline standing in
for the expiry of lots under the inactivity rule). Then:

* [`expire_all()`][crmcore.loyalty.ledger_batch.expire_all] finds the accounts with something due as
  of a date with one vectorised mask and runs
  [`LoyaltyAccount.expire()`][crmcore.loyalty.ledger.LoyaltyAccount.expire] on those only (the same
  rule as one account at a time; the tests check they agree);
* [`liability_report()`][crmcore.loyalty.ledger_batch.liability_report] groups outstanding points by
  the month they expire in (program time zone) with ``np.unique`` and exact sums per month (sort +
  ``np.add.reduceat``), and values them at the program's point value. With ``expected_redemption``
  (1 - expected breakage) it also gives the IFRS 15 / ASC 606 contract liability, the value of the
  points expected to be redeemed (the material right is released on redemption or expiry; PEERS.md
  §4.2, [AC1]).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import numpy as np

from crmcore.kernel.arrays import Int64Array
from crmcore.kernel.clock import EPOCH, to_micros, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.money import Money
from crmcore.kernel.reports import html_table, json_number
from crmcore.loyalty.events import PointsExpired
from crmcore.loyalty.expiry import ExpiryRule, program_zone
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.program import LoyaltyProgram

__all__ = [
    "ExpiryRun",
    "LiabilityReport",
    "LotColumns",
    "expire_all",
    "liability_report",
    "lot_columns",
]

NEVER_US = np.iinfo(np.int64).max
"""Stands for "no date" in the int64 microsecond columns."""


def _us(value: datetime | None) -> int:
    if value is None:
        return int(NEVER_US)
    return to_micros(value)


@attrs.frozen(eq=False)
class LotColumns:
    """The open lots of many accounts as numpy columns (one row per lot).

    ``account`` indexes ``account_ids``; instants are ``int64`` microseconds
    since the epoch ([`NEVER_US`][crmcore.loyalty.ledger_batch.NEVER_US] for none). ``expires_us``
    already holds the inactivity deadline for lots under the inactivity rule. ``debt`` is per
    account.
    """

    account_ids: tuple[str, ...]
    account: Int64Array
    available: Int64Array
    earned_us: Int64Array
    expires_us: Int64Array
    pending_us: Int64Array
    debt: Int64Array

    def __len__(self) -> int:
        return int(self.account.shape[0])


def lot_columns(program: LoyaltyProgram, accounts: Sequence[LoyaltyAccount]) -> LotColumns:
    """Flatten every open lot of ``accounts`` (all of ``program``) into columns."""
    inactivity = program.expiry.rule is ExpiryRule.INACTIVITY
    account: list[int] = []
    available: list[int] = []
    earned: list[int] = []
    expires: list[int] = []
    pending: list[int] = []
    debt = np.zeros(len(accounts), dtype=np.int64)
    ids: list[str] = []
    for i, acc in enumerate(accounts):
        if not isinstance(acc, LoyaltyAccount) or acc.program_id != program.id:
            raise ValidationError(f"accounts[{i}]", acc, f"must be an account of {program.id!r}")
        ids.append(acc.id)
        debt[i] = acc.debt
        lots = acc.lots
        if not lots:
            continue
        deadline = (
            program.expiry.inactivity_deadline(acc.last_activity, program.timezone)
            if inactivity
            else None
        )
        for lot in lots:
            account.append(i)
            available.append(lot.available)
            earned.append(_us(lot.earned_at))
            expires.append(_us(deadline if inactivity else lot.expires_at))
            pending.append(_us(lot.pending_until))
    return LotColumns(
        account_ids=tuple(ids),
        account=np.asarray(account, dtype=np.int64),
        available=np.asarray(available, dtype=np.int64),
        earned_us=np.asarray(earned, dtype=np.int64),
        expires_us=np.asarray(expires, dtype=np.int64),
        pending_us=np.asarray(pending, dtype=np.int64),
        debt=debt,
    )


@attrs.frozen(eq=False)
class ExpiryRun:
    """The result of [`expire_all()`][crmcore.loyalty.ledger_batch.expire_all]: every account
    (changed or not) and the events.

    ``accounts`` is in input order; ``expired_points`` the points expired and
    ``accounts_expired`` how many accounts posted an expiry.
    """

    accounts: tuple[LoyaltyAccount, ...]
    events: tuple[DomainEvent, ...]
    expired_points: int
    accounts_expired: int


def expire_all(
    program: LoyaltyProgram,
    accounts: Sequence[LoyaltyAccount],
    as_of: datetime,
    *,
    columns: LotColumns | None = None,
) -> ExpiryRun:
    """Post the expiry due by ``as_of`` on every account of ``program`` that has some.

    Accounts with nothing due are returned as they are. Which accounts have
    something due is read from each account's
    [`next_expiry()`][crmcore.loyalty.ledger.LoyaltyAccount.next_expiry] (constant time per
    account), or, when ``columns`` from [`lot_columns()`][crmcore.loyalty.ledger_batch.lot_columns]
    are given (e.g. already built for a liability report), from one vectorised mask over them.
    """
    instant = to_utc(as_of, "as_of")
    for i, acc in enumerate(accounts):
        if not isinstance(acc, LoyaltyAccount) or acc.program_id != program.id:
            raise ValidationError(f"accounts[{i}]", acc, f"must be an account of {program.id!r}")
    if columns is None:
        touched = [
            i
            for i, acc in enumerate(accounts)
            if (soonest := acc.next_expiry(program)) is not None and soonest <= instant
        ]
    else:
        if len(columns.account_ids) != len(accounts):
            raise ValidationError("columns", len(columns.account_ids), "do not match the accounts")
        due = columns.expires_us <= _us(instant)
        touched = np.unique(columns.account[due]).tolist()
    out = list(accounts)
    events: list[DomainEvent] = []
    changed = 0
    expired = 0
    for i in touched:
        outcome = out[i].expire(program, instant)
        if outcome.events:
            changed += 1
            expired -= sum(e.points for e in outcome.events if isinstance(e, PointsExpired))
            out[i] = outcome.value
            events.extend(outcome.events)
    return ExpiryRun(tuple(out), tuple(events), expired, changed)


def _month_codes(program: LoyaltyProgram, expires_us: Int64Array) -> Int64Array:
    """``year * 12 + month - 1`` of the last valid instant of each lot (program zone)."""
    last = expires_us - 1
    zone = program_zone(program.timezone)
    if zone is UTC:
        months = last.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
        return months + 1970 * 12
    uniq, inverse = np.unique(last, return_inverse=True)
    codes = np.empty(uniq.shape[0], dtype=np.int64)
    for j, value in enumerate(uniq.tolist()):
        local = (EPOCH + timedelta(microseconds=value)).astimezone(zone)
        codes[j] = local.year * 12 + local.month - 1
    return codes[inverse.reshape(-1)]


@attrs.frozen(kw_only=True, eq=False)
class LiabilityReport:
    """Outstanding points by expiry month and their money value, as of a time.

    Rows are months (``"YYYY-MM"``, the month the points' validity ends, in
    the program's time zone) then ``"never"``; ``points`` are spendable
    points, ``pending`` points still in their return window, ``value`` what
    both are worth at the point value. ``liability`` is the value expected to
    be redeemed (``expected_redemption`` x value), ``None`` when no rate was
    given. ``debt`` is the points owed by accounts (``allow_negative``).
    """

    as_of: datetime
    program_id: str
    point_value: Money
    months: tuple[str, ...]
    points: tuple[int, ...]
    pending: tuple[int, ...]
    expected_redemption: Decimal | None
    debt: int
    accounts: int

    @property
    def total_points(self) -> int:
        """Spendable plus pending points outstanding."""
        return sum(self.points) + sum(self.pending)

    @property
    def values(self) -> tuple[Money, ...]:
        """The money value of each month's points (spendable + pending)."""
        return tuple(
            self.point_value * (p + q) for p, q in zip(self.points, self.pending, strict=True)
        )

    @property
    def total_value(self) -> Money:
        """The money value of every outstanding point."""
        return self.point_value * self.total_points

    @property
    def liability(self) -> Money | None:
        """The contract liability: total value x expected redemption rate (rounded)."""
        if self.expected_redemption is None:
            return None
        return (self.total_value * self.expected_redemption).rounded()

    def to_dict(self) -> dict[str, object]:
        """JSON-compatible report (money as exact strings)."""
        liability = self.liability
        return {
            "as_of": self.as_of.isoformat(),
            "program_id": self.program_id,
            "currency": self.point_value.currency,
            "point_value": str(self.point_value.amount),
            "accounts": self.accounts,
            "months": [
                {
                    "month": m,
                    "points": json_number(p),
                    "pending": json_number(q),
                    "value": str(v.amount),
                }
                for m, p, q, v in zip(
                    self.months, self.points, self.pending, self.values, strict=True
                )
            ],
            "total_points": self.total_points,
            "total_value": str(self.total_value.amount),
            "expected_redemption": None
            if self.expected_redemption is None
            else str(self.expected_redemption),
            "liability": None if liability is None else str(liability.amount),
            "debt": self.debt,
        }

    def _repr_html_(self) -> str:
        rows = [
            [m, p, q, str(v)]
            for m, p, q, v in zip(self.months, self.points, self.pending, self.values, strict=True)
        ]
        top = max((p + q for p, q in zip(self.points, self.pending, strict=True)), default=0)
        caption = (
            f"as of {self.as_of.isoformat()}; "
            f"total {self.total_points:,} points = {self.total_value}"
        )
        if self.liability is not None:
            caption += f"; liability at {self.expected_redemption} redemption = {self.liability}"
        return html_table(
            f"Points liability: {self.program_id}",
            ["expires in", "points", "pending", "value"],
            rows,
            kinds=["auto", "int", "int", "auto"],
            bars={1: float(top)} if top else None,
            caption=caption,
        )


def _rate(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ValidationError("expected_redemption", value, "must be a Decimal between 0 and 1")
    rate = Decimal(value)
    if not Decimal(0) <= rate <= Decimal(1):
        raise ValidationError("expected_redemption", value, "must be between 0 and 1")
    return rate


def _group_sums(groups: Int64Array, values: Int64Array, count: int) -> list[int]:
    """Exact integer sums of ``values`` per group code ``0..count-1`` (sort + reduceat)."""
    if count == 0:
        return []
    order = np.argsort(groups, kind="stable")
    starts = np.searchsorted(groups[order], np.arange(count))
    return [int(x) for x in np.add.reduceat(values[order], starts).tolist()]


def liability_report(
    program: LoyaltyProgram,
    accounts: Sequence[LoyaltyAccount] | LotColumns,
    as_of: datetime,
    *,
    expected_redemption: Decimal | str | None = None,
) -> LiabilityReport:
    """Outstanding points by expiry month, valued (vectorised).

    Counts the open lots earned by ``as_of`` and not expired as of then; run it
    on accounts as they stand (lots already consumed are gone), typically
    right after [`expire_all()`][crmcore.loyalty.ledger_batch.expire_all].
    """
    instant = to_utc(as_of, "as_of")
    rate = _rate(expected_redemption)
    cols = accounts if isinstance(accounts, LotColumns) else lot_columns(program, accounts)
    now = _us(instant)
    live = (cols.expires_us > now) & (cols.available > 0) & (cols.earned_us <= now)
    is_pending = live & (cols.pending_us != NEVER_US) & (cols.pending_us > now)
    never = cols.expires_us == NEVER_US
    dated = live & ~never
    codes = _month_codes(program, cols.expires_us[dated])
    uniq, inverse = np.unique(codes, return_inverse=True)
    inverse = inverse.reshape(-1)
    spend_pts = np.where(is_pending[dated], 0, cols.available[dated])
    pend_pts = np.where(is_pending[dated], cols.available[dated], 0)
    months = [f"{int(c) // 12:04d}-{int(c) % 12 + 1:02d}" for c in uniq.tolist()]
    point_rows = _group_sums(inverse, spend_pts, uniq.shape[0])
    pending_rows = _group_sums(inverse, pend_pts, uniq.shape[0])
    undated = live & never
    if undated.any():
        months.append("never")
        point_rows.append(int(cols.available[undated & ~is_pending].sum()))
        pending_rows.append(int(cols.available[undated & is_pending].sum()))
    return LiabilityReport(
        as_of=instant,
        program_id=program.id,
        point_value=program.point_value,
        months=tuple(months),
        points=tuple(point_rows),
        pending=tuple(pending_rows),
        expected_redemption=rate,
        debt=int(cols.debt.sum()),
        accounts=len(cols.account_ids),
    )
