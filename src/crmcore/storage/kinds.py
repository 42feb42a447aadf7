"""Kinds of stored things: how an adapter names, identifies and indexes them.

An [`AggregateKind`][crmcore.storage.kinds.AggregateKind] describes a type of versioned aggregate
(its name, class, unique keys and lookup indexes) and a
[`RecordKind`][crmcore.storage.kinds.RecordKind] a type of append-only record. Every adapter stores
any kind generically, so new aggregate types plug in by declaring a kind and asking the unit of
work for its repository
([`repository()`][crmcore.storage.unit_of_work.BufferedUnitOfWork.repository]).

* **Unique keys** map a key name to one value per aggregate (``None``: none); two aggregates never
  share a value, checked at ``add``/``save`` and again at commit.
* **Indexes** map an index name to any number of values per aggregate, shared freely: the
  lookups a repository offers beyond the id (the leads with an e-mail address, the enrolments due
  by a time). Values are text; an index over times stores
  [`sortable_time()`][crmcore.storage.kinds.sortable_time], so a range of text is a range of time.
* **Documents**: an aggregate or record is stored as its
  [`crmcore.kernel.codec`][crmcore.kernel.codec] JSON unless its kind gives an ``encoder`` and a
  ``decoder`` (a workflow is stored in its own versioned JSON form).

The kinds of the built-in aggregates and records are declared here too (`CUSTOMERS`, `PURCHASES`,
[`LOYALTY_ACCOUNTS`][crmcore.storage.kinds.LOYALTY_ACCOUNTS],
[`LEADS`][crmcore.storage.kinds.LEADS], [`ENROLMENTS`][crmcore.storage.kinds.ENROLMENTS], ...).
Configuration that has no storage version of its own (a pipeline, a workflow version, the
automation's send counts) is stored inside a small versioned holder
([`StoredPipeline`][crmcore.storage.kinds.StoredPipeline],
[`StoredWorkflow`][crmcore.storage.kinds.StoredWorkflow],
[`StoredSendCounts`][crmcore.storage.kinds.StoredSendCounts]) that the repositories unwrap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Final, Generic, TypeVar

import attrs

from crmcore.customers.customer import Customer
from crmcore.customers.records import Interaction, Purchase, ServiceRecord
from crmcore.feedback.cases import Case
from crmcore.feedback.feedback import Feedback
from crmcore.feedback.improvement import ImprovementAction
from crmcore.funnel.position import FunnelPosition
from crmcore.kernel import codec, validators
from crmcore.kernel.clock import to_micros, to_utc
from crmcore.kernel.codec import JSON
from crmcore.kernel.errors import ValidationError
from crmcore.lifecycle.record import Lifecycle
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.referrals import ReferralClaim, ReferralCode
from crmcore.loyalty.tiers import TierStatus
from crmcore.marketing.campaigns import Campaign
from crmcore.marketing.coupon_wallet import Coupon, CouponPool, CouponWallet
from crmcore.marketing.coupons import CouponDefinition
from crmcore.marketing.enrolments import Enrolment
from crmcore.marketing.guardrails import ContactHistory, SendCounts
from crmcore.marketing.workflow_json import workflow_from_json, workflow_to_json
from crmcore.marketing.workflows import Workflow
from crmcore.sales.accounts import Account
from crmcore.sales.leads import Lead
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.relationships import Relationship, RelationshipKind, node_key

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
    "OPEN_LEAD_STATUSES",
    "OPPORTUNITIES",
    "PIPELINES",
    "PURCHASES",
    "REFERRAL_CLAIMS",
    "REFERRAL_CODES",
    "RELATIONSHIPS",
    "SALES_ACCOUNTS",
    "SEND_COUNTS",
    "SEND_COUNTS_ID",
    "SERVICE_RECORDS",
    "TIER_STATUSES",
    "WORKFLOWS",
    "AggregateKind",
    "RecordKind",
    "StoredPipeline",
    "StoredSendCounts",
    "StoredWorkflow",
    "account_key",
    "due_value",
    "redact_feedback",
    "relationship_id",
    "sortable_time",
]

A = TypeVar("A")
R = TypeVar("R")


@attrs.frozen
class AggregateKind(Generic[A]):
    """A type of versioned aggregate: its name, class, unique keys, indexes and stored form.

    Aggregates have ``id: str`` and ``version: int`` attributes and are frozen attrs classes.
    ``unique_keys`` maps a key name to a function giving the aggregate's value for it (``None`` =
    no value, not indexed); ``indexes`` maps an index name to a function giving its values (any
    number, shared with other aggregates). ``encoder`` and ``decoder`` replace the codec's JSON
    form of the aggregate (both or neither).
    """

    name: str
    cls: type[A]
    unique_keys: tuple[tuple[str, Callable[[A], str | None]], ...] = ()
    indexes: tuple[tuple[str, Callable[[A], Iterable[str]]], ...] = ()
    encoder: Callable[[A], JSON] | None = None
    decoder: Callable[[JSON], A] | None = None

    def __attrs_post_init__(self) -> None:
        if (self.encoder is None) != (self.decoder is None):
            raise ValidationError(f"{self.name}.decoder", self.decoder, "give both or neither")

    def id_of(self, aggregate: A) -> str:
        """The aggregate's id."""
        validators.instance_of(aggregate, self.cls, "aggregate")
        value: str = getattr(aggregate, "id")  # noqa: B009 - generic over attrs classes
        return value

    def version_of(self, aggregate: A) -> int:
        """The aggregate's version."""
        validators.instance_of(aggregate, self.cls, "aggregate")
        value: int = getattr(aggregate, "version")  # noqa: B009
        return value

    def with_version(self, aggregate: A, version: int) -> A:
        """A copy of the aggregate at ``version``.

        ``attrs.evolve`` by default. A class whose construction is costly (one
        that replays its history, like a ledger) may define a method
        ``with_version(version)`` returning the copy more cheaply; it is used instead.
        """
        validators.instance_of(aggregate, self.cls, "aggregate")
        own = getattr(type(aggregate), "with_version", None)
        if not callable(own):
            return attrs.evolve(aggregate, version=version)  # type: ignore[misc]
        copy: A = own(aggregate, version)
        if type(copy) is not type(aggregate) or self.version_of(copy) != version:
            raise ValidationError(
                f"{self.name}.with_version", copy, f"must return the aggregate at version {version}"
            )
        return copy

    def keys_of(self, aggregate: A) -> dict[str, str | None]:
        """The aggregate's unique-key values."""
        validators.instance_of(aggregate, self.cls, "aggregate")
        return {name: get(aggregate) for name, get in self.unique_keys}

    def index_values_of(self, aggregate: A) -> dict[str, tuple[str, ...]]:
        """The aggregate's values in each index (distinct, in the order given)."""
        validators.instance_of(aggregate, self.cls, "aggregate")
        return {name: tuple(dict.fromkeys(get(aggregate))) for name, get in self.indexes}

    def has_index(self, index: str) -> bool:
        """Whether the kind declares the index ``index``."""
        validators.instance_of(index, str, "index")
        return any(name == index for name, _get in self.indexes)

    def encode(self, aggregate: A) -> JSON:
        """The stored JSON document of ``aggregate``."""
        return codec.encode(aggregate) if self.encoder is None else self.encoder(aggregate)

    def decode(self, data: JSON) -> A:
        """The aggregate stored as ``data`` (validated as it is rebuilt)."""
        if self.decoder is None:
            value: A = codec.decode(self.cls, data)
            return value
        return self.decoder(data)


