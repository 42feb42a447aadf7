"""Valid values for the bad-input sweep: a small world of crmcore objects, and what each
parameter name usually needs.

A sweep call changes one argument of a valid call, so the valid call must be valid: these are
the values that make it so. ``NAMES`` gives a value by parameter name (``*_id``: an id,
``currency``: ``"EUR"``, ...); ``BASE`` gives the values of particular callables whose
parameters need more than their name says (a rule text, an id present in the store, arrays of one
length). ``world()`` builds the objects every other value is made from.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final

import numpy as np

from crmcore import services
from crmcore.analytics import (
    BgNbdModel,
    BtydSummary,
    CohortMatrix,
    HistoricalClv,
    RfmTable,
    customer_lifetime_value,
    fit_bgnbd,
    fit_gamma_gamma,
    summary_from_transactions,
    value_tiers,
)
from crmcore.columnar import (
    STRING_DTYPE,
    Column,
    CustomerFrame,
    EventLog,
    TransactionLog,
    customer_record,
)
from crmcore.customers import (
    ConsentRecord,
    Contact,
    Customer,
    Demographics,
    Geography,
    Interaction,
    Psychographics,
    Purchase,
    ServiceRecord,
    export_customer,
)
from crmcore.datasets import generate, load_cdnow_summary
from crmcore.engines import duckdb as duck
from crmcore.feedback import (
    Case,
    CaseRule,
    Feedback,
    ImprovementAction,
    MetricBreakdown,
    NeedRule,
    ThemeReport,
)
from crmcore.funnel import DEFAULT_TOUCHPOINTS, FunnelPosition
from crmcore.journey import JourneyMap, TouchpointScore
from crmcore.kernel.clock import FixedClock
from crmcore.kernel.errors import CrmError
from crmcore.kernel.events import Outcome
from crmcore.kernel.money import Money
from crmcore.kernel.stage import Stage
from crmcore.lifecycle import (
    BatchClassification,
    BatchTransitions,
    Classification,
    Lifecycle,
    LifecycleState,
)
from crmcore.loyalty import Campaign as LoyaltyCampaign
from crmcore.loyalty import (
    LoyaltyAccount,
    LoyaltyProgram,
    Postings,
    ReferralProgram,
    Tier,
    TierPolicy,
    TierStatus,
)
from crmcore.loyalty.tiers_batch import _BatchEngine
from crmcore.marketing import (
    MEASURES,
    AssociationRules,
    Campaign,
    CampaignAudience,
    CampaignResults,
    Checkout,
    CouponPool,
    CouponWallet,
    DryRun,
    Enrolment,
    Redeemed,
    Split,
    Variant,
    Workflow,
    WorkflowCatalog,
    WorkflowSummary,
    issue_coupon,
    measure_campaign,
    redeem_coupon,
    reverse_redemption,
    workflow_to_json,
    workflow_to_json_text,
)
from crmcore.ports import Store
from crmcore.sales import (
    Account,
    AccountHierarchy,
    AccountRollups,
    Activity,
    FitRule,
    Lead,
    LeadScoring,
    MoveContext,
    Opportunity,
    OpportunityFrame,
    PipelineMachine,
    PipelineSnapshot,
    Relationship,
    ScoreTable,
)
from crmcore.sales.pipeline import DEFAULT_PIPELINE
from crmcore.sales.predictive_features import read_column
from crmcore.segments import (
    Field,
    SegmentMembership,
    parse_rule,
    parse_rule_with_positions,
    rule_to_json,
    rule_to_json_text,
)
from crmcore.segments import Literal as SLiteral
from crmcore.storage import kinds
from crmcore.storage.memory import MemoryStore
from crmcore.storage.sqlite import SqliteStore
from crmcore.testing.contract import samples
from tests.sweep_kit import AS_OF, T0, Lazy, Pool

Pick = Callable[[Pool, str], object]

RULE: Final = parse_rule("age > 30 and country = 'DE'")
PROGRAM: Final = LoyaltyProgram(
    id="P", currency="EUR", point_value=Money("0.01", "EUR"), actions={"review": 50}
)
REFERRALS: Final = ReferralProgram(
    id="R", referrer_points=100, referee_points=50, minimum_purchase=Money("10.00", "EUR")
)
TIERS: Final = TierPolicy(
    name="status",
    currency="EUR",
    tiers=[Tier("Base"), Tier("Gold", min_points=100, multiplier=Decimal("1.5"))],
)


_POSTING_ROWS: Final = (
    {
        "account": 0,
        "kind": "earn",
        "key": "earn-o-4",
        "purchase": Purchase("o-4", "c-1", AS_OF, Money("40.00", "EUR")),
    },
    {"account": 0, "kind": "award", "key": "award-4", "action": "review", "at": AS_OF},
)


def _const(value: object) -> Pick:
    return lambda _pool, _name: value


def _held(cls: type) -> Pick:
    return lambda pool, _name: pool.instance(cls)


def _ids(_pool: Pool, _name: str) -> object:
    return np.array(["c-1", "c-2", "c-3"], dtype=object)


# Values by parameter name; ``*suffix`` matches any name ending in ``suffix``.
NAMES: Final[Mapping[str, Pick]] = {
    "id": _const("x-1"),
    "*_id": _const("c-1"),
    "account_id": _const("A-1"),
    "lead_id": _const("L0001"),
    "first_id": _const("L0001"),
    "second_id": _const("L0002"),
    "opportunity_id": _const("OP0001"),
    "pipeline_id": _const("sales"),
    "workflow_id": _const("welcome"),
    "definition_id": _const("spring"),
    "customer": _const("c-1"),
    "referrer": _const("c-1"),
    "referee": _const("c-2"),
    "owner": _const("ann"),
    "currency": _const("EUR"),
    "country": _const("DE"),
    "default_country": _const("DE"),
    "email": _const("ann@example.com"),
    "phone": _const("+49 151 12345678"),
    "channel": _const("web"),
    "kind": _const("website_visit"),
    "name": _const("Ann"),
    "title": _const("Fix the checkout"),
    "label": _const("value"),
    "reason": _const("goodwill"),
    "source": _const("web_form"),
    "key": _const("k-1"),
    "code": _const("ANN-2024"),
    "prefix": _const("X"),
    "text": _const("age > 30"),
    "rule": _const(parse_rule("age > 30")),
    "field": _const("at"),
    "tag": _const("vip"),
    "tags": _const(["vip"]),
    "themes": _const(("delivery",)),
    "theme": _const("delivery"),
    "note": _const("called back"),
    "action": _const("review"),
    "seed": _const(7),
    "at": _const(T0),
    "*_at": _const(T0),
    "as_of": _const(AS_OF),
    "since": _const(T0),
    "start": _const(T0),
    "end": _const(AS_OF),
    "until": _const(AS_OF),
    "on": _const(date(2024, 6, 1)),
    "day": _const(date(2024, 6, 1)),
    "window": _const(timedelta(days=30)),
    "stage": _const(Stage.INTEREST),
    "period": _const("month"),
    "scale": _const("nps"),
    "confidence": _const(0.95),
    "points": _const(10),
    "months": _const(12),
    "bins": _const(5),
    "weights": _const([1, 2]),
    "amount": _const(Money("25.00", "EUR")),
    "values": lambda _p, _n: np.array([1.0, 2.0, 3.0]),
    "scores": lambda _p, _n: np.array([9, 7, 3]),
    "labels": lambda _p, _n: np.array(["a", "b", "a"], dtype=object),
    "customer_ids": _ids,
    "ids": _ids,
    "micros": lambda _p, _n: np.array([0, 86_400_000_000, 2 * 86_400_000_000], dtype=np.int64),
    "log": _held(TransactionLog),
    "transactions": _held(TransactionLog),
    "frame": _held(CustomerFrame),
    "events": _held(EventLog),
    "program": _const(PROGRAM),
    "tier_policy": _const(TIERS),
    "policy": lambda pool, name: pool.by_name("_policy"),
    "contact": _const(Contact(email="ann@example.com")),
    "path": lambda _p, _n: Path("sweep-output.csv"),
    "target": lambda _p, _n: Path("sweep-output.csv"),
}


def seed(store: Store) -> Store:
    """A store holding customers c-1 and c-2, a purchase of c-1, and c-1's loyalty account A-1
    (program P) with points earned."""
    purchase = Purchase("o-1", "c-1", T0, Money("120.00", "EUR"))
    with store.unit_of_work() as uow:
        for cid, name in (("c-1", "Ann Lee"), ("c-2", "Bo Chan")):
            customer = Customer.register(
                cid, name, T0, contact=Contact(email=f"{cid}@example.com"), tags=["vip"]
            )
            uow.customers.add(uow.take(customer))
        ann = uow.customers.get("c-1")
        uow.purchases.add(purchase)
        uow.customers.save(uow.take(ann.record_purchase(purchase)))
        account = LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P")
        uow.loyalty_accounts.add(uow.take(account.earn(PROGRAM, purchase, key="earn-o-1")))
    for step in _SEED_STEPS:
        try:
            step(store)
        except CrmError:  # a service still being built: its sweep then says it is unreached
            continue
    return store


_COMPLAINT: Final = Feedback(
    id="fb-9",
    customer_id="c-1",
    channel="email",
    kind="complaint",
    text="Still no refund",
    scores={"nps": 2},
    at=T0,
)


def _new_lead(lead_id: str) -> Outcome[Lead]:
    return Lead.create(lead_id, T0, source="web_form", name="Lee Ay", owner="rep-1")


_SEED_STEPS: Final[list[Callable[[Store], object]]] = [
    lambda store: services.save_pipeline(store, DEFAULT_PIPELINE),
    lambda store: services.capture_lead(store, _new_lead("L0001")),
    lambda store: services.capture_lead(store, _new_lead("L0002")),
    lambda store: services.open_opportunity(
        store,
        Opportunity.open(
            "OP0001",
            DEFAULT_PIPELINE,
            owner="ann",
            close_date=date(2024, 6, 30),
            at=T0,
            amount=Money("1000", "EUR"),
        ),
    ),
    lambda store: services.define_coupon(store, samples.COUPONS),
    lambda store: services.issue_coupon(
        store, "spring", "SPRING-1", T0, key="issue-1", holder="c-1"
    ),
    lambda store: services.save_workflow(store, samples._workflow()),
    lambda store: services.issue_coupon(
        store, "spring", "SPRING-2", T0, key="issue-2", holder="c-2"
    ),
    lambda store: services.redeem_coupon(
        store, "SPRING-2", Checkout("o-8", "c-2", Money("40", "EUR")), T0, key="redeem-o-8"
    ),
    lambda store: services.issue_referral_code(store, REFERRALS, "c-1", T0, code="ANN-2024"),
    lambda store: services.open_sales_account(store, Account.open("A-1", "Acme", T0)),
    lambda store: services.open_sales_account(store, Account.open("A-2", "Acme Group", T0)),
    lambda store: services.add_relationship(store, Relationship.referred("c-1", "c-2", T0)),
    lambda store: services.schedule_activity(store, "L0002", "ACT-1", "call", T0),
    lambda store: services.capture_lead(
        store,
        Lead.create("L0003", T0, source="web_form", contact=Contact(email="lee@example.com")),
    ),
    lambda store: services.capture_lead(
        store,
        Lead.create("L0004", T0, source="web_form", owner="rep-1", customer_id="c-1"),
    ),
    lambda store: services.qualify_lead(store, "L0004", T0),
    lambda store: services.submit_feedback(store, _COMPLAINT, customer_value=2500),
    lambda store: services.add_improvement_action(
        store, ImprovementAction.plan("IA-2", "Faster refunds", ["refunds"], "ann", at=T0)
    ),
    lambda store: services.claim_referral(store, REFERRALS, "ANN-2024", "c-2", T0),
    lambda store: _store_campaign(store),
]


def _store_campaign(store: Store) -> None:
    """The draft email campaign ``spring`` (no service adds one: the launch service starts it)."""
    draft = Campaign.draft("spring", "Spring", channels=["email"], starts_at=T0, at=T0).value
    with store.unit_of_work() as uow:
        uow.campaigns.add(draft)


def memory_store() -> MemoryStore:
    """A fresh seeded in-memory store."""
    return seed(MemoryStore())  # type: ignore[return-value]


def sqlite_store() -> SqliteStore:
    """A fresh seeded SQLite store in a new file of the working directory (a temporary one)."""
    path = Path(f"sweep-{next(_FILES)}.db")
    return seed(SqliteStore(path))  # type: ignore[return-value]


_FILES = itertools.count()

FRESH: Final[dict[type, Callable[[], object]]] = {
    MemoryStore: memory_store,
    SqliteStore: sqlite_store,
    FixedClock: lambda: FixedClock(T0),
}
"""Types whose instances change when used: the pool makes a new one for every call."""

# A method is called on the first held instance of its class (``Pool.instance``), so the world
# puts first an instance whose state serves more methods without losing any: a new lead with an
# open call, c-1's wallet with a reversed redemption, measured results with a control group.
_H = timedelta(hours=1)


def _redeemed() -> Redeemed:
    """c-1's spring coupon SPRING-9 redeemed on order o-9 (key ``redeem-o-9``)."""
    definition = samples.COUPONS
    issued = issue_coupon(
        definition, CouponPool.new(definition), "SPRING-9", at=T0, key="issue-9", holder="c-1"
    ).value
    wallet = CouponWallet.new(definition, "c-1")
    checkout = Checkout("o-9", "c-1", Money("40", "EUR"))
    return redeem_coupon(
        definition, issued.pool, issued.coupon, wallet, checkout, at=T0, key="redeem-o-9"
    ).value


