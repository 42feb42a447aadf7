"""Touchpoints: where and how a customer meets the brand.

A *touchpoint* is a channel plus an interaction kind (``web/website_visit``,
``phone/service_inquiry``). The *journey map*
([`JourneyMap`][crmcore.journey.journey_map.JourneyMap]) says which funnel stage
each touchpoint belongs to (DOMAIN.md §7, seed 000 "识别关键接触点": website
visit, service inquiry, sales talk, product use, after-sales, per stage).
"""

from __future__ import annotations

import attrs

from crmcore.customers.records import normalize_slug
from crmcore.kernel.errors import ValidationError

__all__ = ["Touchpoint"]


def _channel(value: object) -> str:
    return normalize_slug(value, "touchpoint.channel")


def _kind(value: object) -> str:
    return normalize_slug(value, "touchpoint.kind")


@attrs.frozen(order=True)
class Touchpoint:
    """A channel and an interaction kind: one place in the journey.

    Both parts are slugs (``"Website Visit"`` → ``"website_visit"``), the
    same normalisation as [`Interaction`][crmcore.customers.records.Interaction]
    uses, so an interaction's touchpoint is simply ``Touchpoint(i.channel,
    i.kind)``. Touchpoints order by channel, then kind.

    Examples:
        >>> Touchpoint("Web", "Website Visit").label
        'web/website_visit'
        >>> Touchpoint.parse("phone/service_inquiry")
        Touchpoint(channel='phone', kind='service_inquiry')
    """

    channel: str = attrs.field(converter=_channel)
    kind: str = attrs.field(converter=_kind)

    @property
    def label(self) -> str:
        """``"channel/kind"``: the touchpoint's name in reports and JSON."""
        return f"{self.channel}/{self.kind}"

    def __str__(self) -> str:
        return self.label

    @classmethod
    def parse(cls, value: object, field: str = "touchpoint") -> Touchpoint:
        """A touchpoint from itself, a ``(channel, kind)`` pair or ``"channel/kind"``.

        Anything else raises a [`ValidationError`][crmcore.kernel.errors.ValidationError] naming
        ``field``.
        """
        if isinstance(value, Touchpoint):
            return value
        parts: tuple[object, ...] | None = None
        if isinstance(value, tuple) and len(value) == 2:
            parts = value
        elif isinstance(value, str) and value.count("/") == 1:
            parts = tuple(value.split("/"))
        if parts is None:
            raise ValidationError(
                field, value, 'must be a Touchpoint, a (channel, kind) pair or "channel/kind"'
            )
        return cls(
            normalize_slug(parts[0], f"{field}.channel"), normalize_slug(parts[1], f"{field}.kind")
        )