@attrs.frozen
class RecordKind(Generic[R]):
    """A type of append-only record, stored under an owner (a customer) and a time.

    The record's id is its ``id_field`` attribute, its owner its ``customer_id`` and its time its
    ``at``, unless ``key``, ``owner`` and ``time`` say otherwise (a relationship edge has no id of
    its own: [`relationship_id()`][crmcore.storage.kinds.relationship_id] is its key). ``redact``
    gives the record without its free text, for erasure.
    """

    name: str
    cls: type[R]
    id_field: str
    redact: Callable[[R], R] | None = None
    key: Callable[[R], str] | None = None
    owner: Callable[[R], str] | None = None
    time: Callable[[R], datetime] | None = None

    def id_of(self, record: R) -> str:
        """The record's id."""
        validators.instance_of(record, self.cls, "record")
        if self.key is not None:
            return self.key(record)
        value: str = getattr(record, self.id_field)
        return value

    def owner_of(self, record: R) -> str:
        """Whose record it is: the id its records are listed under."""
        validators.instance_of(record, self.cls, "record")
        if self.owner is not None:
            return self.owner(record)
        value: str = getattr(record, "customer_id")  # noqa: B009 - generic over records
        return value

    def at_of(self, record: R) -> datetime:
        """The record's time (aware, UTC); records are ordered by (time, id)."""
        validators.instance_of(record, self.cls, "record")
        if self.time is not None:
            return to_utc(self.time(record), "at")
        value: object = getattr(record, "at")  # noqa: B009 - generic over records
        return to_utc(value, "at")

    def encode(self, record: R) -> JSON:
        """The stored JSON document of ``record``."""
        return codec.encode(record)

    def decode(self, data: JSON) -> R:
        """The record stored as ``data``."""
        value: R = codec.decode(self.cls, data)
        return value


