import pytest

from crmcore.kernel.errors import ValidationError
from crmcore.kernel.ids import customer_id, new_id, order_id, validate_id


@pytest.mark.parametrize("good", ["C1", "cus_123", "a.b:c@d/e+f-g", "x" * 128])
def test_valid_ids_pass_unchanged(good: str) -> None:
    assert validate_id(good) == good


@pytest.mark.parametrize("bad", ["", " C1", "C 1", "-C1", "x" * 129, None, 12, "客户"])
def test_invalid_ids_name_the_field(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        customer_id(bad)
    assert info.value.field == "customer_id"


def test_new_ids_are_unique_and_valid() -> None:
    ids = {new_id("cus_") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("cus_") and validate_id(i) for i in ids)
    assert order_id("O-1") == "O-1"
