"""Which path posts each account of a batch, and the batch's results assembled from both.

[`post_batch()`][crmcore.loyalty.posting_batch.post_batch] calls `route()`: it derives what the
rules need for every operation at once (purchase points, lot dates, deadlines, local days), sends
each touched account either to the numpy engine (`crmcore.loyalty._batch_engine`) or, when the
engine's preconditions do not hold for it, to the per-account methods of
[`LoyaltyAccount`][crmcore.loyalty.ledger.LoyaltyAccount], and assembles the per-operation results
and the new [`LedgerColumns`][crmcore.loyalty.ledger_batch.LedgerColumns].

The engine's preconditions, per account: its operations are in time order and not before its
latest entry (no late arrival), their keys and orders are new (no replay, no duplicate), every lot
they create sorts after its open lots (the FIFO place is the next column), every purchase's points
are exact in int64, and its points stay far below ``MAX_POINTS``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from crmcore.kernel.arrays import Int8Array, Int64Array, read_only
from crmcore.kernel.clock import DAY_US, from_micros
from crmcore.kernel.errors import (
    DuplicateOperationError,
    InsufficientPointsError,
    ValidationError,
)
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.loyalty._batch_engine import AWARD, EARN, REDEEM, EngineInput, EngineOutput, run
from crmcore.loyalty._batch_rules import (
    NEVER_US,
    NONE_US,
    fingerprints,
    inactivity_deadlines,
    local_days,
    lot_expiries,
    quote_purchases,
)
from crmcore.loyalty.entries import MAX_POINTS
from crmcore.loyalty.events import LoyaltyEvent, PointsExpired
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.ledger_batch import LedgerColumns, ledger_columns
from crmcore.loyalty.program import LoyaltyProgram

if TYPE_CHECKING:
    from crmcore.loyalty.posting_batch import Postings

__all__ = ["DUPLICATE", "INSUFFICIENT", "POSTED", "REPLAYED", "TOO_LATE", "Routed", "route"]

POSTED, REPLAYED, INSUFFICIENT, DUPLICATE, TOO_LATE = range(5)
"""The status codes (as [`PostingStatus`][crmcore.loyalty.posting_batch.PostingStatus])."""

_ROOM = MAX_POINTS // 2  # an account the batch could take this close to MAX_POINTS is checked
# one operation at a time, by the per-account path, which refuses the one that crosses it


_FIELDS = {"purchase.amount": "amount_minor", "points": "points"}
"""The postings column of the per-account argument a refusal names."""


class Reasons:
    """The reason text of each earn (its running campaigns), as a code per operation into
    ``text`` (-1: not an earn)."""

    __slots__ = ("combo", "text")

    def __init__(self, n: int) -> None:
        self.combo = np.full(n, -1, dtype=np.int64)
        self.text: list[str] = []

    def __getitem__(self, i: int) -> str:
        return self.text[int(self.combo[i])]


class Routed:
    """What `route()` found: per operation (input order) ``status``, ``points``, ``balance``,
    ``expired``; the new ``columns``; and what materialising the accounts needs: the engine's
    output with ``engine_ops`` (input index of each engine operation) and ``engine_rows``
    (account row of each engine row), the operations' derived values (``lot_expires``,
    ``lot_pending``, ``reasons`` of earns, ``actions`` of awards, ``amounts`` posted), and per
    fallback row the account after its operations and each operation's events."""

    __slots__ = (
        "actions",
        "amounts",
        "balance",
        "columns",
        "engine",
        "engine_ops",
        "engine_rows",
        "expired",
        "fallback",
        "lot_expires",
        "lot_pending",
        "points",
        "reasons",
        "status",
    )

    status: Int8Array
    points: Int64Array
    balance: Int64Array
    expired: Int64Array
    columns: LedgerColumns
    engine: EngineOutput | None
    engine_ops: Int64Array
    engine_rows: Int64Array
    lot_expires: Int64Array
    lot_pending: Int64Array
    amounts: Int64Array
    reasons: Reasons
    actions: dict[int, str]
    fallback: dict[int, tuple[LoyaltyAccount, dict[int, tuple[DomainEvent, ...]]]]


def _bad(i: int, field: str, value: object, reason: str) -> ValidationError:
    return ValidationError(f"postings.{field}[{i}]", value, reason)


