"""Referrals: codes, guarded claims, and a reward for both sides exactly once.

A [`ReferralProgram`][crmcore.loyalty.referrals.ReferralProgram] is frozen configuration: its
``id``, the points the referrer (advocate) and the referee (friend) get, the minimum purchase that
qualifies, how long a code is valid and how many friends may use it (0 = unlimited, as Talon.One's
``usageLimit``).

Codes and claims are small aggregates of their own (``id``, ``version``), so
a claim touches one code and one claim, never the whole program:

* [`ReferralCode.issue()`][crmcore.loyalty.referrals.ReferralCode.issue] gives a referrer a code,
  supplied or generated deterministically
  ([`generate_code()`][crmcore.loyalty.referrals.generate_code]). The code's id is the normalised
  code, unique across programs.
* [`ReferralCode.claim()`][crmcore.loyalty.referrals.ReferralCode.claim] records that a referee came
  through the code, with the guards LoyaltyLion applies: no self-referral, no existing customer (one
  who bought before claiming), no code outside its validity window or past its usage limit. It
  returns the code with one more use and the new
  [`ReferralClaim`][crmcore.loyalty.referrals.ReferralClaim].
* A referee is referred once per program: the claim's id is
  [`claim_id()`][crmcore.loyalty.referrals.claim_id] of the program and the referee, so a second
  claim is an id collision. Before claiming, the caller looks that id up; if a claim is stored,
  [`ReferralClaim.reclaim()`][crmcore.loyalty.referrals.ReferralClaim.reclaim] returns it for the
  same code and raises [`DuplicateOperationError`][crmcore.kernel.errors.DuplicateOperationError]
  for another.
* [`ReferralClaim.qualify()`][crmcore.loyalty.referrals.ReferralClaim.qualify] is called on the
  referee's purchases: the first one at or above the minimum rewards both sides once and returns
  [`RewardInstruction`][crmcore.loyalty.referrals.RewardInstruction] s, each with a deterministic
  idempotency key (``referral:{code}:{referee}:referrer`` / ``...:referee``) for the ledger's
  ``award(...)``; later calls return no instructions.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.customers.records import Purchase
    >>> from crmcore.kernel.money import Money
    >>> t = datetime(2026, 5, 1, tzinfo=UTC)
    >>> program = ReferralProgram(id="friends", referrer_points=500, referee_points=200,
    ...                           minimum_purchase=Money("20", "EUR"))
    >>> code = ReferralCode.issue(program, "ann", t, code="ANN-2026").value
    >>> code, claim = code.claim(program, "bob", t).value
    >>> code.uses, claim.id == claim_id("friends", "bob")
    (1, True)
    >>> result = claim.qualify(program, Purchase("o-1", "bob", t, Money("35", "EUR")), t).value
    >>> [(r.account, r.points, r.key) for r in result.rewards]
    [('ann', 500, 'referral:ANN-2026:bob:referrer'), ('bob', 200, 'referral:ANN-2026:bob:referee')]
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

import attrs

from crmcore.customers.records import Purchase
from crmcore.kernel import validators
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import DuplicateOperationError, ValidationError
from crmcore.kernel.events import Outcome
from crmcore.kernel.ids import validate_id
from crmcore.kernel.money import Money
from crmcore.loyalty.events import ReferralClaimed, ReferralCodeIssued, ReferralRewarded

__all__ = [
    "CODE_ALPHABET",
    "ReferralClaim",
    "ReferralCode",
    "ReferralProgram",
    "ReferralResult",
    "RewardInstruction",
    "RewardRole",
    "claim_id",
    "generate_code",
    "referral_code",
    "reward_key",
]

CODE_ALPHABET: Final = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
"""Letters and digits of generated codes: no 0/O, 1/I/L or U, so codes read aloud safely."""
_CODE: Final = re.compile(r"[A-Z0-9](?:[A-Z0-9-]{2,30})[A-Z0-9]\Z")
MAX_VALID_DAYS: Final = 36_500


def referral_code(value: object, field: str = "code") -> str:
    """Validate a referral code and return it normalised (stripped, upper case).

    Codes are 4-32 characters of ``A-Z``, ``0-9`` and inner hyphens.

    Examples:
        >>> referral_code(" ann-2026 ")
        'ANN-2026'
        >>> referral_code("a b")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: code: must be 4-32 letters, digits or ...
    """
    text = value.strip().upper() if isinstance(value, str) else None
    if text is None or not _CODE.match(text) or "--" in text:
        raise ValidationError(field, value, "must be 4-32 letters, digits or inner hyphens")
    return text


def generate_code(seed: str | int, referrer: str, *, length: int = 8, prefix: str = "") -> str:
    """A code derived deterministically from ``seed`` and ``referrer`` (SHA-256, base 30).

    The same arguments always give the same code; a different ``seed`` gives
    a referrer another one. ``prefix`` (e.g. ``"FRIEND-"``) is prepended.

    Examples:
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
    if isinstance(seed, str):
        validators.storable_text(seed, "seed")  # hashed as UTF-8
    digest = hashlib.sha256(f"{seed}\x1f{validate_id(referrer, 'referrer')}".encode()).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return referral_code(prefix + "".join(chars), "prefix")


