"""Renamed public names keep working for one release, with a DeprecationWarning.

A module that renamed a public name lists ``{old: new}`` and sets
``__getattr__ = renamed(globals(), {...})`` (PEP 562): ``module.old`` and
``from module import old`` then return the object under its new name and
warn once per use site.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["REMOVED_IN", "renamed"]

REMOVED_IN = "0.3"
"""The release that drops the old names."""


def renamed(namespace: Mapping[str, Any], renames: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` answering each old name of ``renames`` with the new one."""
    module = namespace["__name__"]

    def __getattr__(name: str) -> Any:  # noqa: N807 (PEP 562's module hook)
        new = renames.get(name)
        if new is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        warnings.warn(
            f"{module}.{name} is now {new}; the old name will be removed in crmcore {REMOVED_IN}",
            DeprecationWarning,
            stacklevel=2,
        )
        return namespace[new]

    return __getattr__
