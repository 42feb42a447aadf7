"""Example tests of funnel analytics: the peers' fixtures, each rule, reports and errors.

Every fixture runs through both the vectorised path (an EventLog) and the
per-customer reference path (tuples), which must agree.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from crmcore.columnar import STRING_DTYPE, Column, CustomerFrame, EventLog
from crmcore.customers.customer import Customer
from crmcore.customers.profile import Geography
from crmcore.funnel import FunnelPosition, Stage
from crmcore.funnel._engine import _chain
from crmcore.funnel._paths import WindowAxis, pair_keys, radix_argsort
from crmcore.funnel.analytics import (
    DEFAULT_WINDOW,
    Exclusion,
    FunnelBreakdown,
    FunnelReport,
    funnel_breakdown,
    funnel_customers,
    funnel_report,
    funnel_report_from_positions,
    funnel_report_python,
)
from crmcore.kernel.errors import ValidationError

T = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # a Monday, 1pm
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)

Event = tuple[str, str | Stage | tuple[str, Stage], datetime]


def log_of(events: list[Event]) -> EventLog:
    records = []
    for customer, what, at in events:
        if isinstance(what, tuple):
            kind, stage = what[0], what[1].label
        elif isinstance(what, Stage):
            kind, stage = "stage_entered", what.label
        else:
            kind, stage = what, None
        records.append({"customer_id": customer, "kind": kind, "stage": stage, "at": at})
    return EventLog.from_records(records)


def both(events: list[Event], steps: list[str | Stage], **kw: object) -> FunnelReport:
    """The report from both paths, after checking they agree."""
    fast = funnel_report(log_of(events), steps, allow_unseen_kinds=True, **kw)  # type: ignore[arg-type]
    window = kw.pop("window", DEFAULT_WINDOW)
    mode = kw.pop("mode", "ordered")
    python = funnel_report_python(
        [(c, w if not isinstance(w, Stage) else ("stage_entered", w), t) for c, w, t in events],
        steps, window, mode, allow_unseen_kinds=True, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    assert fast.counts == python.counts and fast.excluded == python.excluded
    assert [s.time for s in fast.steps] == [s.time for s in python.steps]
    return fast


def at(*minutes: float) -> list[datetime]:
    return [T + m * MIN for m in minutes]


# -- the peers' fixtures ------------------------------------------------------------------


def test_mixpanel_window_is_not_reset_by_a_repeated_first_step() -> None:
    """Mixpanel: A 1pm, A 1:30, B 1:45, C 2:15, one-hour window: converts to B, not C."""
    a1, a2, b, c = at(0, 30, 45, 75)
    events: list[Event] = [("u", "A", a1), ("u", "A", a2), ("u", "B", b), ("u", "C", c)]
    report = both(events, ["A", "B", "C"], window=HOUR)
    assert report.counts == (1, 1, 0)
    # The window runs from the first A: 1:45 - 1:00 for B.
    assert report.steps[1].time is not None and report.steps[1].time.median == 45 * 60
    # PostHog would re-anchor on the 1:30 A and count C; a 75-minute window counts it here.
    assert both(events, ["A", "B", "C"], window=75 * MIN).counts == (1, 1, 1)


def test_window_is_inclusive_and_a_new_trial_starts_strictly_after_it() -> None:
    exact: list[Event] = [("u", "A", T), ("u", "B", T + HOUR)]
    assert both(exact, ["A", "B"], window=HOUR).counts == (1, 1)  # PostHog's `<=`
    late: list[Event] = [("u", "A", T), ("u", "B", T + HOUR + timedelta(microseconds=1))]
    assert both(late, ["A", "B"], window=HOUR).counts == (1, 0)
    # An A exactly at the window's end belongs to the first trial, so B is 2h after entry.
    edge: list[Event] = [("u", "A", T), ("u", "A", T + HOUR), ("u", "B", T + 2 * HOUR)]
    assert both(edge, ["A", "B"], window=HOUR).counts == (1, 0)
    after: list[Event] = [("u", "A", T), ("u", "A", T + 61 * MIN), ("u", "B", T + 2 * HOUR)]
    assert both(after, ["A", "B"], window=HOUR).counts == (1, 1)


def test_re_entry_after_the_window_closed_and_the_furthest_trial_counts() -> None:
    events: list[Event] = [
        ("u", "A", T), ("u", "B", T + 10 * MIN),  # trial 1 reaches B
        ("u", "A", T + 3 * HOUR), ("u", "B", T + 3 * HOUR + MIN),
        ("u", "C", T + 3 * HOUR + 2 * MIN),
    ]  # fmt: skip
    report = both(events, ["A", "B", "C"], window=HOUR)
    assert report.counts == (1, 1, 1)
    who = funnel_customers(log_of(events), ["A", "B", "C"], window=HOUR)
    assert who.entered_at.tolist() == [(T + 3 * HOUR).replace(tzinfo=None)]
    # Ties go to the earliest trial: with C gone both trials reach B, and the first wins.
    two = both(events[:-1], ["A", "B", "C"], window=HOUR)
    assert two.counts == (1, 1, 0)
    assert two.steps[1].time is not None and two.steps[1].time.median == 600


def test_no_window_means_one_trial_from_the_first_step_one_event() -> None:
    events: list[Event] = [("u", "A", T), ("u", "A", T + 400 * HOUR), ("u", "B", T + 900 * HOUR)]
    report = both(events, ["A", "B"], window=None)
    assert report.counts == (1, 1)
    assert report.steps[1].time is not None and report.steps[1].time.median == 900 * 3600


def test_posthog_ordered_strict_and_unordered_on_one_stream() -> None:
    """PostHog's three orders on A, X, B, C (X matches no step)."""
    events: list[Event] = [("u", w, t) for w, t in zip("AXBC", at(0, 1, 2, 3), strict=True)]
    assert both(events, ["A", "B", "C"]).counts == (1, 1, 1)
    assert both(events, ["A", "B", "C"], mode="strict").counts == (1, 0, 0)
    assert both(events, ["C", "B", "A"]).counts == (1, 0, 0)  # C comes last
    assert both(events, ["C", "B", "A"], mode="any").counts == (1, 1, 1)
    no_x: list[Event] = [e for e in events if e[1] != "X"]
    assert both(no_x, ["A", "B", "C"], mode="strict").counts == (1, 1, 1)