_REDEEMED: Final = _redeemed()
_REVERSED: Final = reverse_redemption(
    samples.COUPONS,
    _REDEEMED.pool,
    _REDEEMED.coupon,
    _REDEEMED.wallet,
    of="redeem-o-9",
    at=T0 + _H,
    key="reverse-o-9",
).value


def _campaign_results() -> CampaignResults:
    """A campaign measured with a control group (c-1) and a variant A (c-2, who converted)."""
    campaign = Campaign.draft(
        "spring",
        "Spring",
        channels=["email"],
        starts_at=T0,
        at=T0,
        split=Split("0.5", (Variant("A"),)),
    ).value
    audience = CampaignAudience(
        campaign_id="spring",
        as_of=T0,
        variant_names=("A",),
        customer_ids=np.array(["c-1", "c-2"], dtype=STRING_DTYPE),
        group_codes=np.array([-1, 0]),
        numbers=np.array([0.1, 0.9]),
    )
    touch = {"customer_id": "c-2", "at": T0 + _H, "kind": "spring", "channel": "email"}
    sale = {"customer_id": "c-2", "at": T0 + 5 * _H, "amount": 10.0, "currency": "EUR"}
    touches, sales = EventLog.from_records([touch]), TransactionLog.from_records([sale])
    return measure_campaign(campaign, audience, touches, sales, as_of=AS_OF)


def world() -> list[object]:
    """The objects the pool starts from: a customer base with its records and logs, a fitted
    purchase model, a loyalty program with an account that earned and redeemed, a rule, a sales
    pipeline with a lead and a deal, a workflow, a coupon."""
    data = generate(120, seed=3, end=datetime(2024, 12, 1, tzinfo=UTC), years=2.0, currency="EUR")
    summary = load_cdnow_summary().take(np.arange(150))
    purchases_model = fit_bgnbd(summary)
    spend_model = fit_gamma_gamma(summary)
    ann = Customer.register(
        "c-1",
        "Ann Lee",
        T0,
        contact=Contact(email="ann@example.com", phone="+49 151 12345678"),
        demographics=Demographics(birth_date=date(1990, 5, 17)),
        geography=Geography(country="DE", city="Berlin"),
        psychographics=Psychographics(interests=["cycling"]),
        tags=["vip"],
        attributes={"plan": "gold", "seats": 3},
    ).value
    purchase = Purchase("o-1", "c-1", T0, Money("25.00", "EUR"), items=2, category="books")
    interaction = Interaction("i-1", "c-1", T0, "web", "website_visit", stage="interest")
    service = ServiceRecord("s-1", "c-1", T0, "repair", "phone", "screen", T0 + timedelta(hours=2))
    consent = ConsentRecord("email", True, T0, "checkout")
    ann = ann.record_purchase(purchase).value.record_interaction(interaction).value
    ann = ann.grant_consent("email", T0, "checkout").value
    account = LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P")
    account = account.earn(PROGRAM, purchase, key="earn-1").value
    account = account.redeem(PROGRAM, 5, at=T0 + timedelta(hours=1), key="redeem-1").value
    return [
        summary,
        purchases_model,
        spend_model,
        customer_lifetime_value(purchases_model, spend_model, summary),
        ann,
        purchase,
        interaction,
        service,
        consent,
        account,
        PROGRAM,
        REFERRALS,
        TIERS,
        TransactionLog.from_purchases(data.purchases),
        EventLog.from_interactions(data.interactions),
        CustomerFrame.from_customers(data.customers),
        parse_rule("age > 30 and country = 'DE'"),
        DEFAULT_PIPELINE,
        samples._lead(1).schedule("ACT-9", "call", T0, due_at=T0 + 24 * _H).value,
        _REVERSED.wallet,
        _campaign_results(),
        samples._lead(1),
        samples._opportunity(1, lead="L0001"),
        samples._workflow(),
        samples._waiting("c-1", timedelta(hours=1)),
        samples.COUPONS,
        *data.feedback[:3],
        *data.scores[:3],
        Postings.from_rows(_POSTING_ROWS),
        kinds.CUSTOMERS,
        kinds.PURCHASES,
    ]


def _held(cls: type) -> Lazy:
    return Lazy(lambda pool: pool.instance(cls))


_CASE_STEPS: Final[dict[str, dict[str, object]]] = {
    "acknowledge": {},
    "start": {},
    "wait_on_customer": {},
    "resolve": {"root_cause": "stock", "action_taken": "refund"},
    "follow_up": {"verdict": "resolved", "satisfaction": 5},
}


