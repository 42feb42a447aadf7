"""Referrals: codes, guarded claims, and a reward for both sides exactly once.

A :class:`ReferralProgram` is frozen configuration: the points the referrer
(advocate) and the referee (friend) get, the minimum purchase that
qualifies, how long a code is valid and how many friends may use it (0 =
unlimited, as Talon.One's ``usageLimit``). :class:`Referrals` is the
program's aggregate (``id``, ``version``): the codes it issued and the claims
made on them, keyed by referee.

* :meth:`Referrals.issue` gives a referrer a code, supplied or generated
  deterministically (:func:`generate_code`).
* :meth:`Referrals.claim` records that a referee came through a code, with
  the guards LoyaltyLion applies: no self-referral, no existing customer
  (one who bought before claiming), a referee referred once only (the same
  claim again returns the first result and raises nothing new; another
  code raises :class:`~crmcore.errors.DuplicateOperation`), no code outside
  its validity window or past its usage limit.
* :meth:`Referrals.qualify` is called on the referee's purchases: the first
  one at or above the minimum rewards both sides once and returns
  :class:`RewardInstruction` s, each with a deterministic idempotency key
  (``referral:{code}:{referee}:referrer`` / ``...:referee``) for the ledger's
  ``award(...)``; later calls return no instructions.

>>> from datetime import UTC, datetime
>>> from crmcore.customers.records import Purchase
>>> from crmcore.money import Money
>>> t = datetime(2026, 5, 1, tzinfo=UTC)
>>> program = ReferralProgram(referrer_points=500, referee_points=200,
...                           minimum_purchase=Money("20", "EUR"))
>>> book = Referrals(id="friends", program=program)
>>> book = book.issue("ann", t, code="ANN-2026").value
>>> book = book.claim("ann-2026", "bob", t).value
>>> result = book.qualify("bob", Purchase("o-1", "bob", t, Money("35", "EUR")), t).value
>>> [(r.account, r.points, r.key) for r in result.rewards]
[('ann', 500, 'referral:ANN-2026:bob:referrer'), ('bob', 200, 'referral:ANN-2026:bob:referee')]
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Final

import attrs

from crmcore.clock import to_utc
from crmcore.customers.records import Purchase
from crmcore.errors import AlreadyExists, DuplicateOperation, NotFound, ValidationError
from crmcore.events import Outcome
from crmcore.frozen import FrozenDict
from crmcore.ids import validate_id
from crmcore.loyalty.tier_events import ReferralClaimed, ReferralCodeIssued, ReferralRewarded
from crmcore.money import Money

__all__ = [
    "CODE_ALPHABET",
    "ReferralClaim",
    "ReferralCode",
    "ReferralProgram",
    "ReferralResult",
    "Referrals",
    "RewardInstruction",
    "RewardRole",
    "generate_code",
    "referral_code",
    "reward_key",
]

#: Letters and digits of generated codes: no 0/O, 1/I/L or U, so codes read aloud safely.
CODE_ALPHABET: Final = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
_CODE: Final = re.compile(r"[A-Z0-9](?:[A-Z0-9-]{2,30})[A-Z0-9]\Z")
MAX_VALID_DAYS: Final = 36_500


def referral_code(value: object, field: str = "code") -> str:
    """Validate a referral code and return it normalised (stripped, upper case).

    Codes are 4-32 characters of ``A-Z``, ``0-9`` and inner hyphens.

    >>> referral_code(" ann-2026 ")
    'ANN-2026'
    >>> referral_code("a b")
    Traceback (most recent call last):
    ...
    crmcore.errors.ValidationError: code: must be 4-32 letters, digits or inner hyphens ...
    """
    text = value.strip().upper() if isinstance(value, str) else None
    if text is None or not _CODE.match(text) or "--" in text:
        raise ValidationError(field, value, "must be 4-32 letters, digits or inner hyphens")
    return text


def generate_code(seed: str | int, referrer: str, *, length: int = 8, prefix: str = "") -> str:
    """A code derived deterministically from ``seed`` and ``referrer`` (SHA-256, base 30).

    The same arguments always give the same code; a different ``seed`` gives
    a referrer another one. ``prefix`` (e.g. ``"FRIEND-"``) is prepended.

    >>> generate_code("spring-2026", "ann") == generate_code("spring-2026", "ann")
    True
    >>> len(generate_code(7, "ann", length=10))
    10
    """
    if isinstance(length, bool) or not isinstance(length, int) or not 4 <= length <= 24:
        raise ValidationError("length", length, "must be a whole number in 4..24")
    if isinstance(seed, bool) or not isinstance(seed, str | int):
        raise ValidationError("seed", seed, "must be a str or int")
    if not isinstance(prefix, str):
        raise ValidationError("prefix", prefix, "must be a str")
    digest = hashlib.sha256(f"{seed}\x1f{validate_id(referrer, 'referrer')}".encode()).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return referral_code(prefix + "".join(chars), "prefix")


def reward_key(code: str, referee: str, role: RewardRole | str) -> str:
    """The idempotency key of one side's reward: ``referral:{code}:{referee}:{role}``."""
    return f"referral:{referral_code(code)}:{referee}:{RewardRole(role).value}"


