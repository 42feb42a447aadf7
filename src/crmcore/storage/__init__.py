"""Storage adapters: [`crmcore.storage.memory`][crmcore.storage.memory],
[`crmcore.storage.sqlite`][crmcore.storage.sqlite] and
[`crmcore.storage.postgres`][crmcore.storage.postgres].

All three are built on the same machinery, re-exported here for adapters and for
new kinds of stored things:

* [`crmcore.storage.kinds`][crmcore.storage.kinds]:
  [`AggregateKind`][crmcore.storage.AggregateKind], [`RecordKind`][crmcore.storage.RecordKind] and
  the kinds of the built-in aggregates and records;
* [`crmcore.storage.backend`][crmcore.storage.backend]: the [`Backend`][crmcore.storage.Backend]
  protocol an adapter implements and the [`ChangeSet`][crmcore.storage.ChangeSet] it applies
  atomically;
* [`crmcore.storage.unit_of_work`][crmcore.storage.unit_of_work]:
  [`BufferedUnitOfWork`][crmcore.storage.BufferedUnitOfWork], the unit of work over any backend,
  with the repositories of [`crmcore.storage.repositories`][crmcore.storage.repositories] (any
  kind), [`crmcore.storage.sales_repositories`][crmcore.storage.sales_repositories] and
  [`crmcore.storage.marketing_repositories`][crmcore.storage.marketing_repositories];
* [`crmcore.storage.outbox`][crmcore.storage.outbox]: outbox message ids and the relay loop.
"""

from crmcore.storage.backend import AggregateWrite, Backend, ChangeSet, RecordWrite
from crmcore.storage.kinds import (
    CAMPAIGNS,
    CASES,
    CONTACT_HISTORIES,
    COUPON_DEFINITIONS,
    COUPON_POOLS,
    COUPON_WALLETS,
    COUPONS,
    CUSTOMERS,
    ENROLMENTS,
    FEEDBACK,
    FUNNEL_POSITIONS,
    IMPROVEMENT_ACTIONS,
    INTERACTIONS,
    LEADS,
    LIFECYCLES,
    LOYALTY_ACCOUNTS,
    OPPORTUNITIES,
    PIPELINES,
    PURCHASES,
    REFERRAL_CLAIMS,
    REFERRAL_CODES,
    RELATIONSHIPS,
    SALES_ACCOUNTS,
    SEND_COUNTS,
    SERVICE_RECORDS,
    TIER_STATUSES,
    WORKFLOWS,
    AggregateKind,
    RecordKind,
    account_key,
    redact_feedback,
    sortable_time,
)
from crmcore.storage.outbox import new_message_id, relay
from crmcore.storage.repositories import BufferedRecordRepository, BufferedRepository
from crmcore.storage.unit_of_work import BufferedUnitOfWork

__all__ = [
    "CAMPAIGNS",
    "CASES",
    "CONTACT_HISTORIES",
    "COUPONS",
    "COUPON_DEFINITIONS",
    "COUPON_POOLS",
    "COUPON_WALLETS",
    "CUSTOMERS",
    "ENROLMENTS",
    "FEEDBACK",
    "FUNNEL_POSITIONS",
    "IMPROVEMENT_ACTIONS",
    "INTERACTIONS",
    "LEADS",
    "LIFECYCLES",
    "LOYALTY_ACCOUNTS",
    "OPPORTUNITIES",
    "PIPELINES",
    "PURCHASES",
    "REFERRAL_CLAIMS",
    "REFERRAL_CODES",
    "RELATIONSHIPS",
    "SALES_ACCOUNTS",
    "SEND_COUNTS",
    "SERVICE_RECORDS",
    "TIER_STATUSES",
    "WORKFLOWS",
    "AggregateKind",
    "AggregateWrite",
    "Backend",
    "BufferedRecordRepository",
    "BufferedRepository",
    "BufferedUnitOfWork",
    "ChangeSet",
    "RecordKind",
    "RecordWrite",
    "account_key",
    "new_message_id",
    "redact_feedback",
    "relay",
    "sortable_time",
]
