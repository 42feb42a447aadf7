"""Sales support: leads, lead scoring, opportunities, the pipeline and the sales forecast.

Seed 002 §3.1 (销售管理模块, 销售支持模块, 销售线索评分): leads with their source, status
and follow-ups (`leads`, `activities`, `duplicates`); rule-based and predictive lead
scoring (`scoring`, `scoring_batch`, `predictive`); opportunities moving through a
configurable pipeline (`pipeline`, `opportunities`); pipeline reports, snapshots and the
waterfall (`pipeline_reports`, `snapshots`); the pipeline and history forecasts
(`forecast`, `revenue_forecast`); accounts and the customer relationship graph
(`accounts`, `relationship_graph`). The guides are "Sales: leads and scoring" and
"Opportunities, pipeline and forecast".
"""

from crmcore.sales.account_events import (
    AccountContactAdded,
    AccountContactRemoved,
    AccountOpened,
    AccountOwnerChanged,
    AccountParentChanged,
    AccountRenamed,
)
from crmcore.sales.account_hierarchy import (
    AccountHierarchy,
    id_positions,
)
from crmcore.sales.account_rollups import (
    DEFAULT_STATE_SCORES,
    AccountRollups,
    HealthPolicy,
    account_rollups,
)
from crmcore.sales.accounts import (
    ERASED_NAME,
    Account,
    AccountContact,
    AccountKind,
    ContactRole,
)
from crmcore.sales.activities import (
    TOUCH_KINDS,
    Activity,
    ActivityKind,
    ActivityOutcome,
    ActivityState,
)
from crmcore.sales.deal_performance import (
    DealPerformance,
    GroupBy,
    GroupPerformance,
    deal_performance,
)
from crmcore.sales.deal_risks import (
    DealAtRisk,
    DealList,
    aged_deals,
    slipped_deals,
)
from crmcore.sales.duplicates import (
    DuplicateGroup,
    DuplicateReport,
    LeadMerge,
    choose_survivor,
    duplicate_keys,
    duplicates_of,
    find_duplicates,
    merge_leads,
)
from crmcore.sales.exchange_rates import (
    ExchangeRates,
)
from crmcore.sales.forecast import (
    ForecastLine,
    ForecastPeriodKind,
    PipelineForecast,
    period_bounds,
    pipeline_forecast,
)
from crmcore.sales.forecast_distribution import (
    DEFAULT_EXACT_LIMIT,
    DEFAULT_SIMULATION_LIMIT,
    DEFAULT_SIMULATIONS,
    DistributionMethod,
    OutcomeDistribution,
    bernoulli_sum,
)
from crmcore.sales.holt_winters import (
    HoltWintersFit,
    Seasonality,
    fit_holt_winters,
    seasonal_naive,
)
from crmcore.sales.lead_columns import (
    LeadColumns,
    lead_frame,
    lead_record,
)
from crmcore.sales.lead_conversion import (
    LeadConversion,
    convert_lead,
)
from crmcore.sales.lead_conversion_report import (
    ConversionReport,
    ConversionRow,
    conversion_by_source,
)
from crmcore.sales.lead_events import (
    LeadActivityCancelled,
    LeadActivityCompleted,
    LeadActivityRescheduled,
    LeadActivityScheduled,
    LeadAssigned,
    LeadConverted,
    LeadCreated,
    LeadDetailsChanged,
    LeadLinkedToCustomer,
    LeadRedacted,
    LeadsMerged,
    LeadStatusChanged,
    activity_completed,
    activity_scheduled,
    status_events,
)
from crmcore.sales.lead_history import (
    LeadChange,
    MergedLead,
)
from crmcore.sales.lead_machine import (
    DISQUALIFY_REASONS,
    LEAD_GUARDS,
    LEAD_TRANSITIONS,
    LeadGuardContext,
    LeadStatus,
    LeadTrigger,
)
from crmcore.sales.lead_machine import (
    MACHINE as LEAD_MACHINE,
)
from crmcore.sales.lead_reports import (
    FirstTouchReport,
    FirstTouchRow,
    OverdueFollowUps,
    OverdueItem,
    OverdueRow,
    overdue_follow_ups,
    time_to_first_touch,
)
from crmcore.sales.lead_stages import (
    DEFAULT_LEAD_STAGES,
    LeadStageMap,
)
from crmcore.sales.leads import (
    Lead,
)
from crmcore.sales.model_evaluation import (
    LiftRow,
    ModelEvaluation,
    ReliabilityBin,
    brier_score,
    evaluate,
    roc_auc,
)
from crmcore.sales.opportunities import (
    Opportunity,
)
from crmcore.sales.opportunity_changes import (
    ERASED_NOTE,
    AmountChange,
    CloseDateChange,
    LineItem,
    StageChange,
    StagePeriod,
    line_items_total,
    reason_code,
)
from crmcore.sales.opportunity_events import (
    OpportunityAmountChanged,
    OpportunityCloseDateChanged,
    OpportunityLost,
    OpportunityOpened,
    OpportunityProbabilitySet,
    OpportunityReassigned,
    OpportunityReopened,
    OpportunityStageChanged,
    OpportunityStageEvent,
    OpportunityWon,
)
from crmcore.sales.opportunity_frame import (
    MOVE_CODES,
    NEVER,
    NO_PROBABILITY,
    OpportunityFrame,
    Revisions,
    StageMoves,
    day_number,
)
from crmcore.sales.pipeline import (
    DEFAULT_PIPELINE,
    Pipeline,
)
from crmcore.sales.pipeline_machine import (
    ENTRY_RULES,
    MoveContext,
    PipelineMachine,
    PipelineMove,
    PipelineTransition,
    build_machine,
    entry_problems,
)
from crmcore.sales.pipeline_reports import (
    ConversionLine,
    PipelineReport,
    VelocityLine,
    pipeline_report,
)
from crmcore.sales.pipeline_stages import (
    ForecastCategory,
    PipelineStage,
    StageKind,
    StageRequirement,
    probability,
)
from crmcore.sales.predictive import (
    FeatureContribution,
    LogisticModel,
    NaiveBayesModel,
    PredictionExplanation,
    conversion_outcomes,
)
from crmcore.sales.predictive_features import (
    CategoricalFeature,
    NumericFeature,
)
from crmcore.sales.relationship_graph import (
    AdvocateOrder,
    RelationshipGraph,
)
from crmcore.sales.relationship_reports import (
    Advocate,
    AdvocateRanking,
    ReferralTree,
)
from crmcore.sales.relationships import (
    NodeKind,
    Relationship,
    RelationshipKind,
    node_key,
)
from crmcore.sales.revenue_forecast import (
    Backtest,
    ForecastMethod,
    ForecastPoint,
    RevenueForecast,
    revenue_forecast,
)
from crmcore.sales.scoring import (
    Contribution,
    LeadScore,
    LeadScoring,
)
from crmcore.sales.scoring_batch import (
    EngagementIndex,
    ScoreTable,
    score_frame,
)
from crmcore.sales.scoring_rules import (
    Band,
    Decay,
    EngagementRule,
    FitRule,
    ScoreBands,
    Threshold,
)
from crmcore.sales.snapshots import (
    FLOWS,
    MovementFlow,
    PipelineMovement,
    PipelineSnapshot,
    StageLine,
    pipeline_movement,
    pipeline_snapshot,
)

