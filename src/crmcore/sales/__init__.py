"""Sales support: leads, lead scoring, opportunities, the pipeline and the sales forecast.

Seed 002 §3.1 (销售管理模块, 销售支持模块, 销售线索评分): leads with their source, status
and follow-ups; rule-based and predictive lead scoring; opportunities moving through a
configurable pipeline; pipeline reports and snapshots; the sales forecast; accounts
and the customer relationship graph.
"""

__all__: list[str] = []