_EPOCH_FROM_YEAR_ONE: Final = to_micros(datetime(1970, 1, 1, tzinfo=UTC)) - to_micros(
    datetime(1, 1, 1, tzinfo=UTC)
)


def sortable_time(at: datetime) -> str:
    """An instant as 18 digits (microseconds since 0001-01-01 UTC): text order is time order.

    Examples:
        >>> sortable_time(datetime(2026, 5, 4, tzinfo=UTC))
        '063913449600000000'
        >>> before, after = datetime(1969, 12, 31, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC)
        >>> sortable_time(before) < sortable_time(after)
        True
    """
    return f"{to_micros(at) + _EPOCH_FROM_YEAR_ONE:018d}"


def _one(value: str | None) -> tuple[str, ...]:
    return () if value is None else (value,)


CUSTOMERS: AggregateKind[Customer] = AggregateKind(
    "customer",
    Customer,
    (("email", lambda c: c.contact.email),),
    (("phone", lambda c: _one(c.contact.phone)),),
)
"""Customers; unique by normalised e-mail, looked up by E.164 phone number (index ``phone``)."""
FUNNEL_POSITIONS: AggregateKind[FunnelPosition] = AggregateKind("funnel_position", FunnelPosition)
LIFECYCLES: AggregateKind[Lifecycle] = AggregateKind("lifecycle", Lifecycle)
PURCHASES: RecordKind[Purchase] = RecordKind("purchase", Purchase, "order_id")
INTERACTIONS: RecordKind[Interaction] = RecordKind(
    "interaction", Interaction, "id", Interaction.redacted
)
SERVICE_RECORDS: RecordKind[ServiceRecord] = RecordKind(
    "service_record", ServiceRecord, "id", ServiceRecord.redacted
)


def redact_feedback(feedback: Feedback) -> Feedback:
    """The feedback without its free text (erasure keeps channel, kind, scores, themes)."""
    validators.instance_of(feedback, Feedback, "feedback")
    return feedback if feedback.text == "" else attrs.evolve(feedback, text="")


def account_key(program_id: str, customer_id: str) -> str:
    """The unique-key value of a loyalty account: program and customer (ids hold no spaces)."""
    return f"{program_id} {customer_id}"


def _case_feedback(case: Case) -> str | None:
    return case.feedback_id


def _account_owner(account: LoyaltyAccount) -> str:
    return account_key(account.program_id, account.customer_id)


FEEDBACK: RecordKind[Feedback] = RecordKind("feedback", Feedback, "id", redact_feedback)
"""Customer feedback, append-only; erasure blanks the text."""
CASES: AggregateKind[Case] = AggregateKind("case", Case, (("feedback_id", _case_feedback),))
"""Closed-loop cases; at most one case per feedback (unique key ``feedback_id``)."""
IMPROVEMENT_ACTIONS: AggregateKind[ImprovementAction] = AggregateKind(
    "improvement_action", ImprovementAction
)
"""Improvement actions on feedback themes."""
LOYALTY_ACCOUNTS: AggregateKind[LoyaltyAccount] = AggregateKind(
    "loyalty_account", LoyaltyAccount, (("customer", _account_owner),)
)
"""Loyalty accounts (the ledger); one per program and customer (unique key ``customer``)."""
TIER_STATUSES: AggregateKind[TierStatus] = AggregateKind("loyalty_tier_status", TierStatus)
"""Loyalty tier statuses, by loyalty account id."""
REFERRAL_CODES: AggregateKind[ReferralCode] = AggregateKind("loyalty_referral_code", ReferralCode)
"""Referral codes, by the normalised code (unique across programs)."""
REFERRAL_CLAIMS: AggregateKind[ReferralClaim] = AggregateKind(
    "loyalty_referral_claim", ReferralClaim
)
"""Referral claims, by ``claim_id(program_id, referee)``: one per referee and program."""

# -- sales ---------------------------------------------------------------------------------------

OPEN_LEAD_STATUSES: Final = ("new", "working", "nurturing", "qualified")
"""The statuses of a lead still being worked (the ``owner_status`` index is read with these)."""


