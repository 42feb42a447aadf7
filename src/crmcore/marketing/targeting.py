"""Targeting: a segment rule stored as its text, tested on one customer or over a whole frame.

Campaigns, coupon definitions and care plans aim at a segment. They keep the rule as its canonical
text ([`to_text()`][crmcore.segments.printer.to_text], which parses back to the same rule), so the
aggregate that holds it stores and compares as plain data, and a rule given as a
[`Predicate`][crmcore.segments.rules.Predicate] or as text means the same. ``None`` targets every
customer. The rule runs through the segment language's own evaluators:
[`matches()`][crmcore.segments.evaluate.matches] for one customer and
[`mask()`][crmcore.segments.evaluate_batch.mask] for a frame, so a target means the same in both.

Examples:
    >>> from datetime import UTC, datetime
    >>> text = target_text('total_spent >= 100 AND country = "CN"')
    >>> text
    'total_spent >= 100 and country = "CN"'
    >>> in_target(text, {"id": "c-1", "total_spent": 250.0, "country": "CN"},
    ...           datetime(2026, 1, 1, tzinfo=UTC))
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import numpy as np

from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.customers.customer import Customer
from crmcore.kernel.arrays import BoolArray, read_only
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import RuleError, ValidationError
from crmcore.segments.evaluate import matches
from crmcore.segments.evaluate_batch import mask
from crmcore.segments.parser import parse_rule
from crmcore.segments.printer import to_text
from crmcore.segments.rules import Predicate

__all__ = ["in_target", "target_mask", "target_rule", "target_text"]


def target_text(value: object, field: str = "segment") -> str | None:
    """The canonical text of a target rule given as text or a rule (``None``: everyone).

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``field`` when the
    text does not parse, quoting the rule language's message.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            rule = parse_rule(value)
        except RuleError as error:
            raise ValidationError(field, value, f"is not a segment rule: {error}") from None
    elif isinstance(value, Predicate):
        rule = value
    else:
        raise ValidationError(field, value, "must be segment rule text or a rule")
    try:
        return to_text(rule)
    except (RuleError, AttributeError, TypeError) as error:
        raise ValidationError(field, value, f"is not a segment rule: {error}") from None


def target_rule(text: str) -> Predicate:
    """The rule of a canonical target text (parsed anew: rules are cheap to parse)."""
    return parse_rule(text)


def in_target(text: str | None, customer: Customer | Mapping[str, object], at: datetime) -> bool:
    """Whether one customer (a [`Customer`][crmcore.customers.Customer] or a flat record) is in the
    target at ``at``; always ``True`` for ``None``."""
    if text is None:
        return True
    return matches(target_rule(text), customer, to_utc(at, "at"))


def target_mask(
    text: str | None,
    frame: CustomerFrame,
    at: datetime,
    *,
    transactions: TransactionLog | None = None,
    events: EventLog | None = None,
) -> BoolArray:
    """One bool per row of ``frame``: is the customer in the target at ``at``? (read-only)."""
    if not isinstance(frame, CustomerFrame):
        raise ValidationError("frame", frame, "must be a CustomerFrame")
    if text is None:
        return read_only(np.ones(len(frame), dtype=bool))
    return mask(
        target_rule(text), frame, to_utc(at, "at"), transactions=transactions, events=events
    )
