"""Hypothesis strategies for crmcore's value objects (needs ``hypothesis``).

Use them in your own property tests:

    from hypothesis import given
    from crmcore.testing.strategies import customers

    @given(customers())
    def test_my_rule(customer): ...
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import strategies as st

from crmcore.customers.contact import Contact
from crmcore.customers.customer import AttributeValue, Customer
from crmcore.customers.profile import (
    Demographics,
    Education,
    Gender,
    Geography,
    IncomeBand,
    Psychographics,
)
from crmcore.customers.records import (
    ConsentRecord,
    Interaction,
    MarketingChannel,
    Purchase,
    ServiceRecord,
)
from crmcore.kernel.countries import COUNTRIES
from crmcore.kernel.money import Money
from crmcore.kernel.stage import Stage

__all__ = [
    "attribute_values",
    "aware_datetimes",
    "customer_ids",
    "customers",
    "emails",
    "interactions",
    "money",
    "purchases",
    "service_records",
    "slugs",
    "tags",
]

_LO = datetime(2000, 1, 1)
_HI = datetime(2035, 12, 31)


def aware_datetimes(
    min_value: datetime = _LO, max_value: datetime = _HI, *, utc_only: bool = False
) -> st.SearchStrategy[datetime]:
    """Aware datetimes (microsecond precision) in UTC or a fixed offset (naive bounds)."""
    zones = (
        st.just(UTC)
        if utc_only
        else st.sampled_from(
            [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
        )
    )
    return st.datetimes(min_value=min_value, max_value=max_value, timezones=zones)


def customer_ids() -> st.SearchStrategy[str]:
    """Valid customer ids."""
    return st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,15}\Z")


def slugs() -> st.SearchStrategy[str]:
    """Valid channel / kind slugs."""
    return st.from_regex(r"\A[a-z][a-z0-9_]{0,11}\Z")


def tags() -> st.SearchStrategy[str]:
    """Valid normalised tags."""
    return st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,11}\Z")


def emails() -> st.SearchStrategy[str]:
    """Valid e-mail addresses (already in normal form)."""
    local = st.from_regex(r"\A[a-z0-9][a-z0-9._+-]{0,15}[a-z0-9]\Z").filter(lambda s: ".." not in s)
    domain = st.from_regex(r"\A[a-z0-9]{1,10}\.(com|org|cn|de|io)\Z")
    return st.builds(lambda a, b: f"{a}@{b}", local, domain)


def money(currency: str = "USD", max_value: int = 10_000) -> st.SearchStrategy[Money]:
    """Non-negative amounts in ``currency`` with the currency's minor unit."""
    return st.integers(0, max_value * 100).map(lambda cents: Money.of_minor(cents, currency))


def attribute_values() -> st.SearchStrategy[AttributeValue]:
    """Values of every custom-attribute type (texts without NUL, which attributes refuse)."""
    return st.one_of(
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False, width=64),
        st.decimals(allow_nan=False, allow_infinity=False, places=4, max_value=10**9),
        st.booleans(),
        st.dates(date(1900, 1, 1), date(2100, 1, 1)),
        aware_datetimes(utc_only=True),
    )


@st.composite
def customers(
    draw: st.DrawFn,
    ids: st.SearchStrategy[str] | None = None,
    *,
    email: bool | None = None,
) -> Customer:
    """Customers with any combination of optional fields filled in.

    ``email=True`` forces an e-mail address, ``False`` forbids one.
    """
    created = draw(aware_datetimes())
    has_email = draw(st.booleans()) if email is None else email
    consents = draw(
        st.lists(
            st.builds(
                ConsentRecord,
                st.sampled_from(list(MarketingChannel)),
                st.booleans(),
                aware_datetimes(),
                st.none() | st.sampled_from(["signup", "checkout"]),
            ),
            max_size=3,
        )
    )
    return Customer(
        id=draw(ids if ids is not None else customer_ids()),
        name=draw(st.from_regex(r"\A[A-Za-z][A-Za-z .'-]{0,30}[A-Za-z]\Z")),
        created_at=created,
        contact=Contact(
            email=draw(emails()) if has_email else None,
            phone=draw(st.none() | st.from_regex(r"\A\+[1-9][0-9]{7,13}\Z")),
        ),
        demographics=Demographics(
            birth_date=draw(st.none() | st.dates(date(1920, 1, 1), date(2010, 12, 31))),
            gender=draw(st.none() | st.sampled_from(list(Gender))),
            income_band=draw(st.none() | st.sampled_from(list(IncomeBand))),
            education=draw(st.none() | st.sampled_from(list(Education))),
        ),
        geography=Geography(
            country=draw(st.none() | st.sampled_from(sorted(COUNTRIES))),
            region=draw(st.none() | st.sampled_from(["North", "Île-de-France", "广东"])),
            city=draw(st.none() | st.sampled_from(["Paris", "Shenzhen", "São Paulo"])),
        ),
        psychographics=Psychographics(
            interests=draw(st.frozensets(tags(), max_size=3)),
            lifestyle=draw(st.frozensets(tags(), max_size=2)),
            values=draw(st.frozensets(tags(), max_size=2)),
        ),
        tags=draw(st.frozensets(tags(), max_size=4)),
        attributes=draw(
            st.dictionaries(
                st.from_regex(r"\A[a-z][a-z0-9_]{0,9}\Z"), attribute_values(), max_size=3
            )
        ),
        consents=consents,
    )


def purchases(customer_id: str, currency: str = "USD") -> st.SearchStrategy[Purchase]:
    """Purchases of one customer."""
    return st.builds(
        Purchase,
        order_id=st.from_regex(r"\AO[0-9]{1,8}\Z"),
        customer_id=st.just(customer_id),
        at=aware_datetimes(),
        amount=money(currency),
        items=st.integers(0, 20),
        channel=slugs(),
        category=st.none() | slugs(),
    )


def interactions(customer_id: str) -> st.SearchStrategy[Interaction]:
    """Touchpoint interactions of one customer."""
    return st.builds(
        Interaction,
        id=st.from_regex(r"\AI[0-9]{1,8}\Z"),
        customer_id=st.just(customer_id),
        at=aware_datetimes(),
        channel=slugs(),
        kind=slugs(),
        stage=st.none() | st.sampled_from(list(Stage)),
        note=st.none() | st.text(max_size=40),
    )


def service_records(customer_id: str) -> st.SearchStrategy[ServiceRecord]:
    """Service records of one customer (resolved, or not yet)."""

    @st.composite
    def build(draw: st.DrawFn) -> ServiceRecord:
        at = draw(aware_datetimes(utc_only=True))
        resolved = draw(st.none() | st.timedeltas(timedelta(0), timedelta(days=30)))
        return ServiceRecord(
            id=draw(st.from_regex(r"\AS[0-9]{1,8}\Z")),
            customer_id=customer_id,
            at=at,
            kind=draw(slugs()),
            channel=draw(slugs()),
            summary=draw(st.text(max_size=40)),
            resolved_at=None if resolved is None else at + resolved,
        )

    return build()
