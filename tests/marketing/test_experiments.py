"""Assignment by hash (stable, vectorised, close to the share) and the proportion tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.kernel.errors import ValidationError
from crmcore.marketing.experiments import (
    CONTROL,
    Split,
    Variant,
    assignment_hash,
    assignment_hashes,
    assignment_number,
    assignment_numbers,
    compare_proportions,
    wilson_interval,
)

ids = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FFF, exclude_categories=["Cs"]),
    min_size=1,
    max_size=40,
)


def test_the_hash_is_pinned_so_groups_never_move_between_releases() -> None:
    # FNV-1a 64 of b"spring\x1fc-1" finished with fmix64; a change here reshuffles every customer
    assert assignment_hash("spring", "c-1") == 0x01C8FB7B8A276360
    assert assignment_hash("spring", "c-1") == _reference_hash(b"spring\x1fc-1")


def _reference_hash(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) % 2**64
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) % 2**64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) % 2**64
    return h ^ (h >> 33)


@settings(max_examples=60)
@given(st.lists(ids, min_size=1, max_size=30), st.sampled_from(["a", "campaign-7", "x.y"]))
def test_numpy_and_python_assign_the_same_hash(keys: list[str], salt: str) -> None:
    batch = assignment_hashes(salt, np.array(keys, dtype=np.dtypes.StringDType()))
    assert [int(h) for h in batch] == [assignment_hash(salt, k) for k in keys]
    numbers = assignment_numbers(salt, keys)
    assert numbers.tolist() == [assignment_number(salt, k) for k in keys]
    assert all(0.0 <= u < 1.0 for u in numbers.tolist())


@settings(max_examples=25, deadline=None)
@given(
    st.decimals(min_value="0", max_value="0.9", places=2),
    st.lists(st.integers(1, 5), min_size=1, max_size=4),
    st.integers(0, 10_000),
)
def test_the_control_share_and_the_variant_weights_are_kept(
    share: object, weights: list[int], seed: int
) -> None:
    split = Split(share, tuple(Variant(f"v{i}", w) for i, w in enumerate(weights)))
    keys = np.array([f"cust-{seed}-{i}" for i in range(20_000)])
    codes = split.assign("exp", keys)
    observed = np.bincount(codes + 1, minlength=len(weights) + 1) / len(keys)
    control = float(split.control_share)
    expected = [control] + [(1 - control) * w / sum(weights) for w in weights]
    # 20,000 draws: 5 standard errors of a share is at most 5 * sqrt(0.25 / 20000) ~ 0.018
    assert np.allclose(observed, expected, atol=0.018)


def test_assignment_is_stable_and_a_larger_control_only_takes_from_the_first_variant() -> None:
    keys = [f"c-{i}" for i in range(5000)]
    small = Split("0.1", (Variant("A"), Variant("B")))
    large = Split("0.3", (Variant("A"), Variant("B")))
    before = small.assign("spring", keys)
    assert np.array_equal(before, small.assign("spring", keys))
    after = large.assign("spring", keys)
    assert np.all(
        (before != after) <= ((before == 0) & (after == -1)) | ((before == 1) & (after != -1))
    )
    assert small.group_of("spring", "c-1") in (CONTROL, "A", "B")
    assert not np.array_equal(before, small.assign("autumn", keys))


def test_bad_splits_name_the_field() -> None:
    with pytest.raises(ValidationError, match="control_share"):
        Split("1")
    with pytest.raises(ValidationError, match="variants"):
        Split("0.1", (Variant("A"), Variant("A")))
    with pytest.raises(ValidationError, match=r"variant\.name"):
        Variant("control")
    with pytest.raises(ValidationError, match=r"variant\.weight"):
        Variant("A", 0)
    with pytest.raises(ValidationError, match="keys"):
        assignment_hashes("s", [1, 2])


def test_newcombe_hybrid_score_intervals_match_the_published_table() -> None:
    # Newcombe (1998), Table II, method 10: 56/70 - 48/80 and 9/10 - 3/10
    r = compare_proportions(56, 70, 48, 80)
    assert (round(r.low, 4), round(r.high, 4)) == (0.0524, 0.3339)
    r = compare_proportions(9, 10, 3, 10)
    assert (round(r.low, 4), round(r.high, 4)) == (0.1705, 0.8090)


def test_the_z_test_is_the_pooled_two_proportion_test() -> None:
    r = compare_proportions(120, 1000, 90, 1000)
    pooled = 210 / 2000
    z = (0.12 - 0.09) / math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert r.z == pytest.approx(z)
    assert r.p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    assert r.significant and r.relative_uplift == pytest.approx(1 / 3)
    scipy_stats = pytest.importorskip("scipy.stats")
    assert r.p_value == pytest.approx(2 * scipy_stats.norm.sf(abs(z)))


def test_degenerate_comparisons_are_defined() -> None:
    empty = compare_proportions(0, 0, 3, 10)
    assert empty.difference is None and empty.p_value is None and not empty.significant
    same = compare_proportions(10, 10, 5, 5)
    assert (same.z, same.p_value, same.difference) == (0.0, 1.0, 0.0)
    assert compare_proportions(3, 10, 0, 10).relative_uplift is None
    assert set(compare_proportions(3, 10, 1, 10).to_dict()) >= {"low", "high", "p_value"}
    with pytest.raises(ValidationError, match="successes"):
        compare_proportions(11, 10, 1, 10)
    with pytest.raises(ValidationError, match="confidence"):
        compare_proportions(1, 10, 1, 10, confidence=1.5)


@given(st.integers(0, 60), st.integers(1, 60))
def test_wilson_interval_holds_the_rate(x: int, n: int) -> None:
    x = min(x, n)
    low, high = wilson_interval(x, n)
    assert 0.0 <= low <= x / n <= high <= 1.0
