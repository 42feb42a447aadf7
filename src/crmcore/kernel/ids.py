"""Typed identifiers.

Ids are strings at run time and distinct types for the type checker, so a
``CustomerId`` cannot be passed where an ``OrderId`` is expected. The
``*_id`` functions validate untrusted input and return the typed value;
[`new_id()`][crmcore.kernel.ids.new_id] makes a fresh random one for callers that do not bring their
own (ids from the host application are preferred).
"""

from __future__ import annotations

import re
import uuid
from typing import NewType

from crmcore.kernel.errors import ValidationError

__all__ = [
    "CustomerId",
    "InteractionId",
    "OrderId",
    "ServiceRecordId",
    "customer_id",
    "interaction_id",
    "new_id",
    "order_id",
    "service_record_id",
    "validate_id",
]

CustomerId = NewType("CustomerId", str)
OrderId = NewType("OrderId", str)
InteractionId = NewType("InteractionId", str)
ServiceRecordId = NewType("ServiceRecordId", str)

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127}\Z")


def validate_id(value: object, field: str = "id") -> str:
    """Check that ``value`` is a usable id: 1-128 printable characters, no spaces.

    Ids may contain letters, digits and ``. _ : @ / + -`` and must start with a
    letter or digit, so they survive URLs, CSV files and log lines unquoted.
    """
    if not isinstance(value, str) or not _ID.match(value):
        raise ValidationError(
            field,
            value,
            "must be 1-128 characters of letters, digits or . _ : @ / + -, "
            "starting with a letter or digit",
        )
    return value


def customer_id(value: object) -> CustomerId:
    """Validate ``value`` and return it as a `CustomerId`."""
    return CustomerId(validate_id(value, "customer_id"))


def order_id(value: object) -> OrderId:
    """Validate ``value`` and return it as an `OrderId`."""
    return OrderId(validate_id(value, "order_id"))


def interaction_id(value: object) -> InteractionId:
    """Validate ``value`` and return it as an `InteractionId`."""
    return InteractionId(validate_id(value, "interaction_id"))


def service_record_id(value: object) -> ServiceRecordId:
    """Validate ``value`` and return it as a `ServiceRecordId`."""
    return ServiceRecordId(validate_id(value, "service_record_id"))


def new_id(prefix: str = "") -> str:
    """A fresh random id (UUID4 hex), optionally prefixed: ``new_id("cus_")``."""
    return validate_id(f"{prefix}{uuid.uuid4().hex}", "prefix")
