"""Auto-open rules: which feedback opens a case, and at which priority.

A [`CaseRule`][crmcore.feedback.rules.CaseRule] is data: a name, a severity (the priority it asks
for), optional routing (a team) and conditions on the feedback, all of which must hold: the feedback
kind, the channel, a score at or below a threshold on a scale, a keyword in the text, a theme tag.
[`CaseRules`][crmcore.feedback.rules.CaseRules] is an ordered list of rules with a match mode
(PEERS.md §5.1: Qmeter evaluates "low rating, NPS 0-6 or keyword → ticket" rules in order, first
match wins; Sprinklr matches condition groups):

* ``first`` (the default): the first matching rule decides; its severity and
  team apply; the case records that one rule.
* ``all``: every matching rule is recorded on the case; the severity is the
  highest of them, the team that of the first matching rule that names one.

The case's priority is the severity raised one step for each customer-value
threshold the customer's value reaches ([`PriorityPolicy`][crmcore.feedback.rules.PriorityPolicy]),
capped at urgent. The value is passed in (a number such as a CLV, or a tier number); nothing is read
from storage.

[`open_case_for()`][crmcore.feedback.rules.open_case_for] applies the rules to one feedback and
returns the opened case (with its events) or ``None``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Final

import attrs

from crmcore.customers.records import normalize_slug
from crmcore.feedback.cases import Case
from crmcore.feedback.feedback import Feedback
from crmcore.feedback.vocabulary import Channel, FeedbackKind, Priority
from crmcore.journey.scores import Scale
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import Outcome
from crmcore.kernel.ids import validate_id
from crmcore.kernel.money import Money
from crmcore.kernel.validators import instance_of

__all__ = [
    "DEFAULT_CASE_RULES",
    "CaseRule",
    "CaseRules",
    "MatchMode",
    "PriorityPolicy",
    "open_case_for",
]


class MatchMode(enum.StrEnum):
    """How a rule list is applied: the first matching rule, or all of them."""

    FIRST = "first"
    ALL = "all"


def _rule_name(value: object) -> str:
    return normalize_slug(value, "rule.name")


def _severity(value: object) -> Priority:
    return Priority.parse(value, "rule.severity")


def _kinds(value: object) -> frozenset[FeedbackKind]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("rule.kinds", value, "must be a collection of feedback kinds")
    return frozenset(FeedbackKind.parse(v, "rule.kinds") for v in value)


def _channels(value: object) -> frozenset[Channel]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("rule.channels", value, "must be a collection of channels")
    return frozenset(Channel.parse(v, "rule.channels") for v in value)


def _scale(value: object) -> Scale | None:
    return None if value is None else Scale.parse(value, "rule.scale")


def _threshold(_instance: object, _attribute: attrs.Attribute[int | None], value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValidationError("rule.score_at_most", value, "must be a whole number")


def _keywords(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("rule.keywords", value, "must be a sequence of words")
    words: list[str] = []
    for word in value:
        if not isinstance(word, str) or not word.strip():
            raise ValidationError("rule.keywords", word, "must be non-empty text")
        words.append(word.strip().casefold())
    return tuple(words)


def _themes(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("rule.themes", value, "must be a collection of theme tags")
    return frozenset(normalize_slug(v, "rule.themes") for v in value)


def _team(value: object) -> str | None:
    return None if value is None else validate_id(value, "rule.team")


@attrs.frozen(kw_only=True)
class CaseRule:
    """One auto-open rule: all the given conditions must hold (at least one is needed).

    * ``kinds``: the feedback kind is one of these;
    * ``channels``: it arrived on one of these channels;
    * ``scale`` and ``score_at_most``: it carries a score on ``scale`` that is
      ``<= score_at_most`` (an NPS detractor is ``scale="nps", score_at_most=6``);
    * ``keywords``: the text contains one of these (case-insensitive substring
      match, so ``"refund"`` also finds "Refunded" and works for text without spaces);
    * ``themes``: it carries one of these theme tags.

    ``severity`` is the priority the rule asks for; ``team`` (optional) routes the case.

    Examples:
        >>> from datetime import UTC, datetime
        >>> rule = CaseRule(name="nps_detractor", severity="normal", scale="nps", score_at_most=6)
        >>> f = Feedback(id="f1", customer_id="c1", channel="survey", kind="inquiry",
        ...              scores={"nps": 4}, at=datetime(2026, 3, 2, tzinfo=UTC))
        >>> rule.matches(f)
        True
    """

    name: str = attrs.field(converter=_rule_name)
    severity: Priority = attrs.field(converter=_severity)
    kinds: frozenset[FeedbackKind] = attrs.field(factory=frozenset, converter=_kinds)
    channels: frozenset[Channel] = attrs.field(factory=frozenset, converter=_channels)
    scale: Scale | None = attrs.field(default=None, converter=_scale)
    score_at_most: int | None = attrs.field(default=None, validator=_threshold)
    keywords: tuple[str, ...] = attrs.field(default=(), converter=_keywords)
    themes: frozenset[str] = attrs.field(factory=frozenset, converter=_themes)
    team: str | None = attrs.field(default=None, converter=_team)
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if (self.scale is None) != (self.score_at_most is None):
            raise ValidationError(
                "rule.score_at_most", self.score_at_most, "needs a scale, and a scale needs it"
            )
        scale, at_most = self.scale, self.score_at_most
        if scale is not None and at_most is not None and not scale.low <= at_most <= scale.high:
            raise ValidationError(
                "rule.score_at_most",
                at_most,
                f"must lie in {scale.low}..{scale.high} on the {scale} scale",
            )
        if not (self.kinds or self.channels or self.scale or self.keywords or self.themes):
            raise ValidationError("rule", self.name, "needs at least one condition")

    def matches(self, feedback: Feedback) -> bool:
        """Whether every condition of the rule holds for ``feedback``."""
        instance_of(feedback, Feedback, "feedback")
        if self.kinds and feedback.kind not in self.kinds:
            return False
        if self.channels and feedback.channel not in self.channels:
            return False
        if self.scale is not None and self.score_at_most is not None:
            score = feedback.scores.get(self.scale)
            if score is None or score > self.score_at_most:
                return False
        if self.keywords:
            text = feedback.text.casefold()
            if not any(word in text for word in self.keywords):
                return False
        return not self.themes or not self.themes.isdisjoint(feedback.themes)


def _thresholds(value: object) -> tuple[Decimal, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("value_thresholds", value, "must be a sequence of numbers")
    out = tuple(_number(v, "value_thresholds") for v in value)
    if list(out) != sorted(set(out)):
        raise ValidationError("value_thresholds", value, "must be strictly ascending")
    return out


def _number(value: object, field: str) -> Decimal:
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValidationError(field, value, "must be a number")
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise ValidationError(field, value, "must be a number") from None
    if not number.is_finite():
        raise ValidationError(field, value, "must be a finite number")
    return number


@attrs.frozen(kw_only=True)
class PriorityPolicy:
    """Priority from severity and customer value.

    Each threshold in ``value_thresholds`` (ascending) that the customer's
    value reaches raises the severity one step, up to urgent. The value is
    whatever the caller ranks customers by: a CLV (a number or
    [`Money`][crmcore.kernel.money.Money], whose amount is compared), or a tier
    number with thresholds ``(1, 2)``. An unknown value (``None``) raises nothing.

    Examples:
        >>> p = PriorityPolicy(value_thresholds=(1000, 10000))
        >>> p.priority("normal", 500), p.priority("normal", 2500), p.priority("high", 50000)
        (<Priority.NORMAL: 2>, <Priority.HIGH: 3>, <Priority.URGENT: 4>)
    """

    value_thresholds: tuple[Decimal, ...] = attrs.field(
        default=(Decimal(1000), Decimal(10000)), converter=_thresholds
    )

    def priority(
        self, severity: Priority | str, customer_value: int | float | Decimal | Money | None
    ) -> Priority:
        """The priority of a case of ``severity`` for a customer worth ``customer_value``."""
        base = Priority.parse(severity, "severity")
        if customer_value is None:
            return base
        value = _number(customer_value, "customer_value")
        steps = sum(1 for threshold in self.value_thresholds if value >= threshold)
        return Priority(min(int(base) + steps, int(Priority.URGENT)))


def _rules(value: object) -> tuple[CaseRule, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("rules", value, "must be a sequence of CaseRule")
    rules = tuple(value)
    for i, rule in enumerate(rules):
        if not isinstance(rule, CaseRule):
            raise ValidationError(f"rules[{i}]", rule, "must be a CaseRule")
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise ValidationError("rules", names, "rule names must be distinct")
    return rules


def _mode(value: object) -> MatchMode:
    if isinstance(value, MatchMode):
        return value
    if isinstance(value, str) and value in MatchMode._value2member_map_:
        return MatchMode(value)
    raise ValidationError("mode", value, "must be 'first' or 'all'")


def _priority_policy(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, PriorityPolicy):
        raise ValidationError("priority", value, "must be a PriorityPolicy")


@attrs.frozen(kw_only=True)
class CaseRules:
    """An ordered list of auto-open rules, a match mode and a priority policy."""

    rules: tuple[CaseRule, ...] = attrs.field(converter=_rules)
    mode: MatchMode = attrs.field(default=MatchMode.FIRST, converter=_mode)
    priority: PriorityPolicy = attrs.field(factory=PriorityPolicy, validator=_priority_policy)

    def matching(self, feedback: Feedback) -> tuple[CaseRule, ...]:
        """The rules that match ``feedback``: at most one in ``first`` mode, in order."""
        if not isinstance(feedback, Feedback):
            raise ValidationError("feedback", feedback, "must be a Feedback")
        hits: list[CaseRule] = []
        for rule in self.rules:
            if rule.matches(feedback):
                hits.append(rule)
                if self.mode is MatchMode.FIRST:
                    break
        return tuple(hits)


DEFAULT_CASE_RULES: Final = CaseRules(
    rules=(
        CaseRule(
            name="alarm_keyword",
            severity=Priority.HIGH,
            keywords=("refund", "cancel", "lawyer", "fraud", "unsafe"),
            description="the text names a refund, cancellation, legal or safety issue",
        ),
        CaseRule(
            name="nps_detractor",
            severity=Priority.NORMAL,
            scale=Scale.NPS,
            score_at_most=6,
            description="NPS 0-6",
        ),
        CaseRule(
            name="csat_low",
            severity=Priority.NORMAL,
            scale=Scale.CSAT,
            score_at_most=2,
            description="CSAT 1-2",
        ),
        CaseRule(
            name="complaint",
            severity=Priority.NORMAL,
            kinds=(FeedbackKind.COMPLAINT,),
            description="any complaint",
        ),
    )
)
"""The default rules (first match wins): an alarming keyword (high), an NPS
detractor 0-6, a CSAT of 1-2, any complaint (normal).
"""


def open_case_for(
    feedback: Feedback,
    rules: CaseRules = DEFAULT_CASE_RULES,
    customer_value: int | float | Decimal | Money | None = None,
    at: datetime | None = None,
    *,
    case_id: str | None = None,
) -> Outcome[Case] | None:
    """Open a case for ``feedback`` if a rule matches; ``None`` otherwise.

    The case opens at ``at`` (default: when the feedback was given; it may
    not be earlier), with id ``case_id`` (default ``"case-" + feedback.id``,
    so reprocessing the same feedback yields the same case), the priority
    from the matched severity and ``customer_value``, the names of the
    matched rules, and the matched team (an ``assign`` change) if any.

    Examples:
        >>> from datetime import UTC, datetime
        >>> f = Feedback(id="f1", customer_id="c1", channel="email", kind="complaint",
        ...              text="I want a refund", at=datetime(2026, 3, 2, tzinfo=UTC))
        >>> case = open_case_for(f, customer_value=20000).value
        >>> case.id, case.priority, case.rules
        ('case-f1', <Priority.URGENT: 4>, ('alarm_keyword',))
    """
    if not isinstance(feedback, Feedback):
        raise ValidationError("feedback", feedback, "must be a Feedback")
    if not isinstance(rules, CaseRules):
        raise ValidationError("rules", rules, "must be CaseRules")
    opened_at = feedback.at if at is None else to_utc(at, "at")
    if opened_at < feedback.at:
        raise ValidationError("at", at, "a case cannot open before its feedback was given")
    matched = rules.matching(feedback)
    if not matched:
        return None
    severity = max(rule.severity for rule in matched)
    priority = rules.priority.priority(severity, customer_value)
    team = next((rule.team for rule in matched if rule.team is not None), None)
    return Case.open(
        case_id if case_id is not None else f"case-{feedback.id}",
        feedback.customer_id,
        opened_at,
        priority=priority,
        feedback_id=feedback.id,
        rules=[rule.name for rule in matched],
        team=team,
    )
