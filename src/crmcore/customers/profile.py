"""Who a customer is: demographics, geography and psychographic traits (DOMAIN.md §1)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import date
from typing import TypeVar

import attrs

from crmcore.customers.contact import country_code
from crmcore.kernel.clock import ensure_date
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import items_of, plain_text

__all__ = [
    "Demographics",
    "Education",
    "Gender",
    "Geography",
    "IncomeBand",
    "Psychographics",
    "normalize_tag",
    "normalize_tags",
    "optional_text",
    "parse_enum",
]


class Gender(enum.StrEnum):
    """Self-described gender, as customers are usually offered it."""

    FEMALE = "female"
    MALE = "male"
    NON_BINARY = "non_binary"
    UNDISCLOSED = "undisclosed"


class IncomeBand(enum.StrEnum):
    """Household income band, relative to the market (bands, not amounts)."""

    LOW = "low"
    LOWER_MIDDLE = "lower_middle"
    MIDDLE = "middle"
    UPPER_MIDDLE = "upper_middle"
    HIGH = "high"


class Education(enum.StrEnum):
    """Highest completed education level (ISCED 2011 groups)."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    VOCATIONAL = "vocational"
    BACHELOR = "bachelor"
    MASTER = "master"
    DOCTORATE = "doctorate"


E = TypeVar("E", bound=enum.StrEnum)


def parse_enum(kind: type[E], value: object, field: str) -> E:
    """``kind(value)`` with a [`ValidationError`][crmcore.customers.profile.ValidationError] listing
    the allowed values."""
    if isinstance(value, kind):
        return value
    try:
        return kind(value)  # type: ignore[arg-type]
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ValidationError(field, value, f"must be one of {allowed}") from None


def _birth_date(value: object) -> date | None:
    return None if value is None else ensure_date(value, "demographics.birth_date")


def _gender(value: object) -> Gender | None:
    return None if value is None else parse_enum(Gender, value, "demographics.gender")


def _income_band(value: object) -> IncomeBand | None:
    return None if value is None else parse_enum(IncomeBand, value, "demographics.income_band")


def _education(value: object) -> Education | None:
    return None if value is None else parse_enum(Education, value, "demographics.education")


@attrs.frozen
class Demographics:
    """Birth date, gender, income band and education; every part optional."""

    birth_date: date | None = attrs.field(default=None, converter=_birth_date)
    gender: Gender | None = attrs.field(default=None, converter=_gender)
    income_band: IncomeBand | None = attrs.field(default=None, converter=_income_band)
    education: Education | None = attrs.field(default=None, converter=_education)

    def age_at(self, on: date) -> int | None:
        """Age in whole years on ``on`` (``None`` without a birth date).

        Someone born on 29 February turns a year older on 1 March in common
        years, the usual legal reading.

        Examples:
            >>> Demographics(birth_date=date(2000, 2, 29)).age_at(date(2021, 2, 28))
            20
        """
        on = ensure_date(on, "on")
        if self.birth_date is None:
            return None
        born = self.birth_date
        if on < born:
            raise ValidationError("on", on, f"is before the birth date {born.isoformat()}")
        had_birthday = (on.month, on.day) >= (born.month, born.day)
        return on.year - born.year - (0 if had_birthday else 1)


def _optional_country(value: object) -> str | None:
    return None if value is None else country_code(value, "geography.country")


def optional_text(value: object, field: str, limit: int = 100) -> str | None:
    """``None``, or a non-empty string of at most ``limit`` characters, spaces collapsed."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise ValidationError(field, value, f"must be a non-empty string of at most {limit}")
    return plain_text(" ".join(value.split()), field)


def _region(value: object) -> str | None:
    return optional_text(value, "geography.region")


def _city(value: object) -> str | None:
    return optional_text(value, "geography.city")


def _postal_code(value: object) -> str | None:
    return optional_text(value, "geography.postal_code", 20)


@attrs.frozen
class Geography:
    """Where a customer is: ISO 3166-1 country, region, city, postal code."""

    country: str | None = attrs.field(default=None, converter=_optional_country)
    region: str | None = attrs.field(default=None, converter=_region)
    city: str | None = attrs.field(default=None, converter=_city)
    postal_code: str | None = attrs.field(default=None, converter=_postal_code)


_TAG = re.compile(r"[a-z0-9][a-z0-9_:./-]{0,63}\Z")


def normalize_tag(value: object, field: str = "tag") -> str:
    """A tag in normal form: lower case, spaces as ``_``, 1-64 characters.

    Examples:
        >>> normalize_tag("  Outdoor Sports ")
        'outdoor_sports'
    """
    if not isinstance(value, str):
        raise ValidationError(field, value, "must be a string")
    tag = "_".join(value.strip().lower().split())
    if not _TAG.match(tag):
        raise ValidationError(
            field,
            value,
            "must be 1-64 letters, digits or _ : . / - starting with a letter or digit",
        )
    return tag


def normalize_tags(values: Iterable[object] | None, field: str = "tags") -> frozenset[str]:
    """Normalise a collection of tags into a frozenset (``None`` is none; a bare string, a
    mapping or a non-collection is refused)."""
    if values is None:
        return frozenset()
    if isinstance(values, str):
        raise ValidationError(field, values, "must be a collection of tags, not one string")
    return frozenset(normalize_tag(v, field) for v in items_of(values, field, "tags"))


def _interests(values: Iterable[object] | None) -> frozenset[str]:
    return normalize_tags(values, "psychographics.interests")


def _lifestyle(values: Iterable[object] | None) -> frozenset[str]:
    return normalize_tags(values, "psychographics.lifestyle")


def _values(values: Iterable[object] | None) -> frozenset[str]:
    return normalize_tags(values, "psychographics.values")


@attrs.frozen
class Psychographics:
    """Interests, lifestyle and values, each a set of normalised tags."""

    interests: frozenset[str] = attrs.field(factory=frozenset, converter=_interests)
    lifestyle: frozenset[str] = attrs.field(factory=frozenset, converter=_lifestyle)
    values: frozenset[str] = attrs.field(factory=frozenset, converter=_values)
