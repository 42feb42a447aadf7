"""The Spark example of the guide *Analytics at scale* (``docs/scale.md``) runs, with Spark.

``tests/test_docs.py`` runs the page's ``python`` blocks everywhere; the
Spark block is a ``py`` block (it needs Java), run here after them, in the
same namespace, with the module's local Spark session active.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "scale.md"


def _blocks(language: str) -> list[str]:
    text = PAGE.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def test_the_spark_example_runs(
    spark_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spark_blocks = [block for block in _blocks("py") if "pyspark" in block]
    assert spark_blocks, "the page lost its Spark example"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs_scale_spark"}
    for number, block in enumerate(_blocks("python") + spark_blocks, 1):
        exec(compile(block, f"scale.md[block {number}]", "exec"), namespace)
    assert (tmp_path / "rfm-spark").is_dir()
