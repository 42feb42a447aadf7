"""Regenerate the "Where each idea lives" tables of docs/architecture.md.

Each row is a module and the first line of its docstring, grouped by the
top-level package it lives in. Run it after adding, moving or re-describing a
module; `tests/test_architecture.py` fails while a module is missing.

    python scripts/module_table.py          # rewrite the page in place
    python scripts/module_table.py --check  # exit 1 if the page is stale
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "crmcore"
PAGE = ROOT / "docs" / "architecture.md"
START = "## Where each idea lives\n"
END = "## What moved in 0.2\n"
#: Groups in the order the page reads them: ground floor first, glue last.
ORDER = (
    "kernel",
    "customers",
    "columnar",
    "funnel",
    "lifecycle",
    "journey",
    "segments",
    "analytics",
    "loyalty",
    "feedback",
    "sales",
    "marketing",
    "plotting",
    "engines",
    "(top level)",
    "storage",
    "services",
    "datasets",
    "testing",
    "demo",
)


def _first_line(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    summary = " ".join(doc.strip().split("\n\n")[0].split())
    return summary.replace("|", "\\|")


def _rows() -> dict[str, list[tuple[str, str]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__main__" or (len(parts) == 1 and parts[0] == "__init__"):
            continue
        is_package = parts[-1] == "__init__"
        dotted = ".".join(parts[:-1] if is_package else parts)
        group = parts[0] if len(parts) > 1 else "(top level)"
        name = f"`{dotted}`/" if is_package else f"`{dotted}`"
        groups.setdefault(group, []).append((name, _first_line(path)))
    for rows in groups.values():
        rows.sort(key=lambda row: row[0].strip("`/").split("."))
    return groups


def render() -> str:
    groups = _rows()
    unknown = sorted(set(groups) - set(ORDER))
    if unknown:
        raise SystemExit(f"add {unknown} to ORDER in {__file__}")
    out = [START]
    for group in ORDER:
        if group not in groups:
            continue
        out += [f"\n### {group}\n\n", "| module | the idea it holds |\n", "|---|---|\n"]
        out += [f"| {name} | {line} |\n" for name, line in groups[group]]
    out.append("\n")
    return "".join(out)


def main(argv: list[str]) -> int:
    text = PAGE.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    fresh = head + render() + END + tail
    if "--check" in argv:
        if fresh != text:
            print("docs/architecture.md is stale: run python scripts/module_table.py")
            return 1
        return 0
    PAGE.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
