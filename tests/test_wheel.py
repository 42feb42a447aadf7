"""The wheel a user installs: built from the source, installed outside the repository, used.

Issue 17's "done when": from a wheel installed outside the repository with only
``pip install 'crmcore[plot,pandas,models]'``, a user gets RFM, cohorts, CLV and
plots from an Online-Retail-shaped CSV with one command each, or three lines of
Python each, and the install prints no warning about crmcore's metadata.

Offline by construction: the wheel is built with ``--no-build-isolation`` (the
environment's setuptools), and installed with ``--no-index`` into a fresh venv
whose only other packages are the dependencies already installed here, seen
through a directory of links that leaves out crmcore itself (so nothing can be
imported from the source tree by accident). pip then resolves
``crmcore[plot,pandas,models]`` against them, which checks the extras' metadata.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS_FOR_SPDX = (77, 0)  # the first setuptools to read `license = "MIT"` (PEP 639)
COLUMNS = ["--customer", "CustomerID", "--at", "InvoiceDate", "--order", "InvoiceNo",
           "--quantity", "Quantity", "--unit-price", "UnitPrice", "--cancellations", "^C",
           "--tz", "UTC"]  # fmt: skip
READ = (
    'TransactionLog.from_csv("orders.csv", columns=datasets.ONLINE_RETAIL_COLUMNS, tz="UTC", '
    'extra="ignore", cancellations="^C")'
)
IMPORTS = (
    "from crmcore import TransactionLog, analytics, datasets; "
    "from datetime import UTC, datetime; AS_OF = datetime(2011, 12, 10, tzinfo=UTC)"
)
THREE_LINES = {  # what each analysis takes in Python: three lines, the imports included
    "rfm": f"{IMPORTS}\nlog = {READ}\n"
    "print(analytics.rfm_scores(log, AS_OF).summary().to_pandas().to_csv())",
    "cohorts": f"{IMPORTS}\nlog = {READ}\n"
    "print(analytics.cohort_matrix(log, AS_OF).to_pandas().to_csv())",
    "clv": f"{IMPORTS}\n"
    f's = analytics.summary_from_transactions({READ}, AS_OF, "D", time_unit="W")\n'
    "print(analytics.customer_lifetime_value(analytics.fit_bgnbd(s), "
    "analytics.fit_gamma_gamma(s), s, months=12).to_pandas().to_csv())",
    "plots": f'{IMPORTS}; import matplotlib; matplotlib.use("Agg")\nlog = {READ}\n'
    'analytics.rfm_scores(log, AS_OF).plot().figure.savefig("rfm.png"); '
    'analytics.cohort_matrix(log, AS_OF).plot().figure.savefig("cohorts.png")',
}


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in metadata.version(name).split(".")[:2] if p.isdigit())


def _clean_env() -> dict[str, str]:
    """The environment without anything that could put the source tree on ``sys.path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``args``; its standard output (the error output too when it fails)."""
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{' '.join(args[:4])}...:\n{done.stdout[-3000:]}\n{done.stderr}"
    return done.stdout


def _log(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``args``; everything it printed, for a search for warnings."""
    done = subprocess.run(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{' '.join(args[:4])}...:\n{done.stdout[-5000:]}"
    return done.stdout


def source_copy(target: Path) -> Path:
    """What a source distribution holds, copied, so the build leaves the repository untouched."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, target / name)
    shutil.copytree(
        ROOT / "src", target / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    return target


def build_wheel(source: Path, dist: Path) -> tuple[Path, str]:
    """The wheel of ``source`` and the build's output (for warnings)."""
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    log = _log([*pip, "--no-index", "-w", str(dist), str(source)], cwd=source)
    (wheel,) = dist.glob("crmcore-*.whl")
    return wheel, log


def dependencies_view(target: Path) -> Path:
    """Links to every package installed here except crmcore (and the installers)."""
    target.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    skip = ("crmcore", "__editable__", "pip", "setuptools", "_distutils_hack", "distutils-")
    for entry in site.iterdir():
        if not entry.name.startswith(skip) and entry.suffix != ".pth":
            (target / entry.name).symlink_to(entry)
    return target


def fresh_venv(target: Path, dependencies: Path) -> Path:
    """A venv with no pip of its own (ours installs into it) that sees ``dependencies``."""
    _run([sys.executable, "-m", "venv", "--without-pip", str(target)], cwd=target.parent)
    python = target / "bin" / "python"
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        cwd=target.parent,
        env=_clean_env(),
    ).strip()
    (Path(purelib) / "crmcore_test_dependencies.pth").write_text(f"{dependencies}\n")
    return python