def test_strict_other_events_at_the_same_instant_never_interrupt() -> None:
    x_with_b: list[Event] = [("u", "A", T), ("u", "X", T + MIN), ("u", "B", T + MIN)]
    assert both(x_with_b, ["A", "B"], mode="strict").counts == (1, 1)
    x_with_a: list[Event] = [("u", "X", T), ("u", "A", T), ("u", "B", T + MIN)]
    assert both(x_with_a, ["A", "B"], mode="strict").counts == (1, 1)


def test_strict_a_repeat_of_the_current_step_does_not_interrupt() -> None:
    """Like PostHog: a double submit (B, B) keeps the strict path; another step breaks it."""
    repeat: list[Event] = [("u", w, t) for w, t in zip("ABBC", at(0, 1, 2, 3), strict=True)]
    assert both(repeat, ["A", "B", "C"], mode="strict").counts == (1, 1, 1)
    back: list[Event] = [("u", w, t) for w, t in zip("ABAC", at(0, 1, 2, 3), strict=True)]
    assert both(back, ["A", "B", "C"], mode="strict").counts == (1, 1, 0)


def test_strict_re_entry_at_the_interrupting_instant() -> None:
    events: list[Event] = [("u", w, t) for w, t in zip("AXAB", at(0, 1, 2, 3), strict=True)]
    assert both(events, ["A", "B"], mode="strict").counts == (1, 1)
    now: list[Event] = [("u", w, t) for w, t in zip("ACAB", at(0, 1, 1, 2), strict=True)]
    # C interrupts at 1:01, and the A of that same instant starts the next trial.
    assert both(now, ["A", "B"], mode="strict").counts == (1, 1)