def _case_after(*steps: str) -> Lazy:
    """The held case moved through ``steps`` an hour apart (as far as it goes: never raises,
    the pool is built from these values)."""

    def make(pool: Pool) -> object:
        case = pool.instance(Case)
        at = getattr(case, "opened_at", T0)
        for hour, step in enumerate(steps, start=1):
            try:
                case = getattr(case, step)(at + timedelta(hours=hour), **_CASE_STEPS[step]).value
            except Exception:  # a case the pool holds in another state: left as it is
                break
        return case

    return Lazy(make)


def _action_time(pool: Pool) -> datetime:
    at = getattr(pool.instance(ImprovementAction), "planned_at", T0)
    return at if isinstance(at, datetime) else T0


def _started_action(pool: Pool) -> object:
    """The held improvement action, started an hour after it was planned (never raises)."""
    action = pool.instance(ImprovementAction)
    try:
        return action.start(_action_time(pool) + timedelta(hours=1)).value  # type: ignore[attr-defined]
    except Exception:  # an action the pool holds in another state: left as it is
        return action


def _case_at() -> Lazy:
    """An instant after the steps of ``_case_after``: ten hours after the case opened."""
    return Lazy(lambda pool: getattr(pool.instance(Case), "opened_at", T0) + timedelta(hours=10))


def _first_id(cls: type, attribute: str = "customer_ids") -> Lazy:
    """The first id of a held report (an id the report knows)."""
    return Lazy(lambda pool: str(getattr(pool.instance(cls), attribute)[0]))


def _rows(cls: type, name: str) -> Lazy:
    """A bool mask or the positions ``[0]`` over a held table's rows."""

    def make(pool: Pool) -> object:
        n = len(pool.instance(cls))  # type: ignore[arg-type]
        return np.ones(n, dtype=bool) if name == "mask" else np.array([0], dtype=np.int64)

    return Lazy(make)


def _records(cls: type) -> Lazy:
    """The first records of a held table (valid input for ``from_records``)."""
    return Lazy(lambda pool: pool.instance(cls).to_records()[:3])  # type: ignore[attr-defined]


def _of_held(cls: type, get: Callable[..., object], default: object) -> Lazy:
    """A value read off the held instance of ``cls`` (``default`` when the pool has none)."""

    def make(pool: Pool) -> object:
        try:
            return get(pool.instance(cls))
        except Exception:  # no such instance, or an empty one: the valid call then says so
            return default

    return Lazy(make)


_M = "crmcore.marketing."
_RULES = {
    "items": ("a", "b"),
    "baskets": 3,
    "antecedents": np.array([[0, -1]]),
    "consequents": np.array([[1, -1]]),
    "both": np.array([2]),
    "left": np.array([2]),
    "right": np.array([3]),
    "measures": {name: np.array([0.5]) for name in MEASURES},
}
_WHEN = {"zone_name": "UTC", "since": T0, "now": AS_OF}
_STEP = _of_held(Workflow, lambda w: w.steps[0].id, "pause")
_WORKFLOW = _of_held(WorkflowCatalog, lambda c: c.ids[0], "welcome")
_MARKETING: Final[dict[str, dict[str, object]]] = {
    _M + "association_report.AssociationRules": _RULES,
    _M + "association_report.AssociationRules.build": _RULES,
    _M + "association_report.AssociationRules.rule": {"i": 0},
    _M + "association_report.FrequentItemsets": {
        "items": ("a", "b"),
        "baskets": 3,
        "itemsets": np.array([[0, -1, -1], [1, -1, -1]]),
        "counts": np.array([2, 3]),
    },
    _M + "association_report.FrequentItemsets.build": {
        "items": ("a", "b"),
        "baskets": 3,
        "sets": [np.array([[0], [1]])],
        "counts": [np.array([2, 3])],
    },
    _M + "baskets.Baskets": {
        "offsets": np.array([0, 2, 3]),
        "codes": np.array([0, 1, 1]),
        "items": ("a", "b"),
    },
    _M + "baskets.Baskets.basket": {"b": 0},
    _M + "baskets.Baskets.code_of": {"item": "a"},
    _M + "baskets.Baskets.from_codes": {
        "basket_of_row": np.array([0, 0, 1]),
        "item_of_row": np.array([0, 1, 1]),
        "items": ("a", "b"),
    },
    _M + "baskets.Baskets.from_lines": {"baskets": ["o-1", "o-1", "o-2"], "items": ["a", "b", "b"]},
    _M + "campaign_audience.CampaignAudience.group_of": {
        "customer_id": _of_held(CampaignAudience, lambda a: str(a.customer_ids[0]), "c-1")
    },
    _M + "campaign_audience.CampaignAudience.members": {"group": "control"},
    _M + "campaign_results.CampaignResults.comparison": {
        "variant": _of_held(CampaignResults, lambda r: r.comparisons[0].variant, "a")
    },
    _M + "campaign_results.CampaignResults.group": {
        "name": _of_held(CampaignResults, lambda r: r.groups[0].name, "control")
    },
    _M + "campaign_results.attribute_touches": {
        "touch_customers": np.array([0, 1]),
        "touch_times": np.array([0, 10]),
        "conversion_customers": np.array([0]),
        "conversion_times": np.array([5]),
        "window_us": 100,
        "model": "last_touch",
    },
    _M + "care_batch.CareSchedule": {
        "start": T0,
        "holiday_codes": (),
        "customer_ids": np.array(["c-1"]),
        "occasions": np.array([0]),
        "occasion_days": np.array(["2024-06-01"], dtype="datetime64[D]"),
        "due_at": np.array(["2024-06-01T09:00"], dtype="datetime64[us]"),
        "years": np.array([30]),
        "holidays": np.array([-1]),
    },
    _M + "care_batch.CareSchedule.trigger": {"i": 0},
    _M + "coupon_codes.check_character": {"body": "ABC"},
    **{
        f"{_M}coupon_redemption.{name}": {"pool": CouponPool(id="spring")}
        for name in ("issue_coupon", "redeem_coupon", "reverse_redemption")
    },
    # (replaces the entry above: a reversal needs the parts of a redemption in force)
    _M + "coupon_redemption.reverse_redemption": {
        "pool": _REDEEMED.pool,
        "coupon": _REDEEMED.coupon,
        "wallet": _REDEEMED.wallet,
        "of": "redeem-o-9",
        "at": T0 + _H,
        "key": "reverse-o-9",
    },
    _M + "coupon_wallet.CouponWallet.redemption": {"key": "redeem-o-9"},
    _M + "customer_facts.CustomerFacts.from_record": {"record": {"id": "c-1"}},
    _M + "dry_run.DryRun.who": {"workflow": _of_held(DryRun, lambda d: d.workflows[0], "welcome")},
    _M + "engine.advance": {
        "enrolments": (),
        "events": (),
        "workflows": WorkflowCatalog([samples._workflow()]),
        "customers": (),
    },
    _M + "enrolments.Enrolment.resume": {"at": T0 + timedelta(hours=1), "next_step": "hello"},
    _M + "experiments.Split.group_codes": {"numbers": np.array([0.1, 0.9])},
    _M + "experiments.assignment_hashes": {"keys": np.array(["c-1", "c-2"])},
    _M + "experiments.assignment_numbers": {"keys": np.array(["c-1", "c-2"])},
    _M + "guardrails.QuietHours": {"start": time(21), "end": time(8)},
    _M + "guardrails.QuietHours.is_quiet": {"zone_name": "UTC"},
    _M + "guardrails.QuietHours.release": {"zone_name": "UTC"},
    _M + "holidays.Holiday": {"code": "spring_festival", "dates": (date(2024, 6, 1),)},
    _M + "next_best_offer.NextBestOffers": {
        "source": Lazy(lambda _pool: AssociationRules(**_RULES)),
        "customer_ids": np.array(["c-1"]),
        "ranks": np.array([1]),
        "items": np.array([1]),
        "scores": np.array([1.0]),
        "rules": np.array([0]),
    },
    _M + "next_best_offer.NextBestOffers.offer": {"i": 0},
    _M + "steps.Branch": {"then": "x-2", "otherwise": "x-3"},
    _M + "steps.SetField": {"name": "plan"},
    _M + "targeting.target_text": {"value": "vip"},
    _M + "triggers.DateTrigger": {"field": "birth_date"},
    _M + "triggers.DateTrigger.days": {
        "value": date(1990, 5, 17),
        "first_year": 2024,
        "last_year": 2025,
    },
    _M + "triggers.DateTrigger.occurrences": {"record": {"birth_date": date(1990, 5, 17)}, **_WHEN},
    _M + "triggers.EventTrigger": {"kind": "customer.registered"},
    _M + "triggers.HolidayTrigger.occurrences": {"record": {}, **_WHEN},
    _M + "triggers.InactivityTrigger.occurrences": {"record": {"last_purchase_at": T0}, **_WHEN},
    _M + "workflow_json.workflow_from_json": {"document": workflow_to_json(samples._workflow())},
    _M + "workflow_json.workflow_from_json_text": {
        "text": workflow_to_json_text(samples._workflow())
    },
    _M + "workflow_reports.WorkflowSummary.step": {
        "step_id": _of_held(WorkflowSummary, lambda s: s.steps[0].step, "pause")
    },
    _M + "workflows.Goal": {"events": ["customer.registered"]},
    _M + "workflows.Workflow.next_of": {"step_id": _STEP},
    _M + "workflows.Workflow.step": {"step_id": _STEP},
    _M + "workflows.Workflow.successors": {"step_id": _STEP},
    _M + "workflows.WorkflowCatalog": {"workflows": (samples._workflow(),)},
    _M + "workflows.WorkflowCatalog.get": {
        "workflow_id": _WORKFLOW,
        "version": _of_held(WorkflowCatalog, lambda c: c.all_versions()[0].version, 1),
    },
    _M + "workflows.WorkflowCatalog.latest": {"workflow_id": _WORKFLOW},
    _M + "workflows.WorkflowCatalog.versions": {"workflow_id": _WORKFLOW},
    _M + "workflows.WorkflowCatalog.with_version": {"workflow": samples._workflow(2)},
}
"""Valid arguments of marketing's callables (merged into `BASE`)."""


