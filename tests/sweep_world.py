"""Valid values for the bad-input sweep: a small world of crmcore objects, and what each
parameter name usually needs.

A sweep call changes one argument of a valid call, so the valid call must be valid: these are
the values that make it so. ``NAMES`` gives a value by parameter name (``*_id``: an id,
``currency``: ``"EUR"``, ...); ``BASE`` gives the values of particular callables whose
parameters need more than their name says (a rule text, an id present in the store, arrays of one
length). ``world()`` builds the objects every other value is made from.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final

import numpy as np

from crmcore import services
from crmcore.analytics import customer_lifetime_value, fit_bgnbd, fit_gamma_gamma
from crmcore.columnar import CustomerFrame, EventLog, TransactionLog, customer_record
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
from crmcore.funnel import DEFAULT_TOUCHPOINTS
from crmcore.journey import JourneyMap, TouchpointScore
from crmcore.kernel.clock import FixedClock
from crmcore.kernel.errors import CrmError
from crmcore.kernel.events import Outcome
from crmcore.kernel.money import Money
from crmcore.kernel.stage import Stage
from crmcore.loyalty import LoyaltyAccount, LoyaltyProgram, ReferralProgram, Tier, TierPolicy
from crmcore.ports import Store
from crmcore.sales import Lead, Opportunity
from crmcore.sales.pipeline import DEFAULT_PIPELINE
from crmcore.segments import Field, SegmentMembership, parse_rule, rule_to_json, rule_to_json_text
from crmcore.segments import Literal as SLiteral
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
    lambda store: services.issue_referral_code(store, REFERRALS, "c-1", T0, code="ANN-2024"),
]


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
        samples._lead(1),
        samples._opportunity(1, lead="L0001"),
        samples._workflow(),
        samples._waiting("c-1", timedelta(hours=1)),
        samples.COUPONS,
        *data.feedback[:3],
        *data.scores[:3],
    ]


def _held(cls: type) -> Lazy:
    return Lazy(lambda pool: pool.instance(cls))


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


_C = "crmcore.customers."
_S = "crmcore.segments."
_K = "crmcore.kernel."
_COL = "crmcore.columnar."
_SV = "crmcore.services."

BASE: Final[dict[str, dict[str, object]]] = {
    "crmcore.datasets.synthetic.generate": {"customers": 3, "years": 0.5},
    "crmcore.datasets.online_retail.online_retail_csv": {"customers": 3},
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
    _SV + "sales.change_lead": {"change": lambda lead: lead.assign("rep-2", T0)},
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
    _SV + "coupons.reverse_coupon_redemption": {"code": "SPRING-1"},
}
"""Valid arguments of particular callables, by qualified name and parameter name (a
[`Lazy`][tests.sweep_kit.Lazy] value is made from the pool when the call is prepared)."""
