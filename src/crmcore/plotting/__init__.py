"""Plots of crmcore's reports with matplotlib (the ``plot`` extra): ``report.plot()`` and more.

Every function takes a report, draws it on ``ax`` (or on a new figure) and
returns the matplotlib `Axes`, so it can be styled further, combined with
other axes or saved (``ax.figure.savefig("funnel.png")``). matplotlib is
imported only when a figure is drawn; without it a plot raises
[`MissingDependencyError`][crmcore.kernel.errors.MissingDependencyError] naming the extra
(``pip install 'crmcore[plot]'``).

This package sits between the kernel and the analytics: it reads reports by
their public attributes and imports none of their modules, so a report can
offer ``plot()`` as a one-line call into it.
"""

from crmcore.plotting.clv import (
    plot_calibration_purchases_vs_holdout_purchases,
    plot_clv,
    plot_frequency_recency_matrix,
    plot_probability_alive_matrix,
    plot_purchase_model,
)
from crmcore.plotting.cohorts import plot_cohort_heatmap, plot_retention_curve
from crmcore.plotting.feedback import plot_score_breakdown, plot_score_trend
from crmcore.plotting.funnel import plot_funnel, plot_funnel_breakdown
from crmcore.plotting.lifecycle import plot_lifecycle_flow
from crmcore.plotting.loyalty import plot_liability
from crmcore.plotting.rfm import plot_rfm_grid, plot_rfm_segments

__all__ = [
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_clv",
    "plot_cohort_heatmap",
    "plot_frequency_recency_matrix",
    "plot_funnel",
    "plot_funnel_breakdown",
    "plot_liability",
    "plot_lifecycle_flow",
    "plot_probability_alive_matrix",
    "plot_purchase_model",
    "plot_retention_curve",
    "plot_rfm_grid",
    "plot_rfm_segments",
    "plot_score_breakdown",
    "plot_score_trend",
]