_C = "crmcore.customers."
_S = "crmcore.segments."
_K = "crmcore.kernel."
_COL = "crmcore.columnar."
_SV = "crmcore.services."
_SA = "crmcore.sales."
_OPEN = "qualified_to_buy"
_WON = "closed_won"
_FEATURES = {
    "source": np.array(["ads", "event", "ads", "event"]),
    "visits": np.array([1.0, 4.0, 2.0, 5.0]),
}
_WON_MASK = np.array([False, True, False, True])
_TO_WON = {"source": _OPEN, "target": _WON}

BASE: Final[dict[str, dict[str, object]]] = {
    "crmcore.datasets.synthetic.generate": {"customers": 3, "years": 0.5},
    "crmcore.datasets.online_retail.online_retail_csv": {"customers": 3},
    # analytics
    "crmcore.analytics.bgnbd.BgNbdModel.expected_purchases_new": {"t": 4.0},
    "crmcore.analytics.bgnbd.bgnbd_log_likelihood": {
        "params": (1.0, 1.0, 1.0, 1.0),
        "frequency": [1, 0],
        "recency": [2.0, 0.0],
        "T": [5.0, 5.0],
    },
    "crmcore.analytics.btyd.BtydSummary.filter": {"mask": _rows(BtydSummary, "mask")},
    "crmcore.analytics.btyd.BtydSummary.take": {"indices": _rows(BtydSummary, "take")},
    "crmcore.analytics.churn.CustomerValues.from_mapping": {"values": {"c-1": 0.5}},
    "crmcore.analytics.cohorts.CohortMatrix.row": {"label": _first_id(CohortMatrix, "labels")},
    "crmcore.analytics.kpis.HistoricalClv.value_of": {"customer": _first_id(HistoricalClv)},
    "crmcore.analytics.rfm.RfmTable.customers_in": {"segment": "Champions"},
    "crmcore.analytics.rfm.RfmTable.mask": {"segment": "Champions"},
    "crmcore.analytics.rfm.RfmTable.index_of": {"customer": _first_id(RfmTable)},
    "crmcore.analytics.rfm.RfmTable.row": {"customer": _first_id(RfmTable)},
    "crmcore.analytics.rfm_segments.SegmentMap.from_codes": {
        "name": "m",
        "segments": {"Top": ["555"]},
        "default": "Other",
    },
    "crmcore.analytics.value_tiers.ValueTiers.mask": {"tier": "Top 1%"},
    # plotting: the held purchase model; the calibration plot needs a summary with a holdout
    "crmcore.plotting.clv.plot_calibration_purchases_vs_holdout_purchases": {
        "model": _held(BgNbdModel),
        "summary": Lazy(
            lambda pool: summary_from_transactions(
                pool.instance(TransactionLog),  # type: ignore[arg-type]
                datetime(2024, 6, 1, tzinfo=UTC),
                time_unit="W",
                holdout_end=datetime(2024, 12, 1, tzinfo=UTC),
            )
        ),
    },
    "crmcore.plotting.clv.plot_frequency_recency_matrix": {"model": _held(BgNbdModel)},
    "crmcore.plotting.clv.plot_probability_alive_matrix": {"model": _held(BgNbdModel)},
    "crmcore.plotting.clv.plot_purchase_model": {"model": _held(BgNbdModel)},
    # customers
    _C + "contact.country_code": {"value": "de"},
    _C + "contact.normalize_email": {"value": "Ann@Example.com"},
    _C + "contact.normalize_phone": {"value": "+49 151 1234567"},
    _C + "profile.normalize_tag": {"value": "Outdoor Sports"},
    _C + "customer.normalize_attribute": {"name": "plan", "value": "gold"},
    _C + "customer.Customer.set_attribute": {"name": "plan", "value": "silver"},
    _C + "events.ContactChanged": {"fields": ("email",)},
    _C + "events.ProfileUpdated": {"fields": ("name",)},
    _C + "privacy.import_customer_export": {
        "document": Lazy(lambda pool: export_customer(pool.instance(Customer)))  # type: ignore[arg-type]
    },
    # kernel
    _K + "clock.ensure_aware": {"value": T0},
    _K + "clock.to_utc": {"value": T0},
    _K + "events.Outcome": {"value": 1},
    _K + "events.Outcome.collect": {"value": 1, "events": ()},
    _K + "frozen.FrozenDict.set": {"key": "k", "value": 1},
    _K + "money.Money.from_dict": {"data": {"amount": "1.50", "currency": "EUR"}},
    # feedback
    "crmcore.feedback.breakdowns.MetricBreakdown.row": {
        "key": Lazy(
            lambda pool: next(
                (r.key for r in getattr(pool.instance(MetricBreakdown), "rows", ())), "k-1"
            )
        )
    },
    "crmcore.feedback.breakdowns.breakdown": {
        "scores": [4, 5, 3],
        "labels": ["a", "b", "a"],
        "scale": "csat",
    },
    "crmcore.feedback.breakdowns.trend": {
        "scores": [4, 5],
        "at": [T0, T0 + timedelta(days=40)],
        "scale": "csat",
    },
    "crmcore.feedback.calendar.BusinessCalendar.from_hours": {
        "hours": {"mon-fri": "09:00-17:00"},
        "timezone": "Europe/Berlin",
    },
    "crmcore.feedback.calendar.Shift.parse": {"value": "09:00-17:00"},
    "crmcore.feedback.grouping.period_codes": {"at": [T0, T0 + timedelta(days=40)]},
    "crmcore.feedback.case_changes.CaseChange": {
        "trigger": "acknowledge",
        "from_state": "new",
        "to_state": "acknowledged",
    },
    "crmcore.feedback.feedback_metrics.feedback_score": {"scale": "nps"},
    "crmcore.feedback.cases.Case.fire": {"trigger": "acknowledge", "at": _case_at()},
    "crmcore.feedback.cases.Case.start": {"self": _case_after("acknowledge"), "at": _case_at()},
    "crmcore.feedback.cases.Case.resolve": {
        "self": _case_after("acknowledge", "start"),
        "at": _case_at(),
        "root_cause": "stock",
        "action_taken": "refund",
    },
    "crmcore.feedback.cases.Case.wait_on_customer": {
        "self": _case_after("acknowledge", "start"),
        "at": _case_at(),
    },
    "crmcore.feedback.cases.Case.customer_replied": {
        "self": _case_after("acknowledge", "start", "wait_on_customer"),
        "at": _case_at(),
    },
    **{
        "crmcore.feedback.cases.Case." + method: {
            "self": _case_after("acknowledge", "start", "resolve"),
            "at": _case_at(),
            **extra,
        }
        for method, extra in (
            ("reopen", {}),
            ("follow_up", {"verdict": "resolved", "satisfaction": 5}),
        )
    },
    "crmcore.feedback.improvement.ImprovementAction.complete": {
        "self": Lazy(_started_action),
        "at": Lazy(lambda pool: _action_time(pool) + timedelta(hours=2)),
    },
    "crmcore.feedback.cases.Case.close": {
        "self": _case_after("acknowledge", "start", "resolve", "follow_up"),
        "at": _case_at(),
    },
    "crmcore.feedback.improvement_effect.measure_effect": {
        "at": T0,
        "as_of": T0 + timedelta(days=60),
    },
    "crmcore.feedback.needs.NeedRule": {"category": "delivery", "themes": ["late_delivery"]},
    "crmcore.feedback.needs.classify_needs": {
        "rules": [NeedRule("delivery", themes=["late_delivery"])]
    },
    "crmcore.feedback.needs.classify_needs_log": {
        "rules": [NeedRule("delivery", themes=["late_delivery"])]
    },
    # a rule every feedback meets, so the backlog (the first one held) has the row "delivery"
    "crmcore.feedback.needs.needs_backlog": {
        "rules": [NeedRule("delivery", kinds=["complaint", "suggestion", "praise", "inquiry"])]
    },
    "crmcore.feedback.needs.NeedsBacklog.row": {"category": "delivery"},
    "crmcore.feedback.rates.sla_attainment": {"met": [True, False, True]},
    "crmcore.feedback.rules.CaseRule": {
        "name": "angry",
        "severity": "high",
        "kinds": ["complaint"],
    },
    "crmcore.feedback.rules.CaseRules": {
        "rules": [CaseRule(name="angry", severity="high", kinds=["complaint"])]
    },
    "crmcore.feedback.survey_scores.ces": {"scores": [5, 6]},
    "crmcore.feedback.survey_scores.csat": {"scores": [4, 5]},
    "crmcore.feedback.survey_scores.score": {"scores": [4, 5], "scale": "csat"},
    "crmcore.feedback.themes.ThemeReport.row": {
        "theme": Lazy(
            lambda pool: next(
                (r.theme for r in getattr(pool.instance(ThemeReport), "rows", ())), "delivery"
            )
        )
    },
    # engines
    "crmcore.engines.duckdb.segment_members": {"customers": _held(CustomerFrame)},
    "crmcore.engines.duckdb.segment_relation": {"customers": _held(CustomerFrame)},
    # journey
    "crmcore.journey.journey_map.JourneyMap.from_dict": {
        "data": Lazy(lambda pool: JourneyMap().to_dict())
    },
    "crmcore.journey.journey_map.JourneyMap.from_touchpoint_map": {
        "touchpoints": DEFAULT_TOUCHPOINTS,
        "log": _held(EventLog),
    },
    "crmcore.journey.journey_map.JourneyMap.derived_from": {"log": _held(EventLog)},
    "crmcore.journey.scores.TouchpointScores.from_scores": {
        "scores": Lazy(lambda pool: [pool.instance(TouchpointScore)])
    },
    "crmcore.journey.scores.TouchpointScores.from_arrays": {
        "customer_ids": ["c-1"],
        "channels": ["web"],
        "kinds": ["visit"],
        "scores": [9],
        "scale": "nps",
    },
    "crmcore.journey.touchpoint.Touchpoint.parse": {"value": "web/website_visit"},
    # segments
    _S + "evaluate.record_schema": {
        "record": Lazy(lambda pool: customer_record(pool.instance(Customer)))  # type: ignore[arg-type]
    },
    _S + "jsonform.rule_from_json": {"document": rule_to_json(RULE)},
    _S + "jsonform.rule_from_json_text": {"text": rule_to_json_text(RULE)},
    _S + "rules.InList": {"operand": Field("country"), "values": (SLiteral("DE"),)},
    _S + "rules.Or": {"items": (RULE, parse_rule("age < 20"))},
    _S + "rules.And": {"items": (RULE, parse_rule("age < 20"))},
    _S + "segment.SegmentMembership.segments_of": {
        "customer_id": _first_id(SegmentMembership, "ids")
    },
    # columnar
    **{
        f"{_COL}{cls}.{method}": params
        for cls, log in (
            ("frame.CustomerFrame", CustomerFrame),
            ("frame.TransactionLog", TransactionLog),
            ("frame.EventLog", EventLog),
            ("table.Frame", TransactionLog),
        )
        for method, params in (
            ("column", {"name": "customer_id" if log is not CustomerFrame else "id"}),
            ("filter", {"mask": _rows(log, "mask")}),
            ("take", {"indices": _rows(log, "take")}),
            ("from_records", {"records": _records(log)}),
        )
    },
    _COL + "frame.CustomerFrame.index_of": {"ids": _first_id(CustomerFrame, "ids")},
    _COL + "frame.ages_on": {"born": np.array(["1990-05-17"], dtype="datetime64[D]")},
    _COL + "columns.Column.from_values": {"kind": "string", "values": ["a", "b"]},
    _COL + "columns.Column.from_numpy": {"kind": "float", "values": np.array([1.0, 2.0])},
    # services
    _SV + "customers.register_customer": {
        "outcome": Customer.register("c-9", "Cy Dee", T0, contact=Contact(email="cy@example.com"))
    },
    _SV + "customers.change_customer": {"change": lambda c: c.tag(["swept"], T0)},
    _SV + "customers.import_customers": {"customers": [Customer("c-8", "Di Eck", T0)]},
    _SV + "customers.record_purchase": {
        "purchase": Purchase("o-9", "c-1", T0, Money("9.99", "EUR"))
    },
    _SV + "customers.retry_on_conflict": {"operation": lambda: 1},
    _SV + "retry.retry": {"operation": lambda: 1},
    _SV + "retry.is_transient": {"error": ValueError("x")},
    _SV + "loyalty.earn_for_purchase": {
        "purchase": Purchase("o-7", "c-1", T0, Money("30.00", "EUR")),
        "key": "earn-o-7",
    },
    _SV + "loyalty.open_account": {"account_id": "A-2", "customer_id": "c-2"},
    _SV + "loyalty.refund_purchase": {"order_id": "o-1"},
    _SV + "loyalty.reverse_entry": {"of": "earn-o-1"},
    _SV + "sales.capture_lead": {"outcome": Lazy(lambda _pool: _new_lead("L0009"))},
    _SV + "sales.change_lead": {"change": lambda lead: lead.assign(T0, "rep-2")},
    _SV + "opportunities.open_opportunity": {
        "outcome": Opportunity.open(
            "OP0009",
            DEFAULT_PIPELINE,
            owner="ann",
            close_date=date(2024, 6, 30),
            at=T0,
            amount=Money("500", "EUR"),
        )
    },
    _SV + "opportunities.change_opportunity": {
        "change": lambda deal, _pipeline: deal.reassign("bo", T0)
    },
    _SV + "opportunities.move_opportunity": {"stage": "qualified_to_buy"},
    _SV + "opportunities.lose_opportunity": {"reason": "price"},
    _SV + "coupons.redeem_coupon": {"code": "SPRING-1"},
    _SV + "coupons.void_coupon": {"code": "SPRING-1"},
    _SV + "coupons.reverse_coupon_redemption": {
        "code": "SPRING-2",
        "customer_id": "c-2",
        "of": "redeem-o-8",
    },
    # sales
    _SA + "account_hierarchy.id_positions": {"vocabulary": ["b", "a"], "wanted": ["a", "x"]},
    **{
        f"{_SA}account_hierarchy.AccountHierarchy.{method}": {
            "account_id": _first_id(AccountHierarchy, "ids")
        }
        for method in ("ancestors", "children", "position", "subtree", "subtree_mask")
    },
    _SA + "account_hierarchy.AccountHierarchy.from_parents": {"parents": {"g": None, "eu": "g"}},
    _SA + "account_hierarchy.AccountHierarchy.lift_pairs": {
        "accounts": np.array([0], dtype=np.int64),
        "items": np.array([0], dtype=np.int64),
    },
    _SA + "account_hierarchy.AccountHierarchy.rollup": {
        "values": Lazy(lambda pool: np.ones(len(pool.instance(AccountHierarchy))))
    },
    _SA + "account_rollups.AccountRollups.row": {"account_id": _first_id(AccountRollups, "ids")},
    _SA + "deal_risks.aged_deals": {"older_than_days": 30},
    _SA + "duplicates.merge_leads": {"second": Lazy(lambda _pool: samples._lead(2))},
    _SA + "exchange_rates.ExchangeRates.convert_minor": {"units": np.array([100, 250])},
    _SA + "forecast_distribution.bernoulli_sum": {
        "amounts": np.array([100, 250]),
        "units": np.array([500_000, 250_000]),
    },
    _SA + "holt_winters.fit_holt_winters": {"y": np.arange(12.0) % 4 + 10, "season_length": 4},
    _SA + "holt_winters.seasonal_naive": {"y": np.arange(12.0) % 4 + 10, "m": 4, "h": 2},
    _SA + "lead_conversion.convert_lead": {
        "lead": Lazy(lambda _pool: samples._lead(1).qualify(T0 + timedelta(hours=1)).value),
        "at": AS_OF,
        "customer_id": "c-1",
    },
    _SA + "lead_events.activity_completed": {
        "activity": Activity(id="act-1", kind="call", created_at=T0).complete(
            T0 + timedelta(hours=1), "connected"
        )
    },
    **{  # the world's first lead has the open call ACT-9
        f"{_SA}leads.Lead.{method}": {"activity_id": "ACT-9"}
        for method in ("activity", "cancel_activity", "complete_activity", "reschedule_activity")
    },
    **{
        f"{_SA}model_evaluation.{name}": {"won": _WON_MASK, "probability": [0.3, 0.8, 0.4, 0.6]}
        for name in ("brier_score", "evaluate", "roc_auc")
    },
    _SA + "opportunities.Opportunity.lose": {"reason": "price"},
    _SA + "opportunities.Opportunity.move_to": {"stage": _OPEN},
    _SA + "opportunities.Opportunity.open": {"amount": Money("500", "EUR")},
    _SA + "opportunities.Opportunity.set_probability": {"value": "0.5"},
    _SA + "opportunity_changes.StageChange": {
        "from_state": "appointment_scheduled",
        "to_state": _OPEN,
        "move": "advance",
    },
    _SA + "opportunity_changes.reason_code": {"value": "price"},
    _SA + "opportunity_frame.OpportunityFrame.filter": {
        "mask": Lazy(lambda pool: np.ones(len(pool.instance(OpportunityFrame)), dtype=bool))
    },
    _SA + "opportunity_frame.OpportunityFrame.labels": {"by": "owner"},
    **{
        f"{_SA}pipeline.Pipeline.{method}": {"key": _OPEN}
        for method in ("next_open_stage", "open_rank", "order", "stage")
    },
    _SA + "opportunity_frame.OpportunityFrame.from_arrays": {
        "ids": ["OP1", "OP2"],
        "stage": np.array([0, 1]),
        "created": np.array([0, 0]),
        "amount": np.array([10_000, 25_000]),
        "close_day": np.array([19_900, 19_950]),
    },
    _SA + "opportunity_frame.Revisions": {
        name: np.array([0], dtype=np.int64) for name in ("row", "at", "old", "new")
    },
    _SA + "opportunity_frame.StageMoves": {
        "row": np.array([0], dtype=np.int64),
        "at": np.array([0], dtype=np.int64),
        "from_code": np.array([0], dtype=np.int16),
        "to_code": np.array([1], dtype=np.int16),
        "move": np.array([0], dtype=np.int8),
    },
    _SA + "opportunity_frame.Revisions.take": {"keep": np.array([True]), "new_rows": np.array([0])},
    _SA + "opportunity_frame.StageMoves.take": {
        "keep": np.array([True]),
        "new_rows": np.array([0]),
    },
    _SA + "revenue_forecast.Backtest": {
        "labels": ("2024-01", "2024-02"),
        "actual": np.array([10.0, 12.0]),
        "forecast": np.array([11.0, 12.5]),
        "naive": np.array([9.0, 10.0]),
    },
    _SA + "scoring_batch.ScoreTable.row_of": {"lead_id": _first_id(ScoreTable, "ids")},
    _SA + "scoring_batch.ScoreTable.score_of": {"lead_id": _first_id(ScoreTable, "ids")},
    _SA + "relationship_graph.RelationshipGraph.from_relationships": {
        "relationships": [
            Relationship.referred("c-1", "c-2", T0),
            Relationship.between("same_household", "c-1", "c-3", T0),
        ]
    },
    _SA + "relationship_graph.RelationshipGraph.neighbours": {"id": "c-1"},
    _SA + "scoring.LeadScoring": {"fit": (FitRule("adults", RULE, 10),)},
    _SA + "scoring.LeadScoring.from_json": {
        "data": Lazy(lambda pool: pool.instance(LeadScoring).to_json())
    },
    _SA + "scoring.LeadScoring.from_json_text": {
        "text": Lazy(lambda pool: pool.instance(LeadScoring).to_json_text())
    },
    _SA + "pipeline_machine.build_machine": {"name": "sales", "stages": DEFAULT_PIPELINE.stages},
    _SA + "pipeline_machine.PipelineMachine": {
        "name": "sales",
        "states": DEFAULT_PIPELINE.machine.states,
        "stages": DEFAULT_PIPELINE.stages,
        "transitions": DEFAULT_PIPELINE.machine.transitions,
        "final": (),
        "require_lost_reason": False,
    },
    **{
        f"{_SA}pipeline_machine.PipelineMachine.{method}": params
        for method, params in (
            ("allowed_targets", {"source": _OPEN}),
            ("allowed_triggers", {"source": _OPEN}),
            ("rows_between", _TO_WON),
            ("rows_on", {"source": _OPEN, "trigger": _WON}),
            ("row_between", {**_TO_WON, "context": MoveContext.of()}),
            ("fire", {"state": _OPEN, "trigger": _WON, "context": MoveContext.of()}),
            ("move", {"state": _OPEN, "target": _WON, "context": MoveContext.of()}),
            ("reaching", {"state": _OPEN, "target": _WON}),
            ("triggered", {"state": _OPEN, "trigger": _WON}),
            ("stage_of", {"key": _OPEN}),
            ("state_code", {"state": _OPEN}),
            ("trigger_code", {"trigger": _WON}),
            ("rows_of", {"sources": np.array([1]), "targets": np.array([5])}),
            ("targets", {"states": np.array([1]), "triggers": np.array([5])}),
            (
                "choose",
                {
                    "rows": Lazy(
                        lambda pool: pool.instance(PipelineMachine).rows_between(_OPEN, _WON)
                    ),
                    "context": MoveContext.of(),
                },
            ),
        )
    },
    _SA + "pipeline_reports.PipelineReport.stage": {"key": _OPEN},
    _SA + "pipeline_stages.probability": {"value": "0.5"},
    **{
        f"{_SA}predictive.{model}.{method}": params
        for model in ("LogisticModel", "NaiveBayesModel")
        for method, params in (
            ("fit", {"data": _FEATURES, "won": _WON_MASK, "features": ["source", "visits"]}),
            ("explain", {"record": {"source": "ads", "visits": 3.0}}),
            ("predict_one", {"record": {"source": "ads", "visits": 3.0}}),
            ("log_odds", {"data": _FEATURES}),
            ("predict_proba", {"data": _FEATURES}),
        )
    },
    **{
        f"{_SA}predictive_features.{feature}.{method}": {"column": read_column(_FEATURES, column)}
        for feature, column in (("CategoricalFeature", "source"), ("NumericFeature", "visits"))
        for method in ("codes", "learn")
    },
    _SA + "predictive_features.NumericFeature.standardized": {
        "column": read_column(_FEATURES, "visits")
    },
    _SA + "predictive_features.CategoricalFeature.code_of": {"value": "ads"},
    _SA + "predictive_features.NumericFeature.code_of": {"value": 3.0},
    _SA + "predictive_features.NumericFeature.standardized_one": {"value": 3.0},
    _SA + "relationships.Relationship.between": {"kind": "same_household", "a": "c-1", "b": "c-2"},
    _SA + "relationships.Relationship.ended": {"at": datetime(2031, 1, 1, tzinfo=UTC)},
    _SA + "relationships.Relationship.partner": {"partner": "A-9", "account": "A-1"},
    _SA + "revenue_forecast.revenue_forecast": {
        "method": "seasonal_naive",
        "season_length": 3,
        "holdout": 2,
    },
    _SA + "scoring_batch.EngagementIndex.from_arrays": {
        "n": 2,
        "rows": np.array([0, 1]),
        "at": np.array([0, 1]),
        "kind_codes": np.array([0, 0]),
        "kinds": ["email_open"],
    },
    _SA + "scoring_rules.Decay.weights": {"age_us": np.array([0, 86_400_000_000])},
    _SA + "scoring_rules.EngagementRule.from_json": {
        "data": {"name": "opens", "kinds": ["email_open"], "points": 5}
    },
    _SA + "scoring_rules.FitRule.from_json": {
        "data": {"name": "adults", "rule": rule_to_json(RULE), "points": 10}
    },
    _SA + "scoring_rules.ScoreBands.codes": {"totals": np.array([10.0, 50.0])},
    _SA + "scoring_rules.ScoreBands.from_json": {
        "data": [{"label": "hot", "minimum": 50}, {"label": "cold", "minimum": None}]
    },
    _SA + "scoring_rules.Threshold.met_all": {
        "fit": np.array([1.0]),
        "engagement": np.array([1.0]),
        "total": np.array([1.0]),
    },
    _SA + "snapshots.PipelineSnapshot.line": {
        "stage": Lazy(lambda pool: pool.instance(PipelineSnapshot).stages[0].stage)
    },
    _SV + "feedback.add_improvement_action": {
        "planned": ImprovementAction.plan("IA-1", "Fix the checkout", ["delivery"], "ann", at=T0)
    },
    _SV + "marketing.enrol": {"customer_ids": ["c-1"]},
    _SV + "sales.qualify_lead": {"lead_id": "L0003"},
    _SV + "sales.convert_lead": {
        "lead_id": "L0004",
        "opportunity_id": "OP0007",
        "amount": Money("800", "EUR"),
    },
    _SV + "sales.complete_activity": {
        "lead_id": "L0002",
        "activity_id": "ACT-1",
        "outcome": "connected",
    },
    _SV + "feedback.act_on_case": {
        "case_id": "case-fb-9",
        "operation": lambda case: case.acknowledge(T0),
    },
    _SV + "feedback.change_improvement_action": {
        "action_id": "IA-2",
        "operation": lambda action: action.start(T0),
    },
    _SV + "sales_accounts.open_sales_account": {"outcome": Account.open("A-9", "Acme", T0)},
    _SV + "sales_accounts.set_account_parent": {"parent_id": "A-2"},
    _SV + "sales_accounts.change_sales_account": {
        "change": lambda account: account.rename("Acme Ltd", T0)
    },
    _SV + "sales_accounts.end_relationship": {
        "relationship": Relationship.referred("c-1", "c-2", T0),
        "at": AS_OF,
    },
    "crmcore.ports.Page": {"items": ("a",)},
    # marketing
    **_MARKETING,
    # storage
    "crmcore.storage.repositories.BufferedRepository": {"kind": kinds.CUSTOMERS},
    "crmcore.storage.repositories.BufferedRecordRepository": {"kind": kinds.PURCHASES},
    "crmcore.storage.unit_of_work.BufferedUnitOfWork.repository": {"kind": kinds.CUSTOMERS},
    "crmcore.storage.unit_of_work.BufferedUnitOfWork.records": {"kind": kinds.PURCHASES},
}
"""Valid arguments of particular callables, by qualified name and parameter name (a
[`Lazy`][tests.sweep_kit.Lazy] value is made from the pool when the call is prepared)."""

