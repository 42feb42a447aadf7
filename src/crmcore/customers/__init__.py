"""Customers: the unified customer view, its records, and data protection."""

from crmcore.customers.contact import Contact, country_code, normalize_email, normalize_phone
from crmcore.customers.customer import (
    ActivitySummary,
    AttributeValue,
    Customer,
    PurchaseSummary,
    normalize_attribute,
)
from crmcore.customers.events import (
    AttributeChanged,
    ConsentChanged,
    ContactChanged,
    CustomerErased,
    CustomerRegistered,
    InteractionRecorded,
    ProfileUpdated,
    PurchaseRecorded,
    ServiceRecorded,
    TagsChanged,
)
from crmcore.customers.privacy import (
    CustomerExport,
    erase_records,
    export_customer,
    import_customer_export,
)
from crmcore.customers.profile import (
    Demographics,
    Education,
    Gender,
    Geography,
    IncomeBand,
    Psychographics,
    normalize_tag,
)
from crmcore.customers.records import (
    ConsentRecord,
    ConsentStatus,
    Interaction,
    MarketingChannel,
    Purchase,
    ServiceRecord,
)

__all__ = [
    "ActivitySummary",
    "AttributeChanged",
    "AttributeValue",
    "ConsentChanged",
    "ConsentRecord",
    "ConsentStatus",
    "Contact",
    "ContactChanged",
    "Customer",
    "CustomerErased",
    "CustomerExport",
    "CustomerRegistered",
    "Demographics",
    "Education",
    "Gender",
    "Geography",
    "IncomeBand",
    "Interaction",
    "InteractionRecorded",
    "MarketingChannel",
    "ProfileUpdated",
    "Psychographics",
    "Purchase",
    "PurchaseRecorded",
    "PurchaseSummary",
    "ServiceRecord",
    "ServiceRecorded",
    "TagsChanged",
    "country_code",
    "erase_records",
    "export_customer",
    "import_customer_export",
    "normalize_attribute",
    "normalize_email",
    "normalize_phone",
    "normalize_tag",
]