__all__ = [
    "Account",
    "account_rollups",
    "AccountContact",
    "AccountContactAdded",
    "AccountContactRemoved",
    "AccountHierarchy",
    "AccountKind",
    "AccountOpened",
    "AccountOwnerChanged",
    "AccountParentChanged",
    "AccountRenamed",
    "AccountRollups",
    "Activity",
    "activity_completed",
    "activity_scheduled",
    "ActivityKind",
    "ActivityOutcome",
    "ActivityState",
    "Advocate",
    "AdvocateOrder",
    "AdvocateRanking",
    "aged_deals",
    "AmountChange",
    "Backtest",
    "Band",
    "bernoulli_sum",
    "brier_score",
    "build_machine",
    "CategoricalFeature",
    "choose_survivor",
    "CloseDateChange",
    "ContactRole",
    "Contribution",
    "conversion_by_source",
    "conversion_outcomes",
    "ConversionLine",
    "ConversionReport",
    "ConversionRow",
    "convert_lead",
    "day_number",
    "deal_performance",
    "DealAtRisk",
    "DealList",
    "DealPerformance",
    "Decay",
    "DEFAULT_EXACT_LIMIT",
    "DEFAULT_LEAD_STAGES",
    "DEFAULT_PIPELINE",
    "DEFAULT_SIMULATION_LIMIT",
    "DEFAULT_SIMULATIONS",
    "DEFAULT_STATE_SCORES",
    "DISQUALIFY_REASONS",
    "DistributionMethod",
    "duplicate_keys",
    "DuplicateGroup",
    "DuplicateReport",
    "duplicates_of",
    "EngagementIndex",
    "EngagementRule",
    "entry_problems",
    "ENTRY_RULES",
    "ERASED_NAME",
    "ERASED_NOTE",
    "evaluate",
    "ExchangeRates",
    "FeatureContribution",
    "find_duplicates",
    "FirstTouchReport",
    "FirstTouchRow",
    "fit_holt_winters",
    "FitRule",
    "FLOWS",
    "ForecastCategory",
    "ForecastLine",
    "ForecastMethod",
    "ForecastPeriodKind",
    "ForecastPoint",
    "GroupBy",
    "GroupPerformance",
    "HealthPolicy",
    "HoltWintersFit",
    "id_positions",
    "Lead",
    "lead_frame",
    "LEAD_GUARDS",
    "LEAD_MACHINE",
    "lead_record",
    "LEAD_TRANSITIONS",
    "LeadActivityCancelled",
    "LeadActivityCompleted",
    "LeadActivityRescheduled",
    "LeadActivityScheduled",
    "LeadAssigned",
    "LeadChange",
    "LeadColumns",
    "LeadConversion",
    "LeadConverted",
    "LeadCreated",
    "LeadDetailsChanged",
    "LeadGuardContext",
    "LeadLinkedToCustomer",
    "LeadMerge",
    "LeadRedacted",
    "LeadScore",
    "LeadScoring",
    "LeadsMerged",
    "LeadStageMap",
    "LeadStatus",
    "LeadStatusChanged",
    "LeadTrigger",
    "LiftRow",
    "line_items_total",
    "LineItem",
    "LogisticModel",
    "merge_leads",
    "MergedLead",
    "ModelEvaluation",
    "MOVE_CODES",
    "MoveContext",
    "MovementFlow",
    "NaiveBayesModel",
    "NEVER",
    "NO_PROBABILITY",
    "node_key",
    "NodeKind",
    "NumericFeature",
    "Opportunity",
    "OpportunityAmountChanged",
    "OpportunityCloseDateChanged",
    "OpportunityFrame",
    "OpportunityLost",
    "OpportunityOpened",
    "OpportunityProbabilitySet",
    "OpportunityReassigned",
    "OpportunityReopened",
    "OpportunityStageChanged",
    "OpportunityStageEvent",
    "OpportunityWon",
    "OutcomeDistribution",
    "overdue_follow_ups",
    "OverdueFollowUps",
    "OverdueItem",
    "OverdueRow",
    "period_bounds",
    "Pipeline",
    "pipeline_forecast",
    "pipeline_movement",
    "pipeline_report",
    "pipeline_snapshot",
    "PipelineForecast",
    "PipelineMachine",
    "PipelineMove",
    "PipelineMovement",
    "PipelineReport",
    "PipelineSnapshot",
    "PipelineStage",
    "PipelineTransition",
    "PredictionExplanation",
    "probability",
    "reason_code",
    "ReferralTree",
    "Relationship",
    "RelationshipGraph",
    "RelationshipKind",
    "ReliabilityBin",
    "revenue_forecast",
    "RevenueForecast",
    "Revisions",
    "roc_auc",
    "score_frame",
    "ScoreBands",
    "ScoreTable",
    "seasonal_naive",
    "Seasonality",
    "slipped_deals",
    "StageChange",
    "StageKind",
    "StageLine",
    "StageMoves",
    "StagePeriod",
    "StageRequirement",
    "status_events",
    "Threshold",
    "time_to_first_touch",
    "TOUCH_KINDS",
    "VelocityLine",
]
