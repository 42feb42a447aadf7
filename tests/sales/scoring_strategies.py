"""Hypothesis strategies for lead scoring: definitions, leads as records, and their events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from crmcore.sales.scoring import LeadScoring
from crmcore.sales.scoring_rules import Decay, EngagementRule, FitRule, ScoreBands, Threshold

AS_OF = datetime(2026, 3, 2, 12, tzinfo=UTC)
KINDS = ("demo", "download", "open", "pricing", "view")
ATTRIBUTES = {"attr.industry": "string", "attr.employees": "number"}
RULES = (
    'country = "DE"',
    'country in ("DE", "FR") and attr.employees >= 50',
    'attr.industry = "software"',
    "attr.employees between 10 and 200",
    "email is null",
    'not (attr.industry = "student")',
    "created_at within 30 days",
    'did "demo" within 14 days',
    'count(events "view" in last 7 days) >= 2',
)
points = st.one_of(st.integers(0, 40).map(float), st.floats(0, 40, allow_nan=False))


@st.composite
def fit_rules(draw: st.DrawFn, name: str) -> FitRule:
    return FitRule(name, draw(st.sampled_from(RULES)), draw(points), penalty=draw(st.booleans()))


@st.composite
def engagement_rules(draw: st.DrawFn, name: str, allow_penalty: bool = True) -> EngagementRule:
    decay = draw(
        st.none() | st.builds(Decay, st.floats(0.5, 60), st.sampled_from(["continuous", "step"]))
    )
    return EngagementRule(
        name=name,
        kinds=draw(st.sets(st.sampled_from(KINDS), min_size=1, max_size=3)),
        points=draw(points),
        penalty=allow_penalty and draw(st.booleans()),
        cap=draw(st.none() | st.floats(0.5, 50)),
        window_days=draw(st.none() | st.floats(0.5, 90)),
        decay=decay,
    )


@st.composite
def scorings(draw: st.DrawFn, penalties: bool = True) -> LeadScoring:
    n_fit = draw(st.integers(0, 4))
    n_engagement = draw(st.integers(0 if n_fit else 1, 4))
    fit = [draw(fit_rules(f"fit_{i}")) for i in range(n_fit)]
    if not penalties:
        fit = [FitRule(r.name, r.rule, r.points) for r in fit]
    engagement = [draw(engagement_rules(f"eng_{i}", penalties)) for i in range(n_engagement)]
    floor = draw(st.none() | st.just(0.0)) if penalties else None
    return LeadScoring(
        fit=fit,
        engagement=engagement,
        fit_cap=draw(st.none() | st.floats(1, 80)),
        engagement_cap=draw(st.none() | st.floats(1, 80)),
        floor=floor,
        ceiling=draw(st.none() | st.floats(50, 200)),
        bands=ScoreBands.letters(60, 30, 10),
        mql=draw(st.none() | st.builds(Threshold, st.floats(0, 60), st.none() | st.floats(0, 30))),
        sql=draw(st.none() | st.builds(Threshold, st.floats(0, 90))),
        attributes=ATTRIBUTES,
    )


def record(
    lead_id: str,
    country: str | None,
    industry: str | None,
    employees: int | None,
    email: bool,
    age_days: float,
) -> dict[str, object]:
    """A lead as a flat record with every required customer column."""
    return {
        "id": lead_id,
        "name": "",
        "email": f"{lead_id}@example.com" if email else None,
        "created_at": AS_OF - timedelta(days=age_days),
        "country": country,
        "purchase_count": 0,
        "items_purchased": 0,
        "total_spent": 0.0,
        "interaction_count": 0,
        "service_count": 0,
        **{f"consent_{c}": False for c in ("email", "sms", "phone", "post", "push", "messaging")},
        "erased": False,
        "attr.industry": industry,
        "attr.employees": employees,
    }


@st.composite
def records(draw: st.DrawFn, lead_id: str) -> dict[str, object]:
    return record(
        lead_id,
        draw(st.none() | st.sampled_from(["DE", "FR", "US"])),
        draw(st.none() | st.sampled_from(["software", "retail", "student"])),
        draw(st.none() | st.integers(0, 500)),
        draw(st.booleans()),
        draw(st.floats(0, 100)),
    )


@st.composite
def leads_and_events(
    draw: st.DrawFn, max_leads: int = 6, max_events: int = 25
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Lead records (distinct ids) and events of them (and of unknown ids), some after AS_OF."""
    n = draw(st.integers(1, max_leads))
    leads = [draw(records(f"l-{i}")) for i in range(n)]
    # times on a coarse grid, so events share instants (equal weights, any order)
    events = draw(
        st.lists(
            st.builds(
                lambda who, minutes, kind: {
                    "customer_id": who,
                    "at": AS_OF - timedelta(minutes=minutes),
                    "kind": kind,
                },
                st.sampled_from([f"l-{i}" for i in range(n)] + ["stranger"]),
                st.integers(-3 * 24 * 60, 120 * 24 * 60).map(lambda m: m - m % 30),
                st.sampled_from(KINDS),
            ),
            max_size=max_events,
        )
    )
    return leads, events
