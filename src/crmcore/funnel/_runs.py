"""Strict funnels as runs of instants: no walk where each instant matches one step at most.

A strict trial advances instant by instant (see
[`crmcore.funnel.analytics`][crmcore.funnel.analytics]): at each later instant of
its customer it takes the next step, stays on a repeat of its current step,
or is interrupted. Where no instant of a customer matches more than one
step, give each instant its *level* (the 0-based step it matches, none for
the rest). Then a trial's path is a *run*: consecutive instants of one
customer whose level rises by 0 or 1 from one to the next, and the first
instant that breaks it (a level that falls or jumps, an instant matching no
step, the next customer) is the one that interrupts the trial. The runs
partition the instants, so the path of every attempt (an instant at level
0) is known at once, without following it:

* it ends at the end of its run, or earlier at the first instant past its
  window, whichever comes first (the *end*);
* it reached the level of the instant just before its end, plus one (levels
  never fall inside a run);
* as a trial, it is followed by the first attempt at or after its end (a
  trial that reached every step: by the first attempt past its window, or by
  none without a window).

That holds for every rule of strict mode: a repeat of step 1 inside an open
trial is part of its run (the trial neither restarts nor resets its
window); an interrupting instant may start the next trial itself; an
instant past the window ends the trial without interrupting it, and the
next trial starts past the window, which is the same first attempt at or
after the end. A customer with an instant that matches several steps (steps
sharing events, or several steps at one time) takes the general walk
instead (`crmcore.funnel._engine`); the others still go by runs.
"""

from __future__ import annotations

import attrs
import numpy as np

from crmcore.funnel._paths import Stream, WindowAxis, step_rank
from crmcore.funnel._steps import Plan
from crmcore.kernel.arrays import BoolArray, Int8Array, Int64Array

__all__ = ["Runs", "strict_runs"]


@attrs.frozen(eq=False)
class Runs:
    """Every strict attempt of a stream (ascending), how far its path went and what follows it.

    ``attempts`` are the instants matching step 1, ``block`` their customer
    blocks; ``reached`` is the number of steps each attempt's path reached
    and ``successor`` the attempt that starts next for the customer when the
    attempt is a trial (``len(attempts)``: none). Both hold only where
    ``plain``: for the attempts of customers with no instant that matches
    several steps (the others need the general walk).
    """

    level: Int8Array  # per instant: the first step it matches, plan.size for none
    attempts: Int64Array
    block: Int64Array
    reached: Int64Array
    successor: Int64Array
    plain: BoolArray

    def step_rows(self, s: Stream, which: Int64Array, steps: int) -> Int64Array:
        """The row of each step on the paths of the attempts ``which`` (-1 beyond the path).

        An attempt's run rises through the levels one instant at a time, so its
        steps after the first are the next ``reached - 1`` rises of the stream
        from the attempt on; each at its instant's first row (stream order puts
        an instant's rows matching a step before those matching none).
        """
        start = self.attempts[which]
        reached = self.reached[which]
        rows = np.full((len(which), steps), -1, dtype=np.int64)
        rows[:, 0] = s.mstart[start]
        ups = np.flatnonzero(self.level[1:] - self.level[:-1] == 1) + 1
        first = np.searchsorted(ups, start)
        for k in range(1, int(reached.max()) if len(reached) else 0):
            live = np.flatnonzero(reached > k)
            rows[live, k] = s.mstart[ups[first[live] + (k - 1)]]
        return rows


def strict_runs(s: Stream, plan: Plan) -> Runs | None:
    """The strict attempts of stream ``s`` by runs, or ``None`` if the plan has exclusions
    (they need the paths row by row)."""
    if plan.exclusions:
        return None
    steps = plan.size
    sig = s.moment_sig
    level = step_rank(sig, steps, steps)
    count = len(level)
    single = count == len(s.t)  # every row an instant of its own: no gathers
    block = s.block if single else s.block[s.mstart]
    mixed = (sig & (sig - 1)) != 0  # instants with two step bits (0 - 1 wraps to all ones)
    breaks = np.ones(count, dtype=bool)
    if count > 1:
        rise = level[1:] - level[:-1]
        breaks[1:] = (
            (rise.view(np.uint8) > 1)
            | (level[1:] == steps)
            | (level[:-1] == steps)
            | (block[1:] != block[:-1])
        )
    heads = np.flatnonzero(breaks)  # where each run begins; run r (from 1) ends at heads[r]
    end = np.append(heads, count)[np.cumsum(breaks)[level == 0]]
    attempts = np.flatnonzero(level == 0)
    reached = level[end - 1].astype(np.int64) + 1
    done = reached == steps
    restart = end
    if plan.window_us is not None:
        # Where a path runs past its window: only where its run lasts longer than the window.
        t = s.t if single else s.t[s.mstart]
        late = np.flatnonzero(done | (t[end - 1] - t[attempts] > plan.window_us))
        if len(late):
            past = WindowAxis(block, t, plan.window_us).after(attempts[late])
            end[late] = np.minimum(end[late], past)
            reached[late] = level[end[late] - 1].astype(np.int64) + 1
            done[late] = reached[late] == steps
            restart = end.copy()
            restart[late] = np.where(done[late], past, end[late])
    if plan.window_us is None:
        restart = np.where(done, count, restart)  # a trial that reached every step is the last
    # The first attempt at or after each restart: the attempts before it, counted per instant.
    before = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(level == 0, out=before[1:])
    successor = before[restart]
    n = len(attempts)
    owner = block[attempts]
    same = successor < n
    same[same] = owner[successor[same]] == owner[same]
    successor[~same] = n
    plain = np.ones(n, dtype=bool)
    if mixed.any():  # the customers with such an instant: every instant of their blocks
        firsts = np.flatnonzero(np.append(True, block[1:] != block[:-1]))
        spoilt = np.logical_or.reduceat(mixed, firsts)
        plain = ~np.repeat(spoilt, np.diff(np.append(firsts, count)))[attempts]
    return Runs(level, attempts, owner, reached, successor, plain)