def reward_key(code: str, referee: str, role: RewardRole | str) -> str:
    """The idempotency key of one side's reward: ``referral:{code}:{referee}:{role}``."""
    shown = validators.choice(role, "role", RewardRole).value
    return f"referral:{referral_code(code)}:{validate_id(referee, 'referee')}:{shown}"


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


def _program_id(value: object) -> str:
    return validate_id(value, "program.id")


@attrs.frozen(kw_only=True)
class ReferralProgram:
    """A referral program's rules: rewards, the qualifying minimum, code validity and limit.

    ``id`` names the program in its codes and claims (and seeds generated
    codes by default). ``valid_days`` is how long a code stays valid after issue (``None``:
    forever); ``usage_limit`` how many referees may claim one code (0:
    unlimited). At least one side must get points.
    """

    id: str = attrs.field(converter=_program_id)
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


def _program_ref(value: object) -> str:
    return validate_id(value, "program_id")


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


def _check_program(program: object) -> ReferralProgram:
    if not isinstance(program, ReferralProgram):
        raise ValidationError("program", program, "must be a ReferralProgram")
    return program


def claim_id(program_id: str, referee: str) -> str:
    """The id of ``referee``'s claim in program ``program_id``: one claim per referee and program.

    A digest of both ids (``rc-`` and 40 hex digits), so any two ids fit the
    128-character id limit and no pair collides with another by a separator.

    Examples:
        >>> claim_id("friends", "bob") == claim_id("friends", "bob") != claim_id("friends", "cy")
        True
        >>> claim_id("friends", "bob")[:3], len(claim_id("friends", "bob"))
        ('rc-', 43)
    """
    program = validate_id(program_id, "program_id")
    who = _referee(referee)
    return "rc-" + hashlib.sha256(f"{program}\x1f{who}".encode()).hexdigest()[:40]


def _same_program(program: ReferralProgram, program_id: str, what: str) -> None:
    if program.id != program_id:
        raise ValidationError(
            "program", program.id, f"is not the program {program_id!r} of this {what}"
        )


