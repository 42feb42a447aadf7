"""Old import paths of modules that moved, kept working for one release with a warning.

0.2 gathered the foundation modules into [`crmcore.kernel`][crmcore.kernel], moved the
synthetic data generator to [`crmcore.datasets`][crmcore.datasets], and split or renamed the
modules that held several ideas. ``import crmcore.money``
(or ``from crmcore.money import Money``) still works until 0.3: a finder on
``sys.meta_path`` answers each old name in `MOVED_MODULES` with the
module at its new path and raises a `DeprecationWarning` naming it. The
names exported by [`crmcore`][crmcore] itself did not move.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Mapping, Sequence
from types import MappingProxyType, ModuleType
from typing import Final

__all__ = ["MOVED_MODULES", "install"]

MOVED_MODULES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "crmcore.clock": "crmcore.kernel.clock",
        "crmcore.codec": "crmcore.kernel.codec",
        "crmcore.errors": "crmcore.kernel.errors",
        "crmcore.events": "crmcore.kernel.events",
        "crmcore.frozen": "crmcore.kernel.frozen",
        "crmcore.ids": "crmcore.kernel.ids",
        "crmcore.money": "crmcore.kernel.money",
        "crmcore.reports": "crmcore.kernel.reports",
        "crmcore.stage": "crmcore.kernel.stage",
        "crmcore.funnel.stage": "crmcore.kernel.stage",
        "crmcore.synthetic": "crmcore.datasets.synthetic",
        # Modules split or renamed in 0.2: the new module, or the package that re-exports
        # every name the old module had.
        "crmcore.analytics.tiers": "crmcore.analytics.value_tiers",
        "crmcore.feedback.metrics": "crmcore.feedback",
        "crmcore.journey.reference": "crmcore.journey._reference",
        "crmcore.lifecycle.batch": "crmcore.lifecycle",
        "crmcore.loyalty.batch": "crmcore.loyalty.ledger_batch",
        "crmcore.loyalty.tier_events": "crmcore.loyalty.events",
        "crmcore.segments.vectorized": "crmcore.segments.evaluate_batch",
        "crmcore.storage.base": "crmcore.storage",
        "crmcore.storage.sqlite_schema": "crmcore.storage.sqlite.schema",
    }
)
"""Old module path -> new module path."""


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves an old module path to the module that now lives elsewhere."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED_MODULES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED_MODULES[spec.name]
        warnings.warn(
            f"{spec.name} moved to {new}; the old path will be removed in crmcore 0.3",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module was imported at its new path."""


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())
