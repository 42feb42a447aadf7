"""Columnar data: customers, transactions and events as numpy columns."""

from crmcore.columnar.columns import STRING_DTYPE, Column
from crmcore.columnar.frame import CustomerFrame, EventLog, TransactionLog, ages_on
from crmcore.columnar.id_index import IdIndex
from crmcore.columnar.occasions import (
    DataUsed,
    Occasions,
    data_used,
    purchase_occasions,
)
from crmcore.columnar.reading import (
    ExtraColumns,
    GuestRows,
    ReadOptions,
    SkippedRows,
    read_options,
)
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
    "DataUsed",
    "EventLog",
    "ExtraColumns",
    "Frame",
    "GuestRows",
    "IdIndex",
    "Occasions",
    "ReadOptions",
    "Schema",
    "SkippedRows",
    "TransactionLog",
    "ages_on",
    "customer_record",
    "data_used",
    "purchase_occasions",
    "read_options",
]
