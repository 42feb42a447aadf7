"""Funnels in SQL: every attempt's path, its exclusions and where the next trial starts.

The rules of [`crmcore.funnel.analytics`][crmcore.funnel.analytics] (both ways of counting, the
three modes, exclusions) as the vectorised engine (`crmcore.funnel._engine`) computes them, in
SQL with window functions and one join per step, no recursion:

1. **Events** get their signature (one bit per step and exclusion) by
   joining two small tables of the step kinds and stage labels: user text is
   data here, never SQL. One window pass over each customer's events in
   stream order (time, first step matched, log order) marks the first event
   of every instant and gives each event, per step *k*, the row of the next
   step-*k* event after it (``first_value ... IGNORE NULLS`` over ``ROWS
   BETWEEN 1 FOLLOWING ...``; any order: the first time of each step from
   here on). Strict mode adds the time of the next instant that is not a
   mere repeat of step *k-1*, exclusions the time of the next excluded event
   in a later instant (``RANGE BETWEEN 1 FOLLOWING ...`` on microseconds).
2. **Attempts** start at the first event of every instant with a step-1
   event (any order: an event of any step). Each attempt's path is followed
   step by step, one join on the row id per step, within the window;
   exclusions and strict interruptions are judged on it.
3. **Trials** (``counting="trials"``): each attempt's successor is the first
   attempt after its window, its interruption or its exclusion (an as-of
   lookup written as one window over attempts and lookup keys together), and
   the chain from each customer's first attempt is followed link by link
   (a join of the frontier per link) or, for long chains, by pointer doubling
   (``log2`` of the longest chain rounds of joins), each round materialised.
   Without exclusions or strict mode a trial closes only with its window: the
   chain is then found on the starts alone, and only the trials' paths are
   followed. ``counting="max_step"`` keeps every attempt.
4. **Choice**: per customer the furthest attempt, ties to the earliest
   (trials) or the latest (max step), with the instant of each step.

Rows are named by ``crm_row``, unique in the log, so every join is on one
integer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from crmcore.columnar.arrow import import_pyarrow
from crmcore.engines._dialect import Dialect, cte
from crmcore.engines._runner import ROW, Runner
from crmcore.funnel._report import ConversionTime, FunnelReport, build_report
from crmcore.funnel._steps import Plan, plan
from crmcore.kernel.errors import ValidationError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["funnel_plan", "funnel_program", "funnel_report_of", "matcher_tables"]

_AFTER: Final = "ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING"
_FROM_HERE: Final = "ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING"
_LATER: Final = "RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING"


def matcher_tables(plan: Plan) -> tuple[pa.Table, pa.Table]:
    """Two small tables (``value``, ``bits``): the signature bits of each kind and stage label."""
    arrow = import_pyarrow("funnels inside an engine")
    kinds: dict[str, int] = {}
    stages: dict[str, int] = {}
    for bit, matcher in enumerate(plan.matchers + plan.exclusion_matchers):
        target = kinds if matcher.column == "kind" else stages
        target[matcher.value] = target.get(matcher.value, 0) | (1 << bit)

    def as_table(bits: dict[str, int]) -> pa.Table:
        return arrow.table(
            {
                "value": arrow.array(list(bits), type=arrow.string()),
                "bits": arrow.array(np.array(list(bits.values()), dtype=np.int64)),
            }
        )

    return as_table(kinds), as_table(stages)


def _events_sql(d: Dialect, ev: str, kinds: str, stages: str, plan: Plan) -> str:
    """Events in stream order with the per-row lookups every path step needs."""
    k_steps, n_x = plan.size, len(plan.exclusions)
    signature = (
        f"SELECT e.customer_id AS c, e.at_us AS t, e.{ROW} AS r, "
        "coalesce(kb.bits, 0) + coalesce(sb.bits, 0) AS sig "
        f"FROM {ev} e LEFT JOIN {kinds} kb ON e.kind = kb.value "
        f"LEFT JOIN {stages} sb ON e.stage = sb.value"
    )
    if plan.mode != "strict":  # only strict mode needs the events that match nothing
        signature = f"SELECT * FROM ({signature}) s WHERE sig <> 0"
    flags = [f"(sig & {1 << j}) <> 0 AS s{j}" for j in range(k_steps)]
    flags += [f"(sig & {1 << (k_steps + e)}) <> 0 AS x{e}" for e in range(n_x)]
    first = " ".join(f"WHEN (sig & {1 << j}) <> 0 THEN {j}" for j in range(k_steps))
    flagged = f"SELECT *, {', '.join(flags)}, CASE {first} ELSE {k_steps} END AS rk FROM sig"
    stream = "PARTITION BY c ORDER BY t, rk, r"
    opens = "rk < " + str(k_steps) if plan.mode == "any" else "s0"
    looks = [f"(lag(t) OVER ({stream})) IS DISTINCT FROM t AND {opens} AS start"]
    if plan.mode == "any":
        looks += [
            f"min(CASE WHEN s{j} THEN t END) OVER ({stream} {_FROM_HERE}) AS ft{j}"
            for j in range(k_steps)
        ]
    else:
        looks += [
            f"{d.first_value(f'CASE WHEN s{k} THEN r END')} OVER ({stream} {_AFTER}) AS nx{k}"
            for k in range(1, k_steps)
        ]
    steps = [("sig", signature), ("flagged", flagged)]
    if plan.mode == "strict":
        has = ", ".join(
            f"max(CASE WHEN s{j} THEN 1 ELSE 0 END) OVER (PARTITION BY c, t) AS h{j}"
            for j in range(k_steps)
        )
        steps.append(("instants", f"SELECT *, {has} FROM flagged"))
        source = "instants"
        looks += [
            f"min(CASE WHEN h{k - 1} = 0 OR h{k} = 1 THEN t END) "
            f"OVER (PARTITION BY c ORDER BY t {_LATER}) AS ntt{k}"
            for k in range(1, k_steps)
        ]
    else:
        source = "flagged"
    looks += [
        f"min(CASE WHEN x{e} THEN t END) OVER (PARTITION BY c ORDER BY t {_LATER}) AS xt{e}"
        for e in range(n_x)
    ]
    return cte(steps, f"SELECT c, t, r, {', '.join(looks)} FROM {source}")


def _deadline(d: Dialect, plan: Plan, value: str) -> str:
    """``value`` is within the window of the attempt (``TRUE`` without a window)."""
    if plan.window_us is None:
        return "TRUE"
    return f"{value} <= t0 + {d.integer(plan.window_us)}"


def _paths_sql(d: Dialect, events: str, plan: Plan, starts: str) -> str:
    """One row per attempt: the instant of each step reached, and (strict) where it stopped.

    ``starts`` selects the attempts' start events (rows of ``events``).
    """
    k_steps = plan.size
    if plan.mode == "any":
        firsts = ", ".join(f"ft{j}" for j in range(k_steps))
        steps = [("a0", f"SELECT c, t AS t0, r AS r0, {firsts} FROM ({starts}) s")]
        counted = [
            f"CASE WHEN {_deadline(d, plan, f'ft{j}')} THEN ft{j} END" for j in range(k_steps)
        ]
        ordered = d.sorted_array(counted)
        # The earliest step instant is the attempt's start, t0 itself.
        times = ", ".join(f"{d.element(ordered, j)} AS t{j}" for j in range(1, k_steps))
        reached = " + ".join(
            f"CASE WHEN ft{j} IS NOT NULL AND {_deadline(d, plan, f'ft{j}')} THEN 1 ELSE 0 END"
            for j in range(k_steps)
        )
        final = (
            f"SELECT c, t0, r0, {reached} AS reached, CAST(NULL AS BIGINT) AS stop_t, {times} "
            "FROM a0"
        )
        return cte(steps, final)
    lookups = ["nx1"] + (["ntt1"] if plan.mode == "strict" else [])
    steps = [
        (
            "q0",
            f"SELECT c, t AS t0, r AS r0, t AS t_0, CAST(NULL AS BIGINT) AS stop_t, 1 AS reached, "
            f"{', '.join(lookups)} FROM ({starts}) s",
        )
    ]
    previous = "q0"
    kept = ["c", "t0", "r0", "t_0"]
    for k in range(1, k_steps):
        # The candidate event of step k (the next step-k event after step k-1's) and, for the
        # step after, its own lookups: one join on the row id.
        fetch = [f"e.t AS nt{k}"]
        if k + 1 < k_steps:
            fetch.append(f"e.nx{k + 1}")
            if plan.mode == "strict":
                fetch.append(f"e.ntt{k + 1}")
        steps.append(
            (
                f"j{k}",
                f"SELECT q.*, {', '.join(fetch)} FROM {previous} q "
                f"LEFT JOIN {events} e ON e.r = q.nx{k}",
            )
        )
        alive = f"reached = {k}"
        nt = f"nt{k}"
        if plan.mode == "ordered":
            ok = f"{alive} AND {nt} IS NOT NULL AND {_deadline(d, plan, nt)}"
            stop = "stop_t"
        else:
            same = f"({alive} AND {nt} IS NOT NULL AND {nt} = t_{k - 1})"
            turn = f"ntt{k}"
            found = (
                f"({alive} AND NOT {same} AND {turn} IS NOT NULL AND {_deadline(d, plan, turn)})"
            )
            enters = f"({found} AND {nt} IS NOT NULL AND {nt} = {turn})"
            ok = f"{same} OR {enters}"
            stop = f"CASE WHEN {found} AND NOT {enters} THEN {turn} ELSE stop_t END"
        carry = [f"nx{k + 1}"] + ([f"ntt{k + 1}"] if plan.mode == "strict" else [])
        carry = carry if k + 1 < k_steps else []
        row = (
            f"SELECT {', '.join(kept)}, {stop} AS stop_t, "
            f"CASE WHEN {ok} THEN nx{k} END AS r{k}, CASE WHEN {ok} THEN {nt} END AS t_{k}, "
            f"CASE WHEN {ok} THEN {k + 1} ELSE reached END AS reached"
            f"{''.join(', ' + c for c in carry)} FROM j{k}"
        )
        steps.append((f"q{k}", row))
        kept += [f"r{k}", f"t_{k}"]
        previous = f"q{k}"
    times = ", ".join(f"t_{k} AS t{k}" for k in range(1, k_steps))
    rows = ", ".join(f"r{k}" for k in range(k_steps))
    return cte(steps, f"SELECT c, t0, reached, stop_t, {rows}, {times} FROM {previous}")


def _excluded_sql(paths: str, events: str, instants: str, plan: Plan) -> str:
    """The attempts with ``xa{e}``: the first excluded event after the instant of step ``after``.

    It is looked up at the event of step ``after`` (by row id), or, in any
    order, where only the step's instant is known, at that instant.
    """
    joins = []
    columns = []
    for e, (after, _) in enumerate(plan.exclusion_bounds):
        if plan.mode == "any":
            joins.append(f"LEFT JOIN {instants} i{e} ON i{e}.c = a.c AND i{e}.t = a.t{after}")
        else:
            joins.append(f"LEFT JOIN {events} i{e} ON i{e}.r = a.r{after}")
        columns.append(f"i{e}.xt{e} AS xa{e}")
    if not joins:
        return f"SELECT * FROM {paths}"
    return f"SELECT a.*, {', '.join(columns)} FROM {paths} a {' '.join(joins)}"


def _judged_sql(d: Dialect, paths: str, plan: Plan) -> str:
    """Each attempt with ``excluded`` and ``hit_t``, the time of its first excluding event."""
    hits = []
    for e, (after, before) in enumerate(plan.exclusion_bounds):
        x = f"xa{e}"
        inside = f"{x} < t{before}"
        still_open = f"{_deadline(d, plan, x)} AND (stop_t IS NULL OR {x} <= stop_t)"
        hit = (
            f"reached > {after} AND {x} IS NOT NULL AND "
            f"(CASE WHEN reached > {before} THEN {inside} ELSE {still_open} END)"
        )
        hits.append(f"CASE WHEN {hit} THEN {x} END")
    if not hits:
        return f"SELECT *, FALSE AS excluded, CAST(NULL AS BIGINT) AS hit_t FROM {paths}"
    first = hits[0] if len(hits) == 1 else f"least({', '.join(hits)})"
    return (
        f"SELECT *, hit_t IS NOT NULL AS excluded FROM (SELECT *, {first} AS hit_t FROM {paths}) h"
    )


def _successor_sql(d: Dialect, judged: str, plan: Plan) -> str:
    """Each attempt (named by its start row ``r0``) with ``root`` and ``nxt``.

    ``root`` marks a customer's first attempt; ``nxt`` is the attempt that
    starts next (NULL: none). Re-entry: strictly after the first excluding
    event; at the instant that interrupted a strict trial; strictly after the
    window. The lookup "first attempt starting at or after ``key``" is one
    window over the attempts and the keys together (keys first on ties).
    """
    root = "row_number() OVER (PARTITION BY c ORDER BY t0) = 1 AS root"
    if plan.window_us is not None and not plan.exclusions and plan.mode != "strict":
        # Trials close only when their window does: the next one is the first attempt
        # strictly after start + window, one RANGE frame away.
        later = f"RANGE BETWEEN {d.integer(plan.window_us + 1)} FOLLOWING AND UNBOUNDED FOLLOWING"
        return (
            f"SELECT *, {root}, {d.first_value('r0')} "
            f"OVER (PARTITION BY c ORDER BY t0 {later}) AS nxt FROM {judged}"
        )
    window = (
        "CAST(NULL AS BIGINT)"
        if plan.window_us is None
        else f"t0 + {d.integer(plan.window_us)} + 1"
    )
    key = f"CASE WHEN excluded THEN hit_t + 1 WHEN stop_t IS NOT NULL THEN stop_t ELSE {window} END"
    both = (
        f"SELECT c, t0 AS at_key, 1 AS kind, r0 FROM {judged} "
        f"UNION ALL SELECT c, {key} AS at_key, 0 AS kind, r0 FROM {judged} WHERE {key} IS NOT NULL"
    )
    following = "PARTITION BY c ORDER BY at_key, kind"
    lookup = (
        f"SELECT r0, kind, {d.first_value('CASE WHEN kind = 1 THEN r0 END')} "
        f"OVER ({following} {_FROM_HERE}) AS nxt FROM both_keys"
    )
    final = (
        f"SELECT a.*, {root.replace('c ORDER BY t0', 'a.c ORDER BY a.t0')}, l.nxt "
        f"FROM {judged} a LEFT JOIN (SELECT r0, nxt FROM lookup WHERE kind = 0) l ON a.r0 = l.r0"
    )
    return cte([("both_keys", both), ("lookup", lookup)], final)


def funnel_program(
    runner: Runner, ev: str, plan: Plan, kinds: str, stages: str, batches: int = 1
) -> str:
    """Materialise the attempts and (trials) the chains; return the outcomes' SQL.

    The outcomes: one row per customer with an attempt, ``customer_id``,
    ``reached`` (0: excluded), ``excluded``, ``t0`` (the chosen attempt's
    start) and ``t1 .. t{K-1}`` (the instant of each step reached, else NULL).

    Customers are independent, so with ``batches > 1`` they are split by a
    hash of their id and each batch runs on its own, its outcomes kept in a
    table and its working tables dropped before the next: the memory a run
    needs is that of one batch (the numpy engine cuts its chunks the same
    way, for its caches).
    """
    if batches <= 1:
        return _program(runner, ev, plan, kinds, stages)
    d = runner.dialect
    parts = []
    for i in range(batches):
        part = runner.fresh("funnel_batch")
        runner.view(part, f"SELECT * FROM {ev} WHERE {d.bucket('customer_id', batches)} = {i}")
        mark = runner.mark()
        outcomes = runner.fresh("funnel_outcomes")
        runner.table(outcomes, _program(runner, part, plan, kinds, stages))
        runner.release(mark, outcomes)
        parts.append(f"SELECT * FROM {outcomes}")
    return " UNION ALL ".join(parts)


def _program(runner: Runner, ev: str, plan: Plan, kinds: str, stages: str) -> str:
    """The outcomes' SQL of the customers of ``ev`` (see ``funnel_program``)."""
    d = runner.dialect
    events = runner.fresh("funnel_events")
    runner.table(events, _events_sql(d, ev, kinds, stages, plan))
    instants = events
    if plan.exclusions and plan.mode == "any":
        instants = runner.fresh("funnel_instants")
        looks = ", ".join(f"xt{e}" for e in range(len(plan.exclusions)))
        runner.view(instants, f"SELECT DISTINCT c, t, {looks} FROM {events}")
    starts = f"SELECT * FROM {events} WHERE start"
    attempts = runner.fresh("funnel_attempts")
    if plan.counting == "trials" and not plan.exclusions and plan.mode != "strict":
        # Trials then close only when their window does (as in the numpy engine): chain the
        # starts first, and follow the paths of the real trials only.
        bare = runner.fresh("funnel_starts")
        runner.table(
            bare,
            f"SELECT c, t AS t0, r AS r0, FALSE AS excluded, CAST(NULL AS BIGINT) AS hit_t, "
            f"CAST(NULL AS BIGINT) AS stop_t FROM {events} WHERE start",
        )
        trials = _chain(runner, bare, plan)
        starts = f"SELECT e.* FROM {events} e JOIN {trials} s ON e.r = s.r0"
        runner.table(attempts, cte([("paths", _paths_sql(d, events, plan, starts))],
                                   _judged_sql(d, "paths", plan)))  # fmt: skip
        chosen = attempts
    else:
        steps = [
            ("paths", _paths_sql(d, events, plan, starts)),
            ("marked", _excluded_sql("paths", events, instants, plan)),
        ]
        runner.table(attempts, cte(steps, _judged_sql(d, "marked", plan)))
        chosen = _chain(runner, attempts, plan) if plan.counting == "trials" else attempts
    score = "CASE WHEN excluded THEN 0 ELSE reached END"
    tie = "DESC" if plan.counting == "max_step" else "ASC"
    best = (
        f"SELECT *, row_number() OVER (PARTITION BY c ORDER BY {score} DESC, t0 {tie}) AS pick "
        f"FROM {chosen}"
    )
    times = ", ".join(f"CASE WHEN {score} > {k} THEN t{k} END AS t{k}" for k in range(1, plan.size))
    return (
        f"SELECT c AS customer_id, {score} AS reached, excluded, t0, {times} "
        f"FROM ({best}) b WHERE pick = 1"
    )


