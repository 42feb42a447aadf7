"""Hypothesis strategies for opportunities: valid deals built by random operations on a pipeline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.money import Money
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.pipeline import DEFAULT_PIPELINE, Pipeline
from crmcore.sales.pipeline_stages import ForecastCategory, PipelineStage, StageRequirement

T0 = datetime(2026, 1, 1, tzinfo=UTC)
"""The earliest creation time of a generated opportunity."""
HORIZON_DAYS = 240

STRICT = Pipeline(
    id="strict",
    name="Strict pipeline",
    stages=(
        PipelineStage("lead", "Lead", "0.1"),
        PipelineStage("qualified", "Qualified", "0.25", ForecastCategory.PIPELINE),
        PipelineStage(
            "proposal",
            "Proposal",
            "0.5",
            ForecastCategory.BEST_CASE,
            requires=[StageRequirement.ACCOUNT],
        ),
        PipelineStage("verbal", "Verbal yes", "0.85", ForecastCategory.COMMIT),
        PipelineStage("parked", "Parked", "0.05", ForecastCategory.OMITTED),
        PipelineStage.won("won", "Won"),
        PipelineStage.won("won_partner", "Won via partner"),
        PipelineStage.lost("lost", "Lost"),
        PipelineStage.lost("no_decision", "No decision"),
    ),
    allow_backward=False,
    allow_skip=False,
    allow_reopen=True,
)
"""A second pipeline: sequential, no moving back, two won and two lost stages, an omitted stage."""

OWNERS = ("ann", "bob", "cy")
SOURCES = (None, "web", "referral", "event")
SEGMENTS = (None, "smb", "enterprise")
ACCOUNTS = (None, "acme", "globex", "initech")

minutes = st.integers(0, 14 * 24 * 60).map(lambda m: timedelta(minutes=m))


@st.composite
def opportunity(
    draw: st.DrawFn, number: int, pipeline: Pipeline = DEFAULT_PIPELINE, currency: str = "EUR"
) -> Opportunity:
    """One opportunity: opened at a random time in a random open stage, then up to 8 random
    operations (refused ones are skipped, as a user's refused clicks)."""
    at = T0 + timedelta(minutes=draw(st.integers(0, HORIZON_DAYS * 24 * 60)))
    stages = [s.key for s in pipeline.open_stages]
    amount = Money.of_minor(draw(st.integers(0, 2_000_000)), currency)
    close = at.date() + timedelta(days=draw(st.integers(0, 150)))
    chance = draw(st.none() | st.integers(0, 100).map(lambda p: f"{p / 100}"))
    try:
        deal = Opportunity.open(
            f"o{number}",
            pipeline,
            owner=draw(st.sampled_from(OWNERS)),
            amount=amount,
            close_date=close,
            at=at,
            stage=draw(st.sampled_from(stages)),
            account_id=draw(st.sampled_from(ACCOUNTS)),
            customer_id=draw(st.sampled_from((None, f"c{number}"))),
            source=draw(st.sampled_from(SOURCES)),
            segment=draw(st.sampled_from(SEGMENTS)),
            probability=chance,
        ).value
    except ValidationError:  # the chosen stage's requirements were not met: open in the first
        deal = Opportunity.open(
            f"o{number}", pipeline, owner="ann", amount=amount, close_date=close, at=at
        ).value
    for _ in range(draw(st.integers(0, 8))):
        at = at + draw(minutes)
        op = draw(st.sampled_from(["move", "move", "win", "lose", "reopen", "amount", "date"]))
        try:
            if op == "move":
                deal = deal.move_to(
                    draw(st.sampled_from(pipeline.keys)), at, pipeline, reason="price"
                ).value
            elif op == "win":
                deal = deal.win(at, pipeline).value
            elif op == "lose":
                deal = deal.lose(
                    at, pipeline, reason=draw(st.sampled_from(["price", "timing"]))
                ).value
            elif op == "reopen":
                deal = deal.reopen(at, pipeline).value
            elif op == "amount":
                new = Money.of_minor(draw(st.integers(0, 2_000_000)), currency)
                deal = deal.change_amount(new, at).value
            else:
                shift = draw(st.integers(-60, 90))
                day = max(deal.close_date + timedelta(days=shift), deal.created_at.date())
                deal = deal.change_close_date(day, at).value
        except (IllegalTransitionError, ValidationError):
            continue
    return deal


@st.composite
def opportunities(
    draw: st.DrawFn,
    pipeline: Pipeline = DEFAULT_PIPELINE,
    max_size: int = 25,
    currency: str = "EUR",
) -> list[Opportunity]:
    """A list of distinct opportunities of ``pipeline``."""
    n = draw(st.integers(0, max_size))
    return [draw(opportunity(i, pipeline, currency)) for i in range(n)]


times = st.integers(-10, HORIZON_DAYS + 160).map(lambda d: T0 + timedelta(days=d, hours=7))
"""Instants around the generated opportunities' lives (before, during and after)."""
pipelines = st.sampled_from([DEFAULT_PIPELINE, STRICT])


def day(value: datetime) -> date:
    """The UTC date of an instant."""
    return value.astimezone(UTC).date()