def _lead_owner_status(lead: Lead) -> tuple[str, ...]:
    owner = lead.owner
    return () if owner is None else (f"{owner} {lead.status.value}",)


LEADS: AggregateKind[Lead] = AggregateKind(
    "lead",
    Lead,
    (("opportunity_id", lambda lead: lead.opportunity_id),),
    (
        ("email", lambda lead: _one(lead.contact.email)),
        ("phone", lambda lead: _one(lead.contact.phone)),
        ("customer", lambda lead: _one(lead.customer_id)),
        ("owner_status", _lead_owner_status),
        ("merged_into", lambda lead: _one(lead.merged_into)),
    ),
)
"""Leads; one per opportunity (unique key ``opportunity_id``, once converted). Indexes: the
normalised ``email`` and ``phone`` (duplicates are found, not prevented), the linked
``customer``, ``owner_status`` (``"<owner> <status>"``) and ``merged_into``."""


def _opportunity_pipeline_status(opportunity: Opportunity) -> tuple[str, ...]:
    return (f"{opportunity.pipeline_id} {opportunity.status.value}",)


OPPORTUNITIES: AggregateKind[Opportunity] = AggregateKind(
    "opportunity",
    Opportunity,
    (("lead_id", lambda o: o.lead_id),),
    (
        ("account", lambda o: _one(o.account_id)),
        ("customer", lambda o: _one(o.customer_id)),
        ("owner", lambda o: (o.owner,)),
        ("pipeline_status", _opportunity_pipeline_status),
    ),
)
"""Opportunities; at most one per lead (unique key ``lead_id``). Indexes: ``account``,
``customer``, ``owner`` and ``pipeline_status`` (``"<pipeline> <open|won|lost>"``)."""

SALES_ACCOUNTS: AggregateKind[Account] = AggregateKind(
    "sales_account",
    Account,
    (),
    (("parent", lambda a: _one(a.parent_id)), ("contact", lambda a: a.customer_ids)),
)
"""Accounts (companies, households). Indexes: ``parent`` and ``contact`` (every customer id in
a role)."""


def relationship_id(edge: Relationship) -> str:
    """The stored id of a relationship edge.

    ``"<kind> <source node> <target node> <since>"``, so an edge is stored once per kind, pair and
    start. A ``referred`` edge's id is its target alone (``"referred customer:<id>"``): a customer
    is referred at most once, and the store refuses a second referral of the same customer.

    Examples:
        >>> t = datetime(2026, 3, 2, tzinfo=UTC)
        >>> relationship_id(Relationship.referred("ann", "bob", t))
        'referred customer:bob'
        >>> relationship_id(Relationship.between("colleague", "cy", "ann", t))
        'colleague customer:ann customer:cy 063908006400000000'
    """
    if edge.kind is RelationshipKind.REFERRED:
        return f"{edge.kind.value} {node_key(edge.target_kind, edge.target)}"
    kind, source, target = edge.key
    return f"{kind} {source} {target} {sortable_time(edge.since)}"


RELATIONSHIPS: RecordKind[Relationship] = RecordKind(
    "relationship",
    Relationship,
    "source",
    key=relationship_id,
    owner=lambda edge: node_key(edge.source_kind, edge.source),
    time=lambda edge: edge.since,
)
"""Relationship edges, append-only, listed under their source node (``"customer:ann"``) in time
order; ids by [`relationship_id()`][crmcore.storage.kinds.relationship_id]."""


def _pipeline(value: object) -> Pipeline:
    if not isinstance(value, Pipeline):
        raise ValidationError("pipeline", value, "must be a Pipeline")
    return value


@attrs.frozen(kw_only=True)
class StoredPipeline:
    """A pipeline as stored: its configuration under its id, with a storage version."""

    pipeline: Pipeline = attrs.field(converter=_pipeline)
    version: int = attrs.field(default=0, validator=validators.version)

    @property
    def id(self) -> str:
        """The pipeline's id."""
        return self.pipeline.id


PIPELINES: AggregateKind[StoredPipeline] = AggregateKind("pipeline", StoredPipeline)
"""Pipelines (stages as data), by pipeline id."""

# -- marketing -----------------------------------------------------------------------------------


def _workflow(value: object) -> Workflow:
    if not isinstance(value, Workflow):
        raise ValidationError("workflow", value, "must be a Workflow")
    return value


@attrs.frozen(kw_only=True)
class StoredWorkflow:
    """One workflow version as stored, under ``"<workflow>@<version>"``; never rewritten."""

    workflow: Workflow = attrs.field(converter=_workflow)
    version: int = attrs.field(default=0, validator=validators.version)

    @property
    def id(self) -> str:
        """``"<workflow id>@<workflow version>"``."""
        return self.workflow.key


