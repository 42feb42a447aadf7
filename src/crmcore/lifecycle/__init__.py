"""The customer lifecycle: states, the transition table, records with evidence, policies.

Prospect → new → growth → mature → decline → churned, with win-back
(DOMAIN.md §3, seed 002 §2.1). States are inferred from purchases by a
[`LifecyclePolicy`][crmcore.lifecycle.LifecyclePolicy], per customer
([`classify()`][crmcore.lifecycle.classify]) or for a whole transaction log at once
([`classify_log()`][crmcore.lifecycle.classify_log]); a [`Lifecycle`][crmcore.lifecycle.Lifecycle]
record keeps every change with its evidence and answers as-of queries.
"""

from crmcore.lifecycle.events import (
    EVENT_FOR_KIND,
    ChurnWarning,
    CustomerChurned,
    CustomerReactivated,
    LifecycleChanged,
    LifecycleEvent,
)
from crmcore.lifecycle.evidence import ActivityFacts, Evidence, Reason, reasons_from_bits
from crmcore.lifecycle.policy import (
    DEFAULT_POLICY,
    Amount,
    Classification,
    LifecyclePolicy,
    PurchaseInput,
    classify,
)
from crmcore.lifecycle.policy_batch import BatchClassification, classify_log
from crmcore.lifecycle.record import (
    INITIAL_STATE,
    Lifecycle,
    LifecycleChange,
    reclassify,
    replay,
)
from crmcore.lifecycle.states import ACTIVE_STATES, LifecycleState
from crmcore.lifecycle.transitions import (
    GUARDS,
    MACHINE,
    TRANSITIONS,
    Guard,
    Transition,
    TransitionKind,
    Trigger,
    allowed_targets,
    allowed_triggers,
    transition_for,
    transition_on,
)
from crmcore.lifecycle.transitions_batch import BatchTransitions, transitions

__all__ = [
    "ACTIVE_STATES",
    "DEFAULT_POLICY",
    "EVENT_FOR_KIND",
    "GUARDS",
    "INITIAL_STATE",
    "MACHINE",
    "TRANSITIONS",
    "ActivityFacts",
    "Amount",
    "BatchClassification",
    "BatchTransitions",
    "ChurnWarning",
    "Classification",
    "CustomerChurned",
    "CustomerReactivated",
    "Evidence",
    "Guard",
    "Lifecycle",
    "LifecycleChange",
    "LifecycleChanged",
    "LifecycleEvent",
    "LifecyclePolicy",
    "LifecycleState",
    "PurchaseInput",
    "Reason",
    "Transition",
    "TransitionKind",
    "Trigger",
    "allowed_targets",
    "allowed_triggers",
    "classify",
    "classify_log",
    "reasons_from_bits",
    "reclassify",
    "replay",
    "transition_for",
    "transition_on",
    "transitions",
]