# Methods whose object must be in another state than the held one's: ``"self"`` names it.
_DRAFT: Final = Campaign.draft("spring", "Spring", channels=["email"], starts_at=T0, at=T0).value
_SCHEDULED: Final = _DRAFT.schedule(T0).value
_RUNNING: Final = _SCHEDULED.start(T0).value
_ACTIVE: Final = Enrolment.start(samples._workflow(), "c-1", T0).value
BASE.update(
    {
        _SA + "leads.Lead.mark_converted": {
            "self": samples._lead(1).qualify(T0).value,
            "opportunity_id": "OP0001",
        },
        _SA + "leads.Lead.reopen": {"self": samples._lead(1).disqualify(T0, "no_budget").value},
        _SA + "opportunities.Opportunity.reopen": {
            "self": samples._opportunity(1).lose(T0, DEFAULT_PIPELINE, reason="price").value
        },
        _M + "campaigns.Campaign.start": {"self": _SCHEDULED},
        **{
            f"{_M}campaigns.Campaign.{method}": {"self": _RUNNING}
            for method in ("pause", "complete", "record_usage")
        },
        _M + "campaigns.Campaign.resume": {"self": _RUNNING.pause(T0).value},
        _M + "enrolments.Enrolment.ran": {"self": _ACTIVE, "next_step": "hello"},
        _M + "enrolments.Enrolment.wait": {"self": _ACTIVE},
    }
)