class _Sorted:
    """The operations sorted by account row, stable (so in posting order within an account)."""

    __slots__ = ("first", "order", "rows", "starts", "stops", "unique")

    def __init__(self, postings: Postings) -> None:
        self.order = np.argsort(postings.account, kind="stable")
        self.rows = postings.account[self.order]
        self.first = np.ones(self.rows.shape[0], dtype=bool)
        self.first[1:] = self.rows[1:] != self.rows[:-1]
        self.starts = np.flatnonzero(self.first)
        self.stops = np.append(self.starts[1:], self.rows.shape[0])
        self.unique = self.rows[self.starts]


def _collisions(
    columns: LedgerColumns, postings: Postings
) -> tuple[set[int], Int64Array, Int64Array, Int64Array]:
    """Rows with an operation whose key (or, for an earn, order) may already be in its account or
    repeats within the batch: the per-account path decides replay or duplicate for those. Also
    the fingerprints of every operation's key, then of every earn's order (in that order), the
    same sorted, and those merged with the key index.

    Fingerprints prove novelty in C (two sorts, the second a merge of two sorted runs: equal
    neighbours are the fingerprints seen before or twice), with no Python lookup per key; a
    shared fingerprint is only a maybe, settled exactly by the per-account path.
    """
    n = len(postings)
    rows = postings.account
    earn = postings.kind == EARN
    orders = fingerprints(rows, postings.refs, n, order=True)[earn]
    prints = np.concatenate([fingerprints(rows, postings.keys, n, order=False), orders])
    ordered = np.sort(prints, kind="stable")  # measured ~1.5x faster than the default here
    merged = ordered
    if columns.key_index.size:  # stable: timsort merges the two sorted runs in one pass
        merged = np.sort(np.concatenate([columns.key_index, ordered]), kind="stable")
    clash = merged[1:][merged[1:] == merged[:-1]]  # (a pair inside the index is no clash)
    if not clash.size:
        return set(), prints, ordered, merged
    owners = np.concatenate([rows, rows[earn]])
    return set(owners[np.isin(prints, clash)].tolist()), prints, ordered, merged


def _points(
    program: LoyaltyProgram, postings: Postings
) -> tuple[Int64Array, Reasons, dict[int, str], set[int]]:
    """Each operation's points before the per-day cap, the earns' reasons (running campaigns),
    the awards' action names, and the rows with a purchase int64 cannot quote exactly."""
    kind = postings.kind
    points = postings.points.copy()
    actions: dict[int, str] = {}
    resolved: dict[tuple[str, int], tuple[str, int]] = {}
    for i in np.flatnonzero(kind == AWARD).tolist():
        ref, given = postings.refs[i], int(points[i])
        if (ref, given) not in resolved:
            try:
                resolved[ref, given] = program.action_points(ref, given or None)
            except ValidationError as error:
                raise _bad(i, "refs", ref, error.reason) from None
        actions[i], points[i] = resolved[ref, given]
    redeems = np.flatnonzero(kind == REDEEM)
    rule = program.redemption
    refused = (points[redeems] < rule.minimum) | (points[redeems] % rule.increment != 0)
    for i in redeems[refused][:1].tolist():  # the rule's own words for the first refused
        try:
            rule.check(int(points[i]))
        except ValidationError as error:
            raise _bad(i, "points", int(points[i]), error.reason) from None
    if redeems.size:
        biggest = int(redeems[np.argmax(points[redeems])])
        try:
            program.value_of(int(points[biggest]))
        except ValidationError as error:
            raise _bad(biggest, "points", int(points[biggest]), error.reason) from None
    earns = np.flatnonzero(kind == EARN)
    reasons = Reasons(len(postings))
    inexact: set[int] = set()
    if earns.size:
        quotes = quote_purchases(
            program,
            postings.amount_minor[earns],
            program.point_value.minor_units,
            postings.at_us[earns],
            postings.channel[earns],
            postings.channels,
            postings.category[earns],
            postings.categories,
            postings.tier[earns],
            postings.tiers,
        )
        points[earns] = quotes.points
        too_many = np.flatnonzero(quotes.exact & (quotes.points >= MAX_POINTS))
        if too_many.size:
            i = int(earns[too_many[0]])
            raise _bad(
                i,
                "amount_minor",
                int(postings.amount_minor[i]),
                f"earns {int(points[i])} points: 10**12 (MAX_POINTS) or more",
            )
        inexact = set(postings.account[earns[~quotes.exact]].tolist())
        reasons.combo[earns] = quotes.combo
        reasons.text.extend(", ".join(names) for names in quotes.names)
    return points, reasons, actions, inexact


