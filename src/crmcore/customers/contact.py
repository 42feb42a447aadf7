"""Contact details: e-mail addresses and phone numbers, validated and normalised.

E-mail: the practical subset of RFC 5321/5322 that mail systems accept
(dot-atom local part of at most 64 characters, a domain of DNS labels with an
alphabetic top-level label, at most 254 characters in all). Internationalised
domains are converted to their ASCII (IDNA) form. The whole address is
lower-cased, as CRMs deduplicate on it: ``Ann@Example.COM`` and
``ann@example.com`` are the same customer in practice, though RFC 5321 lets a
server treat local parts case-sensitively.

Phone: normalised to E.164 (``+`` then 7 to 15 digits, ITU-T E.164 §6).
A number written with ``+`` or an international prefix (``00``, or ``011``
within the North American Numbering Plan) keeps its country code; a national
number needs ``default_country`` (ISO 3166-1 alpha-2), whose trunk prefix
(``0`` in most countries, ``1`` in NANP, ``8`` in Russia, ``06`` in Hungary,
none in Italy) is dropped before the country calling code is prepended.
Numbering-plan validity per country is out of scope (use the
``phonenumbers`` package for that).
"""

from __future__ import annotations

import re

import attrs

from crmcore.kernel.countries import COUNTRIES
from crmcore.kernel.errors import ValidationError

__all__ = ["Contact", "country_code", "normalize_email", "normalize_phone"]

_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_PHONE_NOISE = re.compile(r"[\s().\-/]")


def normalize_email(value: object, field: str = "email") -> str:
    """Validate an e-mail address and return its normal form (lower case, ASCII domain).

    Examples:
        >>> normalize_email("  Ann.Lee@Example.COM ")
        'ann.lee@example.com'
    """
    if not isinstance(value, str):
        raise ValidationError(field, value, "must be a string")
    text = value.strip()
    local, sep, domain = text.rpartition("@")
    if not sep or not local or not domain:
        raise ValidationError(field, value, "must look like name@example.com")
    if len(local) > 64 or not _LOCAL.match(local):
        raise ValidationError(field, value, "has an invalid part before '@'")
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValidationError(field, value, "has an invalid domain") from None
    labels = ascii_domain.split(".")
    top_level_ok = labels[-1].isalpha() or labels[-1].startswith("xn--")
    if len(labels) < 2 or not top_level_ok or not all(_LABEL.match(x) for x in labels):
        raise ValidationError(field, value, "has an invalid domain")
    address = f"{local.lower()}@{ascii_domain}"
    if len(address) > 254:
        raise ValidationError(field, value, "is longer than 254 characters")
    return address


def country_code(value: object, field: str = "country") -> str:
    """Validate an ISO 3166-1 alpha-2 country code (case-insensitive); return it upper-cased."""
    if not isinstance(value, str) or value.strip().upper() not in COUNTRIES:
        raise ValidationError(field, value, "must be an ISO 3166-1 alpha-2 country code like 'DE'")
    return value.strip().upper()


def normalize_phone(value: object, default_country: str | None = None, field: str = "phone") -> str:
    """Normalise a phone number to E.164.

    Examples:
        >>> normalize_phone("+44 (20) 7946-0958")
        '+442079460958'
        >>> normalize_phone("020 7946 0958", default_country="GB")
        '+442079460958'
        >>> normalize_phone("06 1 234 5678", default_country="HU")
        '+3612345678'
    """
    if not isinstance(value, str):
        raise ValidationError(field, value, "must be a string")
    if default_country is not None and not isinstance(default_country, str):
        raise ValidationError("default_country", default_country, "must be None or a country code")
    text = _PHONE_NOISE.sub("", value)
    nanp = default_country is not None and COUNTRIES.get(default_country.upper(), None) is not None
    nanp = nanp and COUNTRIES[str(default_country).upper()].calling_code == "1"
    if text.startswith("+"):
        digits = text[1:]
    elif text.startswith("00") and not nanp:
        digits = text[2:]
    elif text.startswith("011") and nanp:
        digits = text[3:]
    else:
        if default_country is None:
            raise ValidationError(
                field, value, "has no country code: write it as +<code>... or pass default_country"
            )
        country = COUNTRIES[country_code(default_country, "default_country")]
        if not text.isdigit():
            raise ValidationError(field, value, "must contain only digits and separators")
        national = text
        if country.trunk_prefix and national.startswith(country.trunk_prefix):
            national = national[len(country.trunk_prefix) :]
        digits = country.calling_code + national
    if not digits.isdigit() or digits.startswith("0"):
        raise ValidationError(field, value, "must be digits after a country code that is not 0")
    if not 7 <= len(digits) <= 15:
        raise ValidationError(field, value, "must have 7 to 15 digits including the country code")
    return "+" + digits


def _email(value: object) -> str | None:
    return None if value is None else normalize_email(value, "contact.email")


def _phone(value: object) -> str | None:
    return None if value is None else normalize_phone(value, field="contact.phone")


@attrs.frozen
class Contact:
    """How to reach a customer. Values are normalised on construction.

    A phone number must already carry its country code here; normalise
    national numbers first with [`normalize_phone()`][crmcore.customers.contact.normalize_phone] and
    a ``default_country``.
    """

    email: str | None = attrs.field(default=None, converter=_email)
    phone: str | None = attrs.field(default=None, converter=_phone)