# --------------------------------------------------------------------------- reaching the rest
# Callables whose valid call needs an object in a particular state, or a value the pool cannot
# guess from a name or a type. Every ``Lazy`` here is guarded (``_safe``): one that raised would
# break the pool for every target.


def _safe(make: Callable[[Pool], object], default: object = None) -> Lazy:
    """A ``Lazy`` that falls back to ``default`` when ``make`` fails (the valid call then says
    what is wrong)."""

    def guarded(pool: Pool) -> object:
        try:
            return make(pool)
        except Exception:
            return default

    return Lazy(guarded)


_L = "crmcore.loyalty."
_LATER: Final = AS_OF  # after every entry of the held loyalty account (its latest is T0 + 1h)
_ACCOUNT = _held(LoyaltyAccount)
_ENTRIES = _safe(lambda pool: pool.instance(LoyaltyAccount).entries, ())  # type: ignore[attr-defined]
BASE.update(
    {
        _L + "ledger.LoyaltyAccount.adjust": {"at": _LATER},
        _L + "ledger.LoyaltyAccount.award": {"at": _LATER},
        _L + "ledger.LoyaltyAccount.redeem": {"at": _LATER},
        _L + "ledger.LoyaltyAccount.earn": {"at": _LATER},
        _L + "ledger.LoyaltyAccount.earn_entry_for": {"order_id": "o-1"},
        _L + "ledger.LoyaltyAccount.refund": {"order_id": "o-1", "at": _LATER},
        _L + "ledger.LoyaltyAccount.entry": {"key": "earn-1"},
        _L + "ledger.LoyaltyAccount.reverse": {"of": "earn-1", "at": _LATER},
        _L + "ledger.LoyaltyAccount.from_entries": {
            "id": "A-1",
            "customer_id": "c-1",
            "program_id": "P",
            "entries": _ENTRIES,
        },
        _L + "ledger.replay": {"entries": _ENTRIES},
        _L + "ledger_batch.LedgerColumns.balances": {"as_of": _LATER},
        _L + "expiry.program_zone": {"name": "Europe/Berlin"},
        _L + "referrals.referral_code": {"value": "ANN-2024"},
        _L + "tier_policy.TierPolicy.index": {"tier": "Gold"},
        _L + "tier_policy.TierPolicy.multiplier": {"tier": "Gold"},
        **{
            f"{_L}tiers.TierStatus.{method}": {"self": TierStatus.new("c-1", TIERS), "as_of": AS_OF}
            for method in ("evaluate", "progress")
        },
        _L + "tiers.TierStatus.multiplier": {"self": TierStatus.new("c-1", TIERS)},
        _L + "tiers.facts_from_ledger": {"account": _ACCOUNT},
        _L + "tiers_batch.evaluate_batch": {
            "customer_codes": np.array([0, 1, 0]),
            "at": np.array(["2024-03-01", "2024-04-01", "2024-05-01"], dtype="datetime64[us]"),
            "points": np.array([50, 80, 70]),
        },
        _L + "program.Campaign": {
            "name": "double",
            "starts_at": T0,
            "ends_at": AS_OF,
            "channels": ("web",),
        },
        _L + "program.Campaign.applies": {
            "self": LoyaltyCampaign(name="double", starts_at=T0, ends_at=AS_OF),
            "at": T0 + _H,
            "channel": "web",
            "category": "books",
        },
        _L + "referrals.ReferralClaim.qualify": {
            "purchase": Purchase("o-5", "c-2", AS_OF, Money("30.00", "EUR")),
            "at": AS_OF,
        },
        _L + "posting_batch.Postings.from_rows": {"rows": _POSTING_ROWS},
        **{
            f"{_L}posting_batch.Postings.{method}": {"i": 0}
            for method in ("money", "purchase", "tier_of")
        },
        _L + "posting_batch.post_batch": {
            "accounts": Lazy(lambda pool: [pool.instance(LoyaltyAccount)])
        },
    }
)


