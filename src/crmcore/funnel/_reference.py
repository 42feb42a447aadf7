"""The per-customer reference implementation of the funnel rules, in plain Python.

It follows the definitions in [`crmcore.funnel.analytics`][crmcore.funnel.analytics] literally, one
customer and one trial (counting ``"max_step"``: one chain) at a time, with times compared
directly (no moment ids, no searches), so that the vectorised engine can be checked against it
event for event. It is also the "object speed" path for small inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from crmcore.funnel._steps import Plan

__all__ = ["CustomerOutcome", "customer_outcome"]


class CustomerOutcome(NamedTuple):
    """How far a customer's chosen trial got (``reached == 0``: every trial was excluded)."""

    reached: int
    entry_us: int
    times_us: tuple[int, ...]


class _Trial(NamedTuple):
    start: int  # index into the sorted events
    times: tuple[int, ...]  # instant of each step reached
    stop: int | None  # strict: the instant that interrupted the trial
    excluded_at: int | None  # time of the first excluding event


def _matches(signature: int, bit: int) -> bool:
    return (signature >> bit) & 1 == 1


def _first_step(signature: int, steps: int) -> int:
    return next((k for k in range(steps) if _matches(signature, k)), steps)


def customer_outcome(events: Sequence[tuple[int, int]], plan: Plan) -> CustomerOutcome | None:
    """The outcome for one customer's events ``(time in µs, signature)``, in log order.

    ``None`` if the customer never started a trial (no step-1 event; in
    "any" mode no event of any step).
    """
    steps = plan.size
    # Stream order: time, then the first step matched (ties in funnel order), then log order.
    order = sorted(
        range(len(events)), key=lambda i: (events[i][0], _first_step(events[i][1], steps), i)
    )
    rows = [events[i] for i in order]
    opens = (
        (lambda sig: sig & ((1 << steps) - 1) != 0)
        if plan.mode == "any"
        else (lambda sig: _matches(sig, 0))
    )
    # A trial starts at the first event of an instant with a step-1 event.
    starts = [
        i
        for i, (t, sig) in enumerate(rows)
        if opens(sig) and (i == 0 or rows[i - 1][0] != t or not opens(rows[i - 1][1]))
    ]
    if not starts:
        return None
    if plan.counting == "max_step":
        # Every step-1 instant starts its own chain; the furthest counts, ties to the latest.
        chains = [_trial(rows, start, plan) for start in starts]
        scores = [0 if t.excluded_at is not None else len(t.times) for t in chains]
        top = max(scores)
        last = max(i for i, score in enumerate(scores) if score == top)
        chain = chains[last]
        return CustomerOutcome(top, rows[chain.start][0], chain.times if top else ())
    trials: list[_Trial] = []
    start: int | None = starts[0]
    while start is not None:
        trial = _trial(rows, start, plan)
        trials.append(trial)
        start = _next_start(rows, starts, trial, plan)
    best = max(0 if t.excluded_at is not None else len(t.times) for t in trials)
    chosen = next(t for t in trials if (0 if t.excluded_at is not None else len(t.times)) == best)
    return CustomerOutcome(best, rows[chosen.start][0], chosen.times if best else ())


def _trial(rows: Sequence[tuple[int, int]], start: int, plan: Plan) -> _Trial:
    begin = rows[start][0]
    end = None if plan.window_us is None else begin + plan.window_us
    if plan.mode == "ordered":
        times, stop = _ordered(rows, start, plan.size, end), None
    elif plan.mode == "strict":
        times, stop = _strict(rows, start, plan.size, end)
    else:
        times, stop = _any(rows, start, plan.size, end), None
    return _Trial(start, times, stop, _excluded_at(rows, times, stop, end, plan))


def _ordered(
    rows: Sequence[tuple[int, int]], start: int, steps: int, end: int | None
) -> tuple[int, ...]:
    """Each step at the first event after the previous step's event that matches it."""
    times = [rows[start][0]]
    at = start
    for k in range(1, steps):
        nxt = next((j for j in range(at + 1, len(rows)) if _matches(rows[j][1], k)), None)
        if nxt is None or (end is not None and rows[nxt][0] > end):
            break
        times.append(rows[nxt][0])
        at = nxt
    return tuple(times)


def _strict(
    rows: Sequence[tuple[int, int]], start: int, steps: int, end: int | None
) -> tuple[tuple[int, ...], int | None]:
    """Instant by instant: advance, stay on a repeat of the current step, or be interrupted."""
    times = [rows[start][0]]
    at = start
    for k in range(1, steps):
        now = rows[at][0]
        same = next(
            (j for j in range(at + 1, len(rows)) if rows[j][0] == now and _matches(rows[j][1], k)),
            None,
        )
        if same is not None:
            times.append(now)
            at = same
            continue
        instants = sorted({t for t, _ in rows if t > now})
        entered = None
        for instant in instants:
            if end is not None and instant > end:
                return tuple(times), None
            here = [j for j, (t, _) in enumerate(rows) if t == instant]
            hit = next((j for j in here if _matches(rows[j][1], k)), None)
            if hit is not None:
                entered = hit
                break
            if not any(_matches(rows[j][1], k - 1) for j in here):
                return tuple(times), instant
        if entered is None:
            return tuple(times), None
        times.append(rows[entered][0])
        at = entered
    return tuple(times), None


def _any(
    rows: Sequence[tuple[int, int]], start: int, steps: int, end: int | None
) -> tuple[int, ...]:
    """Each step at its first event in the window, in any order; the instants sorted."""
    firsts = []
    for j in range(steps):
        hit = next((t for t, sig in rows[start:] if _matches(sig, j)), None)
        if hit is not None and (end is None or hit <= end):
            firsts.append(hit)
    return tuple(sorted(firsts))


def _excluded_at(
    rows: Sequence[tuple[int, int]],
    times: tuple[int, ...],
    stop: int | None,
    end: int | None,
    plan: Plan,
) -> int | None:
    """The time of the first event that excludes this trial, or ``None``."""
    hits: list[tuple[int, int]] = []  # (row, time)
    for e, (after, before) in enumerate(plan.exclusion_bounds):
        if len(times) <= after:
            continue
        for j, (t, sig) in enumerate(rows):
            if not _matches(sig, plan.size + e) or t <= times[after]:
                continue
            if len(times) > before:
                inside = t < times[before]
            else:
                inside = (end is None or t <= end) and (stop is None or t <= stop)
            if inside:
                hits.append((j, t))
                break
    return min(hits)[1] if hits else None


def _next_start(
    rows: Sequence[tuple[int, int]], starts: Sequence[int], trial: _Trial, plan: Plan
) -> int | None:
    """Where the next trial starts (Mixpanel's re-entry), or ``None``."""
    if trial.excluded_at is not None:
        after = trial.excluded_at
        return next((i for i in starts if rows[i][0] > after), None)
    if trial.stop is not None:
        return next((i for i in starts if rows[i][0] >= trial.stop), None)
    if plan.window_us is None:
        return None
    close = rows[trial.start][0] + plan.window_us
    return next((i for i in starts if rows[i][0] > close), None)
