"""Every ```python block in README.md and docs/*.md runs, in order, one namespace per page."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
NEEDS = re.compile(r"<!-- docs-test: needs (\w+) -->")  # a page whose examples need a server


def test_the_pages_have_runnable_examples() -> None:
    runnable = [p.name for p in PAGES if BLOCK.search(p.read_text(encoding="utf-8"))]
    assert {"README.md", "quickstart.md", "customers.md", "storage.md"} <= set(runnable)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = page.read_text(encoding="utf-8")
    blocks = BLOCK.findall(text)
    if not blocks:
        pytest.skip("no runnable examples")
    for variable in NEEDS.findall(text):
        if not os.environ.get(variable):
            if os.environ.get("CI") == "true":
                pytest.fail(f"{page.name} needs {variable}, and under CI=true it must run")
            pytest.skip(f"{page.name} needs {variable} (e.g. source .ci/parts/10-postgres.sh)")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(blocks, 1):
        try:
            exec(compile(block, f"{page.name}[block {number}]", "exec"), namespace)
        except Exception as error:  # pragma: no cover - the message is the point
            raise AssertionError(f"{page.name}, block {number} failed: {error!r}") from error
    assert os.getcwd() == str(tmp_path)  # no example changed directory behind our back
