"""Benchmark: association rules (pairs and triples) over a million baskets, and next best offers.

Generates baskets directly with a seeded numpy RNG: ``--items`` items with Zipf-like popularity,
basket sizes 1 + Poisson(3), and a few planted item pairs and triples bought together, so the
rules are not just noise. Baskets belong to ``--baskets / 5`` customers. Then measures, as the
median wall time over ``--repeat`` runs, in one process:

* ``Baskets.from_codes``: building the CSR baskets from (basket, item) rows;
* ``association_rules(min_support, max_size=3)``: frequent items, pairs and triples by vectorised
  counting, then every rule with its measures;
* the simple pure-Python way on the same baskets: a ``collections.Counter`` over
  ``itertools.combinations`` of every basket (sizes 1 to 3), then the same rules
  (``crmcore.marketing._offers_reference.brute_force_rules``, the tests' reference). Its rules
  are checked to equal crmcore's, rule for rule and count for count;
* ``next_best_offers`` for every customer (3 offers each).

Run from the repository root::

    .venv/bin/python benchmarks/bench_cross_sell.py --quick     # 100k baskets
    .venv/bin/python benchmarks/bench_cross_sell.py             # 1M baskets
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from _timing import line, measure, peak_rss_gb

from crmcore.marketing._offers_reference import brute_force_rules
from crmcore.marketing.association_rules import association_rules
from crmcore.marketing.baskets import Baskets
from crmcore.marketing.next_best_offer import next_best_offers


def make_rows(baskets: int, items: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(basket of row, item of row, customer of basket) with planted associations."""
    rng = np.random.default_rng(seed)
    sizes = rng.poisson(3.0, baskets) + 1
    weights = 1.0 / np.arange(1, items + 1) ** 0.9
    item_of_row = rng.choice(items, int(sizes.sum()), p=weights / weights.sum())
    basket_of_row = np.repeat(np.arange(baskets), sizes)
    planted = [(3, 17), (5, 40, 41), (12, 90), (20, 21, 22)]
    extra_b, extra_i = [basket_of_row], [item_of_row]
    for group in planted:
        with_first = np.unique(basket_of_row[item_of_row == group[0]])
        chosen = with_first[rng.random(len(with_first)) < 0.6]
        for item in group[1:]:
            extra_b.append(chosen)
            extra_i.append(np.full(len(chosen), item))
    customers = rng.integers(0, max(baskets // 5, 1), baskets)
    return np.concatenate(extra_b), np.concatenate(extra_i), customers


def run(baskets: int, items: int, support: float, repeats: int, seed: int) -> None:
    """Generate the data, time every path, check the results and print them."""
    print(
        f"crmcore cross-sell benchmark: python {platform.python_version()}, numpy {np.__version__}"
    )
    t0 = time.perf_counter()
    basket_of_row, item_of_row, customer_of_basket = make_rows(baskets, items, seed)
    names = [f"item{i:05d}" for i in range(items)]
    ids = [f"C{i:07d}" for i in range(int(customer_of_basket.max()) + 1)]
    print(
        f"data: {baskets:,} baskets, {len(basket_of_row):,} lines, {items:,} items, "
        f"{len(ids):,} customers; made in {time.perf_counter() - t0:.1f} s; "
        f"min_support {support}; median of {repeats} run(s)"
    )
    build, data = measure(
        lambda: Baskets.from_codes(
            basket_of_row,
            item_of_row,
            names,
            customer_of_basket=customer_of_basket,
            customer_ids=ids,
        ),
        repeats,
    )
    line("Baskets.from_codes", build, f"{len(data.codes):,} distinct lines")
    ours, rules = measure(lambda: association_rules(data, min_support=support), repeats)
    sizes = (rules.antecedents >= 0).sum(axis=1) + (rules.consequents >= 0).sum(axis=1)
    line(
        "crmcore association_rules (pairs + triples)",
        ours,
        f"{len(rules):,} rules ({int((sizes == 2).sum()):,} from pairs, "
        f"{int((sizes == 3).sum()):,} from triples)",
    )
    lists = [data.codes[data.offsets[b] : data.offsets[b + 1]].tolist() for b in range(baskets)]
    theirs, reference = measure(lambda: brute_force_rules(lists, support), 1)
    ours_keyed = {
        (tuple(int(c) for c in a if c >= 0), tuple(int(c) for c in b if c >= 0)): int(n)
        for a, b, n in zip(rules.antecedents, rules.consequents, rules.both, strict=True)
    }
    same = ours_keyed == {key: int(v["count"]) for key, v in reference.items()}
    line(
        "pure Python Counter(combinations) baseline",
        theirs,
        f"crmcore/python = {ours / theirs:.3f}x ({theirs / ours:.0f}x faster); same rules: {same}",
    )
    assert same, "crmcore's rules differ from the pure-Python count"
    offer_time, offers = measure(lambda: next_best_offers(data, rules, per_customer=3), repeats)
    line("next_best_offers, every customer, 3 each", offer_time, f"{len(offers):,} offers")
    best = rules.top(3)
    print("top rules: " + "; ".join(str(rule) for rule in best))
    print(f"peak RSS: {peak_rss_gb():.2f} GB")


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baskets", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--min-support", type=float, default=0.0005)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="10x fewer baskets")
    args = parser.parse_args(argv)
    baskets = args.baskets // 10 if args.quick else args.baskets
    if baskets < 1 or args.items < 2 or args.repeat < 1:
        parser.error("--baskets, --items and --repeat must be positive")
    run(baskets, args.items, args.min_support, args.repeat, args.seed)


if __name__ == "__main__":
    main()
