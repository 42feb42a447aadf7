"""crmcore: embeddable, typed CRM domain logic.

The names most applications need are importable from here; each lives in a
module named for its idea (``crmcore.customers``, ``crmcore.money``, ...).
"""

from crmcore.clock import Clock, FixedClock, SystemClock, ensure_aware, to_utc
from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.columnar.schema import CUSTOMER_SCHEMA, EVENT_SCHEMA, TRANSACTION_SCHEMA
from crmcore.customers import (
    ActivitySummary,
    AttributeValue,
    ConsentRecord,
    ConsentStatus,
    Contact,
    Customer,
    CustomerExport,
    Demographics,
    Education,
    Gender,
    Geography,
    IncomeBand,
    Interaction,
    MarketingChannel,
    Psychographics,
    Purchase,
    PurchaseSummary,
    ServiceRecord,
    export_customer,
    import_customer_export,
    normalize_email,
    normalize_phone,
)
from crmcore.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    CrmError,
    CurrencyMismatch,
    CustomerIsErased,
    DuplicateOperation,
    IllegalTransition,
    NotFound,
    SchemaVersionError,
    StorageError,
    ValidationError,
)
from crmcore.events import DomainEvent, Outcome
from crmcore.frozen import FrozenDict
from crmcore.funnel import Stage
from crmcore.ids import CustomerId, InteractionId, OrderId, ServiceRecordId, new_id
from crmcore.journey import (
    JourneyMap,
    JourneyReport,
    PainWeights,
    Scale,
    Touchpoint,
    TouchpointRow,
    TouchpointScore,
    TouchpointScores,
    journey_report,
)
from crmcore.money import Money
from crmcore.ports import (
    CustomerRepository,
    Outbox,
    OutboxMessage,
    Page,
    Store,
    UnitOfWork,
)
from crmcore.storage.memory import MemoryStore
from crmcore.storage.sqlite import SqliteStore

__version__ = "0.1.0"

__all__ = [
    "JourneyMap",
    "JourneyReport",
    "PainWeights",
    "Scale",
    "Touchpoint",
    "TouchpointRow",
    "TouchpointScore",
    "TouchpointScores",
    "journey_report",
    "CUSTOMER_SCHEMA",
    "EVENT_SCHEMA",
    "TRANSACTION_SCHEMA",
    "ActivitySummary",
    "AlreadyExists",
    "AttributeValue",
    "Clock",
    "ConcurrencyConflict",
    "ConsentRecord",
    "ConsentStatus",
    "Contact",
    "CrmError",
    "CurrencyMismatch",
    "Customer",
    "CustomerExport",
    "CustomerFrame",
    "CustomerId",
    "CustomerIsErased",
    "CustomerRepository",
    "Demographics",
    "DomainEvent",
    "DuplicateOperation",
    "Education",
    "EventLog",
    "FixedClock",
    "FrozenDict",
    "Gender",
    "Geography",
    "IllegalTransition",
    "IncomeBand",
    "Interaction",
    "InteractionId",
    "MarketingChannel",
    "MemoryStore",
    "Money",
    "NotFound",
    "OrderId",
    "Outbox",
    "OutboxMessage",
    "Outcome",
    "Page",
    "Psychographics",
    "Purchase",
    "PurchaseSummary",
    "SchemaVersionError",
    "ServiceRecord",
    "ServiceRecordId",
    "SqliteStore",
    "Stage",
    "StorageError",
    "Store",
    "SystemClock",
    "TransactionLog",
    "UnitOfWork",
    "ValidationError",
    "__version__",
    "ensure_aware",
    "export_customer",
    "import_customer_export",
    "new_id",
    "normalize_email",
    "normalize_phone",
    "to_utc",
]
