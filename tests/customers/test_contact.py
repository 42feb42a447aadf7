import pytest

from crmcore.customers import Contact, country_code, normalize_email, normalize_phone
from crmcore.kernel.errors import ValidationError


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("  Ann.Lee@Example.COM ", "ann.lee@example.com"),
        ("o'neil+crm@sub.example.co.uk", "o'neil+crm@sub.example.co.uk"),
        ("user@bücher.de", "user@xn--bcher-kva.de"),
        ("x@example.com.", "x@example.com"),
    ],
)
def test_emails_are_normalised(raw: str, normal: str) -> None:
    assert normalize_email(raw) == normal


@pytest.mark.parametrize(
    "bad",
    ["plain", "@example.com", "a@", "a..b@example.com", ".a@example.com", "a@example",
     "a@-example.com", "a@example.c0m", "a b@example.com", "x" * 65 + "@example.com", 42],
)  # fmt: skip
def test_invalid_emails_raise_naming_the_field(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        Contact(email=bad)  # type: ignore[arg-type]
    assert info.value.field == "contact.email"


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("+44 (20) 7946-0958", None, "+442079460958"),
        ("0044 20 7946 0958", None, "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("1 415 555 2671", "US", "+14155552671"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
        ("06 1 234 5678", "HU", "+3612345678"),
        ("8 495 123-45-67", "RU", "+74951234567"),
        ("06 1234 5678", "IT", "+390612345678"),  # Italy keeps its leading 0
        ("138 0013 8000", "CN", "+8613800138000"),
        ("02-2345-6789", "tw", "+886223456789"),
    ],
)
def test_phones_are_normalised_to_e164(raw: str, country: str | None, e164: str) -> None:
    assert normalize_phone(raw, default_country=country) == e164


@pytest.mark.parametrize(
    ("raw", "country"),
    [("020 7946 0958", None), ("+0 123 456 789", None), ("+1 23", None), ("12ab34", "GB"),
     ("+1234567890123456", None), ("020 7946 0958", "XX")],
)  # fmt: skip
def test_invalid_phones_raise(raw: str, country: str | None) -> None:
    with pytest.raises(ValidationError):
        normalize_phone(raw, default_country=country)


def test_contact_requires_international_form() -> None:
    assert Contact(phone="+44 20 7946 0958").phone == "+442079460958"
    with pytest.raises(ValidationError) as info:
        Contact(phone="020 7946 0958")
    assert info.value.field == "contact.phone"


def test_country_codes() -> None:
    assert country_code(" de ") == "DE"
    with pytest.raises(ValidationError):
        country_code("Germany")
