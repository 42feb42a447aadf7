"""Columnar data: customers, transactions and events as numpy columns."""

from crmcore.columnar._columns import STRING_DTYPE, Column
from crmcore.columnar.frame import CustomerFrame, EventLog, Frame, TransactionLog
from crmcore.columnar.schema import (
    CUSTOMER_SCHEMA,
    EVENT_SCHEMA,
    TRANSACTION_SCHEMA,
    ColumnKind,
    ColumnSpec,
    Schema,
    customer_record,
)

__all__ = [
    "CUSTOMER_SCHEMA",
    "EVENT_SCHEMA",
    "STRING_DTYPE",
    "TRANSACTION_SCHEMA",
    "Column",
    "ColumnKind",
    "ColumnSpec",
    "CustomerFrame",
    "EventLog",
    "Frame",
    "Schema",
    "TransactionLog",
    "customer_record",
]
