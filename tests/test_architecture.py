"""The architecture page names the file of every idea, and the structure keeps its promises."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import crmcore

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "crmcore"
PAGE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(crmcore.__path__, "crmcore."):
        if not info.name.endswith("__main__"):
            names.append(info.name.removeprefix("crmcore."))
    return names


def test_the_architecture_page_lists_every_module() -> None:
    modules = _modules()
    assert len(modules) > 150
    missing = [m for m in modules if f"`{m}`" not in PAGE]
    assert missing == [], "add these modules to docs/architecture.md"


def test_no_source_file_is_over_700_lines() -> None:
    sizes = {p.relative_to(SRC): len(p.read_text().splitlines()) for p in SRC.rglob("*.py")}
    assert {str(p): n for p, n in sizes.items() if n > 700} == {}


def test_no_crmcore_import_inside_a_function() -> None:
    """Function-level imports of crmcore modules would hide a circle (TYPE_CHECKING is fine)."""
    offenders = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom):
                        imported = [inner.module or ""]
                    elif isinstance(inner, ast.Import):
                        imported = [alias.name for alias in inner.names]
                    else:
                        continue
                    if any(name.startswith("crmcore") for name in imported):
                        offenders.append(f"{path.relative_to(SRC)}:{inner.lineno}")
    assert offenders == []


def test_the_kernel_imports_no_domain_module() -> None:
    offenders = []
    for path in (SRC / "kernel").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
            if module.startswith("crmcore.") and not module.startswith("crmcore.kernel"):
                offenders.append(f"{path.relative_to(SRC)}: {module}")
    assert offenders == []


def test_domain_modules_do_not_import_storage_services_or_the_cli() -> None:
    domain = ["customers", "columnar", "funnel", "lifecycle", "journey", "segments"]
    domain += ["analytics", "loyalty", "feedback"]
    upper = ("crmcore.storage", "crmcore.services", "crmcore.cli", "crmcore.demo", "crmcore.ports")
    offenders = []
    for area in domain:
        for path in (SRC / area).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(upper):
                    offenders.append(f"{path.relative_to(SRC)}: {node.module}")
    assert offenders == []


#: Modules that are an application, not an API: the command line and the demo script.
NOT_IN_THE_REFERENCE = ("cli", "cli_files", "demo")


def test_the_api_reference_documents_every_public_module() -> None:
    pages = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "reference").glob("*.md")
    )
    listed = {
        line.removeprefix("::: ").strip() for line in pages.splitlines() if line.startswith("::: ")
    }
    public = [
        m
        for m in _modules()
        if not any(part.startswith("_") for part in m.split("."))
        and m.split(".")[0] not in NOT_IN_THE_REFERENCE
    ]
    assert [m for m in public if f"crmcore.{m}" not in listed] == [], (
        "add ::: lines to docs/reference"
    )
