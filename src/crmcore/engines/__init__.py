"""The analytics inside DuckDB and Apache Spark, with the same answers as numpy.

[`crmcore.engines.duckdb`][crmcore.engines.duckdb] runs RFM, cohorts, the BTYD summary and
CLV scores, lifecycle classification, funnels (both ways of counting) and segment rules inside
DuckDB, on frames, relations and Parquet files; [`crmcore.engines.spark`][crmcore.engines.spark]
runs the same on Spark DataFrames and Parquet files, in local mode or on a cluster. Each function
has the signature and the report of its numpy twin, and reads its input by the same rules
(purchase occasions, returns and guests; the loaders' row checks); the plans are SQL written
once for both engines, checked against numpy by differential tests. See the guide, *Analytics
at scale* (``docs/scale.md``).
"""

from crmcore.engines import duckdb, spark

__all__ = ["duckdb", "spark"]
