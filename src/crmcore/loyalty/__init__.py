"""Loyalty: programs, an append-only points ledger with lots and expiry, tiers and referrals.

A [`LoyaltyProgram`][crmcore.loyalty.LoyaltyProgram] ([`program`][crmcore.loyalty.program]) says how
points are earned, redeemed and expire ([`expiry`][crmcore.loyalty.expiry]); a
[`LoyaltyAccount`][crmcore.loyalty.LoyaltyAccount] ([`ledger`][crmcore.loyalty.ledger]) is the
append-only ledger of one member, its points held in lots;
[`ledger_batch`][crmcore.loyalty.ledger_batch] expires every account and reports the outstanding
liability; [`posting_batch`][crmcore.loyalty.posting_batch] posts earns, awards and redemptions
for many accounts in one call, by the same rules, at array speed;
[`tier_policy`][crmcore.loyalty.tier_policy], [`tiers`][crmcore.loyalty.tiers] (with
[`tiers_batch`][crmcore.loyalty.tiers_batch]) and [`referrals`][crmcore.loyalty.referrals] add
membership tiers and referral rewards.
"""

from __future__ import annotations

from crmcore.loyalty.entries import MAX_POINTS, EntryType, LedgerEntry, Lot, QualifyingEarn
from crmcore.loyalty.events import (
    LoyaltyEvent,
    PointsAdjusted,
    PointsAwarded,
    PointsEarned,
    PointsExpired,
    PointsRedeemed,
    PointsReversed,
    ReferralClaimed,
    ReferralCodeIssued,
    ReferralRewarded,
    TierDowngraded,
    TierEvent,
    TierRetained,
    TierUpgraded,
)
from crmcore.loyalty.expiry import (
    ExpiryPolicy,
    ExpiryRule,
    add_months,
    program_zone,
)
from crmcore.loyalty.ledger import LoyaltyAccount, replay
from crmcore.loyalty.ledger_batch import (
    ExpiryRun,
    LedgerColumns,
    LiabilityReport,
    LotColumns,
    expire_all,
    ledger_columns,
    liability_report,
    lot_columns,
)
from crmcore.loyalty.posting_batch import (
    BatchPosting,
    PostingKind,
    Postings,
    PostingStatus,
    post_batch,
)
from crmcore.loyalty.program import (
    ROUNDING_MODES,
    STANDARD_ACTIONS,
    Campaign,
    EarnQuote,
    EarnRule,
    LoyaltyProgram,
    RedemptionRule,
    ReturnPolicy,
)
from crmcore.loyalty.referrals import (
    CODE_ALPHABET,
    ReferralClaim,
    ReferralCode,
    ReferralProgram,
    ReferralResult,
    RewardInstruction,
    RewardRole,
    claim_id,
    generate_code,
    referral_code,
    reward_key,
)
from crmcore.loyalty.statement import Statement
from crmcore.loyalty.tier_policy import DowngradePolicy, QualificationWindow, Tier, TierPolicy
from crmcore.loyalty.tiers import (
    QualifyingFact,
    TierChange,
    TierChangeReason,
    TierProgress,
    TierStatus,
    facts_from_ledger,
)
from crmcore.loyalty.tiers_batch import BatchTiers, evaluate_batch, evaluate_log

__all__ = [
    "ROUNDING_MODES",
    "STANDARD_ACTIONS",
    "Campaign",
    "EarnQuote",
    "EarnRule",
    "LoyaltyProgram",
    "RedemptionRule",
    "ReturnPolicy",
    "ExpiryPolicy",
    "ExpiryRule",
    "add_months",
    "program_zone",
    "MAX_POINTS",
    "EntryType",
    "LedgerEntry",
    "LoyaltyAccount",
    "Lot",
    "QualifyingEarn",
    "Statement",
    "replay",
    "LoyaltyEvent",
    "PointsAdjusted",
    "PointsAwarded",
    "PointsEarned",
    "PointsExpired",
    "PointsRedeemed",
    "PointsReversed",
    "ExpiryRun",
    "LedgerColumns",
    "LiabilityReport",
    "LotColumns",
    "expire_all",
    "ledger_columns",
    "liability_report",
    "lot_columns",
    "BatchPosting",
    "PostingKind",
    "PostingStatus",
    "Postings",
    "post_batch",
    "BatchTiers",
    "DowngradePolicy",
    "QualificationWindow",
    "QualifyingFact",
    "Tier",
    "TierChange",
    "TierChangeReason",
    "TierPolicy",
    "TierProgress",
    "TierStatus",
    "evaluate_batch",
    "evaluate_log",
    "facts_from_ledger",
    "ReferralClaimed",
    "ReferralCodeIssued",
    "ReferralRewarded",
    "TierDowngraded",
    "TierEvent",
    "TierRetained",
    "TierUpgraded",
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
