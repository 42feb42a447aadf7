"""The ledger's array path over many accounts: their state as columns, nightly expiry, liability.

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

[`LedgerColumns`][crmcore.loyalty.ledger_batch.LedgerColumns] (from
[`ledger_columns()`][crmcore.loyalty.ledger_batch.ledger_columns]) is the fuller columnar state the
batch posting path ([`crmcore.loyalty.posting_batch`][crmcore.loyalty.posting_batch]) reads and
returns: the open lots by account plus each account's debt, latest time, inactivity deadline and
per-day cap counter, with the spendable balance of every account in one call
([`LedgerColumns.balances()`][crmcore.loyalty.ledger_batch.LedgerColumns.balances]) and its lots as
[`LotColumns`][crmcore.loyalty.ledger_batch.LotColumns] for the reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np

from crmcore.kernel import validators
from crmcore.kernel.arrays import Int64Array, read_only
from crmcore.kernel.clock import EPOCH, to_micros, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.money import Money, to_decimal
from crmcore.kernel.reports import fmt, fmt_datetime, html_table, json_number, records_frame
from crmcore.loyalty._batch_rules import FINGERPRINT_SEED, fingerprints, local_days
from crmcore.loyalty._batch_rules import NEVER_US as _NEVER
from crmcore.loyalty._batch_rules import NONE_US as _NONE
from crmcore.loyalty._posting import earned_on_day
from crmcore.loyalty.events import PointsExpired
from crmcore.loyalty.expiry import ExpiryRule, program_zone
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.program import LoyaltyProgram
from crmcore.plotting.loyalty import plot_liability

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = [
    "ExpiryRun",
    "LedgerColumns",
    "LiabilityReport",
    "LotColumns",
    "NEVER_US",
    "NONE_US",
    "expire_all",
    "ledger_columns",
    "liability_report",
    "lot_columns",
]

NEVER_US: Final = _NEVER
"""Stands for "no date" in the int64 microsecond columns (the largest int64: after every time)."""
NONE_US: Final = _NONE
"""Stands for "not pending" in the ``pending_us`` of
[`LedgerColumns`][crmcore.loyalty.ledger_batch.LedgerColumns] (the least int64: before every time).
"""


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


def _checked(program: object, accounts: object) -> tuple[LoyaltyProgram, Sequence[LoyaltyAccount]]:
    """``program`` and ``accounts`` (a list or tuple as given, any other collection as a tuple)
    once checked for their kinds; each account's program is checked where it is read."""
    if not isinstance(program, LoyaltyProgram):
        raise ValidationError("program", program, "must be a LoyaltyProgram")
    if isinstance(accounts, list | tuple):
        return program, accounts
    return program, validators.instances_of(accounts, LoyaltyAccount, "accounts")


