from datetime import UTC, date, datetime

import pytest

from crmcore.customers import Demographics, Gender, Geography, Psychographics, normalize_tag
from crmcore.kernel.errors import ValidationError


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(1990, 6, 15), date(2024, 6, 14), 33),
        (date(1990, 6, 15), date(2024, 6, 15), 34),
        (date(2000, 2, 29), date(2021, 2, 28), 20),
        (date(2000, 2, 29), date(2021, 3, 1), 21),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
    ],
)
def test_age_at_counts_whole_years(born: date, on: date, age: int) -> None:
    assert Demographics(birth_date=born).age_at(on) == age


def test_age_needs_a_birth_date_and_a_later_day() -> None:
    assert Demographics().age_at(date(2024, 1, 1)) is None
    with pytest.raises(ValidationError):
        Demographics(birth_date=date(2020, 1, 1)).age_at(date(2019, 1, 1))
    with pytest.raises(ValidationError):
        Demographics(birth_date=datetime(2020, 1, 1, tzinfo=UTC))


def test_enums_accept_values_and_list_the_allowed_ones() -> None:
    assert Demographics(gender="female").gender is Gender.FEMALE  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info:
        Demographics(gender="robot")  # type: ignore[arg-type]
    assert "female" in info.value.reason
    assert info.value.field == "demographics.gender"


def test_geography_validates_country_and_tidies_text() -> None:
    geo = Geography(country="cn", region="  Guang   dong ", city="Shenzhen")
    assert (geo.country, geo.region) == ("CN", "Guang dong")
    with pytest.raises(ValidationError):
        Geography(country="ZZ")
    with pytest.raises(ValidationError):
        Geography(city="")


def test_tags_are_normalised_sets() -> None:
    assert normalize_tag(" Outdoor Sports ") == "outdoor_sports"
    p = Psychographics(interests=["Music", "music", "Travel"])
    assert p.interests == frozenset({"music", "travel"})
    with pytest.raises(ValidationError):
        Psychographics(interests="music")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        normalize_tag("!")
