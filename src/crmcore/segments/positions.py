"""Where things are in rule text: node spans, the source map, and positioned syntax errors.

The parser records where each node of a rule starts as a tree of
[`Span`][crmcore.segments.positions.Span] (one per node, children in
[`children()`][crmcore.segments.rules.children] order). A
[`SourceMap`][crmcore.segments.positions.SourceMap] turns a node's *path* (the tuple of child
indices from the root) into a 1-based (line, column), so the type checker can point at the offending
node; [`syntax_error()`][crmcore.segments.positions.syntax_error] turns an offset in the text into a
[`RuleSyntaxError`][crmcore.kernel.errors.RuleSyntaxError] with line, column and caret excerpt.
"""

from __future__ import annotations

import bisect
from typing import NamedTuple

from crmcore.kernel.errors import RuleSyntaxError, ValidationError
from crmcore.kernel.validators import items_of

__all__ = ["SourceMap", "Span", "line_column", "line_starts", "syntax_error"]


class Span(NamedTuple):
    """Where a node starts, and the spans of its children (in ``children`` order)."""

    offset: int
    children: tuple[Span, ...] = ()


class SourceMap:
    """Positions of a parsed rule's nodes: ``position(path)`` → (line, column), 1-based.

    A *path* is the tuple of child indices from the root (``()`` is the root), in
    [`children()`][crmcore.segments.rules.children] order.

    Examples:
        >>> from crmcore.segments.grammar import parse_rule_with_positions
        >>> rule, where = parse_rule_with_positions("a = 1 and\\n  b = 2")
        >>> where.position((1,)), where.position((1, 1))
        ((2, 3), (2, 7))
    """

    def __init__(self, text: str, root: Span) -> None:
        if not isinstance(text, str):
            raise ValidationError("text", text, "must be the rule's source text")
        if not isinstance(root, Span):
            raise ValidationError("root", root, "must be the parser's Span of the rule")
        self.text = text
        self._root = root
        self._line_starts = line_starts(text)

    def position(self, path: tuple[int, ...]) -> tuple[int, int]:
        """The (line, column) where the node at ``path`` starts; (0, 0) if there is none."""
        steps = items_of(path, "path", "child indices")
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in steps):
            raise ValidationError("path", path, "must be a tuple of child indices (ints)")
        span = self._root
        for index in steps:
            if not 0 <= index < len(span.children):
                return (0, 0)
            span = span.children[index]
        return line_column(self._line_starts, span.offset)


def line_starts(text: str) -> list[int]:
    """The offset where each line of ``text`` starts (and, last, the length of the text)."""
    # The same line breaks as str.splitlines, which the caret excerpt of RuleError uses.
    starts = [0]
    total = 0
    for line in text.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


def line_column(starts: list[int], offset: int) -> tuple[int, int]:
    """The 1-based (line, column) of ``offset``, given the
    [`line_starts()`][crmcore.segments.positions.line_starts] of the text."""
    line = bisect.bisect_right(starts, offset) - 1
    if line >= 1 and line == len(starts) - 1:
        # The end of the text belongs to the last line (even after a final line break).
        line -= 1
    return (line + 1, offset - starts[line] + 1)


def syntax_error(message: str, text: str, offset: int) -> RuleSyntaxError:
    """A [`RuleSyntaxError`][crmcore.kernel.errors.RuleSyntaxError] pointing at ``offset`` in
    ``text``."""
    line, column = line_column(line_starts(text), offset)
    return RuleSyntaxError(message, text, line, column)
