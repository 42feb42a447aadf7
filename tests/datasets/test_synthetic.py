from collections import Counter
from datetime import UTC, datetime

import pytest

from crmcore.datasets.synthetic import generate
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.money import Money


def test_same_seed_same_data_and_different_seed_different_data() -> None:
    a, b, c = generate(60, seed=3), generate(60, seed=3), generate(60, seed=4)
    assert a == b
    assert a.purchases != c.purchases


def test_summaries_agree_with_the_records() -> None:
    data = generate(300, seed=11)
    per_customer = Counter(p.customer_id for p in data.purchases)
    for customer in data.customers:
        assert customer.purchases.count == per_customer.get(customer.id, 0)
        mine = [p for p in data.purchases if p.customer_id == customer.id]
        if mine:
            assert customer.purchases.total == Money.sum((p.amount for p in mine), "USD")
            assert customer.purchases.last_at == max(p.at for p in mine)
    assert all(data.start <= p.at < data.end for p in data.purchases)
    assert len({p.order_id for p in data.purchases}) == len(data.purchases)


def test_the_base_looks_like_a_real_customer_base() -> None:
    data = generate(1000, seed=5)
    buyers = [c for c in data.customers if c.purchases.count > 0]
    repeaters = [c for c in buyers if c.purchases.count >= 2]
    assert 0.1 < len(buyers) / 1000 < 0.4  # a funnel: most never convert
    assert 0.3 < len(repeaters) / len(buyers) < 0.95  # many, not all, buy again
    assert len({c.geography.country for c in data.customers}) >= 8
    kinds = Counter(e.kind for e in data.events)
    assert kinds["customer.registered"] == 1000
    assert kinds["customer.purchase_recorded"] == len(data.purchases)


def test_bad_arguments() -> None:
    with pytest.raises(ValidationError):
        generate(-1)
    with pytest.raises(ValidationError):
        generate(10, years=0)
    with pytest.raises(ValidationError, match="seed: must be an integer"):
        generate(10, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="end: must be from the year 1900 to 9000"):
        generate(10, end=datetime(9999, 12, 31, tzinfo=UTC))


def test_touchpoint_scores_make_weak_touchpoints_visible() -> None:
    data = generate(1500, seed=9)
    assert data.scores
    assert all(1 <= s.score <= 5 and s.scale.value == "csat" for s in data.scores)
    ids = {i.customer_id for i in data.interactions}
    assert {s.customer_id for s in data.scores} <= ids
    by_kind: dict[str, list[int]] = {}
    for s in data.scores:
        by_kind.setdefault(s.touchpoint.kind, []).append(s.score)
    mean = {k: sum(v) / len(v) for k, v in by_kind.items()}
    assert mean["product_compare"] < mean["content_view"] - 0.5


def test_feedback_is_deterministic_valid_and_reflects_service_trouble() -> None:
    first, second = generate(1500, seed=3), generate(1500, seed=3)
    assert first.feedback == second.feedback
    assert len(first.feedback) > 100
    assert len({f.id for f in first.feedback}) == len(first.feedback)
    assert [f.at for f in first.feedback] == sorted(f.at for f in first.feedback)
    assert all(f.at < first.end for f in first.feedback)
    known = {c.id for c in first.customers}
    assert {f.customer_id for f in first.feedback} <= known
    complaints = [f for f in first.feedback if f.kind == "complaint"]
    assert complaints and all(f.score("csat") is not None for f in complaints)
    serviced = {s.customer_id for s in first.service_records}
    answers = [(f.customer_id in serviced, f.score("nps")) for f in first.feedback]
    nps_serviced = [s for hit, s in answers if hit and s is not None]
    nps_other = [s for hit, s in answers if not hit and s is not None]
    assert sum(nps_serviced) / len(nps_serviced) < sum(nps_other) / len(nps_other)


def test_adding_feedback_left_the_other_generated_data_unchanged() -> None:
    data = generate(300, seed=11)
    assert data.feedback  # drawn from its own random stream ...
    assert data.scores == generate(300, seed=11).scores  # ... after everything else