def test_same_timestamp_events_are_taken_in_funnel_order() -> None:
    """PostHog's "most generous" rule: a tie never costs a conversion, whatever the log order."""
    events: list[Event] = [("u", "C", T), ("u", "B", T), ("u", "A", T)]
    for mode in ("ordered", "strict", "any"):
        assert both(events, ["A", "B", "C"], mode=mode).counts == (1, 1, 1)
    report = both(events, ["A", "B", "C"])
    assert report.steps[2].time is not None and report.steps[2].time.median == 0
    # One event satisfies one step in order: A, A needs two A events.
    assert both([("u", "A", T)], ["A", "A"]).counts == (1, 0)
    assert both([("u", "A", T), ("u", "A", T)], ["A", "A"]).counts == (1, 1)


def test_any_order_counts_distinct_steps_in_each_trial_window() -> None:
    events: list[Event] = [("u", "B", T), ("u", "A", T + 54 * MIN), ("u", "C", T + 90 * MIN)]
    report = both(events, ["A", "B", "C"], mode="any", window=HOUR)
    # The trial opened by B at 1pm closes at 2pm: B and A. C opens the next trial alone.
    assert report.counts == (1, 1, 0)
    assert [s.label for s in report.steps] == ["1 step", "2 steps", "3 steps"]
    assert report.steps[1].step is None
    assert both(events, ["A", "B", "C"], mode="any", window=2 * HOUR).counts == (1, 1, 1)


def test_any_order_one_event_may_satisfy_a_kind_and_a_stage() -> None:
    events: list[Event] = [("u", ("demo_request", Stage.CONSIDERATION), T)]
    assert both(events, ["demo_request", Stage.CONSIDERATION], mode="any").counts == (1, 1)
    assert both(events, ["demo_request", Stage.CONSIDERATION]).counts == (1, 0)


def test_exclusion_inside_the_window_drops_the_customer() -> None:
    """PostHog's exclusion drop: the customer is in no step at all."""
    events: list[Event] = [("u", w, t) for w, t in zip("AXB", at(0, 1, 2), strict=True)]
    events.append(("v", "A", T))
    report = both(events, ["A", "B"], exclusions=[Exclusion("X")])
    assert (report.counts, report.excluded, report.customers) == ((1, 0), 1, 2)
    after_b: list[Event] = [("u", w, t) for w, t in zip("ABX", at(0, 1, 2), strict=True)]
    assert both(after_b, ["A", "B"], exclusions=[Exclusion("X")]).counts == (1, 1)
    # Unconverted: an exclusion counts while the window is open, not after it closed.
    late: list[Event] = [("u", "A", T), ("u", "X", T + 2 * HOUR)]
    assert both(late, ["A", "B"], window=HOUR, exclusions=[Exclusion("X")]).excluded == 0
    assert both(late, ["A", "B"], window=3 * HOUR, exclusions=[Exclusion("X")]).excluded == 1


def test_exclusion_between_chosen_steps_and_re_entry_after_it() -> None:
    events: list[Event] = [("u", w, t) for w, t in zip("AXBC", at(0, 1, 2, 3), strict=True)]
    late = [Exclusion("X", after=2, before=3)]
    assert both(events, ["A", "B", "C"], exclusions=late).counts == (1, 1, 1)
    early = [Exclusion("X", after=1, before=2)]
    assert both(events, ["A", "B", "C"], exclusions=early).excluded == 1
    # Mixpanel's re-entry: the A after the excluding X opens a clean trial.
    again: list[Event] = [("u", w, t) for w, t in zip("AXAB", at(0, 1, 2, 3), strict=True)]
    report = both(again, ["A", "B"], exclusions=[Exclusion("X")])
    assert (report.counts, report.excluded) == ((1, 1), 0)
    # An exclusion at the same instant as a step is not "between" (most generous).
    tie: list[Event] = [("u", "A", T), ("u", "X", T + MIN), ("u", "B", T + MIN)]
    assert both(tie, ["A", "B"], exclusions=[Exclusion("X")]).counts == (1, 1)


