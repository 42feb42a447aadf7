"""Loyalty program configuration: earning, campaigns, actions, caps, redemption, expiry.

A [`LoyaltyProgram`][crmcore.loyalty.program.LoyaltyProgram] is frozen, serialisable data (it
round-trips through [`crmcore.kernel.codec`][crmcore.kernel.codec]), so a program can be stored,
versioned and diffed like any other document. The ledger
([`crmcore.loyalty.ledger`][crmcore.loyalty.ledger]) reads it; nothing here touches an account.

How purchase points are computed
([`LoyaltyProgram.quote()`][crmcore.loyalty.program.LoyaltyProgram.quote]), in order:

1. ``base = amount * points_per_unit`` (exact `Decimal`);
2. ``multiplier`` = channel multiplier * category multiplier * tier
   multiplier * the multipliers of every campaign running at the purchase
   time (a missing key multiplies by 1);
3. ``points = round(base * multiplier)`` with the program's ``rounding``
   (a `decimal` constant; ``ROUND_FLOOR`` by default, so a customer
   never gets a point that was not fully paid for), plus the bonus points of
   the running campaigns;
4. the per-order cap, then what is left of the per-day cap (days in the
   program's time zone) limit the result.

Campaigns run over ``[starts_at, ends_at)``: a purchase at ``starts_at``
qualifies, one at ``ends_at`` does not.

Examples:
    >>> from datetime import UTC, datetime
    >>> from decimal import Decimal
    >>> from crmcore.customers import Purchase
    >>> from crmcore.kernel.money import Money
    >>> program = LoyaltyProgram(id="P", currency="EUR", point_value=Money("0.01", "EUR"),
    ...     earn=EarnRule(channel_multipliers={"app": Decimal(2)}))
    >>> sale = Purchase("o-1", "c-1", datetime(2026, 3, 1, tzinfo=UTC), Money("19.99", "EUR"),
    ...     channel="app")
    >>> program.quote(sale).points
    39
"""

from __future__ import annotations

import bisect
import decimal
import enum
import functools
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Final

import attrs

from crmcore.customers.records import Purchase, normalize_slug
from crmcore.kernel import validators
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.ids import validate_id
from crmcore.kernel.money import Money, currency_code, to_decimal
from crmcore.loyalty.entries import MAX_POINTS
from crmcore.loyalty.expiry import ExpiryPolicy, ExpiryRule, program_zone

__all__ = [
    "DEFAULT_OUT_OF_ORDER_TOLERANCE",
    "ROUNDING_MODES",
    "STANDARD_ACTIONS",
    "Campaign",
    "EarnQuote",
    "EarnRule",
    "LoyaltyProgram",
    "RedemptionRule",
    "ReturnPolicy",
]

ROUNDING_MODES: Final = frozenset(
    {
        decimal.ROUND_FLOOR,
        decimal.ROUND_DOWN,
        decimal.ROUND_CEILING,
        decimal.ROUND_UP,
        decimal.ROUND_HALF_UP,
        decimal.ROUND_HALF_DOWN,
        decimal.ROUND_HALF_EVEN,
    }
)
"""The `decimal` rounding constants accepted for earning."""

STANDARD_ACTIONS: Final = ("sign_up", "review", "referral", "birthday", "survey", "social_share")
"""Action names the docs use; any slug may be configured."""


class ReturnPolicy(enum.StrEnum):
    """What a refund does when the order's points were already spent (Talon.One's vocabulary).

    ``within_balance`` (the default): claw back what remains of the order's
    lots, record the rest as the entry's ``shortfall``; the balance never goes
    negative. ``allow_negative``: the rest becomes a debt, the balance goes
    negative and future points settle the debt first.
    """

    WITHIN_BALANCE = "within_balance"
    ALLOW_NEGATIVE = "allow_negative"


def _decimal_map(value: object, field: str) -> FrozenDict[str, Decimal]:
    if not isinstance(value, Mapping):
        raise ValidationError(field, value, "must be a mapping of name to multiplier")
    out: dict[str, Decimal] = {}
    for key, factor in value.items():
        name = normalize_slug(key, field) if field != "earn.tier_multipliers" else _tier(key)
        number = to_decimal(factor, f"{field}.{key}")
        if number < 0:
            raise ValidationError(f"{field}.{key}", factor, "must not be negative")
        out[name] = number
    return FrozenDict(out)


