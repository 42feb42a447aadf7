"""The built-in progress bar: on for terminals and when asked, silent otherwise."""

from __future__ import annotations

import io

import pytest

from crmcore.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_unless_a_terminal_or_asked() -> None:
    quiet = io.StringIO()
    with Progress(3, "reading", stream=quiet) as bar:
        bar.step("a")
    assert quiet.getvalue() == "" and not bar.enabled
    screen = _Terminal()
    with Progress(2, "fitting", stream=screen) as bar:
        bar.step("BG/NBD")
    assert "fitting [#####-----] 1/2 BG/NBD" in screen.getvalue()
    assert screen.getvalue().endswith("done\n")


def test_a_failure_is_shown_as_failed() -> None:
    screen = _Terminal()
    with pytest.raises(RuntimeError), Progress(2, "x", stream=screen):
        raise RuntimeError("boom")
    assert screen.getvalue().endswith("failed\n")