def _chain(runner: Runner, attempts: str, plan: Plan) -> str:
    """The attempts on each customer's chain of trials, following the successors."""
    d = runner.dialect
    counts = f"SELECT count(*) AS n, max(t0) - min(t0) AS span FROM {attempts} GROUP BY c"
    most, span = runner.rows(f"SELECT max(n), max(span) FROM ({counts}) x")[0]
    longest = int(most or 0)
    if plan.window_us is not None and not plan.exclusions and plan.mode != "strict":
        # Trials a window apart: no chain is longer than the longest span allows.
        longest = min(longest, int(span or 0) // (plan.window_us + 1) + 1)
    if longest <= 1:  # each customer's first attempt is the only trial
        if int(most or 0) <= 1:
            return attempts
        firsts = runner.fresh("funnel_firsts")
        runner.view(
            firsts,
            "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY c ORDER BY t0) AS crm_first "
            f"FROM {attempts}) a WHERE crm_first = 1",
        )
        return firsts
    links = runner.fresh("funnel_links")
    runner.table(links, _successor_sql(d, attempts, plan))
    if longest <= _FRONTIER_ROUNDS + 1:
        reached = _walk(runner, links, longest)
    else:
        reached = _doubling(runner, links, longest)
    trials = runner.fresh("funnel_trials")
    runner.view(trials, f"SELECT l.* FROM {links} l JOIN {reached} r ON l.r0 = r.id")
    return trials


def _walk(runner: Runner, links: str, longest: int) -> str:
    """The chains from the roots, link by link: each round joins only the frontier."""
    frontier = runner.fresh("funnel_frontier")
    runner.view(frontier, f"SELECT r0 AS id FROM {links} WHERE root")
    parts = [frontier]
    for _ in range(longest - 1):
        step = runner.fresh("funnel_frontier")
        runner.table(
            step,
            f"SELECT l.nxt AS id FROM {frontier} f JOIN {links} l ON l.r0 = f.id "
            "WHERE l.nxt IS NOT NULL",
        )
        parts.append(step)
        frontier = step
    reached = runner.fresh("funnel_chain")
    runner.view(reached, " UNION ALL ".join(f"SELECT id FROM {part}" for part in parts))
    return reached


def _doubling(runner: Runner, links: str, longest: int) -> str:
    """The chains from the roots by pointer doubling: ``log2(longest)`` rounds over all links."""
    reached = runner.fresh("funnel_chain")
    runner.view(reached, f"SELECT r0 AS id FROM {links} WHERE root")
    jump = runner.fresh("funnel_jump")
    runner.view(jump, f"SELECT r0 AS id, nxt FROM {links}")
    covered = 1
    while covered < longest:  # after this round the chain's first 2 * covered trials are known
        grown = runner.fresh("funnel_chain")
        runner.table(
            grown,
            f"SELECT id FROM {reached} UNION SELECT j.nxt AS id FROM {reached} r "
            f"JOIN {jump} j ON r.id = j.id WHERE j.nxt IS NOT NULL",
        )
        covered *= 2
        if covered < longest:
            doubled = runner.fresh("funnel_jump")
            runner.table(
                doubled,
                f"SELECT a.id, b.nxt FROM {jump} a LEFT JOIN {jump} b ON a.nxt = b.id",
            )
            jump = doubled
        reached = grown
    return reached


_QUANTILES: Final = (0.25, 0.5, 0.75, 0.9)
_FRONTIER_ROUNDS: Final = 16
"""Chains up to this many links are walked link by link; longer ones are followed by pointer
doubling (the numpy engine switches the same way)."""
_REQUIRED: Final = ("at_us", "kind")
_REQUIRED_NAMES: Final = ("at", "kind")
_US_PER_S: Final = 1e6


def funnel_plan(
    runner: Runner,
    ev: str,
    steps: object,
    window: object,
    mode: object,
    exclusions: object,
    counting: object,
    allow_unseen_kinds: bool,
) -> tuple[Plan, str, str]:
    """Check the funnel as numpy does (kinds against the log), run it.

    Returns the plan, the view of the events with a customer (rows without
    one are left out, as the loaders leave them out) and the outcomes' SQL.
    """
    funnel = plan(steps, window, mode, exclusions, counting)  # type: ignore[arg-type]
    kinds_table, stages_table = matcher_tables(funnel)
    kinds, stages = runner.fresh("funnel_kinds"), runner.fresh("funnel_stages")
    runner.arrow_view(kinds, kinds_table)
    runner.arrow_view(stages, stages_table)
    nulls = ", ".join(f"min(CASE WHEN e.{column} IS NULL THEN e.{ROW} END)" for column in _REQUIRED)
    row = runner.rows(
        f"SELECT {nulls}, count(DISTINCT CASE WHEN e.customer_id IS NOT NULL THEN k.value END), "
        f"count(e.customer_id) FROM {ev} e LEFT JOIN {kinds} k ON e.kind = k.value"
    )[0]
    for name, first in zip(_REQUIRED_NAMES, row[:2], strict=True):
        if first is not None:
            raise ValidationError(
                f"row {first}: {name}", None, "is required (column is not nullable)"
            )
    customers = runner.fresh("funnel_customers")
    runner.view(customers, f"SELECT * FROM {ev} WHERE customer_id IS NOT NULL")
    if row[2] < kinds_table.num_rows:  # some kind step is in no event: name it
        seen = runner.rows(
            f"SELECT DISTINCT e.kind FROM {customers} e JOIN {kinds} k ON e.kind = k.value"
        )
        funnel.check_kinds({str(r[0]) for r in seen}, allow_unseen_kinds)
    batches = runner.batches(int(row[3]))
    return funnel, customers, funnel_program(runner, customers, funnel, kinds, stages, batches)


def funnel_report_of(runner: Runner, ev: str, funnel: Plan, outcomes: str) -> FunnelReport:
    """The report: counts per step, time-to-convert statistics, all aggregated in the engine."""
    d = runner.dialect
    parts = ["count(*) AS entered_any", "sum(CASE WHEN reached = 0 THEN 1 ELSE 0 END) AS excluded"]
    parts += [f"sum(CASE WHEN reached > {k} THEN 1 ELSE 0 END) AS n{k}" for k in range(funnel.size)]
    for k in range(1, funnel.size):
        delta = f"CASE WHEN reached > {k} THEN t{k} - {'t0' if k == 1 else f't{k - 1}'} END"
        parts += [
            f"avg({d.to_double(delta)}) AS mean{k}",
            f"{d.quantiles(delta, _QUANTILES)} AS q{k}",
        ]
    row = runner.fetch(
        f"SELECT * FROM (SELECT {', '.join(parts)} FROM ({outcomes}) o) a "
        f"CROSS JOIN (SELECT count(DISTINCT customer_id) AS customers FROM {ev}) b"
    ).to_pylist()[0]
    customers = int(row["customers"])
    counts = [int(row[f"n{k}"] or 0) for k in range(funnel.size)]
    times: list[ConversionTime | None] = [None]
    for k in range(1, funnel.size):
        n = counts[k]
        if not n:
            times.append(ConversionTime(0, None, None, None, None, None))
            continue
        q = [float(v) / _US_PER_S for v in row[f"q{k}"]]
        times.append(ConversionTime(n, float(row[f"mean{k}"]) / _US_PER_S, q[1], q[0], q[2], q[3]))
    return build_report(funnel, customers, counts, int(row["excluded"] or 0), times)
