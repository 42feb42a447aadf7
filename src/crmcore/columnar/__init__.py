"""Columnar data: customers, transactions and events as numpy columns."""

from crmcore.columnar.columns import STRING_DTYPE, Column
from crmcore.columnar.frame import CustomerFrame, EventLog, TransactionLog, ages_on
from crmcore.columnar.schema import (
    CUSTOMER_SCHEMA,
    EVENT_SCHEMA,
    TRANSACTION_SCHEMA,
    ColumnKind,
    ColumnSpec,
    Schema,
    customer_record,
)
from crmcore.columnar.table import Frame

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
    "ages_on",
    "customer_record",
]
