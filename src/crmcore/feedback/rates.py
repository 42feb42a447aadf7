"""Rates of the inner loop: SLA attainment, loop closure and reopen rate.

* **SLA attainment**: targets met / targets decided (clocks still running
  are left out of both counts).
* **Loop closure**: cases closed with a verified follow-up / cases opened.
* **Reopen rate**: cases reopened / cases ever resolved.

Each is a [`Rate`][crmcore.feedback.rates.Rate]: numerator, denominator and ``value`` (``None``
when there is nothing to divide by).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.kernel.arrays import BoolArray
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.reports import html_table, json_number, records_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Rate",
    "loop_closure_rate",
    "rate",
    "reopen_rate",
    "sla_attainment",
]


@attrs.frozen
class Rate:
    """A share: ``numerator / denominator`` (``value`` ``None`` when the denominator is 0)."""

    name: str
    numerator: int
    denominator: int

    def __attrs_post_init__(self) -> None:
        for field in ("numerator", "denominator"):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValidationError(field, v, "must be a non-negative int")
        if self.numerator > self.denominator:
            raise ValidationError(
                "numerator", self.numerator, f"must not exceed the denominator {self.denominator}"
            )

    @property
    def value(self) -> float | None:
        """The share (0..1), or ``None`` with nothing to divide by."""
        return self.numerator / self.denominator if self.denominator else None

    def to_dict(self) -> dict[str, object]:
        """The rate as JSON-compatible data."""
        return {
            "name": self.name,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": json_number(self.value),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row: ``name``, ``numerator``, ``denominator``, ``value``."""
        return records_frame([self.to_dict()], "Rate.to_pandas")

    def _repr_html_(self) -> str:
        return html_table(
            self.name,
            ["count", "of", "rate"],
            [[self.numerator, self.denominator, self.value]],
            kinds=["int", "int", "pct"],
        )


def _flags(values: object, field: str) -> BoolArray:
    if isinstance(values, str | bytes) or values is None:
        raise ValidationError(field, values, "must be a sequence of booleans")
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValidationError(field, array.shape, "must be one-dimensional")
    if array.size and array.dtype != np.bool_:
        raise ValidationError(field, str(array.dtype), "must hold booleans")
    return array.astype(bool)


def rate(name: str, numerator: int, denominator: int) -> Rate:
    """A named [`Rate`][crmcore.feedback.rates.Rate]
    (validated: ``0 <= numerator <= denominator``).
    """
    return Rate(name, numerator, denominator)


def sla_attainment(met: npt.ArrayLike, *, decided: npt.ArrayLike | None = None) -> Rate:
    """Share of SLA targets met among those decided.

    ``met[i]`` says target ``i`` was met; ``decided`` (optional, same
    length) marks targets already settled (met, or breached); undecided ones
    (still running, not yet breached) are left out of both counts.

    Examples:
        >>> sla_attainment([True, False, True, True], decided=[True, True, True, False]).value
        0.66...
    """
    hit = _flags(met, "met")
    settled = np.ones(len(hit), dtype=bool) if decided is None else _flags(decided, "decided")
    if len(settled) != len(hit):
        raise ValidationError(
            "decided", len(settled), f"must have one flag per target ({len(hit)})"
        )
    return Rate("sla attainment", int((hit & settled).sum()), int(settled.sum()))


def loop_closure_rate(opened: int, closed_verified: int) -> Rate:
    """Cases closed with a verified follow-up / cases opened (PEERS.md §5, Medallia inner loop)."""
    return Rate("loop closure", closed_verified, opened)


def reopen_rate(resolved: int, reopened: int) -> Rate:
    """Cases reopened / cases ever resolved."""
    return Rate("reopen rate", reopened, resolved)
