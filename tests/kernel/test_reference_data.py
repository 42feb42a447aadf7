"""Sanity and spot checks for the ISO 3166-1 / E.164 / ISO 4217 reference tables."""

from __future__ import annotations

import re

import pytest

from crmcore.kernel.countries import COUNTRIES, Country
from crmcore.kernel.currencies import CURRENCIES, Currency

# --------------------------------------------------------------------------- countries


def test_country_count_is_all_assigned_iso_3166_1_codes() -> None:
    assert len(COUNTRIES) == 249


def test_country_keys_are_alpha2_and_match_entries() -> None:
    for key, country in COUNTRIES.items():
        assert isinstance(country, Country)
        assert re.fullmatch(r"[A-Z]{2}", key), key
        assert country.alpha2 == key


def test_alpha3_codes_are_unique_three_uppercase_letters() -> None:
    alpha3 = [c.alpha3 for c in COUNTRIES.values()]
    assert len(set(alpha3)) == len(alpha3)
    for code in alpha3:
        assert re.fullmatch(r"[A-Z]{3}", code), code


def test_names_are_non_empty_and_unique() -> None:
    names = [c.name for c in COUNTRIES.values()]
    assert all(n and n == n.strip() for n in names)
    assert len(set(names)) == len(names)


def test_calling_codes_are_one_to_three_digits() -> None:
    for country in COUNTRIES.values():
        assert re.fullmatch(r"[1-9][0-9]{0,2}", country.calling_code), country


def test_trunk_prefixes_are_empty_or_short_digit_strings() -> None:
    for country in COUNTRIES.values():
        assert re.fullmatch(r"[0-9]{0,2}", country.trunk_prefix), country


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        COUNTRIES["XX"] = Country("XX", "XXX", "Nowhere", "999", "")  # type: ignore[index]


@pytest.mark.parametrize(
    ("alpha2", "alpha3", "calling_code", "trunk_prefix"),
    [
        ("GB", "GBR", "44", "0"),
        ("US", "USA", "1", "1"),
        ("CA", "CAN", "1", "1"),
        ("JM", "JAM", "1", "1"),
        ("IT", "ITA", "39", ""),
        ("SM", "SMR", "378", ""),
        ("VA", "VAT", "39", ""),
        ("ES", "ESP", "34", ""),
        ("DK", "DNK", "45", ""),
        ("NO", "NOR", "47", ""),
        ("SE", "SWE", "46", "0"),
        ("DE", "DEU", "49", "0"),
        ("RU", "RUS", "7", "8"),
        ("KZ", "KAZ", "7", "8"),
        ("BY", "BLR", "375", "8"),
        ("CN", "CHN", "86", "0"),
        ("JP", "JPN", "81", "0"),
        ("TW", "TWN", "886", "0"),
        ("HU", "HUN", "36", "06"),
        ("FR", "FRA", "33", "0"),
        ("AU", "AUS", "61", "0"),
        ("IN", "IND", "91", "0"),
        ("BR", "BRA", "55", "0"),
        ("MX", "MEX", "52", ""),
        ("ZA", "ZAF", "27", "0"),
        ("AQ", "ATA", "672", ""),
    ],
)
def test_country_spot_checks(
    alpha2: str, alpha3: str, calling_code: str, trunk_prefix: str
) -> None:
    country = COUNTRIES[alpha2]
    assert country.alpha3 == alpha3
    assert country.calling_code == calling_code
    assert country.trunk_prefix == trunk_prefix


def test_names_spot_checks() -> None:
    assert COUNTRIES["GB"].name == "United Kingdom"
    assert COUNTRIES["DE"].name == "Germany"
    assert COUNTRIES["CI"].name == "Côte d'Ivoire"


def test_nanp_members_share_calling_code_and_trunk_prefix() -> None:
    nanp = [c for c in COUNTRIES.values() if c.calling_code == "1"]
    # US, CA, the US territories and the Caribbean NANP members.
    assert len(nanp) >= 25
    for country in nanp:
        assert country.trunk_prefix == "1", country


def test_user_assigned_and_exceptionally_reserved_codes_are_absent() -> None:
    for code in ("XK", "UK", "EU", "AA", "ZZ"):
        assert code not in COUNTRIES


# -------------------------------------------------------------------------- currencies


def test_currency_count_covers_active_currencies() -> None:
    # ISO 4217 list one has ~180 codes; minus the "N.A." minor-unit codes.
    assert 150 <= len(CURRENCIES) <= 200


def test_currency_keys_and_codes() -> None:
    for key, currency in CURRENCIES.items():
        assert isinstance(currency, Currency)
        assert re.fullmatch(r"[A-Z]{3}", key), key
        assert currency.code == key
        assert currency.name


def test_currency_numeric_codes_are_unique_three_digits() -> None:
    numerics = [c.numeric for c in CURRENCIES.values()]
    for numeric in numerics:
        assert re.fullmatch(r"[0-9]{3}", numeric), numeric
    assert len(set(numerics)) == len(numerics)


def test_currency_minor_units_in_range() -> None:
    for currency in CURRENCIES.values():
        assert isinstance(currency.minor_units, int)
        assert 0 <= currency.minor_units <= 4, currency


@pytest.mark.parametrize(
    ("code", "numeric", "minor_units"),
    [
        ("EUR", "978", 2),
        ("USD", "840", 2),
        ("GBP", "826", 2),
        ("CNY", "156", 2),
        ("CHF", "756", 2),
        ("JPY", "392", 0),
        ("KRW", "410", 0),
        ("ISK", "352", 0),
        ("CLP", "152", 0),
        ("KWD", "414", 3),
        ("BHD", "048", 3),
        ("OMR", "512", 3),
        ("JOD", "400", 3),
        ("TND", "788", 3),
        ("LYD", "434", 3),
        ("IQD", "368", 3),
        ("CLF", "990", 4),
        ("UYW", "927", 4),
    ],
)
def test_currency_spot_checks(code: str, numeric: str, minor_units: int) -> None:
    currency = CURRENCIES[code]
    assert currency.numeric == numeric
    assert currency.minor_units == minor_units


def test_currencies_without_minor_units_are_omitted() -> None:
    for code in ("XAU", "XAG", "XDR", "XTS", "XXX"):
        assert code not in CURRENCIES


def test_withdrawn_currencies_are_absent() -> None:
    for code in ("DEM", "FRF", "HRK", "SLL", "VEF", "ZWL"):
        assert code not in CURRENCIES


def test_major_currencies_are_present() -> None:
    for code in ("INR", "BRL", "MXN", "ZAR", "RUB", "TWD", "HUF", "XOF", "XAF", "XCD"):
        assert code in CURRENCIES
