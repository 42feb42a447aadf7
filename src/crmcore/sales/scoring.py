"""Rule-based lead scoring: fit plus engagement points, banded, thresholded and explained.

A [`LeadScoring`][crmcore.sales.scoring.LeadScoring] is a definition (data, stored as JSON like a
segment rule): [`FitRule`][crmcore.sales.scoring_rules.FitRule] s and
[`EngagementRule`][crmcore.sales.scoring_rules.EngagementRule] s with their points, optional caps
per rule and per dimension, an optional floor and ceiling of the total, score bands and the
marketing-qualified (MQL) and sales-qualified (SQL) thresholds.
[`LeadScoring.score()`][crmcore.sales.scoring.LeadScoring.score] scores one lead (a
[`Lead`][crmcore.sales.leads.Lead], a [`Customer`][crmcore.customers.customer.Customer] or a flat
record, with its events) and returns a [`LeadScore`][crmcore.sales.scoring.LeadScore]: the
score **and its explanation**, the points each rule gave. The batch path,
[`score_frame()`][crmcore.sales.scoring_batch.score_frame], scores a whole
[`CustomerFrame`][crmcore.columnar.frame.CustomerFrame] with its
[`EventLog`][crmcore.columnar.frame.EventLog] and gives the same numbers, bit for bit.

How a score is computed (both paths, in this order):

1. **fit** = the sum, in rule order, of each fit rule's signed points where its rule matches
   (segment semantics: [`matches()`][crmcore.segments.evaluate.matches]), then capped at
   ``fit_cap``;
2. per engagement rule, the weights of the lead's events of its kinds in its window are summed in
   (kind, time) order, whatever order the events come in; times the points, capped at the rule's
   ``cap``, signed; **engagement** = the sum of these in rule order, capped at
   ``engagement_cap``;
3. **total** = fit + engagement, clipped to ``[floor, ceiling]``; the band and the MQL/SQL flags
   follow from it.

Fit rules see the lead's record ([`lead_record()`][crmcore.sales.lead_columns.lead_record]) under
the standard customer schema plus the ``attributes`` the scoring declares (``{"attr.industry":
"string"}``); every rule is type-checked against that schema when the scoring is built.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> from crmcore.sales.scoring_rules import Decay, EngagementRule, FitRule, Threshold
    >>> scoring = LeadScoring(
    ...     fit=[FitRule("software", 'attr.industry = "software"', 20),
    ...          FitRule("german", 'country = "DE"', 10)],
    ...     engagement=[EngagementRule(name="pricing", kinds="pricing_view", points=5, cap=15,
    ...                                window_days=30, decay=Decay(7))],
    ...     attributes={"attr.industry": "string"},
    ...     mql=Threshold(25),
    ... )
    >>> at = datetime(2026, 3, 2, tzinfo=UTC)
    >>> record = {"id": "l-1", "country": "DE", "attr.industry": "software"}
    >>> views = [{"customer_id": "l-1", "at": at - timedelta(days=d), "kind": "pricing_view"}
    ...          for d in (0, 7, 14)]
    >>> score = scoring.score(record, at, events=views)
    >>> score.fit, score.engagement, score.total, score.band, score.mql
    (30.0, 8.75, 38.75, 'D', True)
    >>> print(score.explain())
    l-1: 38.75 points (band D, MQL) as of 2026-03-02
      fit 30 = software +20, german +10
      engagement 8.75 = pricing +8.75 (3 events)
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs
import numpy as np

from crmcore.columnar import customer_record
from crmcore.customers.customer import Customer
from crmcore.customers.records import Interaction
from crmcore.kernel.clock import from_micros, to_micros, to_utc
from crmcore.kernel.errors import RuleTypeError, ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.reports import html_table, records_frame
from crmcore.kernel.validators import instance_of, instances_of, integer, items_of, number
from crmcore.sales.lead_columns import lead_record
from crmcore.sales.leads import Lead
from crmcore.sales.scoring_rules import EngagementRule, FitRule, ScoreBands, Threshold
from crmcore.segments.evaluate import matches
from crmcore.segments.rules import FieldType, RuleSchema
from crmcore.segments.typecheck import check_rule

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["JSON_VERSION", "Contribution", "LeadScore", "LeadScoring", "event_rows"]

JSON_VERSION: Final = 1
"""The version of the scoring definition's JSON form."""
_FIELD_TYPES: Final = ("string", "number", "bool", "datetime", "date")