def _encode_workflow(stored: StoredWorkflow) -> JSON:
    return {"workflow": workflow_to_json(stored.workflow), "version": stored.version}


def _decode_workflow(data: JSON) -> StoredWorkflow:
    if not isinstance(data, Mapping) or set(data) != {"workflow", "version"}:
        raise ValidationError("$", data, 'must be {"workflow": ..., "version": ...}')
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValidationError("version", version, "must be a whole number")
    return StoredWorkflow(workflow=workflow_from_json(data["workflow"]), version=version)


WORKFLOWS: AggregateKind[StoredWorkflow] = AggregateKind(
    "workflow",
    StoredWorkflow,
    (),
    (("workflow", lambda stored: (stored.workflow.id,)),),
    _encode_workflow,
    _decode_workflow,
)
"""Workflow versions, each stored once in the workflow's versioned JSON form
([`workflow_to_json()`][crmcore.marketing.workflow_json.workflow_to_json]). Index: ``workflow``
(the workflow id)."""


def due_value(status: str, wake_at: datetime) -> str:
    """An enrolment's value in the ``due`` index: ``"<status> <sortable wake time>"``."""
    return f"{status} {sortable_time(wake_at)}"


def _enrolment_due(enrolment: Enrolment) -> tuple[str, ...]:
    if enrolment.is_final or enrolment.wake_at is None:
        return ()
    return (due_value(enrolment.status.value, enrolment.wake_at),)


ENROLMENTS: AggregateKind[Enrolment] = AggregateKind(
    "enrolment",
    Enrolment,
    (),
    (
        ("customer", lambda e: (e.customer_id,)),
        ("workflow", lambda e: (e.workflow_id,)),
        ("due", _enrolment_due),
    ),
)
"""Workflow enrolments, by [`enrolment_id()`][crmcore.marketing.enrolments.enrolment_id].
Indexes: ``customer``, ``workflow`` and ``due`` (open enrolments by status and wake time:
[`due_value()`][crmcore.storage.kinds.due_value])."""

CONTACT_HISTORIES: AggregateKind[ContactHistory] = AggregateKind("contact_history", ContactHistory)
"""The messages recently sent to each customer, by customer id."""

SEND_COUNTS_ID: Final = "default"
"""The id of the one stored [`StoredSendCounts`][crmcore.storage.kinds.StoredSendCounts]."""


def _counts(value: object) -> SendCounts:
    if not isinstance(value, SendCounts):
        raise ValidationError("counts", value, "must be SendCounts")
    return value


def _run_at(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "run_at")


@attrs.frozen(kw_only=True)
class StoredSendCounts:
    """The automation's global send counts and the instant of the run that stored them."""

    id: str = attrs.field(default=SEND_COUNTS_ID)
    counts: SendCounts = attrs.field(factory=SendCounts, converter=_counts)
    run_at: datetime | None = attrs.field(default=None, converter=_run_at)
    version: int = attrs.field(default=0, validator=validators.version)


SEND_COUNTS: AggregateKind[StoredSendCounts] = AggregateKind("send_counts", StoredSendCounts)
"""The automation's send counts (one, under ``"default"``): every run reads and writes it, so two
runs at once conflict and one retries."""
CAMPAIGNS: AggregateKind[Campaign] = AggregateKind("campaign", Campaign)
"""Campaigns, by id."""
COUPON_DEFINITIONS: AggregateKind[CouponDefinition] = AggregateKind(
    "coupon_definition", CouponDefinition
)
"""Coupon definitions (the rules of an offer), by id."""
COUPON_POOLS: AggregateKind[CouponPool] = AggregateKind("coupon_pool", CouponPool)
"""Coupon pools (issued, redeemed, budget used), by definition id."""
COUPONS: AggregateKind[Coupon] = AggregateKind(
    "coupon",
    Coupon,
    (),
    (("definition", lambda c: (c.definition_id,)), ("holder", lambda c: _one(c.holder))),
)
"""Coupons, by code. Indexes: ``definition`` and ``holder``."""
COUPON_WALLETS: AggregateKind[CouponWallet] = AggregateKind(
    "coupon_wallet",
    CouponWallet,
    (),
    (("customer", lambda w: (w.customer_id,)),),
)
"""Coupon wallets, by [`wallet_id()`][crmcore.marketing.coupon_wallet.wallet_id]. Index:
``customer``."""