def _tier(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("tier", value, "must be a non-empty tier name")
    return value.strip()


def _channels(value: object) -> FrozenDict[str, Decimal]:
    return _decimal_map(value, "earn.channel_multipliers")


def _categories(value: object) -> FrozenDict[str, Decimal]:
    return _decimal_map(value, "earn.category_multipliers")


def _tiers(value: object) -> FrozenDict[str, Decimal]:
    return _decimal_map(value, "earn.tier_multipliers")


def _rate(value: object) -> Decimal:
    number = to_decimal(value, "earn.points_per_unit")
    if number < 0:
        raise ValidationError("earn.points_per_unit", value, "must not be negative")
    return number


def _rounding(value: object) -> str:
    if not isinstance(value, str) or value not in ROUNDING_MODES:
        raise ValidationError("earn.rounding", value, f"must be one of {sorted(ROUNDING_MODES)}")
    return value


def _cap(value: object, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(field, value, "must be a non-negative integer or None")
    return value


def _order_cap(value: object) -> int | None:
    return _cap(value, "earn.max_points_per_order")


def _day_cap(value: object) -> int | None:
    return _cap(value, "earn.max_points_per_day")


@attrs.frozen(kw_only=True)
class EarnRule:
    """Points for purchases: a rate, multipliers, rounding and caps.

    ``points_per_unit`` points per unit of the program currency (1 = one
    point per euro); multipliers by channel, category and tier name (tier
    names as the tiers module spells them; an absent name multiplies by 1);
    ``rounding`` a `decimal` rounding constant; ``max_points_per_order``
    and ``max_points_per_day`` (None = no cap) limit purchase points, bonus
    included (action rewards are not capped).
    """

    points_per_unit: Decimal = attrs.field(default=Decimal(1), converter=_rate)
    rounding: str = attrs.field(default=ROUND_FLOOR, converter=_rounding)
    channel_multipliers: FrozenDict[str, Decimal] = attrs.field(
        factory=FrozenDict, converter=_channels
    )
    category_multipliers: FrozenDict[str, Decimal] = attrs.field(
        factory=FrozenDict, converter=_categories
    )
    tier_multipliers: FrozenDict[str, Decimal] = attrs.field(factory=FrozenDict, converter=_tiers)
    max_points_per_order: int | None = attrs.field(default=None, converter=_order_cap)
    max_points_per_day: int | None = attrs.field(default=None, converter=_day_cap)


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValidationError("campaign.name", value, "must be a non-empty string (<= 200)")
    return value.strip()


def _starts(value: object) -> datetime:
    return to_utc(value, "campaign.starts_at")


def _ends(value: object) -> datetime:
    return to_utc(value, "campaign.ends_at")


def _multiplier(value: object) -> Decimal:
    number = to_decimal(value, "campaign.multiplier")
    if number < 0:
        raise ValidationError("campaign.multiplier", value, "must not be negative")
    return number


def _bonus(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("campaign.bonus_points", value, "must be a non-negative integer")
    return value


def _slugs(value: object, field: str) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, frozenset | set | tuple | list):
        raise ValidationError(field, value, "must be a set of names")
    return frozenset(normalize_slug(v, field) for v in value)


def _campaign_channels(value: object) -> frozenset[str]:
    return _slugs(value, "campaign.channels")


def _campaign_categories(value: object) -> frozenset[str]:
    return _slugs(value, "campaign.categories")


@attrs.frozen(kw_only=True)
class Campaign:
    """A time-boxed earning boost: a multiplier and/or bonus points over ``[starts_at, ends_at)``.

    ``channels`` / ``categories`` restrict it (empty = every purchase).
    """

    name: str = attrs.field(converter=_name)
    starts_at: datetime = attrs.field(converter=_starts)
    ends_at: datetime = attrs.field(converter=_ends)
    multiplier: Decimal = attrs.field(default=Decimal(1), converter=_multiplier)
    bonus_points: int = attrs.field(default=0, converter=_bonus)
    channels: frozenset[str] = attrs.field(factory=frozenset, converter=_campaign_channels)
    categories: frozenset[str] = attrs.field(factory=frozenset, converter=_campaign_categories)

    def __attrs_post_init__(self) -> None:
        if self.ends_at <= self.starts_at:
            raise ValidationError("campaign.ends_at", self.ends_at, "must be after starts_at")

    def applies(self, at: datetime, channel: str, category: str | None) -> bool:
        """True when a purchase at ``at`` on ``channel`` in ``category`` qualifies."""
        at = to_utc(at, "at")
        if not self.starts_at <= at < self.ends_at:
            return False
        if self.channels and channel not in self.channels:
            return False
        return not self.categories or category in self.categories


def _positive(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_POINTS:
        raise ValidationError(field, value, "must be a positive integer below 10**12 (MAX_POINTS)")
    return value


def _minimum(value: object) -> int:
    return _positive(value, "redemption.minimum")


def _increment(value: object) -> int:
    return _positive(value, "redemption.increment")


@attrs.frozen(kw_only=True)
class RedemptionRule:
    """What a redemption must look like: at least ``minimum`` points, a multiple of ``increment``.

    The money value of a redeemed point is the program's ``point_value``.
    """

    minimum: int = attrs.field(default=1, converter=_minimum)
    increment: int = attrs.field(default=1, converter=_increment)

    def check(self, points: object) -> int:
        """Validate a requested redemption; return it as an ``int``."""
        if isinstance(points, bool) or not isinstance(points, int):
            raise ValidationError("points", points, "must be an integer")
        if points <= 0:
            raise ValidationError("points", points, "must be positive")
        if points >= MAX_POINTS:
            raise ValidationError("points", points, "must be below 10**12 (MAX_POINTS)")
        if points < self.minimum:
            raise ValidationError("points", points, f"must be at least {self.minimum}")
        if points % self.increment:
            raise ValidationError("points", points, f"must be a multiple of {self.increment}")
        return points


def _actions(value: object) -> FrozenDict[str, int]:
    if not isinstance(value, Mapping):
        raise ValidationError("actions", value, "must be a mapping of action name to points")
    out: dict[str, int] = {}
    for key, points in value.items():
        name = normalize_slug(key, "actions")
        out[name] = _positive(points, f"actions.{name}")
    return FrozenDict(out)


def _program_id(value: object) -> str:
    return validate_id(value, "program.id")


def _currency(value: object) -> str:
    return currency_code(value, "program.currency")


def _point_value(value: object) -> Money:
    if not isinstance(value, Money) or value.amount <= 0:
        raise ValidationError("program.point_value", value, "must be positive Money")
    return value


def _campaigns(value: object) -> tuple[Campaign, ...]:
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise ValidationError("campaigns", value, "must be a sequence of Campaign")
    for i, campaign in enumerate(value):
        if not isinstance(campaign, Campaign):
            raise ValidationError(f"campaigns[{i}]", campaign, "must be a Campaign")
    return tuple(value)


def _pending(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
        raise ValidationError("pending_days", value, "must be an integer from 0 to 3650")
    return value


def _zone(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError("timezone", value, "must be an IANA time zone name")
    program_zone(value)
    return value


DEFAULT_OUT_OF_ORDER_TOLERANCE: Final = timedelta(minutes=5)
"""How far behind the ledger's latest entry an operation may arrive by default."""
_MAX_TOLERANCE: Final = timedelta(days=1)


def _tolerance(value: object) -> timedelta:
    if not isinstance(value, timedelta) or not timedelta(0) <= value <= _MAX_TOLERANCE:
        raise ValidationError(
            "out_of_order_tolerance", value, "must be a timedelta from 0 to 1 day"
        )
    return value


def _return_policy(value: object) -> ReturnPolicy:
    if isinstance(value, ReturnPolicy):
        return value
    if isinstance(value, str) and value in ReturnPolicy._value2member_map_:
        return ReturnPolicy(value)
    raise ValidationError("return_policy", value, "must be within_balance or allow_negative")


def _expiry(value: object) -> ExpiryPolicy:
    if not isinstance(value, ExpiryPolicy):
        raise ValidationError("expiry", value, "must be an ExpiryPolicy")
    return value


def _earn(value: object) -> EarnRule:
    if not isinstance(value, EarnRule):
        raise ValidationError("earn", value, "must be an EarnRule")
    return value


def _redemption(value: object) -> RedemptionRule:
    if not isinstance(value, RedemptionRule):
        raise ValidationError("redemption", value, "must be a RedemptionRule")
    return value


@attrs.frozen
class EarnQuote:
    """How a purchase's points were computed (before the per-day cap).

    ``base`` is amount * rate, ``multiplier`` the product of all multipliers,
    ``bonus`` the campaigns' bonus points, ``campaigns`` their names and
    ``points`` the result after rounding, bonus and the per-order cap.
    """

    base: Decimal
    multiplier: Decimal
    bonus: int
    campaigns: tuple[str, ...]
    points: int


@attrs.frozen(kw_only=True)
class LoyaltyProgram:
    """A loyalty program: currency, point value and every earning, redemption and expiry rule.

    ``point_value`` is the money value of one point (redemption value and
    liability; positive: a program whose points are worth nothing has no
    liability to report and is refused); ``actions`` maps action names (``sign_up``, ``review``,
    ``referral``, ``birthday``...) to the points they award (each below
    [`MAX_POINTS`][crmcore.loyalty.entries.MAX_POINTS]);
    ``pending_days`` is the return window during which purchase points stay
    pending (0 = available at once); ``timezone`` (IANA name) is where days
    and months are counted for caps and expiry. ``out_of_order_tolerance``
    (default 5 minutes, at most a day) is how far behind an account's latest
    entry an operation may be dated and still be placed at its own time (app
    servers' clocks differ, requests overtake each other); anything older needs
    a back-dated adjustment (see [`crmcore.loyalty.ledger`][crmcore.loyalty.ledger]).
    """

    id: str = attrs.field(converter=_program_id)
    currency: str = attrs.field(converter=_currency)
    point_value: Money = attrs.field(converter=_point_value)
    name: str = ""
    earn: EarnRule = attrs.field(factory=EarnRule, converter=_earn)
    campaigns: tuple[Campaign, ...] = attrs.field(default=(), converter=_campaigns)
    actions: FrozenDict[str, int] = attrs.field(factory=FrozenDict, converter=_actions)
    redemption: RedemptionRule = attrs.field(factory=RedemptionRule, converter=_redemption)
    expiry: ExpiryPolicy = attrs.field(factory=ExpiryPolicy, converter=_expiry)
    pending_days: int = attrs.field(default=0, converter=_pending)
    return_policy: ReturnPolicy = attrs.field(
        default=ReturnPolicy.WITHIN_BALANCE, converter=_return_policy
    )
    timezone: str = attrs.field(default="UTC", converter=_zone)
    out_of_order_tolerance: timedelta = attrs.field(
        default=DEFAULT_OUT_OF_ORDER_TOLERANCE, converter=_tolerance
    )

    def __attrs_post_init__(self) -> None:
        if self.point_value.currency != self.currency:
            raise ValidationError(
                "program.point_value", self.point_value, f"must be in {self.currency}"
            )

    @property
    def allows_negative(self) -> bool:
        """True when refunds may take the balance below zero."""
        return self.return_policy is ReturnPolicy.ALLOW_NEGATIVE

    def quote(self, purchase: Purchase, tier: str | None = None) -> EarnQuote:
        """The points ``purchase`` earns for a customer in ``tier`` (per-day cap not applied)."""
        return EarnQuote(*self._derived.quote(purchase, tier))

    @functools.cached_property
    def _derived(self) -> _Derived:
        # Built on first use and kept with this (immutable) program value.
        return _Derived(self)

    def action_points(self, action: object, points: object = None) -> tuple[str, int]:
        """The normalised action name and its points (``points`` overrides the configured ones)."""
        if not isinstance(action, str):
            raise ValidationError("action", action, "must be an action name")
        name = normalize_slug(action, "action")
        if name not in self.actions:
            known = ", ".join(sorted(self.actions)) or "none configured"
            raise ValidationError("action", action, f"is not an action of the program ({known})")
        if points is None:
            return name, self.actions[name]
        return name, _positive(points, "points")

    def value_of(self, points: int) -> Money:
        """The money value of ``points`` points (a whole number)."""
        if type(points) is not int:
            points = validators.integer(points, "points")
        return self._derived.value_of(points)


_ONE: Final = Decimal(1)

_MEMO_SIZE: Final = 4096
"""Bound on each per-program memo (distinct channel/category/tier keys, days, point counts)."""


class _Derived:
    """What a program's rules reduce to, computed once per program value (the hot path).

    The rules themselves are applied here and only here:
    [`LoyaltyProgram.quote()`][crmcore.loyalty.program.LoyaltyProgram.quote] and the ledger both
    call `quote()`. Memos only store results of the same computation keyed by its inputs (a product
    of multipliers, a lot's expiry per earning day, a points value); they are bounded and never
    change a result.
    """

    __slots__ = (
        "bounds",
        "campaigns",
        "cap",
        "currency",
        "describe",
        "earn",
        "expiry",
        "expiry_by_day",
        "factors",
        "inactivity",
        "pending",
        "per_day",
        "per_lot",
        "point_value",
        "rate",
        "rounding",
        "timezone",
        "values",
        "zone",
    )

    def __init__(self, program: LoyaltyProgram) -> None:
        rule = program.earn
        self.earn = rule
        self.currency = program.currency
        self.rate = rule.points_per_unit
        self.rounding = rule.rounding
        self.cap = rule.max_points_per_order
        self.campaigns = program.campaigns
        self.point_value = program.point_value
        self.pending = timedelta(days=program.pending_days) if program.pending_days else None
        self.expiry = program.expiry
        self.timezone = program.timezone
        self.zone = program_zone(program.timezone)
        self.per_lot = program.expiry.per_lot
        self.per_day = program.expiry.rule in (ExpiryRule.END_OF_MONTH, ExpiryRule.FIXED_DATE)
        self.inactivity = program.expiry.rule is ExpiryRule.INACTIVITY
        self.describe = program.expiry.describe()
        self.bounds = sorted({t for c in program.campaigns for t in (c.starts_at, c.ends_at)})
        self.factors: dict[
            tuple[int, str, str | None, str | None], tuple[Decimal, int, tuple[str, ...]]
        ] = {}
        self.expiry_by_day: dict[date, datetime | None] = {}
        self.values: dict[int, Money] = {}

    def quote(
        self, purchase: Purchase, tier: str | None
    ) -> tuple[Decimal, Decimal, int, tuple[str, ...], int]:
        """``(base, multiplier, bonus, campaign names, points)``: the earning rule (module doc)."""
        if not isinstance(purchase, Purchase):
            raise ValidationError("purchase", purchase, "must be a crmcore Purchase")
        amount = purchase.amount
        if amount.currency != self.currency:
            raise ValidationError(
                "purchase.amount",
                amount,
                f"must be in the program currency {self.currency}",
            )
        base = amount.amount * self.rate
        if tier is not None and type(tier) is not str:
            _tier(tier)  # raises: only names are memo keys
        span = bisect.bisect_right(self.bounds, purchase.at) if self.bounds else 0
        multiplier, bonus, names = self.factor(span, purchase.channel, purchase.category, tier)
        points = int((base * multiplier).to_integral_value(rounding=self.rounding)) + bonus
        cap = self.cap
        if cap is not None and points > cap:
            points = cap
        return base, multiplier, bonus, names, points

    def factor(
        self, span: int, channel: str, category: str | None, tier: str | None
    ) -> tuple[Decimal, int, tuple[str, ...]]:
        """``(multiplier, bonus, campaign names)`` of a purchase made in the ``span``-th interval of
        ``bounds`` (the campaigns' start and end instants, sorted): within one interval the same
        campaigns run, so the product is computed once per (interval, channel, category, tier).

        The multiplications happen in the order of the module doc (channel, category, tier, then
        each running campaign in the program's order), so the `Decimal` is the same at any speed.
        """
        key = (span, channel, category, tier)
        found = self.factors.get(key)
        if found is not None:
            return found
        rule = self.earn
        multiplier = rule.channel_multipliers.get(channel, _ONE)
        if category is not None:
            multiplier *= rule.category_multipliers.get(category, _ONE)
        if tier is not None:
            multiplier *= rule.tier_multipliers.get(_tier(tier), _ONE)
        bonus = 0
        names: tuple[str, ...] = ()
        if span:  # before the first bound no campaign has started
            moment = self.bounds[span - 1]  # any instant of the interval decides alike
            for campaign in self.campaigns:
                if campaign.applies(moment, channel, category):
                    multiplier *= campaign.multiplier
                    bonus += campaign.bonus_points
                    names += (campaign.name,)
        found = (multiplier, bonus, names)
        if len(self.factors) < _MEMO_SIZE:
            self.factors[key] = found
        return found

    def lot_expiry(self, earned_at: datetime) -> datetime | None:
        """``program.expiry.lot_expiry(earned_at, program.timezone)``, memoised per local day.

        Under ``end_of_month`` and ``fixed_date`` the instant depends on the
        local date of earning only, so one computation serves a whole day.
        """
        if not self.per_lot:
            return None
        if not self.per_day:
            return self.expiry.lot_expiry(earned_at, self.timezone)
        zone = self.zone
        day = (earned_at.astimezone(zone) if zone is not UTC else earned_at).date()
        try:
            return self.expiry_by_day[day]
        except KeyError:
            found = self.expiry.lot_expiry(earned_at, self.timezone)
            if len(self.expiry_by_day) < _MEMO_SIZE:
                self.expiry_by_day[day] = found
            return found

    def value_of(self, points: int) -> Money:
        """``point_value * points`` (memoised: the same count is worth the same Money)."""
        found = self.values.get(points) if type(points) is int else None
        if found is None:
            try:
                found = self.point_value * points
            except ValidationError:  # beyond what Money holds (MAX_AMOUNT)
                raise ValidationError(
                    "points", points, f"are worth more than Money holds at {self.point_value}"
                ) from None
            if type(points) is int and len(self.values) < _MEMO_SIZE:
                self.values[points] = found
        return found
