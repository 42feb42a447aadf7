"""Use cases: each loads through a unit of work, applies the domain, and saves atomically."""

from crmcore.services.customers import (
    change_customer,
    erase_customer,
    export_customer_data,
    import_customers,
    record_interaction,
    record_purchase,
    record_service,
    register_customer,
    retry_on_conflict,
    set_consent,
)

__all__ = [
    "change_customer",
    "erase_customer",
    "export_customer_data",
    "import_customers",
    "record_interaction",
    "record_purchase",
    "record_service",
    "register_customer",
    "retry_on_conflict",
    "set_consent",
]