def lot_columns(program: LoyaltyProgram, accounts: Sequence[LoyaltyAccount]) -> LotColumns:
    """Flatten every open lot of ``accounts`` (all of ``program``) into columns."""
    program, accounts = _checked(program, accounts)
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
class LedgerColumns:
    """The state of many accounts of one program as numpy columns (read-only arrays).

    The open lots are stored by account: account ``i``'s are rows ``lot_start[i]`` to
    ``lot_start[i + 1]`` of ``available``, ``earned_us``, ``expires_us`` and ``pending_us``, in
    FIFO order (instants are microseconds since the epoch;
    [`NEVER_US`][crmcore.loyalty.ledger_batch.NEVER_US] is no expiry,
    [`NONE_US`][crmcore.loyalty.ledger_batch.NONE_US] not pending). Per account: ``debt``,
    ``last_us`` (the latest business time, ``NONE_US`` for an empty ledger), ``deadline_us``
    (the inactivity deadline, ``NEVER_US`` for none), ``entries`` (the ledger's length), and the
    per-day cap's counter: ``cap_day`` (the local day of ``last_us``, in days since 1970-01-01)
    and ``cap_points`` (what purchases of that day earned). ``key_index`` holds sorted 64-bit
    fingerprints of every account's entry keys and earned orders, which tell the batch path that
    its keys are new without a Python lookup per key; they come from Python's string hash, which
    differs between processes, so columns are for the process that built them (``seed`` says
    which, and another process's are refused).
    """

    program_id: str
    account_ids: tuple[str, ...]
    lot_start: Int64Array
    available: Int64Array
    earned_us: Int64Array
    expires_us: Int64Array
    pending_us: Int64Array
    debt: Int64Array
    last_us: Int64Array
    deadline_us: Int64Array
    entries: Int64Array
    cap_day: Int64Array
    cap_points: Int64Array
    key_index: Int64Array
    seed: int

    def __len__(self) -> int:
        return len(self.account_ids)

    def balances(self, as_of: datetime) -> Int64Array:
        """The spendable balance of every account as of ``as_of``: open lots neither pending nor
        expired (none past the inactivity deadline), minus the debt.

        ``as_of`` must not be before an account's latest entry (for an earlier time, ask the
        account: [`LoyaltyAccount.balance()`][crmcore.loyalty.ledger.LoyaltyAccount.balance]
        replays its entries).
        """
        now = _us(to_utc(as_of, "as_of"))
        behind = np.flatnonzero(self.last_us > now)
        if behind.size:
            account = self.account_ids[int(behind[0])]
            raise ValidationError("as_of", as_of, f"is before the latest entry of {account!r}")
        live = (self.expires_us > now) & (self.pending_us <= now)
        sums = np.concatenate([[0], np.cumsum(np.where(live, self.available, 0))])
        spendable = sums[self.lot_start[1:]] - sums[self.lot_start[:-1]]
        spendable[self.deadline_us <= now] = 0
        return read_only(spendable - self.debt)

    def lots(self) -> LotColumns:
        """The open lots as [`LotColumns`][crmcore.loyalty.ledger_batch.LotColumns] (for
        [`liability_report()`][crmcore.loyalty.ledger_batch.liability_report] and
        [`expire_all()`][crmcore.loyalty.ledger_batch.expire_all])."""
        counts = np.diff(self.lot_start)
        account = np.repeat(np.arange(len(self.account_ids), dtype=np.int64), counts)
        deadline = self.deadline_us[account]
        expires = np.where(deadline != NEVER_US, deadline, self.expires_us)
        pending = np.where(self.pending_us == NONE_US, NEVER_US, self.pending_us)
        return LotColumns(
            account_ids=self.account_ids,
            account=read_only(account),
            available=self.available,
            earned_us=self.earned_us,
            expires_us=read_only(expires),
            pending_us=read_only(pending),
            debt=self.debt,
        )


def ledger_columns(program: LoyaltyProgram, accounts: Sequence[LoyaltyAccount]) -> LedgerColumns:
    """The [`LedgerColumns`][crmcore.loyalty.ledger_batch.LedgerColumns] of ``accounts`` (all of
    ``program``): one pass over their open lots."""
    program, accounts = _checked(program, accounts)
    n = len(accounts)
    lot_start = np.zeros(n + 1, dtype=np.int64)
    available: list[int] = []
    earned: list[int] = []
    expires: list[int] = []
    pending: list[int] = []
    per_account = np.zeros((6, n), dtype=np.int64)  # debt, last, deadline, entries, day, points
    debt, last, deadline, entries, cap_day, cap_points = per_account
    last[:] = NONE_US
    deadline[:] = NEVER_US
    cap_day[:] = NONE_US
    derived = program._derived
    capped = program.earn.max_points_per_day is not None
    ids: list[str] = []
    names: tuple[list[int], list[str], list[int], list[str]] = ([], [], [], [])
    for i, acc in enumerate(accounts):
        if not isinstance(acc, LoyaltyAccount) or acc.program_id != program.id:
            raise ValidationError(f"accounts[{i}]", acc, f"must be an account of {program.id!r}")
        ids.append(acc.id)
        state = acc._state
        _names(state.journal.index, state.n, i, names)
        for lot in state.lots:
            available.append(lot.available)
            earned.append(_us(lot.earned_at))
            expires.append(_us(lot.expires_at))
            pending.append(NONE_US if lot.pending_until is None else _us(lot.pending_until))
        lot_start[i + 1] = len(available)
        debt[i] = state.debt
        entries[i] = state.n
        if state.last_at is not None:
            last[i] = _us(state.last_at)
            if capped:
                cap_points[i] = earned_on_day(state, program, state.last_at)
        if derived.inactivity and state.last_activity is not None:
            policy = program.expiry
            deadline[i] = _us(policy.inactivity_deadline(state.last_activity, program.timezone))
    if capped:
        dated = last != NONE_US
        cap_day[dated] = local_days(program, last[dated])
    lots = [np.asarray(v, dtype=np.int64) for v in (available, earned, expires, pending)]
    key_rows, keys, order_rows, orders = names
    index = np.sort(
        np.concatenate(
            [
                fingerprints(np.asarray(key_rows, np.int64), keys, len(keys), order=False),
                fingerprints(np.asarray(order_rows, np.int64), orders, len(orders), order=True),
            ]
        )
    )
    return LedgerColumns(
        program_id=program.id,
        account_ids=tuple(ids),
        lot_start=read_only(lot_start),
        available=read_only(lots[0]),
        earned_us=read_only(lots[1]),
        expires_us=read_only(lots[2]),
        pending_us=read_only(lots[3]),
        debt=read_only(debt.copy()),
        last_us=read_only(last.copy()),
        deadline_us=read_only(deadline.copy()),
        entries=read_only(entries.copy()),
        cap_day=read_only(cap_day.copy()),
        cap_points=read_only(cap_points.copy()),
        key_index=read_only(index),
        seed=FINGERPRINT_SEED,
    )