def test_time_to_convert_statistics_match_numpy_percentiles() -> None:
    hours = [1, 2, 3, 4, 10]
    events: list[Event] = []
    for i, h in enumerate(hours):
        events += [(f"u{i}", "A", T), (f"u{i}", "B", T + h * HOUR)]
    time = both(events, ["A", "B"]).steps[1].time
    assert time is not None and time.count == 5
    seconds = np.array(hours) * 3600.0
    assert time.mean == pytest.approx(seconds.mean())
    for stat, q in (("p25", 25), ("median", 50), ("p75", 75), ("p90", 90)):
        assert getattr(time, stat) == pytest.approx(np.percentile(seconds, q))
    assert time.timedelta("median") == 3 * HOUR
    assert time.timedelta("p90") == timedelta(hours=7.6)


def test_rates_and_drop_off() -> None:
    events: list[Event] = []
    for i in range(10):
        events.append((f"u{i}", "A", T))
        if i < 4:
            events.append((f"u{i}", "B", T + MIN))
        if i < 1:
            events.append((f"u{i}", "C", T + 2 * MIN))
    report = both(events, ["A", "B", "C"])
    assert report.counts == (10, 4, 1)
    second, third = report.steps[1], report.steps[2]
    assert (second.conversion, second.overall, second.drop_rate) == (0.4, 0.4, 0.6)
    assert second.dropped == 6
    assert (third.conversion, third.overall, third.dropped) == (0.25, 0.1, 3)
    assert report.steps[0].conversion is None and report.steps[0].dropped is None
    assert (report.entered, report.converted, report.conversion) == (10, 1, 0.1)


def test_an_empty_funnel_has_no_rates() -> None:
    report = both([("u", "X", T)], ["A", "B"])
    assert report.counts == (0, 0) and report.conversion is None
    assert report.steps[1].time is not None and report.steps[1].time.median is None
    assert json.loads(json.dumps(report.to_dict()))["conversion"] is None


def test_stage_steps_match_the_stage_column() -> None:
    events: list[Event] = [
        ("u", Stage.AWARENESS, T),
        ("u", ("demo_request", Stage.CONSIDERATION), T + HOUR),
        ("v", ("demo_request", Stage.CONSIDERATION), T),
    ]
    report = both(events, [Stage.AWARENESS, Stage.CONSIDERATION])
    assert report.counts == (1, 1)
    assert both(events, [Stage.AWARENESS, "demo_request"]).counts == (1, 1)
    assert both(events, [Stage.AWARENESS, Stage.ADVOCACY]).counts == (1, 0)  # never an error


# -- input order, sorting, validation --------------------------------------------------------


def test_row_order_never_changes_a_number() -> None:
    rng = random.Random(7)
    events: list[Event] = [
        (f"u{rng.randrange(6)}", rng.choice("ABCX"), T + rng.randrange(30) * MIN) for _ in range(80)
    ]
    expected = funnel_report(log_of(events), ["A", "B", "C"], window=5 * MIN)
    for _ in range(5):
        rng.shuffle(events)
        log = log_of(events)
        assert funnel_report(log, ["A", "B", "C"], window=5 * MIN) == expected
        ordered = log.sort_by_customer_time()
        again = funnel_report(ordered, ["A", "B", "C"], window=5 * MIN, assume_sorted=True)
        assert again == expected


