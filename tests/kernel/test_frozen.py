"""FrozenDict: built from a mapping or pairs; every other input is a ValidationError."""

from __future__ import annotations

import pytest

from crmcore.kernel.errors import ValidationError
from crmcore.kernel.frozen import FrozenDict


def test_a_mapping_or_pairs_build_it_and_equal_by_content() -> None:
    assert FrozenDict({"a": 1}) == FrozenDict([("a", 1)]) == {"a": 1}
    assert FrozenDict() == {}
    assert hash(FrozenDict({"a": 1})) == hash(FrozenDict([("a", 1)]))


@pytest.mark.parametrize("data", [None, True, 3, "ab", b"ab", ["a"], [("a", 1, 2)], [([], 1)]])
def test_anything_else_is_refused_naming_data(data: object) -> None:
    with pytest.raises(ValidationError) as caught:
        FrozenDict(data)  # type: ignore[arg-type]
    assert caught.value.field == "data"


def test_an_error_raised_by_the_pairs_themselves_passes_unchanged() -> None:
    def pairs() -> object:
        yield ("a", 1)
        raise ValidationError("row", 2, "is broken")

    with pytest.raises(ValidationError) as caught:
        FrozenDict(pairs())  # type: ignore[arg-type]
    assert caught.value.field == "row"


def test_an_unhashable_key_is_refused_by_get_set_and_lookup() -> None:
    d = FrozenDict({"a": 1})
    assert d.get("a") == 1 and d.get("b") is None and d.get("b", 0) == 0
    assert d.set("b", 2) == {"a": 1, "b": 2} and d == {"a": 1}  # a copy
    for act in (lambda: d.get([]), lambda: d.set([], 1), lambda: d[[]]):  # type: ignore[index]
        with pytest.raises(ValidationError) as caught:
            act()
        assert caught.value.field == "key"
    with pytest.raises(KeyError):
        d["b"]