class RewardRole(enum.Enum):
    """Which side of a referral a reward goes to."""

    REFERRER = "referrer"
    REFEREE = "referee"


def _points(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(
            f"program.{attribute.name}", value, "must be a non-negative whole number"
        )


def _minimum(_instance: object, _attribute: object, value: Money) -> None:
    if not isinstance(value, Money) or value.is_negative:
        raise ValidationError("program.minimum_purchase", value, "must be a non-negative Money")


def _valid_days(_instance: object, _attribute: object, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VALID_DAYS:
        raise ValidationError(
            "program.valid_days", value, f"must be None or a whole number in 1..{MAX_VALID_DAYS}"
        )


def _usage_limit(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(attribute.name, value, "must be a whole number, 0 for unlimited")


@attrs.frozen(kw_only=True)
class ReferralProgram:
    """A referral program's rules: rewards, the qualifying minimum, code validity and limit.

    ``valid_days`` is how long a code stays valid after issue (``None``:
    forever); ``usage_limit`` how many referees may claim one code (0:
    unlimited). At least one side must get points.
    """

    referrer_points: int = attrs.field(validator=_points)
    referee_points: int = attrs.field(validator=_points)
    minimum_purchase: Money = attrs.field(validator=_minimum)
    valid_days: int | None = attrs.field(default=None, validator=_valid_days)
    usage_limit: int = attrs.field(default=0, validator=_usage_limit)

    def __attrs_post_init__(self) -> None:
        if self.referrer_points == 0 and self.referee_points == 0:
            raise ValidationError("program.referrer_points", 0, "one side must get points")


def _id(value: object) -> str:
    return validate_id(value, "id")


def _referrer(value: object) -> str:
    return validate_id(value, "referrer")


def _referee(value: object) -> str:
    return validate_id(value, "referee")


def _code(value: object) -> str:
    return referral_code(value)


def _time(value: object) -> datetime:
    return to_utc(value, "at")


def _optional_time(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "at")


def _count(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(attribute.name, value, "must be a non-negative whole number")


@attrs.frozen(kw_only=True)
class ReferralCode:
    """A code issued to ``referrer``: valid in ``[starts_at, expires_at)``, ``uses`` so far."""

    code: str = attrs.field(converter=_code)
    referrer: str = attrs.field(converter=_referrer)
    starts_at: datetime = attrs.field(converter=_time)
    expires_at: datetime | None = attrs.field(default=None, converter=_optional_time)
    usage_limit: int = attrs.field(default=0, validator=_usage_limit)
    uses: int = attrs.field(default=0, validator=_count)

    def __attrs_post_init__(self) -> None:
        if self.expires_at is not None and self.expires_at <= self.starts_at:
            raise ValidationError("expires_at", self.expires_at, "must be after starts_at")
        if self.usage_limit and self.uses > self.usage_limit:
            raise ValidationError("uses", self.uses, f"must not exceed {self.usage_limit}")


def _role(value: object) -> RewardRole:
    try:
        return RewardRole(value)
    except ValueError:
        raise ValidationError("role", value, "must be 'referrer' or 'referee'") from None


@attrs.frozen(kw_only=True)
class RewardInstruction:
    """Points to post to ``account`` through the ledger's ``award(..., key=key)``."""

    account: str = attrs.field(converter=_id)
    role: RewardRole = attrs.field(converter=_role)
    points: int = attrs.field(validator=_count)
    key: str
    code: str = attrs.field(converter=_code)
    order_id: str


def _rewards(values: object) -> tuple[RewardInstruction, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError("rewards", values, "must be a sequence of RewardInstruction")
    rewards = tuple(values)
    for i, reward in enumerate(rewards):
        if not isinstance(reward, RewardInstruction):
            raise ValidationError(f"rewards[{i}]", reward, "must be a RewardInstruction")
    return rewards


@attrs.frozen(kw_only=True)
class ReferralClaim:
    """A referee's claim on a code; ``rewarded_at`` and ``rewards`` once a purchase qualified."""

    code: str = attrs.field(converter=_code)
    referrer: str = attrs.field(converter=_referrer)
    referee: str = attrs.field(converter=_referee)
    claimed_at: datetime = attrs.field(converter=_time)
    rewarded_at: datetime | None = attrs.field(default=None, converter=_optional_time)
    order_id: str | None = None
    rewards: tuple[RewardInstruction, ...] = attrs.field(default=(), converter=_rewards)

    def __attrs_post_init__(self) -> None:
        if self.referrer == self.referee:
            raise ValidationError("referee", self.referee, "must not be the referrer")
        if (self.rewarded_at is None) != (self.order_id is None):
            raise ValidationError("order_id", self.order_id, "is set exactly when rewarded")
        if self.rewarded_at is None and self.rewards:
            raise ValidationError("rewards", self.rewards, "must be empty until rewarded")

    @property
    def rewarded(self) -> bool:
        """True once a qualifying purchase rewarded this referral."""
        return self.rewarded_at is not None


def _codes(value: object) -> FrozenDict[str, ReferralCode]:
    if not isinstance(value, Mapping):
        raise ValidationError("codes", value, "must be a mapping of code to ReferralCode")
    return FrozenDict(value)


def _claims(value: object) -> FrozenDict[str, ReferralClaim]:
    if not isinstance(value, Mapping):
        raise ValidationError("claims", value, "must be a mapping of referee to ReferralClaim")
    return FrozenDict(value)


def _program(_instance: object, _attribute: object, value: ReferralProgram) -> None:
    if not isinstance(value, ReferralProgram):
        raise ValidationError("program", value, "must be a ReferralProgram")


def _version(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("version", value, "must be a non-negative integer")


@attrs.frozen(kw_only=True)
class ReferralResult:
    """What :meth:`Referrals.qualify` returns: the updated referrals and the rewards to post.

    ``rewards`` is empty when the purchase did not qualify or the referral
    was already rewarded (then ``claim.rewards`` holds the first result).
    """

    referrals: Referrals
    rewards: tuple[RewardInstruction, ...]
    claim: ReferralClaim


@attrs.frozen(kw_only=True)
class Referrals:
    """A referral program's codes and claims (an aggregate stored as one document).

    ``codes`` maps each normalised code to its :class:`ReferralCode`,
    ``claims`` each referee to their :class:`ReferralClaim`. Checked on
    construction (also when decoded): keys match, each code's ``uses``
    counts its claims, and every claim names a known code and its referrer.
    """

    id: str = attrs.field(converter=_id)
    program: ReferralProgram = attrs.field(validator=_program)
    codes: FrozenDict[str, ReferralCode] = attrs.field(factory=FrozenDict, converter=_codes)
    claims: FrozenDict[str, ReferralClaim] = attrs.field(factory=FrozenDict, converter=_claims)
    version: int = attrs.field(default=0, validator=_version)

    def __attrs_post_init__(self) -> None:
        uses: dict[str, int] = {}
        for key, record in self.codes.items():
            if not isinstance(record, ReferralCode) or record.code != key:
                raise ValidationError(f"codes.{key}", record, "must be the ReferralCode of its key")
        for key, claim in self.claims.items():
            if not isinstance(claim, ReferralClaim) or claim.referee != key:
                raise ValidationError(f"claims.{key}", claim, "must be the claim of its referee")
            code = self.codes.get(claim.code)
            if code is None or code.referrer != claim.referrer:
                raise ValidationError(f"claims.{key}.code", claim.code, "is not a code issued here")
            uses[claim.code] = uses.get(claim.code, 0) + 1
        for key, record in self.codes.items():
            if record.uses != uses.get(key, 0):
                raise ValidationError(f"codes.{key}.uses", record.uses, "must count its claims")

    # -- queries -------------------------------------------------------------------------------
    def code(self, code: str) -> ReferralCode:
        """The record of ``code`` (any case); :class:`~crmcore.errors.NotFound` if not issued."""
        key = referral_code(code)
        record = self.codes.get(key)
        if record is None:
            raise NotFound("referral code", key)
        return record

    def claim_of(self, referee: str) -> ReferralClaim | None:
        """The referee's claim, or ``None`` if they were not referred."""
        return self.claims.get(_referee(referee))

    def is_pending(self, referee: str) -> bool:
        """True when the referee claimed a code and no purchase has qualified yet."""
        claim = self.claim_of(referee)
        return claim is not None and not claim.rewarded

    # -- operations ----------------------------------------------------------------------------
    def issue(
        self,
        referrer: str,
        at: datetime,
        *,
        code: str | None = None,
        seed: str | int | None = None,
    ) -> Outcome[Referrals]:
        """Issue a code to ``referrer`` at ``at``: ``code`` as given, else generated.

        A generated code comes from ``seed`` (default: the program id) and the
        referrer, so issuing again with the same arguments returns the same
        code and no new event. A code already issued to someone else raises
        :class:`~crmcore.errors.AlreadyExists`.
        """
        who = _referrer(referrer)
        when = to_utc(at, "at")
        key = (
            referral_code(code)
            if code is not None
            else generate_code(self.id if seed is None else seed, who)
        )
        existing = self.codes.get(key)
        if existing is not None:
            if existing.referrer != who:
                raise AlreadyExists("referral code", key, "code")
            return Outcome(self)
        days = self.program.valid_days
        record = ReferralCode(
            code=key,
            referrer=who,
            starts_at=when,
            expires_at=None if days is None else when + timedelta(days=days),
            usage_limit=self.program.usage_limit,
        )
        event = ReferralCodeIssued(
            aggregate_id=self.id,
            occurred_at=when,
            code=key,
            referrer=who,
            starts_at=record.starts_at,
            expires_at=record.expires_at,
            usage_limit=record.usage_limit,
        )
        return Outcome(attrs.evolve(self, codes=self.codes.set(key, record)), (event,))

    def claim(
        self,
        code: str,
        referee: str,
        at: datetime,
        *,
        first_purchase_at: datetime | None = None,
    ) -> Outcome[Referrals]:
        """Record that ``referee`` claimed ``code`` at ``at``.

        ``first_purchase_at`` is the referee's first purchase, if any (the
        caller knows the customer); one at or before ``at`` makes them an
        existing customer. Claiming the same code again returns this
        aggregate unchanged with no event (the first result stands).

        Raises :class:`~crmcore.errors.DuplicateOperation` when the referee
        already claimed another code, :class:`~crmcore.errors.NotFound` for an
        unknown code, and :class:`~crmcore.errors.ValidationError` for a
        self-referral (field ``referee``), an existing customer (``referee``),
        or a code not yet valid, expired or used up (``code``).
        """
        key = referral_code(code)
        who = _referee(referee)
        when = to_utc(at, "at")
        first = (
            None if first_purchase_at is None else to_utc(first_purchase_at, "first_purchase_at")
        )
        existing = self.claims.get(who)
        if existing is not None:
            if existing.code == key:
                return Outcome(self)
            raise DuplicateOperation(
                f"referral:{who}",
                f"cannot be claimed: referee {who!r} was already referred with code "
                f"{existing.code!r}",
            )
        record = self.code(key)
        if record.referrer == who:
            raise ValidationError(
                "referee", who, f"is the referrer of code {key!r}: self-referral is not allowed"
            )
        if first is not None and first <= when:
            raise ValidationError(
                "referee",
                who,
                f"is an existing customer (first purchase {first.isoformat()}): "
                "referrals are for new customers",
            )
        if when < record.starts_at:
            raise ValidationError(
                "code", key, f"is not valid before {record.starts_at.isoformat()}"
            )
        if record.expires_at is not None and when >= record.expires_at:
            raise ValidationError("code", key, f"expired at {record.expires_at.isoformat()}")
        if record.usage_limit and record.uses >= record.usage_limit:
            raise ValidationError(
                "code", key, f"has reached its usage limit of {record.usage_limit}"
            )
        claim = ReferralClaim(code=key, referrer=record.referrer, referee=who, claimed_at=when)
        event = ReferralClaimed(
            aggregate_id=self.id, occurred_at=when, code=key, referrer=record.referrer, referee=who
        )
        updated = attrs.evolve(
            self,
            codes=self.codes.set(key, attrs.evolve(record, uses=record.uses + 1)),
            claims=self.claims.set(who, claim),
        )
        return Outcome(updated, (event,))

    def qualify(self, referee: str, purchase: Purchase, at: datetime) -> Outcome[ReferralResult]:
        """Reward the referral if ``purchase`` is the referee's first qualifying one.

        A purchase qualifies when it is the referee's, made at or after the
        claim, and at least the program's ``minimum_purchase``. Then both
        sides get a :class:`RewardInstruction` (a side with 0 points gets
        none) and one :class:`~crmcore.loyalty.tier_events.ReferralRewarded`
        event is raised; the caller posts each instruction with the ledger's
        ``award(...)`` under its key. Any later call, with this or another
        purchase, returns no instructions and no event.

        Raises :class:`~crmcore.errors.NotFound` when the referee has no
        claim, :class:`~crmcore.errors.ValidationError` for a purchase of
        another customer, before the claim, or after ``at``, and
        :class:`~crmcore.errors.CurrencyMismatch` for a purchase in another
        currency than the minimum.
        """
        who = _referee(referee)
        when = to_utc(at, "at")
        if not isinstance(purchase, Purchase):
            raise ValidationError("purchase", purchase, "must be a Purchase")
        claim = self.claims.get(who)
        if claim is None:
            raise NotFound("referral claim", who)
        if purchase.customer_id != who:
            raise ValidationError(
                "purchase.customer_id", purchase.customer_id, f"must be the referee {who!r}"
            )
        if claim.rewarded:
            return Outcome(ReferralResult(referrals=self, rewards=(), claim=claim))
        if purchase.at < claim.claimed_at:
            raise ValidationError(
                "purchase.at", purchase.at, f"is before the claim ({claim.claimed_at.isoformat()})"
            )
        if when < purchase.at:
            raise ValidationError("at", when, "must not be before the purchase")
        if purchase.amount < self.program.minimum_purchase:
            return Outcome(ReferralResult(referrals=self, rewards=(), claim=claim))
        rewards = tuple(
            RewardInstruction(
                account=account,
                role=role,
                points=points,
                key=reward_key(claim.code, who, role),
                code=claim.code,
                order_id=purchase.order_id,
            )
            for account, role, points in (
                (claim.referrer, RewardRole.REFERRER, self.program.referrer_points),
                (who, RewardRole.REFEREE, self.program.referee_points),
            )
            if points > 0
        )
        rewarded = attrs.evolve(
            claim, rewarded_at=when, order_id=purchase.order_id, rewards=rewards
        )
        event = ReferralRewarded(
            aggregate_id=self.id,
            occurred_at=when,
            code=claim.code,
            referrer=claim.referrer,
            referee=who,
            order_id=purchase.order_id,
            referrer_points=self.program.referrer_points,
            referee_points=self.program.referee_points,
            referrer_key=reward_key(claim.code, who, RewardRole.REFERRER),
            referee_key=reward_key(claim.code, who, RewardRole.REFEREE),
        )
        updated = attrs.evolve(self, claims=self.claims.set(who, rewarded))
        return Outcome(ReferralResult(referrals=updated, rewards=rewards, claim=rewarded), (event,))
