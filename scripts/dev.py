#!/usr/bin/env python3
"""Developer entry point: sets itself up, then runs the demo, the checks or a benchmark.

    python scripts/dev.py demo [demo options...]   # the demo on embedded SQLite
    python scripts/dev.py test [pytest args...]    # tests + mypy --strict + ruff + mkdocs --strict
    python scripts/dev.py bench NAME [args...]     # benchmarks/bench_NAME.py

It needs only Python >= 3.11 with pip: it creates ``.venv`` beside this
repository's ``pyproject.toml`` and installs crmcore (editable) with what the
command needs, re-installing only when ``pyproject.toml`` changes. Every step
runs even when an earlier one fails; the exit status is non-zero if any failed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _run(cmd: list[str], **kwargs: object) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT, **kwargs)  # type: ignore[arg-type]


def ensure_env(extras: str) -> None:
    """Create .venv and install crmcore[extras] unless already done for this pyproject."""
    if sys.version_info < (3, 11):
        sys.exit(f"crmcore needs Python >= 3.11, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{extras or 'base'}-{digest}"
    if stamp.exists():
        return
    target = f".[{extras}]" if extras else "."
    steps = [
        [str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [str(PYTHON), "-m", "pip", "install", "--quiet", "-e", target],
    ]
    for step in steps:
        if _run(step) != 0:
            sys.exit(f"installing {target} failed")
    stamp.touch()


def demo(args: list[str]) -> int:
    ensure_env("models")
    return _run([str(PYTHON), "-m", "crmcore", "demo", *args])


def test(args: list[str]) -> int:
    ensure_env("dev")
    checks = [
        ("tests", [str(PYTHON), "-m", "pytest", *args]),
        ("mypy --strict", [str(PYTHON), "-m", "mypy", "--strict", "src"]),
        ("ruff check", [str(PYTHON), "-m", "ruff", "check", "src", "tests", "benchmarks"]),
        ("ruff format", [str(PYTHON), "-m", "ruff", "format", "--check", "src", "tests"]),
        # Warnings stay visible: --strict turns each into a failure.
        ("mkdocs --strict", [str(PYTHON), "-m", "mkdocs", "build", "--strict",
                             "--site-dir", str(ROOT / ".site")]),
    ]  # fmt: skip
    failed = []
    for name, cmd in checks:
        if _run(cmd) != 0:
            failed.append(name)
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("\nall checks passed: " + ", ".join(name for name, _ in checks))
    return 0


def bench(args: list[str]) -> int:
    ensure_env("dev")
    if not args:
        scripts = (ROOT / "benchmarks").glob("bench_*.py")
        names = sorted(p.stem.removeprefix("bench_") for p in scripts)
        print("benchmarks:", ", ".join(names))
        return 2
    script = ROOT / "benchmarks" / f"bench_{args[0]}.py"
    if not script.exists():
        print(f"no benchmark {script.name}", file=sys.stderr)
        return 2
    return _run([str(PYTHON), str(script), *args[1:]])


def main() -> int:
    commands = {"demo": demo, "test": test, "bench": bench}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