@attrs.frozen(kw_only=True)
class ReferralCode:
    """A code issued to ``referrer`` in program ``program_id`` (an aggregate).

    ``id`` is the normalised code; it is valid in ``[starts_at, expires_at)``
    for at most ``usage_limit`` referees (0: unlimited), and ``uses`` counts
    the claims made on it.
    """

    id: str = attrs.field(converter=_code)
    program_id: str = attrs.field(converter=_program_ref)
    referrer: str = attrs.field(converter=_referrer)
    starts_at: datetime = attrs.field(converter=_time)
    expires_at: datetime | None = attrs.field(default=None, converter=_optional_time)
    usage_limit: int = attrs.field(default=0, validator=_usage_limit)
    uses: int = attrs.field(default=0, validator=_count)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        if self.expires_at is not None and self.expires_at <= self.starts_at:
            raise ValidationError("expires_at", self.expires_at, "must be after starts_at")
        if self.usage_limit and self.uses > self.usage_limit:
            raise ValidationError("uses", self.uses, f"must not exceed {self.usage_limit}")

    @property
    def code(self) -> str:
        """The code itself (the same as ``id``)."""
        return self.id

    @classmethod
    def issue(
        cls,
        program: ReferralProgram,
        referrer: str,
        at: datetime,
        *,
        code: str | None = None,
        seed: str | int | None = None,
    ) -> Outcome[ReferralCode]:
        """Issue ``referrer`` a code of ``program`` at ``at``: ``code`` as given, else generated.

        A generated code comes from ``seed`` (default: the program id) and the
        referrer, so the same arguments give the same code. Whether that code
        is already stored (the same referrer's: issue nothing; another's:
        [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError]) is the caller's look-up,
        as [`crmcore.services.issue_referral_code()`][crmcore.services.issue_referral_code] does.
        """
        program = _check_program(program)
        who = _referrer(referrer)
        when = to_utc(at, "at")
        key = (
            referral_code(code)
            if code is not None
            else generate_code(program.id if seed is None else seed, who)
        )
        days = program.valid_days
        record = cls(
            id=key,
            program_id=program.id,
            referrer=who,
            starts_at=when,
            expires_at=None if days is None else when + timedelta(days=days),
            usage_limit=program.usage_limit,
        )
        event = ReferralCodeIssued(
            aggregate_id=key,
            occurred_at=when,
            program_id=program.id,
            code=key,
            referrer=who,
            starts_at=record.starts_at,
            expires_at=record.expires_at,
            usage_limit=record.usage_limit,
        )
        return Outcome(record, (event,))

    def claim(
        self,
        program: ReferralProgram,
        referee: str,
        at: datetime,
        *,
        first_purchase_at: datetime | None = None,
    ) -> Outcome[tuple[ReferralCode, ReferralClaim]]:
        """Record that ``referee`` claimed this code at ``at``: the code used once more, a claim.

        ``first_purchase_at`` is the referee's first purchase, if any (the
        caller knows the customer); one at or before ``at`` makes them an
        existing customer. The caller checks first that the referee holds no
        claim in the program (the id [`claim_id()`][crmcore.loyalty.referrals.claim_id]; see
        [`ReferralClaim.reclaim()`][crmcore.loyalty.referrals.ReferralClaim.reclaim]).

        Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for a program other
        than the code's (field ``program``), a self-referral (``referee``), an
        existing customer (``referee``), or a code not yet valid, expired or
        used up (``code``).
        """
        program = _check_program(program)
        _same_program(program, self.program_id, "code")
        key = self.id
        who = _referee(referee)
        when = to_utc(at, "at")
        first = (
            None if first_purchase_at is None else to_utc(first_purchase_at, "first_purchase_at")
        )
        if self.referrer == who:
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
        if when < self.starts_at:
            raise ValidationError("code", key, f"is not valid before {self.starts_at.isoformat()}")
        if self.expires_at is not None and when >= self.expires_at:
            raise ValidationError("code", key, f"expired at {self.expires_at.isoformat()}")
        if self.usage_limit and self.uses >= self.usage_limit:
            raise ValidationError("code", key, f"has reached its usage limit of {self.usage_limit}")
        claim = ReferralClaim(
            id=claim_id(program.id, who),
            program_id=program.id,
            code=key,
            referrer=self.referrer,
            referee=who,
            claimed_at=when,
        )
        event = ReferralClaimed(
            aggregate_id=claim.id,
            occurred_at=when,
            program_id=program.id,
            code=key,
            referrer=self.referrer,
            referee=who,
        )
        return Outcome((attrs.evolve(self, uses=self.uses + 1), claim), (event,))


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
    """A referee's claim on a code (an aggregate); rewarded once a purchase qualified.

    ``id`` is [`claim_id()`][crmcore.loyalty.referrals.claim_id] of the program and the referee, so
    a referee holds at most one claim per program. ``rewarded_at``, ``order_id`` and ``rewards`` are
    set by the qualifying purchase.
    """

    id: str = attrs.field(converter=_id)
    program_id: str = attrs.field(converter=_program_ref)
    code: str = attrs.field(converter=_code)
    referrer: str = attrs.field(converter=_referrer)
    referee: str = attrs.field(converter=_referee)
    claimed_at: datetime = attrs.field(converter=_time)
    rewarded_at: datetime | None = attrs.field(default=None, converter=_optional_time)
    order_id: str | None = None
    rewards: tuple[RewardInstruction, ...] = attrs.field(default=(), converter=_rewards)
    version: int = attrs.field(default=0, validator=validators.version)

    def __attrs_post_init__(self) -> None:
        if self.id != claim_id(self.program_id, self.referee):
            raise ValidationError("id", self.id, "must be claim_id(program_id, referee)")
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

    @property
    def pending(self) -> bool:
        """True while no purchase has qualified (the rewards are still to come)."""
        return self.rewarded_at is None

    def reclaim(self, code: str) -> ReferralClaim:
        """The referee claims ``code`` again: this claim for the same code (the first one stands).

        Raises [`DuplicateOperationError`][crmcore.kernel.errors.DuplicateOperationError] (key
        ``referral:{referee}``) when the referee was referred with another code.
        """
        key = referral_code(code)
        if key != self.code:
            raise DuplicateOperationError(
                f"referral:{self.referee}",
                f"cannot be claimed: referee {self.referee!r} was already referred with code "
                f"{self.code!r}",
            )
        return self

    def qualify(
        self, program: ReferralProgram, purchase: Purchase, at: datetime
    ) -> Outcome[ReferralResult]:
        """Reward the referral if ``purchase`` is the referee's first qualifying one.

        A purchase qualifies when it is the referee's, made at or after the
        claim, and at least the program's ``minimum_purchase``. Then both
        sides get a [`RewardInstruction`][crmcore.loyalty.referrals.RewardInstruction] (a side with
        0 points gets none) and one [`ReferralRewarded`][crmcore.loyalty.events.ReferralRewarded]
        event is raised; the caller posts each instruction with the ledger's ``award(...)`` under
        its key. Any later call, with this or another purchase, returns no instructions, no event
        and this claim unchanged.

        Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for another program, a
        purchase of another customer, before the claim, or after ``at``, and
        [`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError] for a purchase in
        another currency than the minimum.
        """
        program = _check_program(program)
        _same_program(program, self.program_id, "claim")
        who = self.referee
        when = to_utc(at, "at")
        if not isinstance(purchase, Purchase):
            raise ValidationError("purchase", purchase, "must be a Purchase")
        if purchase.customer_id != who:
            raise ValidationError(
                "purchase.customer_id", purchase.customer_id, f"must be the referee {who!r}"
            )
        if self.rewarded:
            return Outcome(ReferralResult(claim=self, rewards=()))
        if purchase.at < self.claimed_at:
            raise ValidationError(
                "purchase.at", purchase.at, f"is before the claim ({self.claimed_at.isoformat()})"
            )
        if when < purchase.at:
            raise ValidationError("at", when, "must not be before the purchase")
        if purchase.amount < program.minimum_purchase:
            return Outcome(ReferralResult(claim=self, rewards=()))
        rewards = tuple(
            RewardInstruction(
                account=account,
                role=role,
                points=points,
                key=reward_key(self.code, who, role),
                code=self.code,
                order_id=purchase.order_id,
            )
            for account, role, points in (
                (self.referrer, RewardRole.REFERRER, program.referrer_points),
                (who, RewardRole.REFEREE, program.referee_points),
            )
            if points > 0
        )
        rewarded = attrs.evolve(self, rewarded_at=when, order_id=purchase.order_id, rewards=rewards)
        event = ReferralRewarded(
            aggregate_id=self.id,
            occurred_at=when,
            program_id=program.id,
            code=self.code,
            referrer=self.referrer,
            referee=who,
            order_id=purchase.order_id,
            referrer_points=program.referrer_points,
            referee_points=program.referee_points,
            referrer_key=reward_key(self.code, who, RewardRole.REFERRER),
            referee_key=reward_key(self.code, who, RewardRole.REFEREE),
        )
        return Outcome(ReferralResult(claim=rewarded, rewards=rewards), (event,))


@attrs.frozen(kw_only=True)
class ReferralResult:
    """What [`ReferralClaim.qualify()`][crmcore.loyalty.referrals.ReferralClaim.qualify] returns:
    the claim and the rewards to post.

    ``rewards`` is empty when the purchase did not qualify or the referral
    was already rewarded (then ``claim.rewards`` holds the first result).
    """

    claim: ReferralClaim
    rewards: tuple[RewardInstruction, ...]
