"""Journey map: touchpoints per funnel stage, the experience at each, pain points ranked.

DOMAIN.md §7 (seeds 000, 003): identify the key touchpoints of each stage,
measure the experience at each by feedback and satisfaction, find the pain
points. [`Touchpoint`][crmcore.journey.Touchpoint] and [`JourneyMap`][crmcore.journey.JourneyMap]
are the definition; [`journey_report()`][crmcore.journey.journey_report] measures it over an
[`EventLog`][crmcore.columnar.EventLog] plus [`TouchpointScores`][crmcore.journey.TouchpointScores]
and returns a [`JourneyReport`][crmcore.journey.JourneyReport]; `reference_journey_report()` is the
same computation over objects, one at a time.
"""

from crmcore.journey._reference import reference_journey_report
from crmcore.journey.analysis import journey_report
from crmcore.journey.journey_map import JourneyMap
from crmcore.journey.report import JourneyReport, PainWeights, TouchpointRow
from crmcore.journey.scores import Scale, TouchpointScore, TouchpointScores
from crmcore.journey.touchpoint import Touchpoint

__all__ = [
    "JourneyMap",
    "JourneyReport",
    "PainWeights",
    "Scale",
    "Touchpoint",
    "TouchpointRow",
    "TouchpointScore",
    "TouchpointScores",
    "journey_report",
    "reference_journey_report",
]
