"""Data to learn and test with: a seeded generator of realistic synthetic CRM data.

[`generate()`][crmcore.datasets.synthetic.generate] draws customers, purchases,
interactions, service records and feedback from one seeded random generator
(the same arguments always give the same data), for demos, docs, notebooks
and tests.
"""

from crmcore.datasets.synthetic import SyntheticData, generate

__all__ = ["SyntheticData", "generate"]
