"""Demo section: a loyalty program run over the synthetic purchases, stored in SQLite."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TextIO

from crmcore.customers.records import Purchase
from crmcore.demo._text import Timings, section, table, timed
from crmcore.kernel.money import Money
from crmcore.loyalty import (
    Campaign,
    EarnRule,
    EntryType,
    ExpiryPolicy,
    LoyaltyAccount,
    LoyaltyProgram,
    Tier,
    TierPolicy,
    TierStatus,
    facts_from_ledger,
)
from crmcore.services.loyalty import expire_accounts, loyalty_liability
from crmcore.storage.sqlite import SqliteStore

__all__ = ["loyalty", "program_for"]

_REWARD = 500
"""Points worth redeeming in one go in the demo (a 5.00 voucher at 0.01 per point)."""


def program_for(currency: str, end: datetime) -> tuple[LoyaltyProgram, TierPolicy]:
    """The demo's program: 1 point per unit, app x2, a Black Friday x3, 12-month expiry."""
    black_friday = datetime(end.year - 1, 11, 27, tzinfo=end.tzinfo)
    program = LoyaltyProgram(
        id="CLUB",
        name="Club points",
        currency=currency,
        point_value=Money("0.01", currency),
        earn=EarnRule(
            channel_multipliers={"app": Decimal(2)},
            tier_multipliers={"Silver": Decimal("1.25"), "Gold": Decimal("1.5")},
        ),
        campaigns=[
            Campaign(
                name="black_friday",
                starts_at=black_friday,
                ends_at=black_friday + timedelta(days=4),
                multiplier=Decimal(3),
            )
        ],
        expiry=ExpiryPolicy.end_of_month(12),
        pending_days=14,
    )
    tiers = TierPolicy(
        name="club tiers",
        currency=currency,
        window="rolling_12_months",
        grace_days=30,
        tiers=(
            Tier("Member"),
            Tier("Silver", min_points=300, multiplier=Decimal("1.25")),
            Tier("Gold", min_points=1000, multiplier=Decimal("1.5")),
        ),
    )
    return program, tiers


def _member(
    program: LoyaltyProgram,
    tiers: TierPolicy,
    customer: str,
    purchases: Sequence[Purchase],
    as_of: datetime,
) -> tuple[LoyaltyAccount, TierStatus, int, int]:
    """One member's history: earn at their tier, redeem a reward when they can.

    Returns the account, tier status, rewards redeemed and points clawed back
    (the last order is refunded for one member in twelve, as returns happen).
    """
    account = LoyaltyAccount(id=f"L-{customer}", customer_id=customer, program_id=program.id)
    status = TierStatus.new(account.id, tiers)
    rewards = 0
    for purchase in purchases:
        account = account.earn(
            program, purchase, key=f"earn-{purchase.order_id}", tier=status.tier
        ).value
        status = status.evaluate(facts_from_ledger(account), purchase.at, tiers).value
        if account.balance(purchase.at, program) >= _REWARD:
            key = f"reward-{purchase.order_id}"
            account = account.redeem(program, _REWARD, at=purchase.at, key=key).value
            rewards += 1
    clawed = 0
    if int(customer.lstrip("C") or 0) % 12 == 0:
        last = purchases[-1]
        at = min(last.at + timedelta(days=3), as_of)
        before = account.total_points
        account = account.refund(program, last.order_id, at=at, key=f"refund-{last.order_id}").value
        clawed = before - account.total_points
    return account, status, rewards, clawed


def loyalty(
    out: TextIO,
    store: SqliteStore,
    purchases: Sequence[Purchase],
    currency: str,
    as_of: datetime,
    timings: Timings,
) -> None:
    """Earn, tiers, rewards, a refund, nightly expiry and the liability, through SQLite."""
    program, tiers = program_for(currency, as_of)
    by_customer: dict[str, list[Purchase]] = {}
    for purchase in sorted(purchases, key=lambda p: (p.at, p.order_id)):
        by_customer.setdefault(purchase.customer_id, []).append(purchase)

    def run() -> list[tuple[LoyaltyAccount, TierStatus, int, int]]:
        return [_member(program, tiers, c, ps, as_of) for c, ps in sorted(by_customer.items())]

    members = timed(f"loyalty ledgers for {len(purchases):,} orders", timings, run)

    def save() -> None:
        with store.unit_of_work() as uow:
            for account, status, _, _ in members:
                uow.loyalty_accounts.add(account)
                uow.tier_statuses.add(status)

    timed("store ledgers and tiers (one unit of work)", timings, save)
    expiry = timed(
        "nightly expiry (batches of 500)",
        timings,
        lambda: expire_accounts(store, program, as_of, batch_size=500),
    )
    report = loyalty_liability(store, program, as_of, expected_redemption="0.8")

    earning = (EntryType.EARN, EntryType.AWARD)
    earned = sum(e.points for a, *_ in members for e in a.entries if e.type in earning)
    tiers_now = Counter(s.tier for _, s, _, _ in members)
    section(out, f"Loyalty: {program.name} ({program.point_value} a point, as of {as_of:%Y-%m-%d})")
    table(
        out,
        ["measure", "value"],
        [
            ("members", len(members)),
            ("points earned and awarded", earned),
            ("rewards redeemed (500 points)", sum(r for _, _, r, _ in members)),
            ("points clawed back by refunds", sum(c for *_, c in members)),
            ("accounts with points expiring tonight", expiry.accounts_expired),
            ("points expired tonight", expiry.expired_points),
            ("points outstanding", report.total_points),
            ("outstanding value", str(report.total_value)),
            ("IFRS 15 liability at 80% redemption", str(report.liability)),
        ],
    )
    table(
        out,
        ["tier", "members"],
        [(tier.name, tiers_now.get(tier.name, 0)) for tier in tiers.tiers],
    )
    upcoming = [
        (month, points, pending, str(value))
        for month, points, pending, value in zip(
            report.months, report.points, report.pending, report.values, strict=True
        )
    ][:4]
    table(out, ["points expire in", "points", "pending", "value"], upcoming)