def _previous(values: Int64Array, first: Int64Array, start: Int64Array) -> Int64Array:
    """Each value's predecessor within its row (``start`` for a row's first)."""
    out = np.empty_like(values)
    out[1:] = values[:-1]
    out[first] = start
    return out


def _checked_rows(
    columns: LedgerColumns,
    postings: Postings,
    sort: _Sorted,
    points: Int64Array,
    lot_expires: Int64Array,
) -> set[int]:
    """Rows whose operations break the engine's time, FIFO or bound preconditions."""
    order, rows, first = sort.order, sort.rows, sort.first
    at = postings.at_us[order]
    late = at < _previous(at, first, columns.last_us[rows[first]])
    found = set(rows[late].tolist())
    creating = postings.kind[order] != REDEEM
    if creating.any():
        c_rows = rows[creating]
        c_first = np.ones(c_rows.shape[0], dtype=bool)
        c_first[1:] = c_rows[1:] != c_rows[:-1]
        counts = np.diff(columns.lot_start)
        newest = np.full(len(columns), NONE_US, dtype=np.int64)  # each row's last FIFO lot
        has = counts > 0
        newest[has] = columns.expires_us[columns.lot_start[1:][has] - 1]
        expires = lot_expires[order][creating]
        out_of_place = expires < _previous(expires, c_first, newest[c_rows[c_first]])
        found.update(c_rows[out_of_place].tolist())
        sums = np.concatenate([[0], np.cumsum(columns.available)])
        held = sums[columns.lot_start[1:]] - sums[columns.lot_start[:-1]]
        added = np.zeros(len(columns), dtype=np.int64)
        np.add.at(added, c_rows, points[order][creating])
        found.update(np.flatnonzero(held + added >= _ROOM).tolist())
    return found


def route(
    program: LoyaltyProgram,
    accounts: tuple[LoyaltyAccount, ...],
    columns: LedgerColumns,
    postings: Postings,
) -> Routed:
    """Post ``postings``: the engine for the accounts it can post, the per-account path for the
    rest (see the module docstring)."""
    n = len(postings)
    kind = postings.kind
    at = postings.at_us
    points, reasons, actions, inexact = _points(program, postings)
    lot_expires = np.full(n, NEVER_US, dtype=np.int64)
    creating = np.flatnonzero(kind != REDEEM)
    lot_expires[creating] = lot_expiries(program, at[creating])
    lot_pending = np.full(n, NONE_US, dtype=np.int64)
    earns = kind == EARN
    if program.pending_days:
        lot_pending[earns] = at[earns] + program.pending_days * DAY_US
    sort = _Sorted(postings)
    clashes, prints, ordered, merged = _collisions(columns, postings)
    fallback = inexact | clashes
    fallback |= _checked_rows(columns, postings, sort, points, lot_expires)
    out = Routed()
    out.status = np.zeros(n, dtype=np.int8)
    out.points = np.zeros(n, dtype=np.int64)
    out.balance = np.zeros(n, dtype=np.int64)
    out.expired = np.zeros(n, dtype=np.int64)
    out.lot_expires, out.lot_pending, out.reasons, out.actions = (
        lot_expires,
        lot_pending,
        reasons,
        actions,
    )
    out.amounts = points
    to_engine = ~np.isin(sort.rows, np.fromiter(fallback, dtype=np.int64, count=len(fallback)))
    out.engine_ops = sort.order[to_engine]
    out.engine_rows, out.engine = _engine(program, columns, postings, points, out)
    out.fallback = _fallback(program, accounts, postings, sort.order[~to_engine], out)
    posted = _posted_prints(postings, out.status, prints, ordered)
    key_index = (  # all posted: the merge made above; else the same merge of fewer prints
        merged
        if posted is ordered
        else np.sort(np.concatenate([columns.key_index, posted]), kind="stable")
    )
    out.columns = _assemble(program, columns, out, key_index)
    for name in ("status", "points", "balance", "expired"):
        read_only(getattr(out, name))
    return out


