"""The fixed-layout road for UTC timestamps agrees with the general reader, cell for cell.

`crmcore.columnar._text_times` reads a chunk whose cells are all one of the UTC
layouts crmcore and JavaScript write (``...SSZ``, ``...SS.fffZ``, ``...SS.ffffffZ``)
as 64-bit words; any other chunk, or one with a cell off that layout, goes the
general way. Both must give the same microseconds, and the same error, for any cells.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.columnar import _text_times
from crmcore.columnar._cells import Cells
from crmcore.columnar._layout import NAT
from crmcore.columnar._timestamps import TimeReading
from crmcore.kernel.errors import ValidationError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAYOUTS = (20, 24, 27)  # ...SSZ, ...SS.fffZ, ...SS.ffffffZ


def _text(moment: datetime, length: int) -> str:
    text = moment.replace(tzinfo=None).isoformat(timespec="microseconds").rjust(26, "0")
    return {20: text[:19], 24: text[:23], 27: text}[length] + "Z"


def _parse(cells: list[str], general: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    """The microseconds of ``cells`` (or the error's text), by the general road or not."""
    with monkeypatch.context() as patch:
        if general:
            patch.setattr(_text_times, "_ZULU_LAYOUTS", {})
        try:
            found = _text_times.parse_datetimes(Cells.from_strings(cells), 0, "at", TimeReading())
        except ValidationError as error:
            return str(error)
    return found.tolist()


moments = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(moments, min_size=1, max_size=40),
    st.sampled_from(_LAYOUTS),
    st.data(),
)
def test_the_word_road_agrees_with_the_general_reader(
    values: list[datetime], length: int, data: st.DataObject
) -> None:
    cells = [_text(v, length) for v in values]
    if data.draw(st.booleans()):  # a missing cell, or one byte changed in one cell
        i = data.draw(st.integers(0, len(cells) - 1))
        if data.draw(st.booleans()):
            cells[i] = ""
        else:
            p = data.draw(st.integers(0, length - 1))
            char = data.draw(st.sampled_from("0123456789:-.TZ /a\x80+"))
            cells[i] = cells[i][:p] + char + cells[i][p + 1 :]
    with pytest.MonkeyPatch.context() as patch:
        assert _parse(cells, False, patch) == _parse(cells, True, patch)


def test_the_word_road_reads_what_crmcore_writes() -> None:
    moments = [datetime(1, 1, 1, tzinfo=UTC), datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)]
    cells = [_text(m, 27) for m in moments] + [""]
    assert _text_times._zulu_words(Cells.from_strings(cells), 27) is not None  # the word road
    found = _text_times.parse_datetimes(Cells.from_strings(cells), 0, "at", TimeReading())
    expected = [(m - _EPOCH) // timedelta(microseconds=1) for m in moments]
    assert found.tolist() == [*expected, NAT]


def test_a_bad_day_goes_the_general_way_and_is_named() -> None:
    cells = ["2024-02-29T00:00:00.000000Z", "2023-02-29T00:00:00.000000Z"]
    with pytest.raises(ValidationError, match="row 1"):
        _text_times.parse_datetimes(Cells.from_strings(cells), 0, "at", TimeReading())