def test_a_time_ordered_log_of_many_customers() -> None:
    """The usual append-only log (time order across customers), with customer codes past 2**16."""
    rng = random.Random(11)
    events: list[Event] = [(f"u{i}", "A", T + (i % 500) * MIN) for i in range(66_000)]
    events += [
        (f"u{65_000 + rng.randrange(1000)}", rng.choice("ABX"), T + rng.randrange(600) * MIN)
        for _ in range(3000)
    ]
    events.sort(key=lambda e: e[2])
    ids = np.array([c for c, _, _ in events], dtype=STRING_DTYPE)
    kinds = sorted({str(w) for _, w, _ in events})
    log = EventLog(
        {
            "customer_id": Column.from_numpy("string", ids),
            "at": Column.from_numpy(
                "datetime",
                np.array([e[2].replace(tzinfo=None) for e in events], dtype="datetime64[us]"),
            ),
            "kind": Column.from_numpy(
                "category", np.array([kinds.index(str(w)) for _, w, _ in events]), categories=kinds
            ),
        }
    )
    assert len(log.customer_ids) == 66_000
    exclusions = [Exclusion("X")]
    for mode in ("ordered", "strict"):
        fast = funnel_report(log, ["A", "B"], window=30 * MIN, mode=mode, exclusions=exclusions)
        python = funnel_report_python(events, ["A", "B"], 30 * MIN, mode, exclusions=exclusions)
        assert (fast.counts, fast.excluded) == (python.counts, python.excluded)
        assert fast.customers == python.customers == 66_000
        assert fast.counts[1] > 0 and fast.excluded > 0
        a, b = fast.steps[1].time, python.steps[1].time
        assert a is not None and b is not None and a.median == b.median
        assert a.mean == pytest.approx(b.mean)


def test_assume_sorted_names_the_first_row_out_of_order() -> None:
    log = log_of([("u", "A", T + MIN), ("u", "B", T), ("v", "A", T)])
    earlier = r"row 1: at.*earlier than the previous event of customer 'u'"
    with pytest.raises(ValidationError, match=earlier):
        funnel_report(log, ["A", "B"], assume_sorted=True)
    split = log_of([("u", "A", T), ("v", "A", T), ("u", "B", T + MIN)])
    with pytest.raises(ValidationError, match=r"row 2: at.*not grouped"):
        funnel_report(split, ["A", "B"], assume_sorted=True)
    grouped = log_of([("v", "A", T), ("u", "A", T), ("u", "B", T + MIN)])  # not in code order
    assert funnel_report(grouped, ["A", "B"], assume_sorted=True).counts == (2, 1)


@pytest.mark.parametrize(
    ("steps", "kw", "field", "message"),
    [
        (["A"], {}, "steps", "at least 2 steps"),
        ("AB", {}, "steps", "sequence of steps"),
        (["A", 3], {}, "steps[1]", "must be a Stage"),
        (["A", " B"], {}, "steps[1]", "must be a Stage"),
        (["A", "B"], {"window": timedelta(0)}, "window", "positive"),
        (["A", "B"], {"window": 3600}, "window", "timedelta"),
        (["A", "B"], {"mode": "sorted"}, "mode", "one of"),
        (["A", "A"], {"mode": "any"}, "steps[1]", "repeats an earlier step"),
        (["A", "B"], {"exclusions": [Exclusion("A")]}, "exclusions[0].event", "also a step"),
        (["A", "B"], {"exclusions": [Exclusion("X", after=2)]}, "exclusions[0]", "after < before"),
        (["A", "B"], {"exclusions": [Exclusion("X", before=3)]}, "exclusions[0]", "after < before"),
        (["A", "B"], {"exclusions": Exclusion("X")}, "exclusions", "sequence of Exclusion"),
        (["A", "B"], {"exclusions": ["X"]}, "exclusions[0]", "must be an Exclusion"),
    ],
)
def test_bad_definitions_name_the_argument(
    steps: object, kw: dict[str, object], field: str, message: str
) -> None:
    log = log_of([("u", "A", T), ("u", "B", T), ("u", "X", T)])
    for call in (
        lambda: funnel_report(log, steps, **kw),  # type: ignore[arg-type]
        lambda: funnel_report_python([("u", "A", T)], steps, **kw),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError, match=message) as info:
            call()
        assert info.value.field == field


