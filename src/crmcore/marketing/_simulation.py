"""The inside of the dry run: every workflow's runs over a frame, simulated with arrays.

The rules are the engine's ([`crmcore.marketing._engine_state`][crmcore.marketing._engine_state]),
restated column-wise. Per workflow (parents before the workflows they enter), its enrolment
attempts (requests, churn warnings, time-trigger instants, entries from other workflows) are sorted
per customer in the engine's order ``(time, class, generation, parent)``; each round takes the
first acceptable attempt of every customer and simulates those runs step by step in topological
order: an array of arrival times per step, ``NONE`` where a run does not get there in the horizon.
Timings do not depend on frequency caps (a capped message is skipped, not delayed), so caps are
applied afterwards over every workflow's sends, in the engine's order, one rank per customer at a
time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Final

import numpy as np

from crmcore.customers.records import MarketingChannel
from crmcore.kernel.arrays import BoolArray, Int64Array
from crmcore.kernel.clock import DAY_US
from crmcore.kernel.errors import ValidationError
from crmcore.marketing.guardrails import Guardrails
from crmcore.marketing.local_time_batch import NONE, ZoneTable, day_number
from crmcore.marketing.steps import (
    END,
    Branch,
    EnterWorkflow,
    SendMessage,
    Wait,
    WaitUntil,
)
from crmcore.marketing.triggers import DateTrigger, HolidayTrigger, InactivityTrigger
from crmcore.marketing.workflows import Workflow
from crmcore.segments.rules import Predicate

__all__ = ["OUTCOMES", "Attempts", "Rows", "Simulation"]

OUTCOMES: Final = ("sent", "no_consent", "frequency_cap", "deferred", "done")
"""Outcome codes of dry-run rows (a frame's consent flag cannot tell a withdrawal)."""
SENT, NO_CONSENT, CAPPED, DEFERRED, DONE = range(5)
_US: Final = timedelta(microseconds=1)
_I64 = np.int64


def _empty() -> Int64Array:
    return np.zeros(0, dtype=np.int64)


class Attempts:
    """Enrolment attempts of one workflow: customer, time, class, generation, tie-break."""

    def __init__(self) -> None:
        self.parts: list[tuple[Int64Array, ...]] = []

    def add(
        self, cust: Int64Array, t: Int64Array, cls: int, gen: Int64Array, tie: Int64Array
    ) -> None:
        """Add attempts (arrays of equal length; ``cls`` one class for all)."""
        if len(cust):
            self.parts.append((cust, t, np.full(len(cust), cls, dtype=_I64), gen, tie))

    def sorted(self) -> tuple[Int64Array, ...]:
        """Customer, time, class, generation, tie-break arrays in the engine's order."""
        if not self.parts:
            return tuple(_empty() for _ in range(5))
        cols = [np.concatenate([p[i] for p in self.parts]) for i in range(5)]
        order = np.lexsort((cols[4], cols[3], cols[2], cols[1], cols[0]))
        return tuple(c[order] for c in cols)


class Rows:
    """What the runs did, as columns (appended per step, concatenated at the end)."""

    def __init__(self) -> None:
        self.cols: dict[str, list[Int64Array]] = {
            k: [] for k in ("customer", "workflow", "step", "at", "outcome", "until")
        }
        self.sends: dict[str, list[Int64Array]] = {
            k: [] for k in ("customer", "at", "gen", "workflow", "run", "topo", "channel", "step")
        }
        self.runs: dict[str, list[Int64Array]] = {
            k: [] for k in ("customer", "workflow", "run", "start", "end")
        }

    def add(self, **columns: Int64Array) -> None:
        """Append rows (``until`` defaults to NONE)."""
        n = len(columns["customer"])
        if not n:
            return
        columns.setdefault("until", np.full(n, NONE, dtype=_I64))
        for key, values in columns.items():
            self.cols[key].append(np.asarray(values, dtype=_I64))

    def add_sends(self, **columns: Int64Array) -> None:
        """Append candidate sends with their ordering keys."""
        if len(columns["customer"]):
            for key, values in columns.items():
                self.sends[key].append(np.asarray(values, dtype=_I64))

    def add_runs(self, **columns: Int64Array) -> None:
        """Append simulated runs."""
        if len(columns["customer"]):
            for key, values in columns.items():
                self.runs[key].append(np.asarray(values, dtype=_I64))

    @staticmethod
    def joined(table: dict[str, list[Int64Array]]) -> dict[str, Int64Array]:
        """One array per column."""
        return {k: np.concatenate(v) if v else _empty() for k, v in table.items()}


class Simulation:
    """The arrays one dry run shares: zones, consent, rule masks, the time window."""

    def __init__(
        self,
        *,
        start_us: int,
        end_us: int,
        table: ZoneTable,
        zones: Int64Array,
        consent: Mapping[MarketingChannel, BoolArray],
        masks: Mapping[int, BoolArray],
        guardrails: Guardrails,
        columns: Mapping[str, object],
    ) -> None:
        self.start_us, self.end_us = start_us, end_us
        self.table = table
        self.zones = zones
        self.consent = consent
        self.masks = masks
        self.rails = guardrails
        self.columns = columns
        self.rows = Rows()
        self.reached: dict[tuple[int, str], int] = {}
        self.entries: dict[str, Attempts] = {}
        self.sent: dict[str, Int64Array] | None = None

    def mask(self, rule: Predicate) -> BoolArray:
        """The mask of a rule of the catalog (evaluated once per dry run)."""
        return self.masks[id(rule)]

    # -- time triggers ----------------------------------------------------------------------------
    def occurrences(
        self, trigger: DateTrigger | HolidayTrigger | InactivityTrigger
    ) -> tuple[Int64Array, Int64Array]:
        """Customers and instants in ``(start, end]`` at which a time trigger fires."""
        n = len(self.zones)
        if isinstance(trigger, InactivityTrigger):
            last = self._datetimes(trigger.field)
            fires = np.where(last == NONE, NONE, last + trigger.days * DAY_US)
            return self._window(np.arange(n, dtype=_I64), fires)
        if isinstance(trigger, HolidayTrigger):
            lo, hi = self.table.first, self.table.first + self.table.days - 1
            custs, times = [], []
            for day in sorted(trigger.dates):
                number = day_number(day)
                if lo <= number <= hi:
                    at = self.table.at_wall(trigger.at, self.zones, np.full(n, number, dtype=_I64))
                    custs.append(np.arange(n, dtype=_I64))
                    times.append(at)
            if not custs:
                return _empty(), _empty()
            return self._window(np.concatenate(custs), np.concatenate(times))
        return self._date_occurrences(trigger)

    def _window(self, cust: Int64Array, t: Int64Array) -> tuple[Int64Array, Int64Array]:
        keep = (t > self.start_us) & (t <= self.end_us) & (t != NONE)
        return cust[keep], t[keep]

    def _column(self, name: str) -> object:
        column = self.columns.get(name)
        if column is None:
            raise ValidationError("trigger.field", name, "is not a column of the frame")
        return column

    def _datetimes(self, name: str) -> Int64Array:
        values = np.asarray(self._column(name))
        if values.dtype.kind != "M":
            raise ValidationError("trigger.field", name, "must be a date or datetime column")
        us = values.astype("datetime64[us]")
        out: Int64Array = np.where(np.isnat(us), NONE, us.astype(_I64))
        return out

    def _date_occurrences(self, trigger: DateTrigger) -> tuple[Int64Array, Int64Array]:
        values = np.asarray(self._column(trigger.field))
        if values.dtype.kind != "M":
            raise ValidationError(
                "trigger.field", trigger.field, "must be a date or datetime column"
            )
        days = values.astype("datetime64[D]")  # datetime fields count by their UTC date
        known = ~np.isnat(days)
        cust_all = np.flatnonzero(known).astype(_I64)
        days = days[known]
        shift = np.timedelta64(trigger.offset_days, "D")
        custs: list[Int64Array] = []
        numbers: list[Int64Array] = []
        if not trigger.yearly:
            custs.append(cust_all)
            numbers.append((days + shift).astype(_I64))
        else:
            year = days.astype("datetime64[Y]").astype(_I64) + 1970
            month0 = days.astype("datetime64[M]").astype(_I64) % 12
            dom = (days - days.astype("datetime64[M]")).astype(_I64)  # day of month - 1
            # Only the years whose anniversary, shifted, can land in the window (a day of margin
            # either side covers every zone's local date).
            margin = timedelta(days=abs(trigger.offset_days) + 2)
            epoch = date(1970, 1, 1)
            first_year = (epoch + timedelta(days=self.start_us // DAY_US) - margin).year
            last_year = (epoch + timedelta(days=self.end_us // DAY_US) + margin).year
            for y in range(first_year, last_year + 1):
                months = (y - 1970) * 12 + month0
                first = months.astype("datetime64[M]").astype("datetime64[D]")
                day = first + dom.astype("timedelta64[D]")
                leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
                if not leap and trigger.leap_day == "feb28":
                    day = np.where((month0 == 1) & (dom == 28), day - np.timedelta64(1, "D"), day)
                ok = y > year
                custs.append(cust_all[ok])
                numbers.append((day[ok] + shift).astype(_I64))
        cust = np.concatenate(custs)
        number = np.concatenate(numbers)
        at = self.table.at_wall(trigger.at, self.zones[cust], number)
        return self._window(cust, at)

    # -- runs -------------------------------------------------------------------------------------
    def run_workflow(
        self, workflow: Workflow, rank: int, attempts: Attempts, ok: BoolArray
    ) -> None:
        """Enrol and simulate every run of ``workflow`` (``ok``: customers it may enrol at all)."""
        cust, t, _cls, gen, _tie = attempts.sorted()
        n = len(self.zones)
        prev_start = np.full(n, NONE, dtype=_I64)
        prev_end = np.full(n, NONE, dtype=_I64)
        prev_pos = np.full(n, -1, dtype=_I64)
        runs = np.zeros(n, dtype=_I64)
        position = np.arange(len(cust), dtype=_I64)
        eligible = ok[cust] if len(cust) else np.zeros(0, dtype=bool)
        cooldown = workflow.reenrolment.cooldown // _US
        first_round = True
        while True:
            if first_round:
                acceptable = eligible
            else:
                acceptable = (
                    eligible
                    & (runs[cust] > 0)
                    & (position > prev_pos[cust])
                    & (t > prev_start[cust])
                    & (prev_end[cust] < t)
                    & (t - prev_start[cust] >= cooldown)
                )
            chosen = _first_per_customer(cust, acceptable)
            if not len(chosen):
                return
            c = cust[chosen]
            runs[c] += 1
            end = self.simulate(workflow, rank, c, t[chosen], gen[chosen], runs[c])
            prev_start[c], prev_end[c], prev_pos[c] = t[chosen], end, position[chosen]
            if not workflow.reenrolment.allowed:
                return
            first_round = False

    def simulate(
        self,
        workflow: Workflow,
        rank: int,
        cust: Int64Array,
        t0: Int64Array,
        gen0: Int64Array,
        run: Int64Array,
    ) -> Int64Array:
        """Run the steps of ``workflow`` for runs starting at ``t0``; their ends (NONE: open)."""
        n = len(cust)
        arrive = {s: np.full(n, NONE, dtype=_I64) for s in workflow.order}
        gens = {s: np.zeros(n, dtype=_I64) for s in workflow.order}
        arrive[workflow.first][:] = t0
        gens[workflow.first][:] = gen0
        ended = np.full(n, NONE, dtype=_I64)
        topo = {s: i for i, s in enumerate(workflow.order)}
        codes = {s.id: i for i, s in enumerate(workflow.steps)}
        for sid in workflow.order:
            live = np.flatnonzero(arrive[sid] <= self.end_us)
            if not len(live):
                continue
            a, g, c = arrive[sid][live], gens[sid][live], cust[live]
            key = (rank, sid)
            self.reached[key] = self.reached.get(key, 0) + len(live)
            step = workflow.step(sid)
            labels = {"workflow": np.full(len(live), rank), "step": np.full(len(live), codes[sid])}

            def deliver(target: str, idx: Int64Array, when: Int64Array, gen: Int64Array) -> None:
                if target == END:
                    ended[idx] = np.where(when <= self.end_us, when, NONE)
                else:
                    arrive[target][idx] = when
                    gens[target][idx] = gen

            if isinstance(step, Branch):
                yes = self.mask(step.rule)[c]
                deliver(workflow.next_of(sid, True), live[yes], a[yes], g[yes])
                deliver(workflow.next_of(sid, False), live[~yes], a[~yes], g[~yes])
                continue
            nxt = workflow.next_of(sid)
            if isinstance(step, Wait | WaitUntil):
                if isinstance(step, Wait):
                    until = a + step.duration // _US
                else:
                    until = self.table.next_weekly(self.zones[c], a, step.weekdays, step.at)
                deliver(nxt, live, until, np.where(until > a, 0, g))
            elif isinstance(step, SendMessage):
                self._send(workflow, step, rank, live, a, g, c, run, topo[sid], labels, deliver)
            elif isinstance(step, EnterWorkflow):
                entries = self.entries.setdefault(step.workflow, Attempts())
                entries.add(c, a, 3, g + 1, rank * (1 << 32) + run[live])
                deliver(nxt, live, a, g)
            else:
                self.rows.add(customer=c, at=a, outcome=np.full(len(live), DONE), **labels)
                deliver(nxt, live, a, g)
        self.rows.add_runs(customer=cust, workflow=np.full(n, rank), run=run, start=t0, end=ended)
        return ended

    def _send(
        self,
        workflow: Workflow,
        step: SendMessage,
        rank: int,
        live: Int64Array,
        a: Int64Array,
        g: Int64Array,
        c: Int64Array,
        run: Int64Array,
        topo: int,
        labels: dict[str, Int64Array],
        deliver: Callable[[str, Int64Array, Int64Array, Int64Array], None],
    ) -> None:
        consent = self.consent[step.channel][c]
        refused = ~consent
        self.rows.add(
            customer=c[refused],
            at=a[refused],
            outcome=np.full(int(refused.sum()), NO_CONSENT),
            workflow=labels["workflow"][refused],
            step=labels["step"][refused],
        )
        send_at = a.copy()
        quiet = self.rails.quiet_hours
        if quiet is not None and quiet.covers(step.channel):
            for _ in range(4):  # a release that is quiet again (a DST edge) waits once more
                moved = self.table.quiet_release(self.zones[c], send_at, quiet.start, quiet.end)
                moved = np.where(consent & (send_at != NONE), moved, send_at)
                if np.array_equal(moved, send_at):
                    break
                send_at = moved
        held = consent & (send_at > a)
        self.rows.add(
            customer=c[held],
            at=a[held],
            outcome=np.full(int(held.sum()), DEFERRED),
            until=send_at[held],
            workflow=labels["workflow"][held],
            step=labels["step"][held],
        )
        gen = np.where(held, 0, g)
        due = consent & (send_at <= self.end_us)
        self.rows.add_sends(
            customer=c[due],
            at=send_at[due],
            gen=gen[due],
            workflow=labels["workflow"][due],
            run=run[live][due],
            topo=np.full(int(due.sum()), topo),
            channel=np.full(int(due.sum()), list(MarketingChannel).index(step.channel)),
            step=labels["step"][due],
        )
        deliver(workflow.next_of(step.id), live, send_at, gen)

    # -- caps -------------------------------------------------------------------------------------
    def apply_caps(self) -> None:
        """Decide every candidate send against the frequency caps, in the engine's order."""
        sends = Rows.joined(self.rows.sends)
        if not len(sends["customer"]):
            return
        order = np.lexsort(
            (sends["topo"], sends["run"], sends["workflow"], sends["gen"], sends["at"],
             sends["customer"])
        )  # fmt: skip
        s = {k: v[order] for k, v in sends.items()}
        accepted = np.ones(len(order), dtype=bool)
        caps = self.rails.caps
        if caps:
            cust = s["customer"]
            group_start = np.r_[0, np.flatnonzero(cust[1:] != cust[:-1]) + 1]
            rank = np.arange(len(cust)) - np.repeat(
                group_start, np.diff(np.r_[group_start, len(cust)])
            )
            channels = list(MarketingChannel)
            n = len(self.zones)
            rings = [np.full((n, cap.limit), np.iinfo(np.int64).min, dtype=_I64) for cap in caps]
            heads = [np.zeros(n, dtype=_I64) for _ in caps]
            for k in range(int(rank.max()) + 1):
                idx = np.flatnonzero(rank == k)
                c, at, ch = cust[idx], s["at"][idx], s["channel"][idx]
                capped = np.zeros(len(idx), dtype=bool)
                covers = []
                for cap, ring, head in zip(caps, rings, heads, strict=True):
                    cov = (
                        np.ones(len(idx), dtype=bool)
                        if cap.channel is None
                        else ch == channels.index(cap.channel)
                    )
                    covers.append(cov)
                    oldest = ring[c, head[c]]
                    capped |= cov & (oldest > at - cap.window // _US)
                ok = ~capped
                for cap, ring, head, cov in zip(caps, rings, heads, covers, strict=True):
                    take = ok & cov
                    ring[c[take], head[c[take]]] = at[take]
                    head[c[take]] = (head[c[take]] + 1) % cap.limit
                accepted[idx] = ok
        outcome = np.where(accepted, SENT, CAPPED)
        self.rows.add(
            customer=s["customer"],
            workflow=s["workflow"],
            step=s["step"],
            at=s["at"],
            outcome=outcome,
        )
        self.sent = {k: v[accepted] for k, v in s.items()}


def _first_per_customer(cust: Int64Array, ok: BoolArray) -> Int64Array:
    """Positions of the first ``ok`` entry of each customer (entries sorted by customer)."""
    idx = np.flatnonzero(ok)
    if not len(idx):
        return idx.astype(_I64)
    c = cust[idx]
    first: Int64Array = idx[np.r_[True, c[1:] != c[:-1]]].astype(_I64)
    return first
