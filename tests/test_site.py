"""The documentation site builds with no warning, and no Sphinx role or raw doctest reaches it.

A reader sees rendered links and code blocks, never ``:class:`` markers, never a
doctest shown as nested quotes, never a reference that did not resolve.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj|ref):`")
QUOTED_DOCTEST = re.compile(r"<blockquote>\s*<p>&gt;&gt;&gt;")
UNRESOLVED = re.compile(r"\]\[crmcore\.[\w.]+\]|<autoref ")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    warnings = [line for line in build.stderr.splitlines() if "WARNING" in line]
    assert build.returncode == 0 and not warnings, "\n".join(warnings) or build.stderr[-2000:]
    return out


def _pages(site: Path) -> list[Path]:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 20
    return pages


def test_no_role_marker_reaches_the_html(site: Path) -> None:
    found = [
        f"{page.relative_to(site)}: {m.group(0)}"
        for page in _pages(site)
        for m in ROLE.finditer(page.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_examples_render_as_code_not_quotes(site: Path) -> None:
    quoted = [p.name for p in _pages(site) if QUOTED_DOCTEST.search(p.read_text("utf-8"))]
    assert quoted == []
    reference = (site / "reference" / "kernel" / "index.html").read_text(encoding="utf-8")
    assert "&gt;&gt;&gt;" in reference and "<code" in reference


def test_every_cross_reference_resolved(site: Path) -> None:
    broken = [
        f"{page.relative_to(site)}: {m.group(0)}"
        for page in _pages(site)
        for m in UNRESOLVED.finditer(page.read_text(encoding="utf-8"))
    ]
    assert broken == []
    machine = (site / "reference" / "kernel" / "index.html").read_text(encoding="utf-8")
    assert 'href="#crmcore.kernel.errors.IllegalTransitionError"' in machine