def _names(
    index: dict[str, int],
    length: int,
    row: int,
    out: tuple[list[int], list[str], list[int], list[str]],
) -> None:
    """Collect the keys and earned orders of the first ``length`` entries (a journal's index
    maps them to positions; the expiry entries' own keys, with ``#``, are no caller's)."""
    for name, position in index.items():
        if position >= length:
            continue
        if name.startswith("order#"):
            out[2].append(row)
            out[3].append(name[6:])
        elif "#" not in name:
            out[0].append(row)
            out[1].append(name)


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
    program, accounts = _checked(program, accounts)
    instant = to_utc(as_of, "as_of")
    if columns is not None and not isinstance(columns, LotColumns):
        raise ValidationError("columns", columns, "must be LotColumns (from lot_columns) or None")
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

    def to_pandas(self) -> pd.DataFrame:
        """One row per expiry month: ``month``, ``points``, ``pending``, ``value`` (a float in
        ``currency``, for analysis; ``to_dict()`` keeps it exact) and ``currency``."""
        rows = [
            {
                "month": m,
                "points": p,
                "pending": q,
                "value": float(v.amount),
                "currency": v.currency,
            }
            for m, p, q, v in zip(self.months, self.points, self.pending, self.values, strict=True)
        ]
        columns = ("month", "points", "pending", "value", "currency")
        return records_frame(rows, "LiabilityReport.to_pandas", columns)

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """The value by expiry month: [`plot_liability()`][crmcore.plotting.loyalty.plot_liability]
        (give it several reports for the liability over time)."""
        return plot_liability(self, ax=ax)

    def _repr_html_(self) -> str:
        rows = [
            [m, p, q, v]
            for m, p, q, v in zip(self.months, self.points, self.pending, self.values, strict=True)
        ]
        top = max((p + q for p, q in zip(self.points, self.pending, strict=True)), default=0)
        caption = (
            f"as of {fmt_datetime(self.as_of)}; "
            f"total {self.total_points:,} points = {fmt(self.total_value)}"
        )
        if self.liability is not None:
            caption += (
                f"; liability at {self.expected_redemption} redemption = {fmt(self.liability)}"
            )
        return html_table(
            f"Points liability: {self.program_id}",
            ["expires in", "points", "pending", "value"],
            rows,
            kinds=["auto", "int", "int", "money"],
            bars={1: float(top)} if top else None,
            caption=caption,
            currency=self.point_value.currency,
        )


def _rate(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ValidationError("expected_redemption", value, "must be a Decimal between 0 and 1")
    rate = to_decimal(value, "expected_redemption")
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
    if not isinstance(program, LoyaltyProgram):
        raise ValidationError("program", program, "must be a LoyaltyProgram")
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