@attrs.frozen
class Contribution:
    """What one rule gave a lead: its signed points (after the rule's cap) and why.

    ``dimension`` is ``"fit"`` or ``"engagement"``; ``matched`` whether a fit rule matched (for
    an engagement rule: whether any event counted); ``events`` how many events counted (0 for a
    fit rule); ``capped`` whether the rule's cap cut the points.
    """

    rule: str
    dimension: Literal["fit", "engagement"]
    points: float
    matched: bool
    events: int = 0
    capped: bool = False


@attrs.frozen(kw_only=True)
class LeadScore:
    """One lead's score as of ``as_of``, with the points each rule gave (``contributions``).

    ``fit`` and ``engagement`` are after their dimension caps (``fit_uncapped`` and
    ``engagement_uncapped`` before), ``total`` after the floor and ceiling.
    """

    lead_id: str
    as_of: datetime
    fit: float
    engagement: float
    total: float
    band: str
    mql: bool
    sql: bool
    contributions: tuple[Contribution, ...]
    fit_uncapped: float
    engagement_uncapped: float

    def points_of(self, rule: str) -> float:
        """The points rule ``rule`` gave."""
        instance_of(rule, str, "rule", "a rule name")
        for c in self.contributions:
            if c.rule == rule:
                return c.points
        raise ValidationError("rule", rule, "is not a rule of this scoring")

    def explain(self) -> str:
        """The score in words: the total, band and flags, then the rules that gave points."""
        flags = ", ".join(f for f, on in (("MQL", self.mql), ("SQL", self.sql)) if on)
        lines = [
            f"{self.lead_id}: {_num(self.total)} points (band {self.band}"
            f"{', ' + flags if flags else ''}) as of {self.as_of.date().isoformat()}"
        ]
        for dimension, value, uncapped in (
            ("fit", self.fit, self.fit_uncapped),
            ("engagement", self.engagement, self.engagement_uncapped),
        ):
            parts = [
                f"{c.rule} {'+' if c.points >= 0 else '-'}{_num(abs(c.points))}"
                + (
                    f" ({c.events} event{'' if c.events == 1 else 's'})"
                    if dimension == "engagement"
                    else ""
                )
                + (" (capped)" if c.capped else "")
                for c in self.contributions
                if c.dimension == dimension and c.points != 0
            ]
            cap = f" (capped from {_num(uncapped)})" if uncapped != value else ""
            lines.append(f"  {dimension} {_num(value)}{cap} = {', '.join(parts) or 'nothing'}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """The score and its explanation as JSON data."""
        return {
            "lead_id": self.lead_id,
            "as_of": self.as_of.isoformat(),
            "fit": self.fit,
            "engagement": self.engagement,
            "total": self.total,
            "band": self.band,
            "mql": self.mql,
            "sql": self.sql,
            "fit_uncapped": self.fit_uncapped,
            "engagement_uncapped": self.engagement_uncapped,
            "contributions": [attrs.asdict(c) for c in self.contributions],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per rule: the fields of [`Contribution`][crmcore.sales.scoring.Contribution]
        (``rule``, ``dimension``, ``points``, ``matched``, ``events``, ``capped``); the totals
        are in ``to_dict()``."""
        columns = [f.name for f in attrs.fields(Contribution)]
        rows = [attrs.asdict(c) for c in self.contributions]
        return records_frame(rows, "LeadScore.to_pandas", columns)

    def _repr_html_(self) -> str:
        rows = [(c.rule, c.dimension, c.points, c.events, c.capped) for c in self.contributions]
        return html_table(
            f"{self.lead_id}: {_num(self.total)} points, band {self.band}",
            ["rule", "dimension", "points", "events", "capped"],
            rows,
            kinds=["auto", "auto", "float", "int", "auto"],
            caption=f"fit {_num(self.fit)}, engagement {_num(self.engagement)}; "
            f"MQL {self.mql}, SQL {self.sql}",
        )


def _num(value: float) -> str:
    return f"{value:g}" if value == round(value, 6) else f"{value:.4g}"


def _fit_rules(values: object) -> tuple[FitRule, ...]:
    return _typed(values, FitRule, "fit")


def _engagement_rules(values: object) -> tuple[EngagementRule, ...]:
    return _typed(values, EngagementRule, "engagement")


def _typed(values: object, kind: type[Any], field: str) -> tuple[Any, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValidationError(field, values, f"must be a sequence of {kind.__name__}")
    out = tuple(values)
    for i, item in enumerate(out):
        if not isinstance(item, kind):
            raise ValidationError(f"{field}[{i}]", item, f"must be a {kind.__name__}")
    return out


def _number(value: object, field: str, *, positive: bool) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(field, value, "must be a finite number or None")
    if positive and value <= 0:
        raise ValidationError(field, value, "must be greater than 0")
    return float(value)


def _fit_cap(value: object) -> float | None:
    return _number(value, "fit_cap", positive=True)


def _engagement_cap(value: object) -> float | None:
    return _number(value, "engagement_cap", positive=True)


def _floor(value: object) -> float | None:
    return _number(value, "floor", positive=False)


def _ceiling(value: object) -> float | None:
    return _number(value, "ceiling", positive=False)


def _attributes(value: object) -> FrozenDict[str, FieldType]:
    if not isinstance(value, Mapping):
        raise ValidationError("attributes", value, "must map attr.<name> to a field type")
    out: dict[str, FieldType] = {}
    for name, tp in value.items():
        if not isinstance(name, str) or not name.startswith("attr.") or len(name) <= 5:
            raise ValidationError("attributes", name, "names must be attr.<name>")
        if tp not in _FIELD_TYPES:
            raise ValidationError(f"attributes.{name}", tp, f"must be one of {_FIELD_TYPES}")
        out[name] = tp
    return FrozenDict(out)


def _optional(kind: type[Any], field: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, kind):
            raise ValidationError(field, value, f"must be a {kind.__name__} or None")

    return check


def _bands(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, ScoreBands):
        raise ValidationError("bands", value, "must be ScoreBands")


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise ValidationError("name", value, "must be a non-empty string of at most 100 characters")
    return value


@attrs.frozen(kw_only=True)
class LeadScoring:
    """A lead scoring definition (see the module docs for how a score is computed)."""

    name: str = attrs.field(default="lead_score", converter=_name)
    fit: tuple[FitRule, ...] = attrs.field(default=(), converter=_fit_rules)
    engagement: tuple[EngagementRule, ...] = attrs.field(default=(), converter=_engagement_rules)
    fit_cap: float | None = attrs.field(default=None, converter=_fit_cap)
    engagement_cap: float | None = attrs.field(default=None, converter=_engagement_cap)
    floor: float | None = attrs.field(default=None, converter=_floor)
    ceiling: float | None = attrs.field(default=None, converter=_ceiling)
    bands: ScoreBands = attrs.field(factory=ScoreBands.letters, validator=_bands)
    mql: Threshold | None = attrs.field(default=None, validator=_optional(Threshold, "mql"))
    sql: Threshold | None = attrs.field(default=None, validator=_optional(Threshold, "sql"))
    attributes: FrozenDict[str, FieldType] = attrs.field(factory=FrozenDict, converter=_attributes)

    def __attrs_post_init__(self) -> None:
        if not self.fit and not self.engagement:
            raise ValidationError("fit", (), "a scoring needs at least one rule")
        names = [r.name for r in self.fit] + [r.name for r in self.engagement]
        for name in names:
            if names.count(name) > 1:
                raise ValidationError("name", name, "rule names must be unique")
        if self.floor is not None and self.ceiling is not None and self.floor >= self.ceiling:
            raise ValidationError("floor", self.floor, f"must be below the ceiling {self.ceiling}")
        schema = self.schema
        for rule in self.fit:
            try:
                check_rule(rule.rule, schema)
            except RuleTypeError as error:
                raise RuleTypeError(f"fit rule {rule.name!r}: {error.message}") from None

    @property
    def schema(self) -> RuleSchema:
        """The schema fit rules are checked and evaluated against."""
        base = RuleSchema.default()
        return base.with_attributes(self.attributes) if self.attributes else base

    @property
    def rule_names(self) -> tuple[str, ...]:
        """Every rule's name: the fit rules, then the engagement rules."""
        return tuple(r.name for r in self.fit) + tuple(r.name for r in self.engagement)

    # -- one lead --------------------------------------------------------------------------------
    def score(
        self,
        lead: Lead | Customer | Mapping[str, object],
        as_of: datetime,
        *,
        events: Iterable[Interaction | Mapping[str, object]] = (),
        purchases: Iterable[Any] = (),
    ) -> LeadScore:
        """Score one lead as of ``as_of`` from its record and its ``events``.

        ``events`` are [`Interaction`][crmcore.customers.records.Interaction] s or event-log
        records (``customer_id``, ``at``, ``kind``), in any order; rows of other ids are
        ignored.
        """
        if isinstance(lead, Lead):
            record: Mapping[str, object] = lead_record(lead)
        elif isinstance(lead, Customer):
            record = customer_record(lead)
        elif isinstance(lead, Mapping):
            record = lead
        else:
            raise ValidationError("lead", lead, "must be a Lead, a Customer or a record")
        at = to_utc(as_of, "as_of")
        if not isinstance(record.get("id"), str):
            raise ValidationError("lead", record.get("id"), "needs an id (the record's 'id')")
        lead_id = str(record["id"])
        rows = event_rows(events, lead_id)
        event_records = [{"at": from_micros(t), "kind": kind} for t, kind in rows]
        purchase_rows = list(items_of(purchases, "purchases", "purchases"))
        fit_parts: list[Contribution] = []
        fit_total = 0.0
        for rule in self.fit:
            hit = matches(
                rule.rule,
                record,
                at,
                purchases=purchase_rows,
                events=event_records,
                schema=self.schema,
            )
            points = rule.signed_points if hit else 0.0
            fit_total += points
            fit_parts.append(Contribution(rule.name, "fit", points, hit))
        end = to_micros(at)
        engaged: list[Contribution] = []
        engagement_total = 0.0
        for engagement_rule in self.engagement:
            part = _engagement(engagement_rule, rows, end)
            engagement_total += part.points
            engaged.append(part)
        return self.finish(lead_id, at, fit_total, engagement_total, (*fit_parts, *engaged))

    def finish(
        self,
        lead_id: str,
        as_of: datetime,
        fit_total: float,
        engagement_total: float,
        contributions: Sequence[Contribution],
    ) -> LeadScore:
        """Caps, floor, ceiling, band and flags of one lead's summed points (both paths)."""
        fit_total = number(fit_total, "fit_total")
        engagement_total = number(engagement_total, "engagement_total")
        contributions = instances_of(contributions, Contribution, "contributions")
        fit = fit_total if self.fit_cap is None else min(fit_total, self.fit_cap)
        engagement = engagement_total
        if self.engagement_cap is not None:
            engagement = min(engagement, self.engagement_cap)
        total = fit + engagement
        if self.floor is not None:
            total = max(total, self.floor)
        if self.ceiling is not None:
            total = min(total, self.ceiling)
        return LeadScore(
            lead_id=lead_id,
            as_of=as_of,
            fit=fit,
            engagement=engagement,
            total=total,
            band=self.bands.label_of(total),
            mql=self.mql is not None and self.mql.met(fit, engagement, total),
            sql=self.sql is not None and self.sql.met(fit, engagement, total),
            contributions=tuple(contributions),
            fit_uncapped=fit_total,
            engagement_uncapped=engagement_total,
        )

    # -- JSON ------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, object]:
        """The definition as versioned JSON data (fit rules in the segment rules' JSON form)."""
        return {
            "version": JSON_VERSION,
            "name": self.name,
            "fit": [r.to_json() for r in self.fit],
            "engagement": [r.to_json() for r in self.engagement],
            "fit_cap": self.fit_cap,
            "engagement_cap": self.engagement_cap,
            "floor": self.floor,
            "ceiling": self.ceiling,
            "bands": self.bands.to_json(),
            "mql": None if self.mql is None else self.mql.to_json(),
            "sql": None if self.sql is None else self.sql.to_json(),
            "attributes": dict(self.attributes),
        }

    def to_json_text(self, *, indent: int | None = 2) -> str:
        """[`to_json()`][crmcore.sales.scoring.LeadScoring.to_json] as text."""
        if indent is not None:
            indent = integer(indent, "indent", low=0, high=16)
        return json.dumps(self.to_json(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: object) -> LeadScoring:
        """A definition from [`to_json()`][crmcore.sales.scoring.LeadScoring.to_json] data.

        Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the path of a
        bad value (``"engagement[1].window_days"``), and the rule errors of a bad rule.
        """
        if not isinstance(data, Mapping):
            raise ValidationError("scoring", data, "must be a JSON object")
        if data.get("version") != JSON_VERSION:
            raise ValidationError("version", data.get("version"), f"must be {JSON_VERSION}")
        try:
            fit = [_at(f"fit[{i}]", FitRule.from_json, r) for i, r in enumerate(data["fit"])]
            engagement = [
                _at(f"engagement[{i}]", EngagementRule.from_json, r)
                for i, r in enumerate(data["engagement"])
            ]
            return cls(
                name=data["name"],
                fit=fit,
                engagement=engagement,
                fit_cap=data.get("fit_cap"),
                engagement_cap=data.get("engagement_cap"),
                floor=data.get("floor"),
                ceiling=data.get("ceiling"),
                bands=_at("bands", ScoreBands.from_json, data["bands"]),
                mql=_threshold(data.get("mql"), "mql"),
                sql=_threshold(data.get("sql"), "sql"),
                attributes=data.get("attributes", {}),
            )
        except KeyError as error:
            raise ValidationError(str(error.args[0]), None, "is required") from None
        except (TypeError, AttributeError) as error:
            raise ValidationError("scoring", data, f"is malformed: {error}") from None

    @classmethod
    def from_json_text(cls, text: str) -> LeadScoring:
        """A definition from [`to_json_text()`][crmcore.sales.scoring.LeadScoring.to_json_text]."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as error:
            raise ValidationError("scoring", text, f"is not JSON: {error}") from None
        return cls.from_json(data)


def _at(path: str, build: Any, data: Any) -> Any:
    try:
        if not isinstance(data, Mapping) and path != "bands":
            raise ValidationError(path, data, "must be a JSON object")
        return build(data)
    except ValidationError as error:
        raise ValidationError(f"{path}.{error.field}", error.value, error.reason) from None
    except KeyError as error:
        raise ValidationError(f"{path}.{error.args[0]}", None, "is required") from None


def _threshold(data: object, path: str) -> Threshold | None:
    if data is None:
        return None
    return _at(  # type: ignore[no-any-return]
        path, lambda d: Threshold(d["total"], d.get("fit"), d.get("engagement")), data
    )


def event_rows(
    events: Iterable[Interaction | Mapping[str, object]], lead_id: str
) -> list[tuple[int, str]]:
    """``(at in µs, kind)`` of ``lead_id``'s events, in the given order (others' rows dropped)."""
    if isinstance(events, str | Mapping) or not isinstance(events, Iterable):
        raise ValidationError("events", events, "must be an iterable of events")
    out: list[tuple[int, str]] = []
    for row in events:
        if isinstance(row, Interaction):
            if row.customer_id == lead_id:
                out.append((to_micros(row.at), row.kind))
            continue
        if not isinstance(row, Mapping):
            raise ValidationError("events", row, "must be an Interaction or an event record")
        if row.get("customer_id", lead_id) != lead_id:
            continue
        at, kind = row.get("at"), row.get("kind")
        if not isinstance(at, datetime) or not isinstance(kind, str):
            raise ValidationError("events", row, "needs an aware datetime 'at' and a str 'kind'")
        out.append((to_micros(at), kind))
    return out


def _engagement(rule: EngagementRule, rows: Sequence[tuple[int, str]], end: int) -> Contribution:
    """One engagement rule on one lead's events (the per-object path of the batch kernel)."""
    window = rule.window_us
    picked = [
        (kind, at)
        for at, kind in rows
        if kind in rule.kinds and at <= end and (window is None or end - at < window)
    ]
    picked.sort()  # (kind, time), stable: the batch path's order, so the sums are identical
    if rule.decay is None:
        weights = [1.0] * len(picked)
    else:
        ages = np.array([end - at for _, at in picked], dtype=np.int64)
        weights = rule.decay.weights(ages).tolist()
    raw = 0.0
    for w in weights:
        raw += w
    points = rule.points * raw
    capped = rule.cap is not None and points > rule.cap
    if rule.cap is not None:
        points = min(points, rule.cap)
    return Contribution(
        rule.name,
        "engagement",
        -points if rule.penalty else points,
        bool(picked),
        len(picked),
        capped,
    )
