"""Touchpoints that move customers through the funnel: a stage per interaction kind.

A [`TouchpointMap`][crmcore.funnel.touchpoints.TouchpointMap] is plain, serialisable data: rules
mapping an interaction ``kind`` (on one ``channel``, or on any) to the funnel stage it shows the
customer has reached. [`apply_interaction()`][crmcore.funnel.touchpoints.apply_interaction] feeds
one [`Interaction`][crmcore.customers.records.Interaction] to a position (starting it on the first
mapped interaction, advancing only forward, recording the interaction id as the source);
[`replay()`][crmcore.funnel.touchpoints.replay] rebuilds a position from a customer's interactions.

Examples:
    >>> from datetime import datetime, UTC
    >>> from crmcore.customers.records import Interaction
    >>> t = datetime(2026, 3, 1, tzinfo=UTC)
    >>> visits = [
    ...     Interaction("I-2", "C-1", t.replace(day=5), "web", "cart_add"),
    ...     Interaction("I-1", "C-1", t, "search", "website_visit"),
    ...     Interaction("I-3", "C-1", t.replace(day=9), "web", "content_view"),
    ... ]
    >>> p = replay(visits)
    >>> for change in p.history:
    ...     print(change.stage.label, change.how.value, change.source)
    awareness start I-1
    interest skip I-2
    consideration skip I-2
    intent advance I-2
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from crmcore.customers.records import Interaction, normalize_slug
from crmcore.funnel.position import DEFAULT_POLICY, FunnelPolicy, FunnelPosition
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import Outcome
from crmcore.kernel.stage import Stage

__all__ = [
    "DEFAULT_TOUCHPOINTS",
    "TouchpointMap",
    "TouchpointRule",
    "apply_interaction",
    "replay",
]

Key = tuple[str | None, str]
"""A rule's lookup key: ``(channel, kind)``, with ``channel=None`` for any channel."""


def _rule_kind(value: object) -> str:
    return normalize_slug(value, "touchpoint.kind")


def _rule_channel(value: object) -> str | None:
    return None if value is None else normalize_slug(value, "touchpoint.channel")


def _rule_stage(value: object) -> Stage:
    return Stage.parse(value, "touchpoint.stage")


@attrs.frozen
class TouchpointRule:
    """Interactions of ``kind`` on ``channel`` (any channel when ``None``) show ``stage``.

    Kinds and channels are normalised like [`Interaction`][crmcore.customers.records.Interaction]'s
    (``"Cart Add"`` → ``"cart_add"``), so a rule matches what is stored.
    """

    kind: str = attrs.field(converter=_rule_kind)
    stage: Stage = attrs.field(converter=_rule_stage)
    channel: str | None = attrs.field(default=None, converter=_rule_channel)

    @property
    def key(self) -> Key:
        """``(channel, kind)``: what the rule matches."""
        return (self.channel, self.kind)


def _show_key(key: Key) -> str:
    channel, kind = key
    return kind if channel is None else f"{channel}/{kind}"


def _rules(values: Iterable[TouchpointRule]) -> tuple[TouchpointRule, ...]:
    if isinstance(values, str | Mapping) or not isinstance(values, Iterable):
        raise ValidationError(
            "rules", values, "must be a sequence of TouchpointRule (use TouchpointMap.of(mapping))"
        )
    seen: dict[Key, TouchpointRule] = {}
    for i, rule in enumerate(values):
        if not isinstance(rule, TouchpointRule):
            raise ValidationError(f"rules[{i}]", rule, "must be a TouchpointRule")
        other = seen.setdefault(rule.key, rule)
        if other.stage != rule.stage:
            raise ValidationError(
                "rules",
                _show_key(rule.key),
                f"is mapped to both {other.stage.label} and {rule.stage.label}",
            )
    # A canonical order: equal maps compare (and serialise) equal whatever the input order.
    return tuple(
        sorted(seen.values(), key=lambda r: (r.kind, r.channel is not None, r.channel or ""))
    )