def _columns_of(cls: type) -> Lazy:
    """The columns of the held table of ``cls`` (what its constructor was given)."""
    return _safe(lambda pool: {n: pool.instance(cls).column(n) for n in pool.instance(cls).names})  # type: ignore[attr-defined]


def _csv_of(cls: type) -> Lazy:
    """A CSV file written from the held table of ``cls`` in the working directory."""

    def make(pool: Pool) -> object:
        path = Path(f"sweep-{cls.__name__}.csv")
        if not path.exists():
            pool.instance(cls).to_csv(path)  # type: ignore[attr-defined]
        return path

    return _safe(make)


_TAGS: Final = Column.from_values("tags", [["vip"], ["b2b", "vip"], []])
_CATEGORY: Final = Column.from_values("category", ["gold", "silver", "gold"])
_TABLES: Final = {
    "CustomerFrame": CustomerFrame,
    "TransactionLog": TransactionLog,
    "EventLog": EventLog,
}
_FUNNEL: Final = ("website_visit", "cart_add", "checkout")
_STORAGE = "crmcore.storage."
BASE.update(
    {
        _COL + "columns.Column.code_of": {"self": _CATEGORY, "value": "gold"},
        _COL + "columns.Column.isin": {"self": _CATEGORY, "values": ["gold"]},
        _COL + "columns.Column.has": {"self": _TAGS, "tag": "vip"},
        _COL + "columns.Column.equals": {"self": _CATEGORY, "other": _CATEGORY},
        _COL + "columns.Column.take": {"self": _CATEGORY, "indices": np.array([0, 2])},
        _COL + "frame.CustomerFrame.index_of": {
            "ids": _safe(lambda pool: [str(pool.instance(CustomerFrame).ids[0])], ["c-1"])  # type: ignore[attr-defined]
        },
        **{_COL + "frame." + name: {"columns": _columns_of(cls)} for name, cls in _TABLES.items()},
        **{
            f"{_COL}frame.{name}.from_csv": {"source": _csv_of(cls)}
            for name, cls in _TABLES.items()
        },
        **{
            f"{_COL}frame.{name}.from_pandas": {
                "df": _safe(lambda pool, cls=cls: pool.instance(cls).to_pandas())  # type: ignore[attr-defined]
            }
            for name, cls in _TABLES.items()
        },
        # funnels: three kinds of the held event log's interactions
        **{
            f"crmcore.funnel.analytics.{name}": {"steps": _FUNNEL}
            for name in ("funnel_customers", "funnel_report", "funnel_breakdown")
        },
        "crmcore.funnel.analytics.funnel_breakdown": {"steps": _FUNNEL, "by": "channel"},
        "crmcore.funnel.analytics.funnel_report_python": {
            "steps": _FUNNEL,
            "events": [("c-1", kind, T0 + i * _H) for i, kind in enumerate(_FUNNEL)],
        },
        "crmcore.funnel.analytics.funnel_report_from_positions": {
            "positions": _safe(lambda pool: [pool.instance(FunnelPosition)], [])
        },
        "crmcore.funnel._report.FunnelCustomers.dropped_after": {"step": 1},
        "crmcore.funnel.position.normalize_reason": {"value": "no budget"},
        "crmcore.engines.duckdb.funnel_relation": {"log": _held(EventLog), "steps": _FUNNEL},
        "crmcore.engines.duckdb.funnel_report": {"log": _held(EventLog), "steps": _FUNNEL},
        **{
            f"crmcore.engines.duckdb.{name}": {"summary": _held(BtydSummary)}
            for name in ("clv_relation", "customer_lifetime_value", "fit_clv_models")
        },
        _K + "events.Outcome.then": {
            "self": Outcome(1),
            "step": lambda value: Outcome(value + 1),
        },
        # segments
        _S + "positions.SourceMap": {
            "text": "a = 1 and b = 2",
            "root": _safe(lambda _pool: parse_rule_with_positions("a = 1 and b = 2")[1]._root),
        },
        _S + "tokenizer.Token": {"kind": "number", "text": "30", "value": 30, "offset": 6},
        # lifecycle
        "crmcore.lifecycle.policy_batch.BatchClassification.index_of": {
            "customer": _first_id(BatchClassification)
        },
        # storage: the kinds of customers and purchases; a memory store's backend and outbox
        _STORAGE + "backend.AggregateWrite": {
            "kind": kinds.CUSTOMERS,
            "aggregate": _held(Customer),
            "expected": 0,
        },
        _STORAGE + "backend.RecordWrite": {"kind": kinds.PURCHASES, "record": _held(Purchase)},
        _STORAGE + "kinds.AggregateKind": {"name": "customer", "cls": Customer},
        _STORAGE + "kinds.RecordKind": {
            "name": "purchase",
            "cls": Purchase,
            "id_field": "order_id",
        },
        **{
            f"{_STORAGE}kinds.AggregateKind.{method}": {"self": kinds.CUSTOMERS, **params}
            for method, params in (
                (
                    "decode",
                    {"data": _safe(lambda pool: kinds.CUSTOMERS.encode(pool.instance(Customer)))},
                ),
                ("encode", {"aggregate": _held(Customer)}),
                ("has_index", {"index": "tag"}),
                ("id_of", {"aggregate": _held(Customer)}),
                ("index_values_of", {"aggregate": _held(Customer)}),
                ("keys_of", {"aggregate": _held(Customer)}),
                ("version_of", {"aggregate": _held(Customer)}),
                ("with_version", {"aggregate": _held(Customer), "version": 1}),
            )
        },
        **{
            f"{_STORAGE}kinds.RecordKind.{method}": {"self": kinds.PURCHASES, **params}
            for method, params in (
                (
                    "decode",
                    {"data": _safe(lambda pool: kinds.PURCHASES.encode(pool.instance(Purchase)))},
                ),
                ("encode", {"record": _held(Purchase)}),
                ("at_of", {"record": _held(Purchase)}),
                ("id_of", {"record": _held(Purchase)}),
                ("owner_of", {"record": _held(Purchase)}),
            )
        },
        _STORAGE + "outbox.relay": {
            "outbox": _safe(lambda pool: pool.instance(MemoryStore).outbox),  # type: ignore[attr-defined]
            "handler": lambda message: None,
            "limit": 10,
        },
        _STORAGE + "unit_of_work.BufferedUnitOfWork": {
            "backend": _safe(lambda pool: pool.instance(MemoryStore).unit_of_work()._backend)  # type: ignore[attr-defined]
        },
        _STORAGE + "unit_of_work.BufferedUnitOfWork.take": {"outcome": Outcome(1)},
        _STORAGE + "repositories.BufferedRepository.get": {"id": "c-1"},
        _STORAGE + "repositories.BufferedRepository.add": {
            "aggregate": Customer("c-7", "Ed Fox", T0)
        },
        _STORAGE + "repositories.BufferedRepository.save": {"aggregate": _held(Customer)},
        _STORAGE + "repositories.BufferedRecordRepository.get": {"id": "o-1"},
        _STORAGE + "repositories.BufferedRecordRepository.add": {
            "record": Purchase("o-77", "c-1", T0, Money("5.00", "EUR"))
        },
        # loyalty, continued
        _L + "ledger.LoyaltyAccount.earn": {
            "purchase": Purchase("o-3", "c-1", T0 + 2 * _H, Money("20.00", "EUR")),
            "at": _LATER,
        },
        _L + "tiers_batch.BatchTiers": {
            "engine": _safe(
                lambda _pool: _BatchEngine(
                    TIERS,
                    2,
                    np.array([0, 1]),
                    np.array([0, 1], dtype=np.int64),
                    np.array([50, 120], dtype=np.int64),
                    np.array([0, 0], dtype=np.int64),
                )
            ),
            "customer_ids": None,
        },
    }
)


