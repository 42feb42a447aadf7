"""Loyalty use cases: accounts, earning with tiers, redemption, refunds, expiry, referrals.

Each function is one unit of work over a [`Store`][crmcore.ports.Store]: it
loads the [`LoyaltyAccount`][crmcore.loyalty.ledger.LoyaltyAccount] (and the tier
status or referral code and claim it needs), calls the ledger, saves, and queues the
events in the same transaction, so it completes entirely or changes nothing.

* **Idempotency.** Every posting takes the caller's ``key``. Replaying a
  key with the same request returns the stored account and writes nothing
  (no new version, no event); the same key with another request raises
  [`DuplicateOperationError`][crmcore.kernel.errors.DuplicateOperationError]. A request that timed
  out can therefore simply be sent again.
* **Concurrency.** Functions reload what they change, so each redoes its unit of work after a
  concurrent change of the same account (or a transient database failure) with the ``retry``
  policy ([`DEFAULT_RETRY`][crmcore.services.retry.DEFAULT_RETRY]: bounded exponential backoff
  with jitter); ``retry=None`` lets the
  [`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError] through at once.
  Replays are safe: the idempotency key makes a posting that did commit a no-op.
* **Tiers.** With a ``tier_policy``,
  [`earn_for_purchase()`][crmcore.services.loyalty.earn_for_purchase] earns at the stored
  [`TierStatus`][crmcore.loyalty.tiers.TierStatus] tier (stored under the account id) and then
  re-evaluates it from the ledger's qualifying earns, in the same unit of work: an upgrade applies
  from the next purchase. The tier multipliers come from the policy: a program without
  ``earn.tier_multipliers`` earns with ``tier_policy.multipliers()``; a program with its own must
  agree with the policy.
* **Referrals.** Each code and each claim is its own small aggregate, so a
  claim writes one code and one claim, whatever the program's size.
  [`claim_referral()`][crmcore.services.loyalty.claim_referral] saves the code's new use count and
  the claim in one unit of work; [`qualify_referral()`][crmcore.services.loyalty.qualify_referral]
  posts both reward instructions to the referrer's and the referee's accounts in the program (found
  by customer) together with the rewarded claim, in one unit of work; the program must configure the
  ``referral`` action.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.customers.records import Purchase
    >>> from crmcore.loyalty.program import LoyaltyProgram
    >>> from crmcore.kernel.money import Money
    >>> from crmcore.storage.memory import MemoryStore
    >>> store = MemoryStore()
    >>> program = LoyaltyProgram(id="P", currency="EUR", point_value=Money("0.01", "EUR"))
    >>> at = datetime(2026, 3, 1, tzinfo=UTC)
    >>> _ = open_account(store, "A-1", "c-1", program)
    >>> sale = Purchase("o-1", "c-1", at, Money("120.50", "EUR"))
    >>> earn_for_purchase(store, "A-1", program, sale, key="earn-o-1").account.balance(at)
    120
    >>> account = redeem_points(store, "A-1", program, 100, at=at, key="r-1")
    >>> # a replay posts nothing:
    >>> redeem_points(store, "A-1", program, 100, at=at, key="r-1") == account
    True
    >>> account.balance(at), account.version
    (20, 3)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation

import attrs

from crmcore.customers.records import Purchase
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import (
    AlreadyExistsError,
    NotFoundError,
    ValidationError,
)
from crmcore.kernel.events import Outcome
from crmcore.kernel.money import Money
from crmcore.kernel.validators import storable_text
from crmcore.loyalty.events import PointsExpired
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.ledger_batch import LiabilityReport, expire_all, liability_report
from crmcore.loyalty.program import LoyaltyProgram
from crmcore.loyalty.referrals import (
    ReferralClaim,
    ReferralCode,
    ReferralProgram,
    ReferralResult,
    claim_id,
    referral_code,
)
from crmcore.loyalty.tier_policy import TierPolicy
from crmcore.loyalty.tiers import TierStatus, facts_from_ledger
from crmcore.ports import Store, UnitOfWork
from crmcore.services._checks import store_of
from crmcore.services.retry import DEFAULT_RETRY, RetryPolicy
from crmcore.services.retry import retry as run_retrying

__all__ = [
    "EarnResult",
    "ExpirySummary",
    "adjust_points",
    "award_points",
    "claim_referral",
    "earn_for_purchase",
    "expire_accounts",
    "issue_referral_code",
    "loyalty_liability",
    "open_account",
    "qualify_referral",
    "redeem_points",
    "refund_purchase",
    "reverse_entry",
]

REFERRAL_ACTION = "referral"
"""The action name under which referral rewards are awarded."""


def _program(program: object) -> LoyaltyProgram:
    if not isinstance(program, LoyaltyProgram):
        raise ValidationError("program", program, "must be a LoyaltyProgram")
    return program


def _referral_program(program: object) -> ReferralProgram:
    if not isinstance(program, ReferralProgram):
        raise ValidationError("program", program, "must be a ReferralProgram")
    return program


def _save(
    uow: UnitOfWork, current: LoyaltyAccount, outcome: Outcome[LoyaltyAccount]
) -> LoyaltyAccount:
    """Save the outcome's account unless the ledger returned it unchanged (a replay)."""
    if outcome.value is current:
        return current
    return uow.loyalty_accounts.save(uow.take(outcome))