def _engine(
    program: LoyaltyProgram,
    columns: LedgerColumns,
    postings: Postings,
    points: Int64Array,
    out: Routed,
) -> tuple[Int64Array, EngineOutput | None]:
    ops = out.engine_ops
    if not ops.size:
        return np.empty(0, dtype=np.int64), None
    rows = postings.account[ops]  # sorted: the engine's rows are runs of operations
    op_start = np.flatnonzero(np.diff(rows, prepend=-1))
    op_count = np.diff(np.append(op_start, rows.shape[0]))
    engine_rows = rows[op_start]
    at = postings.at_us[ops]
    kind = postings.kind[ops]
    derived = program._derived
    day = np.zeros(ops.shape[0], dtype=np.int64)
    cap = program.earn.max_points_per_day
    if cap is not None:
        earns = kind == EARN
        day[earns] = local_days(program, at[earns])
    result = run(
        EngineInput(
            lot_start=columns.lot_start[engine_rows],
            lot_count=columns.lot_start[engine_rows + 1] - columns.lot_start[engine_rows],
            available=columns.available,
            earned_us=columns.earned_us,
            expires_us=columns.expires_us,
            pending_us=columns.pending_us,
            debt=columns.debt[engine_rows],
            deadline_us=columns.deadline_us[engine_rows],
            cap_day=columns.cap_day[engine_rows],
            cap_points=columns.cap_points[engine_rows],
            entries=columns.entries[engine_rows],
            last_us=columns.last_us[engine_rows],
            op_start=op_start.astype(np.int64),
            op_count=op_count.astype(np.int64),
            kind=kind,
            at_us=at,
            points=points[ops],
            lot_expires=out.lot_expires[ops],
            lot_pending=out.lot_pending[ops],
            activity_deadline=inactivity_deadlines(program, at),
            day=day,
            day_cap=cap,
            inactivity=derived.inactivity,
        )
    )
    if cap is not None:  # the counter names the day of the latest entry, as ledger_columns has it
        dated = result.last_us != NONE_US
        days = np.full(result.last_us.shape[0], NONE_US, dtype=np.int64)
        days[dated] = local_days(program, result.last_us[dated])
        result.cap_points[result.cap_day != days] = 0
        result.cap_day[:] = days
    out.status[ops] = np.where(result.accepted, POSTED, INSUFFICIENT)
    out.points[ops] = result.points
    out.balance[ops] = result.balance
    out.expired[ops] = result.expired
    return engine_rows, result


def _fallback(
    program: LoyaltyProgram,
    accounts: tuple[LoyaltyAccount, ...],
    postings: Postings,
    ops: Int64Array,
    out: Routed,
) -> dict[int, tuple[LoyaltyAccount, dict[int, tuple[DomainEvent, ...]]]]:
    """Post ``ops`` (their accounts' operations, in posting order) one at a time on the
    per-account path."""
    done: dict[int, tuple[LoyaltyAccount, dict[int, tuple[DomainEvent, ...]]]] = {}
    for i in ops.tolist():
        row = int(postings.account[i])
        acc, events = done.get(row, (accounts[row], {}))
        when = from_micros(int(postings.at_us[i]))
        try:
            outcome = _one(program, acc, postings, i, when)
        except InsufficientPointsError as error:
            out.status[i] = INSUFFICIENT
            out.balance[i] = error.balance
        except DuplicateOperationError:
            out.status[i] = DUPLICATE
        except ValidationError as error:
            if error.field != "at":  # "at" is refused only beyond the out-of-order tolerance
                field = _FIELDS.get(error.field, error.field)
                raise _bad(i, field, error.value, error.reason) from error
            out.status[i] = TOO_LATE
        else:
            if outcome.value is acc and not outcome.events:
                out.status[i] = REPLAYED
            else:
                own = outcome.events[-1]
                assert isinstance(own, LoyaltyEvent)
                out.points[i] = own.points
                out.balance[i] = own.balance
                out.expired[i] = -sum(
                    e.points for e in outcome.events if isinstance(e, PointsExpired)
                )
                events[i] = outcome.events
                acc = outcome.value
        done[row] = (acc, events)
    return done


def _one(
    program: LoyaltyProgram, acc: LoyaltyAccount, postings: Postings, i: int, when: datetime
) -> Outcome[LoyaltyAccount]:
    """Operation ``i`` on the per-account path."""
    key = postings.keys[i]
    kind = int(postings.kind[i])
    if kind == EARN:
        purchase = postings.purchase(i, acc.customer_id)
        return acc.earn(program, purchase, key=key, tier=postings.tier_of(i))
    given = int(postings.points[i])
    if kind == AWARD:
        return acc.award(program, postings.refs[i], at=when, key=key, points=given or None)
    ref = postings.refs[i] or None
    return acc.redeem(program, given, at=when, key=key, redemption_id=ref)