def _new_classification(pool: Pool) -> object:
    """A held classification of c-1 as a new customer (its evidence has a recent first purchase)."""
    held = pool.objects.get(Classification, [])
    return next(c for c in held if c.state is LifecycleState.NEW)  # type: ignore[attr-defined]


def _fresh_repository(name: str) -> Lazy:
    """A repository of a new unit of work over a fresh seeded store (an ``add`` is not pending in
    it already, a ``save`` finds the stored version)."""
    return _safe(lambda pool: getattr(pool.instance(MemoryStore).unit_of_work(), name))  # type: ignore[attr-defined]


def _stored_customer(pool: Pool) -> object:
    return pool.instance(MemoryStore).unit_of_work().customers.get("c-1")  # type: ignore[attr-defined]


def _summary_relation(pool: Pool) -> object:
    """The held transaction log's BTYD summary, as a DuckDB relation."""
    return duck.summary_relation(pool.instance(TransactionLog), AS_OF, "D", time_unit="W")  # type: ignore[arg-type]


_LC = "crmcore.lifecycle."
_CLASSIFIED = _safe(_new_classification)
BASE.update(
    {
        _LC + "record.Lifecycle.fire": {
            "self": Lifecycle(id="c-1"),
            "trigger": "first_purchase",
            "at": AS_OF,
            "evidence": _safe(lambda pool: _new_classification(pool).evidence),  # type: ignore[attr-defined]
        },
        _LC + "record.reclassify": {
            "record": Lifecycle(id="c-1"),
            "classification": _CLASSIFIED,
            "at": AS_OF,
        },
        _LC + "transitions_batch.BatchTransitions": {
            name: _of_held(BatchTransitions, lambda held, name=name: getattr(held, name), None)
            for name in ("size", "positions", "from_codes", "to_codes", "rows", "customer_ids")
        },
        _STORAGE + "repositories.BufferedRepository.add": {
            "self": _fresh_repository("customers"),
            "aggregate": Customer("c-7", "Ed Fox", T0),
        },
        _STORAGE + "repositories.BufferedRepository.save": {
            "self": _fresh_repository("customers"),
            "aggregate": _safe(_stored_customer),
        },
        _STORAGE + "repositories.BufferedRecordRepository.add": {
            "self": _fresh_repository("purchases"),
            "record": Purchase("o-77", "c-1", T0, Money("5.00", "EUR")),
        },
        **{
            f"crmcore.analytics.value_tiers.ValueTiers.{method}": {
                "self": _safe(
                    lambda _pool: value_tiers(
                        np.array([5.0, 1.0, 3.0]), customer_ids=["c-1", "c-2", "c-3"]
                    )
                ),
                **params,
            }
            for method, params in (
                ("customers_in", {"tier": "Top 1%"}),
                ("tier_of", {"customer": "c-1"}),
            )
        },
        "crmcore.funnel.analytics.funnel_breakdown": {
            "steps": _FUNNEL,
            "by": "country",
            "frame": _held(CustomerFrame),
        },
        **{
            f"crmcore.engines.duckdb.{name}": {"summary": _safe(_summary_relation)}
            for name in ("clv_relation", "customer_lifetime_value", "fit_clv_models")
        },
    }
)


def _store_with_referee_account(pool: Pool) -> object:
    """A fresh seeded store (of the kind the sweep is on) where the referee c-2 has an account
    (the seed gives c-2 none: ``open_account``'s own sweep opens it)."""
    store = pool.instance(Store)
    with contextlib.suppress(Exception):  # the valid call then says what is missing
        services.open_account(store, "A-9", "c-2", PROGRAM)  # type: ignore[arg-type]
    return store


BASE.update(
    {
        _SV + "loyalty.qualify_referral": {
            "store": Lazy(_store_with_referee_account),
            "program": LoyaltyProgram(
                id="P",
                currency="EUR",
                point_value=Money("0.01", "EUR"),
                actions={"review": 50, "referral": 100},
            ),
            "purchase": Purchase("o-6", "c-2", T0 + _H, Money("30.00", "EUR")),
            "at": AS_OF,
        },
        _SV + "marketing.launch_campaign": {
            "campaign_id": "spring",
            "at": T0 + _H,
            "workflows": "welcome",
        },
    }
)
