"""The seven-stage customer funnel: stages, per-customer positions and touchpoints."""

from crmcore.funnel.events import StageEntered, StageMove, StageRegressed
from crmcore.funnel.position import (
    DEFAULT_POLICY,
    MAX_REASON_LENGTH,
    FunnelPolicy,
    FunnelPosition,
    StageChange,
    normalize_reason,
)
from crmcore.funnel.stage import Stage
from crmcore.funnel.touchpoints import (
    DEFAULT_TOUCHPOINTS,
    TouchpointMap,
    TouchpointRule,
    apply_interaction,
    replay,
)

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_TOUCHPOINTS",
    "MAX_REASON_LENGTH",
    "FunnelPolicy",
    "FunnelPosition",
    "Stage",
    "StageChange",
    "StageEntered",
    "StageMove",
    "StageRegressed",
    "TouchpointMap",
    "TouchpointRule",
    "apply_interaction",
    "normalize_reason",
    "replay",
]
