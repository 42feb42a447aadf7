"""ISO 4217 currency table: alphabetic code, numeric code, name and minor units.

Sources:

* Codes, numeric codes and names: ISO 4217 list one (current currency and funds), as
  shipped by the Debian ``iso-codes`` data in ``pycountry``.
* Minor units: the ISO 4217 list one table published by SIX (the ISO 4217 maintenance
  agency), 2026-01-01 edition, as shipped by the ``iso4217`` package.

Codes whose ISO minor unit is "N.A." (precious metals such as ``XAU``, the ``XDR``,
``XSU`` and ``XUA`` units of account, bond-market units ``XBA``-``XBD``, and the
``XTS``/``XXX`` test and no-currency codes) are deliberately omitted. Note that ISO minor
units can differ from the cash rounding that some locales use (e.g. ISO says 3 for ``IQD``
and 2 for ``IRR``, where CLDR says 0).

This module is plain literal data generated once; it imports nothing at run time beyond
the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, NamedTuple

__all__ = ["CURRENCIES", "Currency"]


class Currency(NamedTuple):
    """One ISO 4217 currency."""

    code: str
    """Alphabetic code, e.g. ``"EUR"``."""
    numeric: str
    """Three-digit numeric code, zero-padded, e.g. ``"978"``."""
    name: str
    """ISO 4217 English currency name."""
    minor_units: int
    """Number of decimal digits of the minor unit (2 for EUR, 0 for JPY, 3 for KWD)."""


CURRENCIES: Final[Mapping[str, Currency]] = MappingProxyType(
    {
        "AED": Currency("AED", "784", "UAE Dirham", 2),
        "AFN": Currency("AFN", "971", "Afghani", 2),
        "ALL": Currency("ALL", "008", "Lek", 2),
        "AMD": Currency("AMD", "051", "Armenian Dram", 2),
        "AOA": Currency("AOA", "973", "Kwanza", 2),
        "ARS": Currency("ARS", "032", "Argentine Peso", 2),
        "AUD": Currency("AUD", "036", "Australian Dollar", 2),
        "AWG": Currency("AWG", "533", "Aruban Florin", 2),
        "AZN": Currency("AZN", "944", "Azerbaijan Manat", 2),
        "BAM": Currency("BAM", "977", "Convertible Mark", 2),
        "BBD": Currency("BBD", "052", "Barbados Dollar", 2),
        "BDT": Currency("BDT", "050", "Taka", 2),
        "BHD": Currency("BHD", "048", "Bahraini Dinar", 3),
        "BIF": Currency("BIF", "108", "Burundi Franc", 0),
        "BMD": Currency("BMD", "060", "Bermudian Dollar", 2),
        "BND": Currency("BND", "096", "Brunei Dollar", 2),
        "BOB": Currency("BOB", "068", "Boliviano", 2),
        "BOV": Currency("BOV", "984", "Mvdol", 2),
        "BRL": Currency("BRL", "986", "Brazilian Real", 2),
        "BSD": Currency("BSD", "044", "Bahamian Dollar", 2),
        "BTN": Currency("BTN", "064", "Ngultrum", 2),
        "BWP": Currency("BWP", "072", "Pula", 2),
        "BYN": Currency("BYN", "933", "Belarusian Ruble", 2),
        "BZD": Currency("BZD", "084", "Belize Dollar", 2),
        "CAD": Currency("CAD", "124", "Canadian Dollar", 2),
        "CDF": Currency("CDF", "976", "Congolese Franc", 2),
        "CHE": Currency("CHE", "947", "WIR Euro", 2),
        "CHF": Currency("CHF", "756", "Swiss Franc", 2),
        "CHW": Currency("CHW", "948", "WIR Franc", 2),
        "CLF": Currency("CLF", "990", "Unidad de Fomento", 4),
        "CLP": Currency("CLP", "152", "Chilean Peso", 0),
        "CNY": Currency("CNY", "156", "Yuan Renminbi", 2),
        "COP": Currency("COP", "170", "Colombian Peso", 2),
        "COU": Currency("COU", "970", "Unidad de Valor Real", 2),
        "CRC": Currency("CRC", "188", "Costa Rican Colon", 2),
        "CUP": Currency("CUP", "192", "Cuban Peso", 2),
        "CVE": Currency("CVE", "132", "Cabo Verde Escudo", 2),
        "CZK": Currency("CZK", "203", "Czech Koruna", 2),
        "DJF": Currency("DJF", "262", "Djibouti Franc", 0),
        "DKK": Currency("DKK", "208", "Danish Krone", 2),
        "DOP": Currency("DOP", "214", "Dominican Peso", 2),
        "DZD": Currency("DZD", "012", "Algerian Dinar", 2),
        "EGP": Currency("EGP", "818", "Egyptian Pound", 2),
        "ERN": Currency("ERN", "232", "Nakfa", 2),
        "ETB": Currency("ETB", "230", "Ethiopian Birr", 2),
        "EUR": Currency("EUR", "978", "Euro", 2),
        "FJD": Currency("FJD", "242", "Fiji Dollar", 2),
        "FKP": Currency("FKP", "238", "Falkland Islands Pound", 2),
        "GBP": Currency("GBP", "826", "Pound Sterling", 2),
        "GEL": Currency("GEL", "981", "Lari", 2),
        "GHS": Currency("GHS", "936", "Ghana Cedi", 2),
        "GIP": Currency("GIP", "292", "Gibraltar Pound", 2),
        "GMD": Currency("GMD", "270", "Dalasi", 2),
        "GNF": Currency("GNF", "324", "Guinean Franc", 0),
        "GTQ": Currency("GTQ", "320", "Quetzal", 2),
        "GYD": Currency("GYD", "328", "Guyana Dollar", 2),
        "HKD": Currency("HKD", "344", "Hong Kong Dollar", 2),
        "HNL": Currency("HNL", "340", "Lempira", 2),
        "HTG": Currency("HTG", "332", "Gourde", 2),
        "HUF": Currency("HUF", "348", "Forint", 2),
        "IDR": Currency("IDR", "360", "Rupiah", 2),
        "ILS": Currency("ILS", "376", "New Israeli Sheqel", 2),
        "INR": Currency("INR", "356", "Indian Rupee", 2),
        "IQD": Currency("IQD", "368", "Iraqi Dinar", 3),
        "IRR": Currency("IRR", "364", "Iranian Rial", 2),
        "ISK": Currency("ISK", "352", "Iceland Krona", 0),
        "JMD": Currency("JMD", "388", "Jamaican Dollar", 2),
        "JOD": Currency("JOD", "400", "Jordanian Dinar", 3),
        "JPY": Currency("JPY", "392", "Yen", 0),
        "KES": Currency("KES", "404", "Kenyan Shilling", 2),
        "KGS": Currency("KGS", "417", "Som", 2),
        "KHR": Currency("KHR", "116", "Riel", 2),
        "KMF": Currency("KMF", "174", "Comorian Franc", 0),
        "KPW": Currency("KPW", "408", "North Korean Won", 2),
        "KRW": Currency("KRW", "410", "Won", 0),
        "KWD": Currency("KWD", "414", "Kuwaiti Dinar", 3),
        "KYD": Currency("KYD", "136", "Cayman Islands Dollar", 2),
        "KZT": Currency("KZT", "398", "Tenge", 2),
        "LAK": Currency("LAK", "418", "Lao Kip", 2),
        "LBP": Currency("LBP", "422", "Lebanese Pound", 2),
        "LKR": Currency("LKR", "144", "Sri Lanka Rupee", 2),
        "LRD": Currency("LRD", "430", "Liberian Dollar", 2),
        "LSL": Currency("LSL", "426", "Loti", 2),
        "LYD": Currency("LYD", "434", "Libyan Dinar", 3),
        "MAD": Currency("MAD", "504", "Moroccan Dirham", 2),
        "MDL": Currency("MDL", "498", "Moldovan Leu", 2),
        "MGA": Currency("MGA", "969", "Malagasy Ariary", 2),
        "MKD": Currency("MKD", "807", "Denar", 2),
        "MMK": Currency("MMK", "104", "Kyat", 2),
        "MNT": Currency("MNT", "496", "Tugrik", 2),
        "MOP": Currency("MOP", "446", "Pataca", 2),
        "MRU": Currency("MRU", "929", "Ouguiya", 2),
        "MUR": Currency("MUR", "480", "Mauritius Rupee", 2),
        "MVR": Currency("MVR", "462", "Rufiyaa", 2),
        "MWK": Currency("MWK", "454", "Malawi Kwacha", 2),
        "MXN": Currency("MXN", "484", "Mexican Peso", 2),
        "MXV": Currency("MXV", "979", "Mexican Unidad de Inversion (UDI)", 2),
        "MYR": Currency("MYR", "458", "Malaysian Ringgit", 2),
        "MZN": Currency("MZN", "943", "Mozambique Metical", 2),
        "NAD": Currency("NAD", "516", "Namibia Dollar", 2),
        "NGN": Currency("NGN", "566", "Naira", 2),
        "NIO": Currency("NIO", "558", "Cordoba Oro", 2),
        "NOK": Currency("NOK", "578", "Norwegian Krone", 2),
        "NPR": Currency("NPR", "524", "Nepalese Rupee", 2),
        "NZD": Currency("NZD", "554", "New Zealand Dollar", 2),
        "OMR": Currency("OMR", "512", "Rial Omani", 3),
        "PAB": Currency("PAB", "590", "Balboa", 2),
        "PEN": Currency("PEN", "604", "Sol", 2),
        "PGK": Currency("PGK", "598", "Kina", 2),
        "PHP": Currency("PHP", "608", "Philippine Peso", 2),
        "PKR": Currency("PKR", "586", "Pakistan Rupee", 2),
        "PLN": Currency("PLN", "985", "Zloty", 2),
        "PYG": Currency("PYG", "600", "Guarani", 0),
        "QAR": Currency("QAR", "634", "Qatari Rial", 2),
        "RON": Currency("RON", "946", "Romanian Leu", 2),
        "RSD": Currency("RSD", "941", "Serbian Dinar", 2),
        "RUB": Currency("RUB", "643", "Russian Ruble", 2),
        "RWF": Currency("RWF", "646", "Rwanda Franc", 0),
        "SAR": Currency("SAR", "682", "Saudi Riyal", 2),
        "SBD": Currency("SBD", "090", "Solomon Islands Dollar", 2),
        "SCR": Currency("SCR", "690", "Seychelles Rupee", 2),
        "SDG": Currency("SDG", "938", "Sudanese Pound", 2),
        "SEK": Currency("SEK", "752", "Swedish Krona", 2),
        "SGD": Currency("SGD", "702", "Singapore Dollar", 2),
        "SHP": Currency("SHP", "654", "Saint Helena Pound", 2),
        "SLE": Currency("SLE", "925", "Leone", 2),
        "SOS": Currency("SOS", "706", "Somali Shilling", 2),
        "SRD": Currency("SRD", "968", "Surinam Dollar", 2),
        "SSP": Currency("SSP", "728", "South Sudanese Pound", 2),
        "STN": Currency("STN", "930", "Dobra", 2),
        "SVC": Currency("SVC", "222", "El Salvador Colon", 2),
        "SYP": Currency("SYP", "760", "Syrian Pound", 2),
        "SZL": Currency("SZL", "748", "Lilangeni", 2),
        "THB": Currency("THB", "764", "Baht", 2),
        "TJS": Currency("TJS", "972", "Somoni", 2),
        "TMT": Currency("TMT", "934", "Turkmenistan New Manat", 2),
        "TND": Currency("TND", "788", "Tunisian Dinar", 3),
        "TOP": Currency("TOP", "776", "Pa\u2019anga", 2),
        "TRY": Currency("TRY", "949", "Turkish Lira", 2),
        "TTD": Currency("TTD", "780", "Trinidad and Tobago Dollar", 2),
        "TWD": Currency("TWD", "901", "New Taiwan Dollar", 2),
        "TZS": Currency("TZS", "834", "Tanzanian Shilling", 2),
        "UAH": Currency("UAH", "980", "Hryvnia", 2),
        "UGX": Currency("UGX", "800", "Uganda Shilling", 0),
        "USD": Currency("USD", "840", "US Dollar", 2),
        "USN": Currency("USN", "997", "US Dollar (Next day)", 2),
        "UYI": Currency("UYI", "940", "Uruguay Peso en Unidades Indexadas (UI)", 0),
        "UYU": Currency("UYU", "858", "Peso Uruguayo", 2),
        "UYW": Currency("UYW", "927", "Unidad Previsional", 4),
        "UZS": Currency("UZS", "860", "Uzbekistan Sum", 2),
        "VED": Currency("VED", "926", "Bolívar Soberano", 2),
        "VES": Currency("VES", "928", "Bolívar Soberano", 2),
        "VND": Currency("VND", "704", "Dong", 0),
        "VUV": Currency("VUV", "548", "Vatu", 0),
        "WST": Currency("WST", "882", "Tala", 2),
        "XAD": Currency("XAD", "396", "Arab Accounting Dinar", 2),
        "XAF": Currency("XAF", "950", "CFA Franc BEAC", 0),
        "XCD": Currency("XCD", "951", "East Caribbean Dollar", 2),
        "XCG": Currency("XCG", "532", "Caribbean Guilder", 2),
        "XOF": Currency("XOF", "952", "CFA Franc BCEAO", 0),
        "XPF": Currency("XPF", "953", "CFP Franc", 0),
        "YER": Currency("YER", "886", "Yemeni Rial", 2),
        "ZAR": Currency("ZAR", "710", "Rand", 2),
        "ZMW": Currency("ZMW", "967", "Zambian Kwacha", 2),
        "ZWG": Currency("ZWG", "924", "Zimbabwe Gold", 2),
    }
)
"""Active ISO 4217 currencies and funds with defined minor units, keyed by code."""
