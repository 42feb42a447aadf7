"""RFM segment maps as data: named segments by R/F/M score ranges, first match wins.

A [`SegmentMap`][crmcore.analytics.rfm_segments.SegmentMap] is an ordered table of
[`SegmentRule`][crmcore.analytics.rfm_segments.SegmentRule] rows (R/F/M score ranges); the first
matching rule wins; a map must cover every code (directly or with ``default``).
[`RFM_SEGMENTS`][crmcore.analytics.rfm_segments.RFM_SEGMENTS] is the default of
[`rfm_scores()`][crmcore.analytics.rfm.rfm_scores] (11 segments, see the RFM guide,
``docs/rfm.md``); [`R_RFM_SEGMENTS`][crmcore.analytics.rfm_segments.R_RFM_SEGMENTS],
[`SEG_MAP_RF`][crmcore.analytics.rfm_segments.SEG_MAP_RF] and
[`PYMC_MARKETING_SEGMENTS`][crmcore.analytics.rfm_segments.PYMC_MARKETING_SEGMENTS] reproduce the
peers' maps (R ``rfm``, the Python ``seg_map`` recipe, pymc-marketing's quartile config).

Examples:
    >>> RFM_SEGMENTS.segment_of(5, 4, 1)
    'Champions'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs
import numpy as np

from crmcore.analytics.quantiles import _MAX_BINS, _check_bins
from crmcore.kernel.arrays import Int8Array
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.validators import integer, items_of, mapping_of

__all__ = [
    "PYMC_MARKETING_SEGMENTS",
    "RFM_SEGMENTS",
    "R_RFM_SEGMENTS",
    "SEG_MAP_RF",
    "SegmentMap",
    "SegmentRule",
]


def _score_range(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    ok = (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 1 <= value[0] <= value[1] <= _MAX_BINS
    )
    if not ok:
        raise ValidationError(
            attribute.name, value, "must be a (low, high) pair of scores, 1 <= low <= high <= 9"
        )


def _segment_name(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(attribute.name, value, "must be a non-empty str")


def _as_pair(value: object) -> object:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    return value


@attrs.frozen
class SegmentRule:
    """One row of a segment map: a name and inclusive R, F and M score ranges.

    A range is ``(low, high)``; a single int means that score only.

    Examples:
        >>> SegmentRule("Champions", recency=5, frequency=(4, 5)).matches(5, 4, 1)
        True
    """

    name: str = attrs.field(validator=_segment_name)
    recency: tuple[int, int] = attrs.field(
        default=(1, 9), converter=_as_pair, validator=_score_range
    )
    frequency: tuple[int, int] = attrs.field(
        default=(1, 9), converter=_as_pair, validator=_score_range
    )
    monetary: tuple[int, int] = attrs.field(
        default=(1, 9), converter=_as_pair, validator=_score_range
    )

    def matches(self, r: int, f: int, m: int) -> bool:
        """Whether scores ``(r, f, m)`` (whole numbers) lie in all three ranges."""
        r, f, m = _scores(r, f, m)
        return (
            self.recency[0] <= r <= self.recency[1]
            and self.frequency[0] <= f <= self.frequency[1]
            and self.monetary[0] <= m <= self.monetary[1]
        )

    def to_dict(self) -> dict[str, object]:
        """The rule as JSON data."""
        return {
            "name": self.name,
            "recency": list(self.recency),
            "frequency": list(self.frequency),
            "monetary": list(self.monetary),
        }


def _rules(value: object) -> tuple[SegmentRule, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValidationError("rules", value, "must be a sequence of SegmentRule")
    rules = tuple(value)
    for i, rule in enumerate(rules):
        if not isinstance(rule, SegmentRule):
            raise ValidationError(f"rules[{i}]", rule, "must be a SegmentRule")
    return rules


def _optional_name(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _segment_name(_instance, attribute, value)


@attrs.frozen
class SegmentMap:
    """Named segments as data: ordered [`SegmentRule`][crmcore.analytics.rfm_segments.SegmentRule]
    rows, first match wins.

    Every code ``r f m`` with scores in ``1..bins`` must map to a segment:
    through a rule or, where no rule matches, ``default``. A map that leaves a
    code unmapped and has no default is rejected at construction, naming the
    code. [`segment_of()`][crmcore.analytics.rfm_segments.SegmentMap.segment_of] is the per-code
    rule, [`lookup()`][crmcore.analytics.rfm_segments.SegmentMap.lookup] the same answer for all
    codes at once (the vectorised path uses it).
    """

    name: str = attrs.field(validator=_segment_name)
    rules: tuple[SegmentRule, ...] = attrs.field(converter=_rules)
    default: str | None = attrs.field(default=None, validator=_optional_name)
    bins: int = attrs.field(default=5)

    def __attrs_post_init__(self) -> None:
        _check_bins(self.bins)
        if not self.rules:
            raise ValidationError("rules", (), "must list at least one rule")
        for i, rule in enumerate(self.rules):
            for dim in ("recency", "frequency", "monetary"):
                low, high = getattr(rule, dim)
                if low > self.bins:
                    raise ValidationError(
                        f"rules[{i}].{dim}", (low, high), f"lies beyond the {self.bins} bins"
                    )
        if self.default is None:
            for r, f, m in self.codes():
                if not any(rule.matches(r, f, m) for rule in self.rules):
                    raise ValidationError(
                        "rules", f"{r}{f}{m}", "leave this code unmapped: add a rule or a default"
                    )

    @property
    def names(self) -> tuple[str, ...]:
        """Segment names in rule order (each once), then the default."""
        names = dict.fromkeys(rule.name for rule in self.rules)
        if self.default is not None:
            names[self.default] = None
        return tuple(names)

    def codes(self) -> list[tuple[int, int, int]]:
        """Every ``(r, f, m)`` with scores in ``1..bins``, in lexicographic order."""
        q = range(1, self.bins + 1)
        return [(r, f, m) for r in q for f in q for m in q]

    def segment_of(self, r: int, f: int, m: int) -> str:
        """The segment of one code: the first rule that matches, else the default."""
        r, f, m = _scores(r, f, m)
        for rule in self.rules:
            if rule.matches(r, f, m):
                return rule.name
        if self.default is None:  # unreachable for a constructed map; kept for safety
            raise NotFoundError("segment for code", f"{r}{f}{m}")
        return self.default

    def lookup(self) -> Int8Array:
        """Index into [`names`][crmcore.analytics.rfm_segments.SegmentMap.names] for every code, at
        ``(r-1)*bins**2 + (f-1)*bins + (m-1)``."""
        q = self.bins
        r, f, m = np.indices((q, q, q)).reshape(3, -1) + 1
        out = np.full(q**3, -1, dtype=np.int8)
        position = {name: i for i, name in enumerate(self.names)}
        for rule in self.rules:
            hit = (out < 0) & (rule.recency[0] <= r) & (r <= rule.recency[1])
            hit &= (rule.frequency[0] <= f) & (f <= rule.frequency[1])
            hit &= (rule.monetary[0] <= m) & (m <= rule.monetary[1])
            out[hit] = position[rule.name]
        if self.default is not None:
            out[out < 0] = position[self.default]
        return out

    def to_dict(self) -> dict[str, object]:
        """The map as JSON data."""
        return {
            "name": self.name,
            "bins": self.bins,
            "default": self.default,
            "rules": [rule.to_dict() for rule in self.rules],
        }

    @classmethod
    def from_codes(
        cls,
        name: str,
        segments: Mapping[str, Sequence[str]],
        *,
        default: str | None = None,
        bins: int = 5,
    ) -> SegmentMap:
        """A map from explicit codes per segment (pymc-marketing's ``segment_config`` form).

        ``segments`` maps a segment name to codes such as ``"334"``; a code
        listed twice keeps its first segment.
        """
        rules: list[SegmentRule] = []
        for segment, codes in mapping_of(segments, "segments", str).items():
            for code in items_of(codes, f"segments[{segment!r}]", "codes"):
                if not (isinstance(code, str) and len(code) == 3 and code.isdigit()):
                    raise ValidationError(f"segments[{segment!r}]", code, "must be 3-digit codes")
                r, f, m = (int(c) for c in code)
                if min(r, f, m) < 1:
                    raise ValidationError(f"segments[{segment!r}]", code, "scores start at 1")
                rules.append(SegmentRule(segment, r, f, m))
        return cls(name, rules, default, bins)


def _scores(r: object, f: object, m: object) -> tuple[int, int, int]:
    return integer(r, "r"), integer(f, "f"), integer(m, "m")


def _rf(
    name: str, r: tuple[int, int], f: tuple[int, int], m: tuple[int, int] = (1, 5)
) -> SegmentRule:
    return SegmentRule(name, r, f, m)


RFM_SEGMENTS: Final = SegmentMap(
    "crmcore",
    (
        _rf("Champions", (5, 5), (4, 5)),
        _rf("Loyal", (3, 4), (4, 5)),
        _rf("Potential Loyalist", (4, 5), (2, 3)),
        _rf("New Customers", (5, 5), (1, 1)),
        _rf("Promising", (4, 4), (1, 1)),
        _rf("Need Attention", (3, 3), (3, 3)),
        _rf("About to Sleep", (3, 3), (1, 2)),
        _rf("Can't Lose Them", (1, 2), (5, 5)),
        _rf("At Risk", (1, 2), (3, 4)),
        _rf("Lost", (1, 2), (1, 2), (1, 2)),
        _rf("Hibernating", (1, 2), (1, 2)),
    ),
)
"""crmcore's default map: the eleven widely used segments. The R/F cells follow
the Python ``seg_map`` recipe (PEERS.md §3.2 [R2], which covers all 25 R/F
cells); its ``hibernating`` cell ``[1-2][1-2]`` is split by monetary score
with the R ``rfm`` package's "Lost" rule (R 1-2, F 1-2, M 1-2; [R1]) first,
so every one of the 125 codes maps to exactly one segment.
"""

R_RFM_SEGMENTS: Final = SegmentMap(
    "R rfm",
    (
        SegmentRule("Champions", (4, 5), (4, 5), (4, 5)),
        SegmentRule("Loyal Customers", (2, 5), (3, 5), (3, 5)),
        SegmentRule("Potential Loyalist", (3, 5), (1, 3), (1, 3)),
        SegmentRule("New Customers", (4, 5), (1, 1), (1, 1)),
        SegmentRule("Promising", (3, 4), (1, 1), (1, 1)),
        SegmentRule("Need Attention", (2, 3), (2, 3), (2, 3)),
        SegmentRule("About To Sleep", (2, 3), (1, 2), (1, 2)),
        SegmentRule("At Risk", (1, 2), (2, 5), (2, 5)),
        SegmentRule("Can't Lose Them", (1, 1), (4, 5), (4, 5)),
        SegmentRule("Lost", (1, 2), (1, 2), (1, 2)),
    ),
    default="Others",
)
"""The R ``rfm`` package's example map (``rfm_segment``; PEERS.md §3.2 [R1]):
ten segments by R/F/M ranges, first match wins (current versions skip
customers already segmented), unmatched codes are "Others".
"""

SEG_MAP_RF: Final = SegmentMap(
    "seg_map",
    (
        _rf("hibernating", (1, 2), (1, 2)),
        _rf("at_risk", (1, 2), (3, 4)),
        _rf("cant_loose", (1, 2), (5, 5)),
        _rf("about_to_sleep", (3, 3), (1, 2)),
        _rf("need_attention", (3, 3), (3, 3)),
        _rf("loyal_customers", (3, 4), (4, 5)),
        _rf("promising", (4, 4), (1, 1)),
        _rf("new_customers", (5, 5), (1, 1)),
        _rf("potential_loyalists", (4, 5), (2, 3)),
        _rf("champions", (5, 5), (4, 5)),
    ),
)
"""The Python ``seg_map`` recipe (PEERS.md §3.2 [R2]): regexes over the two-digit
R/F string, here as ranges (M is ignored). Covers all 25 R/F cells.
"""

PYMC_MARKETING_SEGMENTS: Final = SegmentMap.from_codes(
    "pymc-marketing",
    {
        "Premium Customer": ["334", "443", "444", "344", "434", "433", "343", "333"],
        "Repeat Customer": ["244", "234", "232", "332", "143", "233", "243"],
        "Top Spender": [
            "424",
            "414",
            "144",
            "314",
            "324",
            "124",
            "224",
            "423",
            "413",
            "133",
            "323",
            "313",
            "134",
        ],
        "At Risk Customer": [
            "422",
            "223",
            "212",
            "122",
            "222",
            "132",
            "322",
            "312",
            "412",
            "123",
            "214",
        ],
        "Inactive Customer": ["411", "111", "113", "114", "112", "211", "311"],
    },
    default="Other",
    bins=4,
)
"""pymc-marketing's default ``rfm_segments`` config (PEERS.md §3.2 [R3]) on
quartile scores (``bins=4``); other codes are "Other".
"""
