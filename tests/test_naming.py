"""One naming rule for public names, checked so that it cannot drift.

* Class names are CapWords and acronyms are written as words: ``RfmTable``,
  ``PredictedClv``, ``SlaPolicy``, ``SqliteStore`` (never ``RFMTable``).
* Every exception class ends in ``Error`` and derives from ``CrmError``.
* Names renamed in 0.2 still resolve, with a DeprecationWarning.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import warnings

import pytest

import crmcore
from crmcore import CrmError

_WORDS = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)*\Z")


def _public_packages() -> list[str]:
    names = ["crmcore"]
    for info in pkgutil.walk_packages(crmcore.__path__, "crmcore."):
        leaf = info.name.rsplit(".", 1)[-1]
        if info.ispkg and not leaf.startswith("_") and info.name != "crmcore.testing":
            names.append(info.name)
    return names


def _public_classes() -> list[tuple[str, str, type]]:
    out = []
    for package in _public_packages():
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if isinstance(value, type):
                out.append((package, name, value))
    return out


CLASSES = _public_classes()


def test_there_are_public_classes_to_check() -> None:
    assert len(CLASSES) > 200


def test_class_names_write_acronyms_as_words() -> None:
    offenders = [f"{p}.{n}" for p, n, _ in CLASSES if not _WORDS.match(n)]
    assert offenders == [], "acronyms are written as words (RfmTable, not RFMTable)"


def test_exceptions_end_in_error_and_derive_from_crm_error() -> None:
    errors = [(p, n, c) for p, n, c in CLASSES if issubclass(c, BaseException)]
    assert len(errors) >= 15
    assert [f"{p}.{n}" for p, n, _ in errors if not n.endswith("Error")] == []
    assert [f"{p}.{n}" for p, n, c in errors if not issubclass(c, CrmError)] == []


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("crmcore", "NotFound", "NotFoundError"),
        ("crmcore", "ConcurrencyConflict", "ConcurrencyConflictError"),
        ("crmcore", "IllegalTransition", "IllegalTransitionError"),
        ("crmcore", "MissingDependency", "MissingDependencyError"),
        ("crmcore", "CustomerIsErased", "CustomerErasedError"),
        ("crmcore", "BGNBDModel", "BgNbdModel"),
        ("crmcore", "CLVReport", "PredictedClv"),
        ("crmcore", "RFMSummary", "BtydSummary"),
        ("crmcore.kernel.errors", "InsufficientPoints", "InsufficientPointsError"),
        ("crmcore.analytics", "RFMSummary", "BtydSummary"),
        ("crmcore.analytics.bgnbd", "BGNBDModel", "BgNbdModel"),
    ],
)
def test_old_names_resolve_with_a_warning(module: str, old: str, new: str) -> None:
    namespace = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=f"{old} is now {new}"):
        value = getattr(namespace, old)
    assert value is getattr(namespace, new)


def test_unknown_names_still_raise_attribute_error() -> None:
    with warnings.catch_warnings(), pytest.raises(AttributeError, match="no attribute"):
        warnings.simplefilter("error")
        crmcore.NoSuchThing  # noqa: B018