def _posted_prints(
    postings: Postings, status: Int8Array, prints: Int64Array, ordered: Int64Array
) -> Int64Array:
    """The fingerprints of the keys (and, for earns, orders) of the posted operations, sorted:
    ``ordered`` (all of ``prints``, sorted) less one copy of each print not posted."""
    posted = status == POSTED
    dropped = np.sort(prints[~np.concatenate([posted, posted[postings.kind == EARN]])])
    if not dropped.size:
        return ordered
    # The k-th copy of a value among the dropped removes its k-th copy in ``ordered``.
    first = np.ones(dropped.shape[0], dtype=bool)
    first[1:] = dropped[1:] != dropped[:-1]
    index = np.arange(dropped.shape[0])
    copy = index - np.maximum.accumulate(np.where(first, index, 0))
    return np.delete(ordered, np.searchsorted(ordered, dropped) + copy)


def _assemble(
    program: LoyaltyProgram, columns: LedgerColumns, out: Routed, key_index: Int64Array
) -> LedgerColumns:
    """The columns after the batch: untouched rows copied, the others from the engine's final
    state or from the per-account results."""
    n = len(columns)
    counts = np.diff(columns.lot_start).astype(np.int64)
    changed = np.zeros(n, dtype=bool)
    per_row = {
        name: np.array(getattr(columns, name))
        for name in ("debt", "last_us", "deadline_us", "entries", "cap_day", "cap_points")
    }
    sources: list[tuple[Int64Array, Int64Array, tuple[Int64Array, ...]]] = []
    engine = out.engine
    if engine is not None:
        rows = out.engine_rows
        changed[rows] = True
        counts[rows] = engine.lot_count
        for name, value in (
            ("debt", engine.debt),
            ("last_us", engine.last_us),
            ("deadline_us", engine.deadline_us),
            ("entries", engine.entries),
            ("cap_day", engine.cap_day),
            ("cap_points", engine.cap_points),
        ):
            per_row[name][rows] = value
        sources.append(
            (
                rows,
                engine.lot_count,
                (engine.available, engine.earned_us, engine.expires_us, engine.pending_us),
            )
        )
    if out.fallback:
        rows = np.asarray(sorted(out.fallback), dtype=np.int64)
        redone = ledger_columns(program, [out.fallback[r][0] for r in rows.tolist()])
        lot_count = np.diff(redone.lot_start).astype(np.int64)
        changed[rows] = True
        counts[rows] = lot_count
        for name in per_row:
            per_row[name][rows] = getattr(redone, name)
        sources.append(
            (
                rows,
                lot_count,
                (redone.available, redone.earned_us, redone.expires_us, redone.pending_us),
            )
        )
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    old_counts = np.diff(columns.lot_start)
    lot_row = np.repeat(np.arange(n, dtype=np.int64), old_counts)
    kept = ~changed[lot_row]
    old_start = columns.lot_start[:-1]
    untouched = np.flatnonzero(kept)
    dest_old = start[lot_row[untouched]] + (untouched - old_start[lot_row[untouched]])
    total = int(start[-1])
    lots = []
    for k, name in enumerate(("available", "earned_us", "expires_us", "pending_us")):
        values = np.empty(total, dtype=np.int64)
        values[dest_old] = getattr(columns, name)[untouched]
        for rows, lot_count, arrays in sources:
            first = np.repeat(start[rows], lot_count)
            rank = np.arange(first.shape[0]) - np.repeat(
                np.cumsum(lot_count) - lot_count, lot_count
            )
            values[first + rank] = arrays[k]
        lots.append(read_only(values))
    return LedgerColumns(
        program_id=columns.program_id,
        account_ids=columns.account_ids,
        lot_start=read_only(start),
        available=lots[0],
        earned_us=lots[1],
        expires_us=lots[2],
        pending_us=lots[3],
        debt=read_only(per_row["debt"]),
        last_us=read_only(per_row["last_us"]),
        deadline_us=read_only(per_row["deadline_us"]),
        entries=read_only(per_row["entries"]),
        cap_day=read_only(per_row["cap_day"]),
        cap_points=read_only(per_row["cap_points"]),
        key_index=read_only(key_index),
        seed=columns.seed,
    )