def _flag(_instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise ValidationError(attribute.name, value, "must be True or False")


@functools.lru_cache(maxsize=64)
def _index(touchpoints: TouchpointMap) -> dict[Key, Stage]:
    # Keyed by the map itself, whose hash is cached: a lookup costs two dict probes.
    return {rule.key: rule.stage for rule in touchpoints.rules}


def _rules_from(mapping: Mapping[str | tuple[str, str], Stage | str]) -> list[TouchpointRule]:
    if not isinstance(mapping, Mapping):
        raise ValidationError(
            "touchpoints", mapping, "must be a mapping of kind or (channel, kind)"
        )
    rules = []
    for key, stage in mapping.items():
        if isinstance(key, tuple) and len(key) == 2:
            channel, kind = key
            rules.append(TouchpointRule(kind, stage, channel))
        elif isinstance(key, str):
            rules.append(TouchpointRule(key, stage))
        else:
            raise ValidationError("touchpoints", key, "keys must be a kind or a (channel, kind)")
    return rules


@attrs.frozen(cache_hash=True)
class TouchpointMap:
    """Which funnel stage an interaction shows: frozen, serialisable rules.

    [`stage_for()`][crmcore.funnel.touchpoints.TouchpointMap.stage_for] looks, in order, at the
    interaction's own ``stage`` tag (when ``use_tagged_stage``: the host application classified it
    itself), then a rule for its exact ``(channel, kind)``, then a rule for its ``kind`` on any
    channel. Nothing matching means the interaction does not move the funnel.
    """

    rules: tuple[TouchpointRule, ...] = attrs.field(default=(), converter=_rules)
    use_tagged_stage: bool = attrs.field(default=True, validator=_flag)

    @classmethod
    def of(
        cls,
        mapping: Mapping[str | tuple[str, str], Stage | str],
        *,
        use_tagged_stage: bool = True,
    ) -> TouchpointMap:
        """Build a map from ``{kind: stage}`` and ``{(channel, kind): stage}`` entries.

        Examples:
            >>> m = TouchpointMap.of(
            ...     {"Demo Request": "consideration", ("store", "visit"): "interest"}
            ... )
            >>> m.lookup("demo_request").label, m.lookup("visit", "store").label, m.lookup("visit")
            ('consideration', 'interest', None)
        """
        return cls(_rules_from(mapping), use_tagged_stage)

    def updated(self, mapping: Mapping[str | tuple[str, str], Stage | str]) -> TouchpointMap:
        """A copy with ``mapping``'s entries added, replacing rules with the same key.

        Examples:
            >>> updated = DEFAULT_TOUCHPOINTS.updated({"website_visit": "interest"})
            >>> updated.lookup("website_visit").label
            'interest'
        """
        new = _rules_from(mapping)
        keys = {rule.key for rule in new}
        return attrs.evolve(self, rules=(*(r for r in self.rules if r.key not in keys), *new))

    def lookup(self, kind: str, channel: str | None = None) -> Stage | None:
        """The stage the rules give an interaction of ``kind`` on ``channel``, if any."""
        wanted = normalize_slug(kind, "kind")
        where = None if channel is None else normalize_slug(channel, "channel")
        index = _index(self)
        found = index.get((where, wanted)) if where is not None else None
        return found if found is not None else index.get((None, wanted))

    def stage_for(self, interaction: Interaction) -> Stage | None:
        """The stage ``interaction`` shows the customer has reached, or ``None``."""
        _check_interaction(interaction, "interaction")
        if self.use_tagged_stage and interaction.stage is not None:
            return interaction.stage
        index = _index(self)
        found = index.get((interaction.channel, interaction.kind))
        return found if found is not None else index.get((None, interaction.kind))


_DEFAULT_KINDS: Final[Mapping[Stage, tuple[str, ...]]] = {
    Stage.AWARENESS: ("ad_click", "ad_view", "search_click", "social_follow", "website_visit"),
    Stage.INTEREST: (
        "content_view",
        "email_click",
        "newsletter_open",
        "newsletter_signup",
        "service_inquiry",
        "webinar_signup",
    ),
    Stage.CONSIDERATION: (
        "case_study_view",
        "demo_request",
        "pricing_view",
        "product_compare",
        "review_read",
        "sales_call",
    ),
    Stage.INTENT: ("cart_add", "checkout_start", "quote_request", "trial_signup"),
    Stage.CONVERSION: ("checkout", "contract_signed", "order_placed", "purchase"),
    Stage.RETENTION: (
        "after_sales",
        "loyalty_check",
        "product_use",
        "repeat_purchase",
        "repeat_visit",
    ),
    Stage.ADVOCACY: ("referral_sent", "review_posted", "social_share", "testimonial"),
}

DEFAULT_TOUCHPOINTS: Final = TouchpointMap(
    [TouchpointRule(kind, stage) for stage, kinds in _DEFAULT_KINDS.items() for kind in kinds]
)
"""Common interaction kinds on any channel, including every kind the synthetic
demo data uses (DOMAIN.md §2, §7). Extend it with
[`TouchpointMap.updated()`][crmcore.funnel.touchpoints.TouchpointMap.updated].
"""


def _check_interaction(value: object, field: str) -> Interaction:
    if not isinstance(value, Interaction):
        raise ValidationError(field, value, "must be an Interaction")
    return value


def apply_interaction(
    position: FunnelPosition | None,
    interaction: Interaction,
    touchpoints: TouchpointMap = DEFAULT_TOUCHPOINTS,
    policy: FunnelPolicy = DEFAULT_POLICY,
) -> Outcome[FunnelPosition | None]:
    """Feed one interaction to a customer's position (``None``: not in the funnel yet).

    An interaction the map gives no stage changes nothing. The first mapped
    one starts the position; later ones advance it when they show a later
    stage, and are ignored when they show the current or an earlier one
    (interactions never move a customer back: that takes an explicit
    [`regress()`][crmcore.funnel.position.FunnelPosition.regress] with a reason). The interaction id
    is recorded as the source. A forward move dated before the position's latest change raises
    ``ValidationError`` (use [`replay()`][crmcore.funnel.touchpoints.replay] for out-of-order data);
    a move the policy forbids raises ``IllegalTransitionError``.
    """
    event = _check_interaction(interaction, "interaction")
    if not isinstance(touchpoints, TouchpointMap):
        raise ValidationError("touchpoints", touchpoints, "must be a TouchpointMap")
    if position is not None:
        if not isinstance(position, FunnelPosition):
            raise ValidationError("position", position, "must be a FunnelPosition or None")
        if position.customer_id != event.customer_id:
            raise ValidationError(
                "interaction.customer_id",
                event.customer_id,
                f"belongs to another customer than the position's {position.customer_id!r}",
            )
    stage = touchpoints.stage_for(event)
    if stage is None:
        return Outcome(position)
    if position is None:
        started = FunnelPosition.start(
            event.customer_id, stage, event.at, source=event.id, policy=policy
        )
        return Outcome(started.value, started.events)
    if stage <= position.stage:
        return Outcome(position)
    moved = position.advance(stage, event.at, source=event.id, policy=policy)
    return Outcome(moved.value, moved.events)


def replay(
    interactions: Iterable[Interaction],
    touchpoints: TouchpointMap = DEFAULT_TOUCHPOINTS,
    policy: FunnelPolicy = DEFAULT_POLICY,
) -> FunnelPosition | None:
    """A customer's position rebuilt from their interactions (``None`` if none is mapped).

    The interactions are sorted by ``(at, id)`` first, so out-of-order input
    gives the same position as sorted input; all must belong to one customer.
    The result is an unsaved position (``version`` 0).
    """
    if isinstance(interactions, str) or not isinstance(interactions, Iterable):
        raise ValidationError("interactions", interactions, "must be an iterable of Interaction")
    items = [_check_interaction(v, f"interactions[{i}]") for i, v in enumerate(interactions)]
    owners = {item.customer_id for item in items}
    if len(owners) > 1:
        raise ValidationError("interactions", sorted(owners), "must all belong to one customer")
    position: FunnelPosition | None = None
    for item in sorted(items, key=lambda v: (v.at, v.id)):
        position = apply_interaction(position, item, touchpoints, policy).value
    return position