def install(python: Path, wheel: Path) -> str:
    """``pip install 'crmcore[plot,pandas,models]'`` from the wheel alone; what pip printed."""
    return _log(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index",
         "--find-links", str(wheel.parent), "--no-cache-dir", "crmcore[plot,pandas,models]"],
        cwd=wheel.parent, env=_clean_env(),
    )  # fmt: skip


def test_the_wheel_installs_cleanly_and_works_outside_the_repository(tmp_path: Path) -> None:
    setuptools = _version("setuptools")
    assert setuptools >= SETUPTOOLS_FOR_SPDX, (
        f"setuptools {metadata.version('setuptools')} cannot build the wheel offline "
        "(pyproject's SPDX `license`): the dev extra needs setuptools>=77"
    )
    wheel, build_log = build_wheel(source_copy(tmp_path / "source"), tmp_path / "dist")
    assert not [line for line in build_log.splitlines() if "Deprecat" in line], build_log
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    data = {n for n in names if n.startswith("crmcore/datasets/data/cdnow/")}
    assert {n.rsplit("/", 1)[1] for n in data} >= {
        "CDNOW_sample.txt", "cdnow_customers_summary_with_transactions.csv",
    }, "package data: add 'datasets/data/cdnow/*' to [tool.setuptools.package-data]"  # fmt: skip
    assert "crmcore/py.typed" in names

    python = fresh_venv(tmp_path / "venv", dependencies_view(tmp_path / "dependencies"))
    log = install(python, wheel)
    assert "Successfully installed crmcore-" in log
    noise = [n for n in log.splitlines() if "WARNING" in n.upper() or "DEPRECAT" in n.upper()]
    assert noise == [], log

    user = tmp_path / "user"  # a user's directory, far from the repository
    user.mkdir()
    env = _clean_env()
    setup = textwrap.dedent("""
        import crmcore
        from crmcore.datasets import load_cdnow, load_cdnow_summary, online_retail_csv
        online_retail_csv("orders.csv", customers=300, seed=3)
        print(crmcore.__file__)
        print(len(load_cdnow()), len(load_cdnow_summary()))   # shipped as package data
    """)
    where, cdnow = _run([str(python), "-c", setup], user, env).splitlines()
    assert where.startswith(str(tmp_path / "venv")), where  # the wheel's, not the source's
    assert cdnow.split() == ["6919", "2357"]

    # One command each (the console script, and python -m)
    command = str(tmp_path / "venv" / "bin" / "crmcore")
    rfm = _run([command, "rfm", "orders.csv", *COLUMNS, "--csv"], user, env)
    assert rfm.splitlines()[0].startswith("segment,") and "Champions" in rfm
    cohorts = _run([str(python), "-m", "crmcore", "cohorts", "orders.csv", *COLUMNS], user, env)
    assert "2010-12" in cohorts and "100.0%" in cohorts
    clv = json.loads(_run([command, "clv", "orders.csv", *COLUMNS, "--json"], user, env))
    assert clv["months"] == 12 and clv["customers"] > 100

    # Three lines of Python each (run one after the other, each in a namespace of its own)
    assert all(len(program.splitlines()) <= 3 for program in THREE_LINES.values())
    runner = "import json, sys\nfor p in json.load(sys.stdin): print('=' * 8); exec(p, {})"
    programs = json.dumps(list(THREE_LINES.values()))
    done = subprocess.run(
        [str(python), "-c", runner], cwd=user, env=env, input=programs, capture_output=True,
        text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    outputs = dict(zip(THREE_LINES, done.stdout.split("=" * 8 + "\n")[1:], strict=True))
    assert outputs["rfm"].startswith(",name,customers") and "Champions" in outputs["rfm"]
    assert outputs["cohorts"].startswith(",cohort,start,size,offset")
    assert outputs["clv"].startswith(",customer_id,clv") and outputs["clv"].count("\n") > 100
    for figure in ("rfm.png", "cohorts.png"):
        assert (user / figure).read_bytes()[:4] == b"\x89PNG"
