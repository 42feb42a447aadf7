"""Old module paths keep working for one release, each with a DeprecationWarning."""

from __future__ import annotations

import importlib
import sys

import pytest

from crmcore._moved import MOVED_MODULES


@pytest.mark.parametrize(("old", "new"), sorted(MOVED_MODULES.items()))
def test_old_path_imports_the_new_module_with_a_warning(old: str, new: str) -> None:
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    sys.modules.pop(old, None)


def test_from_import_of_a_moved_module_gives_the_same_class() -> None:
    sys.modules.pop("crmcore.money", None)
    with pytest.warns(DeprecationWarning, match="crmcore.money moved"):
        from crmcore.money import Money  # type: ignore[import-not-found]
    from crmcore.kernel.money import Money as KernelMoney

    assert Money is KernelMoney
    sys.modules.pop("crmcore.money", None)


def test_unmoved_names_are_not_intercepted() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("crmcore.no_such_module")
