"""Rewrite ``tests/sweep_escapes.py`` from a fresh sweep: ``python -m tests.sweep_survey``.

Run it from the repository root after fixing escapes, or when the public API changed, and
review the diff: an entry that disappears from ``EXPECTED`` is a fixed escape, an entry that
appears is a *new defect* to fix rather than to accept, and ``UNREACHED`` lists the callables
that still need a valid value in ``BASE`` (``tests/sweep_world.py``). Escapes in the files
named by ``--owned`` are printed and not written: fix those first.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import warnings
from collections import OrderedDict
from pathlib import Path

from tests import sweep_kit as kit
from tests import sweep_world as world
from tests.test_bad_input_sweep import SECONDS, TARGETS, snapshots

HINTS = {
    "crmcore/services/": (
        "check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', "
        "None))`: ValidationError('store', ...)) and that a `change`/`operation` callback "
        "returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore/storage/repositories.py": (
        "validate ids with kernel.ids.validate_id in BufferedRepository.get/find/find_many and "
        "BufferedRecordRepository.get/find/for_customer (a list as an id is unhashable)"
    ),
    "crmcore/kernel/frozen.py": (
        "FrozenDict.__init__: accept a Mapping or an iterable of pairs, else "
        "ValidationError('data', ...); FrozenDict.set/get: an unhashable key is a ValidationError"
    ),
    "crmcore/kernel/machine.py": (
        "Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the "
        "state/trigger is a member of the machine's enum before the dict lookup"
    ),
    "crmcore/kernel/arrays.py": (
        "kernel.arrays.read_only: np.asarray the value first, or have the report constructors "
        "validate their arrays (ValidationError naming the column)"
    ),
    "crmcore/kernel/events.py": (
        "Outcome(events=...) and Outcome.collect: validators.instances_of(events, DomainEvent, "
        "'events')"
    ),
}


def _reason(target: str, escapes: list[kit.Escape], half_written: list[str]) -> str:
    groups: OrderedDict[tuple[str, str, str], list[str]] = OrderedDict()
    for escape in escapes:
        error = escape.error.split(":", 1)[0]
        place = escape.where.split(":")[0] + " " + escape.where.rsplit(" ", 1)[-1]
        groups.setdefault((escape.parameter, error, place), []).append(escape.hostile)
    parts = [f"a refused call with {h} changed the store" for h in half_written[:1]]
    for (parameter, error, place), hostiles in list(groups.items())[:3]:
        hint = next((text for prefix, text in HINTS.items() if place.startswith(prefix)), None)
        fix = hint or (
            f"validate {parameter} where it enters ({target.rsplit('.', 1)[-1]}) with a "
            "ValidationError naming it"
        )
        parts.append(f"{parameter} ({', '.join(hostiles[:2])}): {error} in {place}; fix: {fix}")
    more = len(groups) - 3
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _literal(entries: dict[str, str]) -> str:
    lines = []
    for name, text in entries.items():
        clean = text.replace("\\", "\\\\").replace('"', "'")
        lines.append(f'    "{name}": (\n        "{clean}"\n    ),')
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owned", nargs="*", default=[], help="path prefixes of your files")
    args = parser.parse_args()
    target_file = Path(__file__).with_name("sweep_escapes.py")
    header = target_file.read_text(encoding="utf-8").split("EXPECTED: Final", 1)[0]
    warnings.simplefilter("error")
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        pool = kit.build_pool(world.BASE, world.NAMES, world.FRESH, world.world(), seconds=SECONDS)
        found = kit.survey(pool, TARGETS, lambda p: snapshots(p), seconds=SECONDS)
    owned = [
        e for es in found.escapes.values() for e in es if e.where.startswith(tuple(args.owned))
    ]
    for escape in owned:
        print("in your files:", escape)
    expected = {
        name: _reason(name, escapes, found.half_written.get(name, []))
        for name, escapes in sorted(found.escapes.items())
        if (escapes or found.half_written.get(name)) and not any(e in owned for e in escapes)
    }
    unreached = _literal(dict(sorted(found.unreached.items())))
    body = (
        f"EXPECTED: Final[dict[str, str]] = {{\n{_literal(expected)}\n}}\n\n"
        f"UNREACHED: Final[dict[str, str]] = {{\n{unreached}\n}}\n"
    )
    target_file.write_text(header + body, encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", "-q", str(target_file)],
        check=True,
        cwd=target_file.parent,  # the sweep may have left a temporary working directory
    )
    print(
        f"{found.calls} hostile calls; {len(expected)} callables with escapes, "
        f"{len(found.unreached)} unreached; rewrote {target_file}"
    )
    return 1 if owned else 0


if __name__ == "__main__":
    sys.exit(main())
