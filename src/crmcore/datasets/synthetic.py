"""Realistic synthetic CRM data for demos, docs and tests.

The purchase process follows the story the BTYD literature tells (Fader,
Hardie & Lee 2005): while "alive", each customer buys at their own Poisson
rate (rates vary across customers as a gamma distribution), and after any
purchase may become inactive for good (dropout probabilities vary as a beta
distribution). Spend per order is log-normal around a per-customer mean.
Touchpoint interactions walk customers down the seven funnel stages, most
dropping out early, as a real funnel does.

Everything is drawn from one seeded `numpy.random.Generator`, so the
same arguments always give the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import numpy as np

from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.customers.profile import (
    Demographics,
    Education,
    Gender,
    Geography,
    IncomeBand,
    Psychographics,
)
from crmcore.customers.records import Interaction, MarketingChannel, Purchase, ServiceRecord
from crmcore.feedback.feedback import Feedback
from crmcore.journey import TouchpointScore
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.money import Money
from crmcore.kernel.stage import Stage
from crmcore.kernel.validators import integer, number

__all__ = ["SyntheticData", "generate"]

_GIVEN = (
    "Ann", "Ben", "Chen", "Dana", "Eli", "Fatima", "Gao", "Hana", "Ivan", "Jin", "Kofi", "Lea",
    "Mia", "Noah", "Olu", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vera", "Wei", "Yuki",
)  # fmt: skip
_FAMILY = (
    "Lee", "Wang", "Smith", "Garcia", "Müller", "Rossi", "Tanaka", "Kim", "Nguyen", "Silva",
    "Okafor", "Novak", "Dubois", "Haddad", "Larsen", "Singh", "Chen", "Kowalski", "Lin", "Brown",
)  # fmt: skip
_PLACES = (  # country, region, city, weight
    ("CN", "Shanghai", "Shanghai", 14), ("CN", "Guangdong", "Shenzhen", 10),
    ("TW", "Taipei", "Taipei", 6), ("US", "California", "San Francisco", 10),
    ("US", "New York", "New York", 9), ("DE", "Berlin", "Berlin", 7),
    ("GB", "England", "London", 8), ("FR", "Île-de-France", "Paris", 6),
    ("JP", "Tokyo", "Tokyo", 7), ("SG", "Singapore", "Singapore", 4),
    ("BR", "São Paulo", "São Paulo", 5), ("IN", "Karnataka", "Bengaluru", 6),
    ("AU", "New South Wales", "Sydney", 4), ("CA", "Ontario", "Toronto", 4),
)  # fmt: skip
_INTERESTS = ("outdoor", "music", "cooking", "travel", "gaming", "fitness", "books", "fashion")
_LIFESTYLE = ("urban", "family", "student", "frequent_traveller", "remote_worker")
_VALUES = ("sustainability", "value_for_money", "quality", "innovation", "community")
_CATEGORIES = ("electronics", "home", "apparel", "beauty", "books", "sports")
_SALES_CHANNELS = ("web", "app", "store", "marketplace")
# Funnel touchpoints: (stage, channel, kind); the probability of moving on to
# the next stage falls in the middle of the funnel, as in typical B2C funnels.
_TOUCHPOINTS = (
    (Stage.AWARENESS, ("social", "ad_click"), ("search", "website_visit")),
    (Stage.INTEREST, ("web", "content_view"), ("email", "newsletter_open")),
    (Stage.CONSIDERATION, ("web", "product_compare"), ("web", "review_read")),
    (Stage.INTENT, ("web", "cart_add"), ("app", "trial_signup")),
    (Stage.CONVERSION, ("web", "checkout"), ("store", "checkout")),
    (Stage.RETENTION, ("email", "repeat_visit"), ("app", "loyalty_check")),
    (Stage.ADVOCACY, ("social", "review_posted"), ("web", "referral_sent")),
)
_ADVANCE = (0.75, 0.6, 0.55, 0.7, 1.0, 0.45)  # P(reach stage k+1 | reached stage k), k<5
_MAX_CUSTOMERS = 1_000_000  # a synthetic data set of Python objects: a million is plenty
_MAX_YEARS = 100.0
_FIRST_YEAR, _LAST_YEAR = 1900, 9000  # generated dates stay well inside datetime
_SERVICE_KINDS = ("inquiry", "repair", "return", "complaint")
# Mean CSAT (1-5) by touchpoint kind: a few weak touchpoints for the journey map to find.
_QUALITY = {"product_compare": 2.9, "trial_signup": 3.0, "checkout": 3.6, "cart_add": 3.8}
_RATED_SHARE = 0.25


@attrs.frozen
class SyntheticData:
    """A generated customer base: customers (with summaries filled in) and their records."""

    customers: tuple[Customer, ...]
    purchases: tuple[Purchase, ...]
    interactions: tuple[Interaction, ...]
    service_records: tuple[ServiceRecord, ...]
    events: tuple[DomainEvent, ...]
    start: datetime
    end: datetime
    scores: tuple[TouchpointScore, ...] = ()
    feedback: tuple[Feedback, ...] = ()


def _pick(rng: np.random.Generator, options: Sequence[str], k: int) -> list[str]:
    return [str(x) for x in rng.choice(np.array(options), size=k, replace=False)]


def generate(
    customers: int = 2000,
    *,
    seed: int = 7,
    end: datetime = datetime(2026, 10, 31, tzinfo=UTC),
    years: float = 2.0,
    currency: str = "USD",
) -> SyntheticData:
    """Generate ``customers`` customers acquired over ``years`` years up to ``end``.

    Every customer enters the funnel; about a third convert and then buy
    repeatedly. Returned customers already carry the purchase, interaction and
    service summaries of their records (as if recorded one by one), and
    ``events`` holds every domain event raised along the way, ``scores`` CSAT
    ratings of touchpoints (1-5) for the journey map, ``feedback`` survey
    answers and complaints (see `_feedback()`). Buyers who spent more than
    300 in total are tagged ``vip`` (about the top 7%).
    """
    customers = integer(customers, "customers", low=0, high=_MAX_CUSTOMERS)
    seed = integer(seed, "seed", low=0)
    end = to_utc(end, "end")
    if not _FIRST_YEAR <= end.year <= _LAST_YEAR:
        raise ValidationError("end", end, f"must be from the year {_FIRST_YEAR} to {_LAST_YEAR}")
    if number(years, "years", low=0.0, high=_MAX_YEARS) <= 0:
        raise ValidationError("years", years, "must be positive")
    rng = np.random.default_rng(seed)
    span = timedelta(days=365.25 * years)
    start = end - span
    weights = np.array([p[3] for p in _PLACES], dtype=float)
    weights /= weights.sum()

    all_customers: list[Customer] = []
    purchases: list[Purchase] = []
    interactions: list[Interaction] = []
    services: list[ServiceRecord] = []
    events: list[DomainEvent] = []
    for n in range(customers):
        cid = f"C{n + 1:06d}"
        joined = start + timedelta(seconds=float(rng.uniform(0, span.total_seconds() * 0.9)))
        joined = joined.replace(microsecond=0)
        given, family = str(rng.choice(_GIVEN)), str(rng.choice(_FAMILY))
        country, region, city, _ = _PLACES[int(rng.choice(len(_PLACES), p=weights))]
        ascii_family = family.encode("ascii", "ignore").decode() or "x"
        email = f"{given.lower()}.{ascii_family.lower()}.{n + 1}@example.com"
        age = int(np.clip(rng.normal(38, 12), 18, 85))
        born = date(joined.year - age, int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        outcome = Customer.register(
            cid,
            f"{given} {family}",
            joined,
            contact=Contact(email=email, phone=f"+1555{n:07d}" if rng.random() < 0.6 else None),
            demographics=Demographics(
                birth_date=born,
                gender=rng.choice(np.array(list(Gender))[:3]) if rng.random() < 0.9 else None,
                income_band=rng.choice(np.array(list(IncomeBand))),
                education=rng.choice(np.array(list(Education))) if rng.random() < 0.7 else None,
            ),
            geography=Geography(country=country, region=region, city=city),
            psychographics=Psychographics(
                interests=_pick(rng, _INTERESTS, int(rng.integers(0, 4))),
                lifestyle=_pick(rng, _LIFESTYLE, int(rng.integers(0, 2))),
                values=_pick(rng, _VALUES, int(rng.integers(0, 3))),
            ),
            attributes={"acquisition_channel": str(rng.choice(("search", "social", "referral")))},
        )
        customer = outcome.value
        events.extend(outcome.events)
        if rng.random() < 0.55:
            step = customer.grant_consent(MarketingChannel.EMAIL, joined, "signup form")
            customer = step.value
            events.extend(step.events)
        if rng.random() < 0.2:
            step = customer.grant_consent(MarketingChannel.SMS, joined, "checkout")
            customer = step.value
            events.extend(step.events)

        # Funnel walk: touchpoints, a few days apart.
        reached = 1
        while reached < 5 and rng.random() < _ADVANCE[reached - 1]:
            reached += 1
        moment = joined
        for stage_index in range(min(reached, 4)):
            stage, *options = _TOUCHPOINTS[stage_index]
            channel, kind = options[int(rng.integers(0, len(options)))]
            moment += timedelta(hours=float(rng.exponential(60)))
            record = Interaction(
                f"I{n + 1:06d}-{stage_index}", cid, moment, channel, kind, stage=stage
            )
            interactions.append(record)
            step = customer.record_interaction(record)
            customer = step.value
            events.extend(step.events)

        if reached >= 5:  # converted: buy while alive (Pareto/NBD-like story)
            rate = rng.gamma(0.9, 1 / 12.0)  # purchases per week while alive
            dropout = rng.beta(1.2, 3.5)
            mean_spend = float(rng.lognormal(3.6, 0.6))
            t = moment + timedelta(hours=float(rng.exponential(24)))
            k = 0
            while t < end:
                amount = Decimal(str(round(mean_spend * float(rng.lognormal(0, 0.35)), 2)))
                purchase = Purchase(
                    f"O{n + 1:06d}-{k:03d}",
                    cid,
                    t.replace(microsecond=0),
                    Money(amount, currency).rounded(),
                    items=int(rng.integers(1, 5)),
                    channel=str(rng.choice(_SALES_CHANNELS)),
                    category=str(rng.choice(_CATEGORIES)),
                )
                purchases.append(purchase)
                step = customer.record_purchase(purchase)
                customer = step.value
                events.extend(step.events)
                if k == 0 or rng.random() < 0.15:
                    stage_index = 4 if k == 0 else int(rng.choice((5, 6), p=(0.75, 0.25)))
                    stage, *options = _TOUCHPOINTS[stage_index]
                    channel, kind = options[int(rng.integers(0, len(options)))]
                    record = Interaction(
                        f"I{n + 1:06d}-p{k:03d}", cid, purchase.at, channel, kind, stage=stage
                    )
                    interactions.append(record)
                    step = customer.record_interaction(record)
                    customer = step.value
                    events.extend(step.events)
                if rng.random() < 0.06:
                    kind = str(rng.choice(_SERVICE_KINDS))
                    at = purchase.at + timedelta(days=float(rng.exponential(5)))
                    if at < end:
                        service = ServiceRecord(
                            f"S{n + 1:06d}-{k:03d}",
                            cid,
                            at,
                            kind,
                            str(rng.choice(("phone", "email", "chat"))),
                            summary=f"{kind} about order {purchase.order_id}",
                            resolved_at=at + timedelta(hours=float(rng.exponential(30))),
                        )
                        services.append(service)
                        step = customer.record_service(service)
                        customer = step.value
                        events.extend(step.events)
                k += 1
                if rng.random() < dropout:
                    break
                t += timedelta(weeks=float(rng.exponential(1 / max(rate, 1e-3))))
            if customer.purchases.total is not None and customer.purchases.total.amount > 300:
                step = customer.tag(["vip"], end)
                customer = step.value
                events.extend(step.events)
        all_customers.append(customer)
    return SyntheticData(
        tuple(all_customers),
        tuple(purchases),
        tuple(interactions),
        tuple(services),
        tuple(events),
        start,
        end,
        _scores(rng, interactions),
        # A separate stream, so adding feedback left every other generated value unchanged.
        _feedback(np.random.default_rng([seed, 6]), purchases, services, end),
    )


def _scores(
    rng: np.random.Generator, interactions: Sequence[Interaction]
) -> tuple[TouchpointScore, ...]:
    """CSAT ratings for about a quarter of the touchpoints.

    Each touchpoint kind has a mean quality; customers who stalled at a
    touchpoint's stage rate it a point lower, so weak touchpoints show up as
    pain points with low conversion, as they would in real feedback.
    """
    furthest: dict[str, int] = {}
    for record in interactions:
        if record.stage is not None:
            furthest[record.customer_id] = max(furthest.get(record.customer_id, 0), record.stage)
    scores: list[TouchpointScore] = []
    for record in interactions:
        if record.stage is None or rng.random() >= _RATED_SHARE:
            continue
        mean = _QUALITY.get(record.kind, 4.2)
        if furthest[record.customer_id] == record.stage and record.stage < Stage.CONVERSION:
            mean -= 1.0
        score = int(np.clip(round(rng.normal(mean, 0.8)), 1, 5))
        scores.append(
            TouchpointScore(
                record.customer_id, record.channel, record.kind, record.at, score, "csat"
            )
        )
    return tuple(scores)


_GOOD_THEMES = ("product_quality", "fast_delivery", "helpful_staff", "value_for_money", "app")
_BAD_THEMES = ("late_delivery", "price", "product_quality", "support_wait", "returns", "app")
_SURVEYED_SHARE = 0.3  # purchases followed by an NPS survey answer
_RATED_SERVICE_SHARE = 0.5  # service records followed by a CSAT answer


def _themes(rng: np.random.Generator, negative: bool) -> tuple[str, ...]:
    # Mostly what the score suggests, but feedback is noisy: 15% mention the other side.
    pool = _BAD_THEMES if negative != (rng.random() < 0.15) else _GOOD_THEMES
    k = 1 + int(rng.random() < 0.3)
    return tuple(sorted(_pick(rng, pool, k)))


def _feedback(
    rng: np.random.Generator,
    purchases: Sequence[Purchase],
    services: Sequence[ServiceRecord],
    end: datetime,
) -> tuple[Feedback, ...]:
    """NPS answers after some purchases, CSAT after service, and complaints.

    Each customer has a latent mood; an NPS answer is drawn around it and
    falls by two points when the customer needed service within 30 days
    before the survey, so service problems show up as detractors and as
    negative themes (``late_delivery``, ``support_wait``, ...). Complaint
    service records also arrive as complaint feedback with a CSAT score.
    """
    serviced: dict[str, list[datetime]] = {}
    for record in services:
        serviced.setdefault(record.customer_id, []).append(record.at)
    mood: dict[str, float] = {}
    items: list[Feedback] = []
    for purchase in purchases:
        if rng.random() >= _SURVEYED_SHARE:
            continue
        at = purchase.at + timedelta(days=float(rng.uniform(1, 10)))
        if at >= end:
            continue
        cid = purchase.customer_id
        base = mood.setdefault(cid, float(rng.normal(8.0, 1.6)))
        trouble = any(timedelta(0) <= at - t <= timedelta(days=30) for t in serviced.get(cid, ()))
        score = int(np.clip(round(rng.normal(base - (2.5 if trouble else 0.0), 1.2)), 0, 10))
        negative = score <= 6
        items.append(
            Feedback(
                id=f"F-{purchase.order_id}",
                customer_id=cid,
                channel=str(rng.choice(("survey", "email", "in_app"))),
                kind="suggestion" if negative else ("praise" if score >= 9 else "inquiry"),
                at=at,
                scores={"nps": score},
                stage="retention",
                themes=_themes(rng, negative),
            )
        )
    for record in services:
        resolved = record.resolved_at or record.at
        complaint = record.kind == "complaint"
        if not complaint and rng.random() >= _RATED_SERVICE_SHARE:
            continue
        at = resolved + timedelta(hours=float(rng.uniform(1, 48)))
        if at >= end:
            continue
        csat = int(np.clip(round(rng.normal(2.2 if complaint else 4.1, 0.9)), 1, 5))
        items.append(
            Feedback(
                id=f"F-{record.id}",
                customer_id=record.customer_id,
                channel=record.channel,
                kind="complaint" if complaint else ("praise" if csat >= 4 else "suggestion"),
                at=at,
                text=record.summary,
                scores={"csat": csat},
                stage="retention",
                themes=_themes(rng, csat <= 3),
            )
        )
    items.sort(key=lambda f: (f.at, f.id))
    return tuple(items)