def test_a_kind_no_event_has_is_an_error_unless_allowed() -> None:
    events: list[Event] = [("u", "visit", T), ("u", "signup", T + MIN)]
    log = log_of(events)
    with pytest.raises(ValidationError, match="not the kind of any event") as info:
        funnel_report(log, ["visit", "sigunp"])
    assert info.value.field == "steps[1]"
    with pytest.raises(ValidationError, match="not the kind of any event"):
        funnel_report_python(events, ["visit", "sigunp"])
    assert funnel_report(log, ["visit", "sigunp"], allow_unseen_kinds=True).counts == (1, 0)
    with pytest.raises(ValidationError, match=r"Stage\.INTEREST") as hint:
        funnel_report(log, ["visit", "interest"])
    assert hint.value.field == "steps[1]"
    with pytest.raises(ValidationError, match="not the kind") as excl:
        funnel_report(log, ["visit", "signup"], exclusions=[Exclusion("refund")])
    assert excl.value.field == "exclusions[0].event"


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValidationError, match="must be an EventLog"):
        funnel_report([("u", "A", T)], ["A", "B"])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="timezone-aware") as info:
        funnel_report_python([("u", "A", datetime(2026, 1, 1))], ["A", "B"])
    assert info.value.field == "events[0]"
    with pytest.raises(ValidationError, match="customer_id, what, at"):
        funnel_report_python([("u", "A")], ["A", "B"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="non-empty str"):
        funnel_report_python([("", "A", T)], ["A", "B"])
    with pytest.raises(ValidationError, match="event kind"):
        funnel_report_python([("u", 7, T)], ["A", "B"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="step number"):
        Exclusion("X", after=0)
    with pytest.raises(ValidationError, match="must be a Stage"):
        Exclusion(5)  # type: ignore[arg-type]


# -- reports -----------------------------------------------------------------------------------


def test_report_to_dict_is_json_and_html_escapes() -> None:
    events: list[Event] = [("u", "<b>visit</b>", T), ("u", "buy", T + 2 * HOUR)]
    steps = ["<b>visit</b>", "buy"]
    exclusions = [Exclusion("X", after=1)]
    report = funnel_report(log_of(events), steps, exclusions=exclusions, allow_unseen_kinds=True)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["steps"][1]["time_to_convert"]["median_seconds"] == 7200
    assert data["steps"][0]["step"] == {"kind": "<b>visit</b>"}
    assert data["window_seconds"] == DEFAULT_WINDOW.total_seconds()
    assert data["exclusions"] == [{"kind": "X", "after": 1, "before": None}]
    html = report._repr_html_()
    assert "<b>visit" not in html and "&lt;b&gt;visit" in html
    assert "2.0 h" in html and "100.0%" in html


def test_breakdown_by_category_segments_and_cohorts() -> None:
    events: list[Event] = [
        ("gb1", "A", T), ("gb1", "B", T + MIN),
        ("gb2", "A", T),
        ("cn1", "A", T + 7 * 24 * HOUR), ("cn1", "B", T + 7 * 24 * HOUR + MIN),
        ("xx1", "A", T - 24 * HOUR),  # a Sunday: the ISO week before
    ]  # fmt: skip
    log = log_of(events)
    countries = {"gb1": "GB", "gb2": "GB", "cn1": "CN", "xx1": None}
    frame = CustomerFrame.from_customers(
        Customer.register(c, c, T, geography=Geography(country=k)).value
        for c, k in countries.items()
    )
    by = funnel_breakdown(log, ["A", "B"], by="country", frame=frame)
    assert isinstance(by, FunnelBreakdown) and list(by) == ["CN", "GB", None]
    assert by["GB"].counts == (2, 1) and by["CN"].counts == (1, 1) and by[None].counts == (1, 0)
    assert sum(r.customers for r in by.values()) == 4
    with pytest.raises(KeyError):
        by["FR"]
    gb = np.array([countries[c] == "GB" for c in frame.ids.tolist()], dtype=bool)
    masks = {"gb": gb, "none": np.zeros(4, bool)}
    seg = funnel_breakdown(log, ["A", "B"], segments=masks, frame=frame)
    assert seg["gb"].counts == (2, 1) and seg["none"].counts == (0, 0)
    weeks = funnel_breakdown(log, ["A", "B"], cohort="week")
    assert {k: r.counts for k, r in weeks.items()} == {
        "2026-W09": (1, 0), "2026-W10": (2, 1), "2026-W11": (1, 1),
    }  # fmt: skip
    months = funnel_breakdown(log, ["A", "B"], cohort="month")
    assert {k: r.counts for k, r in months.items()} == {"2026-03": (4, 2)}
    data = json.loads(json.dumps(by.to_dict()))
    assert data["by"] == "country" and [g["group"] for g in data["groups"]] == ["CN", "GB", None]
    assert "(missing)" in by._repr_html_() and "Funnel by country" in by._repr_html_()


def test_breakdown_errors() -> None:
    log = log_of([("u", "A", T), ("v", "B", T)])
    frame = CustomerFrame.from_customers([Customer.register("u", "u", T).value])
    with pytest.raises(ValidationError, match="exactly one"):
        funnel_breakdown(log, ["A", "B"])
    with pytest.raises(ValidationError, match="exactly one"):
        funnel_breakdown(log, ["A", "B"], by="country", cohort="week", frame=frame)
    with pytest.raises(ValidationError, match="has no row for this customer") as info:
        funnel_breakdown(log, ["A", "B"], by="country", frame=frame)
    assert info.value.value == "v"
    both_frame = CustomerFrame.from_customers(
        [Customer.register("u", "u", T).value, Customer.register("v", "v", T).value]
    )
    with pytest.raises(ValidationError, match="not a column"):
        funnel_breakdown(log, ["A", "B"], by="nope", frame=both_frame)
    with pytest.raises(ValidationError, match="is a float column"):
        funnel_breakdown(log, ["A", "B"], by="total_spent", frame=both_frame)
    with pytest.raises(ValidationError, match="bool mask of length 2"):
        funnel_breakdown(log, ["A", "B"], segments={"s": [True]}, frame=both_frame)
    with pytest.raises(ValidationError, match="must be a CustomerFrame"):
        funnel_breakdown(log, ["A", "B"], by="country", frame=None)
    with pytest.raises(ValidationError, match="'week' or 'month'"):
        funnel_breakdown(log, ["A", "B"], cohort="day")  # type: ignore[arg-type]
    erased = funnel_breakdown(log, ["A", "B"], by="erased", frame=both_frame)
    assert erased["false"].counts == (1, 0)


def test_funnel_customers_lists_who_dropped_where() -> None:
    events: list[Event] = [
        ("a", "A", T), ("a", "B", T + MIN),
        ("b", "A", T),
        ("c", "B", T),
        ("d", "A", T), ("d", "X", T + MIN),
    ]  # fmt: skip
    who = funnel_customers(log_of(events), ["A", "B"], exclusions=[Exclusion("X")])
    assert len(who) == 3  # c never entered
    assert who.dropped_after(1).tolist() == ["b"] and who.dropped_after(2).tolist() == ["a"]
    assert who.customer_ids[who.excluded].tolist() == ["d"]
    assert np.isnat(who.step_at[who.customer_ids == "b"][0, 1])
    with pytest.raises(ValidationError, match="step number"):
        who.dropped_after(0)


# -- positions ---------------------------------------------------------------------------------


def test_positions_funnel_reads_entry_times() -> None:
    skip = FunnelPosition.start("p1", Stage.AWARENESS, T).value
    skip = skip.advance(Stage.INTENT, T + HOUR).value
    slow = FunnelPosition.start("p2", Stage.AWARENESS, T).value
    slow = slow.advance(Stage.INTEREST, T + 30 * HOUR).value
    late = FunnelPosition.start("p3", Stage.CONSIDERATION, T).value  # skipped in at one instant
    report = funnel_report_from_positions([skip, slow, late])
    assert report.counts == (3, 3, 2, 1, 0, 0, 0)
    assert report.steps[1].time is not None and report.steps[1].time.median == 3600
    windowed = funnel_report_from_positions([skip, slow, late], window=2 * HOUR)
    assert windowed.counts == (3, 2, 2, 1, 0, 0, 0)
    short = funnel_report_from_positions([skip], [Stage.INTEREST, Stage.INTENT])
    assert short.counts == (1, 1) and short.definition == (Stage.INTEREST, Stage.INTENT)
    with pytest.raises(ValidationError, match="second position"):
        funnel_report_from_positions([skip, skip])
    with pytest.raises(ValidationError, match="Stage steps"):
        funnel_report_from_positions([skip], ["visit", "buy"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="repeats an earlier stage"):
        funnel_report_from_positions([skip], [Stage.INTEREST, Stage.INTEREST])


# -- engine pieces -----------------------------------------------------------------------------


def test_radix_argsort_is_a_stable_argsort() -> None:
    rng = np.random.default_rng(1)
    for top in (10, 70_000, 5_000_000_000):
        keys = rng.integers(0, top, 5000)
        assert (radix_argsort(keys) == np.argsort(keys, kind="stable")).all()


def test_pair_keys_sort_like_pairs() -> None:
    rng = np.random.default_rng(2)
    groups, times = rng.integers(0, 4, 500), rng.integers(0, 300, 500)
    keys = pair_keys(groups, times)
    order = np.lexsort((times, groups))
    assert (np.argsort(keys, kind="stable") == order).all()


def test_window_axis_with_and_without_overflow_agree() -> None:
    rng = np.random.default_rng(3)
    block = np.sort(rng.integers(0, 30, 400))
    t = np.sort(rng.integers(0, 10_000, 400))
    t = t[np.lexsort((t, block))]
    rows = np.arange(400)
    for window in (1, 50, 700):
        axis = WindowAxis(block, t, window)
        keys = WindowAxis(block, t, window)
        keys.axis, keys.keys = None, pair_keys(block, t - keys.base)
        later = [
            [j for j in range(i + 1, 400) if block[j] == block[i] and t[j] > t[i] + window]
            for i in rows
        ]
        expected = [js[0] if js else 400 for js in later]
        assert axis.after(rows).tolist() == expected == keys.after(rows).tolist()


def test_long_chains_of_trials_use_pointer_jumping() -> None:
    nxt = np.array([i + 1 if i % 3 == 0 else i + 2 for i in range(200)] + [], dtype=np.int64)
    nxt = np.minimum(nxt, 200)
    expected = np.zeros(200, dtype=bool)
    i = 0
    while i < 200:
        expected[i] = True
        i = int(nxt[i])
    assert (_chain(200, np.array([0]), nxt.__getitem__) == expected).all()
    # A customer with 100 trials (one per two hours, one-hour window), through both paths.
    events: list[Event] = [("u", "A", T + 2 * k * HOUR) for k in range(100)]
    events += [("u", "B", T + 198 * HOUR + MIN), ("u", "X", T + 3 * MIN)]
    for exclusions in ([], [Exclusion("X")]):
        for mode in ("ordered", "strict", "any"):
            report = both(events, ["A", "B"], window=HOUR, mode=mode, exclusions=exclusions)
            assert report.counts == (1, 1)
            assert report.steps[1].time is not None and report.steps[1].time.median == 60


def test_position_reports_and_time_stats_refuse_bad_input_naming_it() -> None:
    with pytest.raises(ValidationError, match=r"^positions: must be a collection"):
        funnel_report_from_positions(None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^positions\[0\]: must be a funnel position"):
        funnel_report_from_positions(["c-1"])  # type: ignore[list-item]
    report = funnel_report_python([("c1", "a", T), ("c1", "b", T + timedelta(hours=1))], ["a", "b"])
    time = report.steps[1].time
    assert time is not None and time.timedelta("p90") == timedelta(hours=1)
    with pytest.raises(ValidationError, match=r"^stat: must be one of 'mean'"):
        time.timedelta("max")  # type: ignore[arg-type]
