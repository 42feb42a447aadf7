"""Progress on long work: a tiny built-in bar for terminals and notebooks, silent elsewhere.

Library calls never report progress by themselves (an application embedding
crmcore decides what its users see). The command line, and you in a
notebook, ask for it with a [`Progress`][crmcore.progress.Progress]: on a terminal
(``enabled=None``, the default, checks that the stream is one) it redraws one
line on standard error, ``reading orders.csv [#####-----] 3/6``; anywhere
else, or with ``enabled=False``, it prints nothing.

Examples:
    >>> import io
    >>> out = io.StringIO()
    >>> with Progress(2, "fitting", stream=out, enabled=True) as bar:
    ...     bar.step("BG/NBD")
    ...     bar.step("Gamma-Gamma")
    >>> out.getvalue().splitlines()[-1].strip()
    'fitting [##########] 2/2 done'
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Final, Self, TextIO

__all__ = ["Progress"]

_WIDTH: Final = 10


class Progress:
    """A counted task shown as a one-line bar (see the module docs).

    ``total`` steps; ``label`` names the task; ``stream`` defaults to standard
    error; ``enabled`` ``None`` shows the bar only when the stream is a terminal.
    """

    def __init__(
        self,
        total: int,
        label: str,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.total = max(int(total), 1)
        self.label = label
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self._stream, "isatty", None)
            enabled = bool(isatty()) if callable(isatty) else False
        self.enabled = enabled

    def _draw(self, note: str, end: str = "") -> None:
        if not self.enabled:
            return
        filled = round(_WIDTH * self.done / self.total)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self._stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {note}{end}")
        self._stream.flush()

    def step(self, note: str = "") -> None:
        """Count one step done; ``note`` says which."""
        self.done = min(self.done + 1, self.total)
        self._draw(note)

    def __enter__(self) -> Self:
        self._draw("")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._draw("done" if kind is None else "failed", "\n")
