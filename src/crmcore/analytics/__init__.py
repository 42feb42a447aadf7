"""Customer analytics over transaction logs: RFM, value tiers, cohorts, KPIs, CLV and churn risk.

Descriptive ([`rfm`][crmcore.analytics.rfm] with [`quantiles`][crmcore.analytics.quantiles] and
[`rfm_segments`][crmcore.analytics.rfm_segments], [`value_tiers`][crmcore.analytics.value_tiers],
[`cohorts`][crmcore.analytics.cohorts], [`kpis`][crmcore.analytics.kpis]), predictive
([`btyd`][crmcore.analytics.btyd], [`bgnbd`][crmcore.analytics.bgnbd],
[`gamma_gamma`][crmcore.analytics.gamma_gamma], [`clv`][crmcore.analytics.clv]) and the churn
early warning that combines them ([`churn`][crmcore.analytics.churn]). All vectorised with
numpy; model fitting needs the ``models`` extra (scipy), imported only when fitting.
"""

from __future__ import annotations

from crmcore.analytics.bgnbd import (
    BgNbdModel,
    bgnbd_log_likelihood,
    fit_bgnbd,
)
from crmcore.analytics.btyd import (
    BtydSummary,
    SummaryPeriod,
    summary_from_transactions,
)
from crmcore.analytics.churn import (
    DEFAULT_CHURN_WEIGHTS,
    ChurnReason,
    ChurnRisk,
    ChurnWeights,
    CustomerValues,
    churn_risk,
)
from crmcore.analytics.clv import (
    MONTH_LENGTH,
    PredictedClv,
    customer_lifetime_value,
)
from crmcore.analytics.cohorts import (
    CohortMatrix,
    CohortPeriod,
    cohort_matrix,
    period_index,
)
from crmcore.analytics.gamma_gamma import (
    GammaGammaModel,
    fit_gamma_gamma,
)
from crmcore.analytics.kpis import (
    CustomerKpis,
    HistoricalClv,
    customer_kpis,
    historical_clv,
)
from crmcore.analytics.quantiles import (
    Ties,
    quantile_scores,
)
from crmcore.analytics.rfm import (
    RfmReport,
    RfmTable,
    SegmentSummary,
    rfm_scores,
)
from crmcore.analytics.rfm_segments import (
    PYMC_MARKETING_SEGMENTS,
    R_RFM_SEGMENTS,
    RFM_SEGMENTS,
    SEG_MAP_RF,
    SegmentMap,
    SegmentRule,
)
from crmcore.analytics.value_tiers import (
    DEFAULT_CUTS,
    TierSummary,
    ValueTiers,
    value_tiers,
)
from crmcore.kernel.deprecation import renamed

__all__ = [
    "PYMC_MARKETING_SEGMENTS",
    "RFM_SEGMENTS",
    "R_RFM_SEGMENTS",
    "SEG_MAP_RF",
    "RfmReport",
    "RfmTable",
    "SegmentMap",
    "SegmentRule",
    "SegmentSummary",
    "Ties",
    "quantile_scores",
    "rfm_scores",
    "DEFAULT_CUTS",
    "TierSummary",
    "ValueTiers",
    "value_tiers",
    "CohortMatrix",
    "CohortPeriod",
    "cohort_matrix",
    "period_index",
    "CustomerKpis",
    "HistoricalClv",
    "customer_kpis",
    "historical_clv",
    "BtydSummary",
    "SummaryPeriod",
    "summary_from_transactions",
    "BgNbdModel",
    "bgnbd_log_likelihood",
    "fit_bgnbd",
    "GammaGammaModel",
    "fit_gamma_gamma",
    "MONTH_LENGTH",
    "PredictedClv",
    "customer_lifetime_value",
    "DEFAULT_CHURN_WEIGHTS",
    "ChurnReason",
    "ChurnRisk",
    "ChurnWeights",
    "CustomerValues",
    "churn_risk",
]


__getattr__ = renamed(
    globals(),
    {
        "BGNBDModel": "BgNbdModel",
        "CLVReport": "PredictedClv",
        "RFMSummary": "BtydSummary",
    },
)
"""Names before 0.2, kept for one release."""