def _post(
    store: Store,
    account_id: str,
    operation: Callable[[LoyaltyAccount], Outcome[LoyaltyAccount]],
    policy: RetryPolicy | None,
) -> LoyaltyAccount:
    """Load the account, apply ``operation``, save the result (unless it was a replay); retried
    with ``policy``."""

    def once() -> LoyaltyAccount:
        with store.unit_of_work() as uow:
            current = uow.loyalty_accounts.get(account_id)
            return _save(uow, current, operation(current))

    return run_retrying(once, policy)


def open_account(
    store: Store,
    account_id: str,
    customer_id: str,
    program: LoyaltyProgram,
    *,
    tier_policy: TierPolicy | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> LoyaltyAccount:
    """Open an empty points account of ``customer_id`` in ``program`` (and its base tier).

    With ``tier_policy``, a [`TierStatus`][crmcore.loyalty.tiers.TierStatus] in the
    policy's base tier is stored under the account id in the same unit of
    work. A taken account id, or a second account of the customer in the
    program, raises [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError].
    """
    store = store_of(store)
    program = _program(program)
    account = LoyaltyAccount(id=account_id, customer_id=customer_id, program_id=program.id)

    def once() -> LoyaltyAccount:
        with store.unit_of_work() as uow:
            stored = uow.loyalty_accounts.add(account)
            if tier_policy is not None:
                uow.tier_statuses.add(TierStatus.new(stored.id, tier_policy))
        return stored

    return run_retrying(once, retry)


@attrs.frozen
class EarnResult:
    """What [`earn_for_purchase()`][crmcore.services.loyalty.earn_for_purchase] stored: the account
    and the tier status (if tiered)."""

    account: LoyaltyAccount
    tier: TierStatus | None = None


def _tiered_program(program: LoyaltyProgram, policy: TierPolicy) -> LoyaltyProgram:
    """``program`` with the policy's tier multipliers (which it must not contradict)."""
    if not isinstance(policy, TierPolicy):
        raise ValidationError("tier_policy", policy, "must be a TierPolicy")
    wanted = policy.multipliers()
    own = program.earn.tier_multipliers
    if not own:
        return attrs.evolve(program, earn=attrs.evolve(program.earn, tier_multipliers=wanted))
    for name, multiplier in wanted.items():
        if own.get(name, multiplier) != multiplier:
            raise ValidationError(
                "program.earn.tier_multipliers",
                dict(own),
                f"give tier {name!r} x{own.get(name)} but the tier policy "
                f"{policy.name!r} gives x{multiplier}",
            )
    return program


def earn_for_purchase(
    store: Store,
    account_id: str,
    program: LoyaltyProgram,
    purchase: Purchase,
    *,
    key: str,
    at: datetime | None = None,
    tier_policy: TierPolicy | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> EarnResult:
    """Post the points ``purchase`` earns on the account (and re-evaluate its tier).

    ``at`` is the posting time (default: the purchase time). With
    ``tier_policy`` the points are multiplied by the stored tier's multiplier
    (a missing status counts as the base tier and is created), then the
    status is evaluated up to the posting time from the ledger's qualifying
    earns and saved with its events, all in one unit of work. A replayed
    ``key`` posts and re-evaluates nothing.
    """
    store = store_of(store)
    program = _program(program)
    tiered = None if tier_policy is None else _tiered_program(program, tier_policy)
    return run_retrying(
        lambda: _earn_once(store, account_id, program, purchase, key, at, tier_policy, tiered),
        retry,
    )


def _earn_once(
    store: Store,
    account_id: str,
    program: LoyaltyProgram,
    purchase: Purchase,
    key: str,
    at: datetime | None,
    tier_policy: TierPolicy | None,
    tiered: LoyaltyProgram | None,
) -> EarnResult:
    with store.unit_of_work() as uow:
        current = uow.loyalty_accounts.get(account_id)
        if tier_policy is None or tiered is None:
            outcome = current.earn(program, purchase, key=key, at=at)
            return EarnResult(_save(uow, current, outcome))
        stored_status = uow.tier_statuses.find(account_id)
        status = stored_status or TierStatus.new(account_id, tier_policy)
        outcome = current.earn(tiered, purchase, key=key, at=at, tier=status.tier)
        account = _save(uow, current, outcome)
        if account is current:
            return EarnResult(account, stored_status)
        posted = purchase.at if at is None else to_utc(at, "at")
        as_of = posted if status.evaluated_at is None else max(posted, status.evaluated_at)
        evaluated = uow.take(status.evaluate(facts_from_ledger(account), as_of, tier_policy))
        if stored_status is None:
            saved_status = uow.tier_statuses.add(evaluated)
        else:
            saved_status = uow.tier_statuses.save(evaluated)
    return EarnResult(account, saved_status)


def award_points(
    store: Store,
    account_id: str,
    program: LoyaltyProgram,
    action: str,
    *,
    at: datetime,
    key: str,
    points: int | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> LoyaltyAccount:
    """Award the points of a program ``action`` (sign-up, review, birthday...) once per key."""
    store = store_of(store)
    program = _program(program)
    return _post(
        store,
        account_id,
        lambda a: a.award(program, action, at=at, key=key, points=points),
        retry,
    )


def redeem_points(
    store: Store,
    account_id: str,
    program: LoyaltyProgram,
    points: int,
    *,
    at: datetime,
    key: str,
    redemption_id: str | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> LoyaltyAccount:
    """Redeem ``points`` (FIFO over spendable lots).

    Too few points raise [`InsufficientPointsError`][crmcore.kernel.errors.InsufficientPointsError]
    (with the balance as of ``at``) and change nothing.
    """
    store = store_of(store)
    program = _program(program)
    return _post(
        store,
        account_id,
        lambda a: a.redeem(program, points, at=at, key=key, redemption_id=redemption_id),
        retry,
    )


def refund_purchase(
    store: Store,
    account_id: str,
    program: LoyaltyProgram,
    order_id: str,
    *,
    at: datetime,
    key: str,
    amount: Money | None = None,
    points: int | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> LoyaltyAccount:
    """Claw back the points of ``order_id`` for a full or partial (``amount``) refund."""
    store = store_of(store)
    program = _program(program)
    return _post(
        store,
        account_id,
        lambda a: a.refund(program, order_id, at=at, key=key, amount=amount, points=points),
        retry,
    )


def reverse_entry(
    store: Store,
    account_id: str,
    program: LoyaltyProgram,
    of: str,
    *,
    at: datetime,
    key: str,
    points: int | None = None,
    amount: Money | None = None,
    reason: str = "",
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> LoyaltyAccount:
    """Reverse (part of) the entry posted under key ``of`` (e.g. cancel a redemption)."""
    store = store_of(store)
    program = _program(program)
    return _post(
        store,
        account_id,
        lambda a: a.reverse(
            program, of, at=at, key=key, points=points, amount=amount, reason=reason
        ),
        retry,
    )


def adjust_points(
    store: Store,
    account_id: str,
    program: LoyaltyProgram,
    delta: int,
    *,
    reason: str,
    at: datetime,
    key: str,
    backdated: bool = False,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> LoyaltyAccount:
    """A manual correction of ``delta`` points (positive: a new lot; negative: consumed FIFO).

    ``backdated=True`` books it at ``at`` even when that is further back than the program's
    out-of-order tolerance allows ordinary operations (see
    [`LoyaltyAccount.adjust()`][crmcore.loyalty.ledger.LoyaltyAccount.adjust]).
    """
    store = store_of(store)
    program = _program(program)
    return _post(
        store,
        account_id,
        lambda a: a.adjust(program, delta, reason=reason, at=at, key=key, backdated=backdated),
        retry,
    )


@attrs.frozen
class ExpirySummary:
    """What [`expire_accounts()`][crmcore.services.loyalty.expire_accounts] did.

    ``accounts_scanned``: accounts of the program read; ``accounts_expired``:
    accounts that posted an expiry; ``expired_points``: points expired (a
    positive number); ``batches``: units of work committed.
    """

    accounts_scanned: int
    accounts_expired: int
    expired_points: int
    batches: int


def _expire_batch(
    store: Store, program: LoyaltyProgram, as_of: datetime, limit: int, after: str | None
) -> tuple[int, int, int, str | None]:
    with store.unit_of_work() as uow:
        page = uow.loyalty_accounts.list(limit=limit, after=after)
        accounts: Sequence[LoyaltyAccount] = [a for a in page.items if a.program_id == program.id]
        run = expire_all(program, accounts, as_of)
        for before, after_expiry in zip(accounts, run.accounts, strict=True):
            if after_expiry is not before:
                uow.loyalty_accounts.save(after_expiry)
        uow.collect(*run.events)
    expired = -sum(e.points for e in run.events if isinstance(e, PointsExpired))
    return len(accounts), run.accounts_expired, expired, page.next_after


def expire_accounts(
    store: Store,
    program: LoyaltyProgram,
    as_of: datetime,
    *,
    batch_size: int = 1000,
    attempts: int | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> ExpirySummary:
    """Post the expiry due by ``as_of`` on every stored account of ``program``.

    Accounts are read in id order, ``batch_size`` per unit of work (each
    batch commits on its own; accounts of other programs are skipped). Only
    accounts with something due change ([`expire_all()`][crmcore.loyalty.ledger_batch.expire_all]).
    Idempotent: a rerun, or a run resumed after a failure, posts nothing
    twice. A batch that meets a concurrent change is re-read and redone with the ``retry``
    policy (``attempts``, when given, overrides its number of tries), then
    [`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError] propagates (earlier
    batches stay committed).
    """
    store = store_of(store)
    program = _program(program)
    instant = to_utc(as_of, "as_of")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationError("batch_size", batch_size, "must be a positive integer")
    policy = retry
    if attempts is not None:
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValidationError("attempts", attempts, "must be a positive integer")
        policy = attrs.evolve(DEFAULT_RETRY if retry is None else retry, attempts=attempts)
    scanned = changed = points = batches = 0
    after: str | None = None
    while True:
        n, expired_accounts, expired, next_after = run_retrying(
            functools.partial(_expire_batch, store, program, instant, batch_size, after), policy
        )
        scanned += n
        changed += expired_accounts
        points += expired
        batches += 1
        if next_after is None:
            return ExpirySummary(scanned, changed, points, batches)
        after = next_after


def loyalty_liability(
    store: Store,
    program: LoyaltyProgram,
    as_of: datetime,
    *,
    expected_redemption: Decimal | str | None = None,
    page_size: int = 10_000,
) -> LiabilityReport:
    """The points liability of every stored account of ``program`` as of ``as_of``.

    Reads the committed accounts page by page (``page_size`` per read) and
    runs the vectorised [`liability_report()`][crmcore.loyalty.ledger_batch.liability_report] over
    their lots; ``expected_redemption`` as there.
    """
    store = store_of(store)
    program = _program(program)
    rate = _redemption_rate(expected_redemption)
    accounts: list[LoyaltyAccount] = []
    with store.unit_of_work() as uow:
        after: str | None = None
        while True:
            page = uow.loyalty_accounts.list(limit=page_size, after=after)
            accounts.extend(a for a in page.items if a.program_id == program.id)
            if page.next_after is None:
                break
            after = page.next_after
    return liability_report(program, accounts, as_of, expected_redemption=rate)


def _redemption_rate(value: object) -> Decimal | None:
    """The expected redemption rate as a finite Decimal in ``[0, 1]`` (``None`` stays)."""
    if value is None:
        return None
    reason = "must be a Decimal (or its text) between 0 and 1"
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ValidationError("expected_redemption", value, reason)
    try:
        rate = Decimal(value)
    except InvalidOperation:  # text that is no number
        raise ValidationError("expected_redemption", value, reason) from None
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(1):
        raise ValidationError("expected_redemption", value, reason)
    return rate


def issue_referral_code(
    store: Store,
    program: ReferralProgram,
    referrer: str,
    at: datetime,
    *,
    code: str | None = None,
    seed: str | int | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> ReferralCode:
    """Issue ``referrer`` a code of ``program`` (``code``, else generated from ``seed``).

    Returns the stored [`ReferralCode`][crmcore.loyalty.referrals.ReferralCode] (its
    ``id`` is the code). Issuing the same code to the same referrer in the
    same program again returns the stored one and writes nothing; a code
    held by someone else (or in another program) raises
    [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError].
    """
    store = store_of(store)
    program = _referral_program(program)
    if isinstance(seed, str):
        storable_text(seed, "seed")  # it is hashed as UTF-8
    outcome = ReferralCode.issue(program, referrer, at, code=code, seed=seed)
    issued = outcome.value

    def once() -> ReferralCode:
        with store.unit_of_work() as uow:
            existing = uow.referral_codes.find(issued.id)
            if existing is not None:
                if existing.referrer != issued.referrer or existing.program_id != program.id:
                    raise AlreadyExistsError("referral code", issued.id, "code")
                return existing
            stored = uow.referral_codes.add(uow.take(outcome))
        return stored

    return run_retrying(once, retry)


def claim_referral(
    store: Store,
    program: ReferralProgram,
    code: str,
    referee: str,
    at: datetime,
    *,
    first_purchase_at: datetime | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> ReferralClaim:
    """Record that ``referee`` claimed ``code`` in ``program``; return the stored claim.

    One unit of work: the referee's claim in the program (its id is
    [`claim_id()`][crmcore.loyalty.referrals.claim_id]) is looked up first; if it
    exists, the same code returns it and writes nothing, another code raises
    [`DuplicateOperationError`][crmcore.kernel.errors.DuplicateOperationError]. Otherwise the code
    is loaded ([`NotFoundError`][crmcore.kernel.errors.NotFoundError] if unknown in this program),
    claimed (guards: see [`claim()`][crmcore.loyalty.referrals.ReferralCode.claim]), and the code
    with its new use count and the new claim are saved together. Two referees claiming one code at
    once conflict on the code's version
    ([`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError]); the loser is
    retried with the ``retry`` policy and then sees the new use count.
    """
    store = store_of(store)
    program = _referral_program(program)
    key = referral_code(code)

    def once() -> ReferralClaim:
        with store.unit_of_work() as uow:
            existing = uow.referral_claims.find(claim_id(program.id, referee))
            if existing is not None:
                return existing.reclaim(key)
            record = uow.referral_codes.find(key)
            if record is None or record.program_id != program.id:
                raise NotFoundError("referral code", key)
            outcome = record.claim(program, referee, at, first_purchase_at=first_purchase_at)
            used, claim = uow.take(outcome)
            uow.referral_codes.save(used)
            stored = uow.referral_claims.add(claim)
        return stored

    return run_retrying(once, retry)


def qualify_referral(
    store: Store,
    referral_program: ReferralProgram,
    program: LoyaltyProgram,
    purchase: Purchase,
    at: datetime,
    *,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> ReferralResult:
    """Reward a referral on the referee's qualifying purchase, on both ledgers at once.

    The referee is the purchase's customer; their claim in
    ``referral_program`` is loaded ([`NotFoundError`][crmcore.kernel.errors.NotFoundError] if
    they were not referred). When ``purchase`` is their first qualifying one,
    the rewarded claim and an ``award`` of the ``referral`` action on the
    referrer's and the referee's accounts in ``program`` (under the
    instructions' deterministic keys) are saved in one unit of work; a
    missing account raises [`NotFoundError`][crmcore.kernel.errors.NotFoundError] and nothing is
    written. Later calls (and replays) award nothing. The returned result's
    ``claim`` is the stored claim.
    """
    store = store_of(store)
    referral_program = _referral_program(referral_program)
    program = _program(program)
    if not isinstance(purchase, Purchase):
        raise ValidationError("purchase", purchase, "must be a Purchase")
    return run_retrying(
        lambda: _qualify_once(store, referral_program, program, purchase, at), retry
    )


def _qualify_once(
    store: Store,
    referral_program: ReferralProgram,
    program: LoyaltyProgram,
    purchase: Purchase,
    at: datetime,
) -> ReferralResult:
    with store.unit_of_work() as uow:
        current = uow.referral_claims.get(claim_id(referral_program.id, purchase.customer_id))
        outcome = current.qualify(referral_program, purchase, at)
        result = outcome.value
        if not outcome.events:
            return result
        for instruction in result.rewards:
            account = uow.loyalty_accounts.get_for_customer(program.id, instruction.account)
            awarded = account.award(
                program, REFERRAL_ACTION, at=at, key=instruction.key, points=instruction.points
            )
            _save(uow, account, awarded)
        stored = uow.referral_claims.save(uow.take(outcome).claim)
    return attrs.evolve(result, claim=stored)
