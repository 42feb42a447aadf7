"""Storage ports of the sales area: leads, opportunities, accounts, relationships, pipelines.

The repositories a [`UnitOfWork`][crmcore.ports.UnitOfWork] hands out for
[`crmcore.sales`][crmcore.sales] (``uow.leads``, ``uow.opportunities``, ``uow.accounts``,
``uow.relationships``, ``uow.pipelines``), with the semantics of every port
([`crmcore.ports`][crmcore.ports]): versioned aggregates, all-or-nothing units of work, lookups that
see the unit of work's own writes and read an index.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.ports import AggregateRepository
from crmcore.sales.accounts import Account
from crmcore.sales.leads import Lead
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_stages import StageKind
from crmcore.sales.relationships import NodeKind, Relationship

if TYPE_CHECKING:
    from crmcore.sales.opportunity_frame import OpportunityFrame

__all__ = [
    "AccountRepository",
    "LeadRepository",
    "OpportunityRepository",
    "PipelineRepository",
    "RelationshipRepository",
]


class LeadRepository(AggregateRepository[Lead], Protocol):
    """Leads, with the lookups a sales team needs. Only ``opportunity_id`` is unique: duplicates
    by e-mail or phone are found ([`crmcore.sales.duplicates`][crmcore.sales.duplicates]), not
    refused."""

    def find_by_opportunity(self, opportunity_id: str) -> Lead | None:
        """The lead converted into ``opportunity_id``, or ``None``."""
        ...

    def with_email(self, email: str) -> tuple[Lead, ...]:
        """The leads with this e-mail address (compared normalised), in id order."""
        ...

    def with_phone(self, phone: str) -> tuple[Lead, ...]:
        """The leads with this phone number (compared in E.164 form), in id order."""
        ...

    def matching(self, candidate: Lead | Contact | Customer) -> tuple[Lead, ...]:
        """The leads sharing an e-mail address or a phone number with ``candidate`` (not itself),
        in id order: what [`duplicates_of()`][crmcore.sales.duplicates.duplicates_of] sorts."""
        ...

    def for_customer(self, customer_id: str) -> tuple[Lead, ...]:
        """The leads linked to the customer ``customer_id``, in id order."""
        ...

    def merged_into(self, lead_id: str) -> tuple[Lead, ...]:
        """The leads absorbed by the lead ``lead_id`` in merges, in id order."""
        ...

    def open_for_owner(self, owner: str, status: str | None = None) -> tuple[Lead, ...]:
        """The open leads (new, working, nurturing, qualified; or only ``status``) of ``owner``."""
        ...


class OpportunityRepository(AggregateRepository[Opportunity], Protocol):
    """Opportunities: at most one per lead, found by account, customer, owner and pipeline."""

    def find_by_lead(self, lead_id: str) -> Opportunity | None:
        """The opportunity the lead ``lead_id`` was converted into, or ``None``."""
        ...

    def for_account(self, account_id: str) -> tuple[Opportunity, ...]:
        """The account's opportunities, in id order."""
        ...

    def for_customer(self, customer_id: str) -> tuple[Opportunity, ...]:
        """The customer's opportunities, in id order."""
        ...

    def for_owner(self, owner: str) -> tuple[Opportunity, ...]:
        """The opportunities ``owner`` owns, in id order."""
        ...

    def in_pipeline(
        self, pipeline_id: str, status: StageKind | str | None = None
    ) -> tuple[Opportunity, ...]:
        """The opportunities of a pipeline (only the ``open``, ``won`` or ``lost`` ones with
        ``status``), in id order."""
        ...

    def to_frame(self, pipeline: Pipeline) -> OpportunityFrame:
        """Every opportunity of ``pipeline`` as an
        [`OpportunityFrame`][crmcore.sales.opportunity_frame.OpportunityFrame], in id order."""
        ...


class AccountRepository(AggregateRepository[Account], Protocol):
    """Sales accounts (companies, households), by parent and by contact."""

    def children_of(self, parent_id: str) -> tuple[Account, ...]:
        """The accounts directly under ``parent_id``, in id order."""
        ...

    def with_contact(self, customer_id: str) -> tuple[Account, ...]:
        """The accounts listing ``customer_id`` as a contact (in any role), in id order."""
        ...


class RelationshipRepository(Protocol):
    """Relationship edges, append-only. An edge is stored once per (kind, source, target,
    since), and a customer is referred at most once: a second one raises
    [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError]."""

    def add(self, relationship: Relationship) -> None:
        """Store a new edge."""
        ...

    def referrer_of(self, customer_id: str) -> Relationship | None:
        """The ``referred`` edge whose target is ``customer_id``, or ``None``."""
        ...

    def from_node(self, kind: NodeKind | str, id: str) -> tuple[Relationship, ...]:
        """The edges starting at the node (for symmetric kinds, the smaller id), in time order."""
        ...

    def all(self) -> tuple[Relationship, ...]:
        """Every stored edge, in time order (for a
        [`RelationshipGraph`][crmcore.sales.relationship_graph.RelationshipGraph])."""
        ...

    def count(self) -> int:
        """How many edges are stored."""
        ...

    def end(self, relationship: Relationship, at: datetime) -> Relationship:
        """Record that a stored edge ended at ``at``; return it ended
        ([`NotFoundError`][crmcore.kernel.errors.NotFoundError] if it is not stored)."""
        ...


class PipelineRepository(Protocol):
    """Pipelines (stages as data), by id; a change to one is a new stored version of it."""

    def add(self, pipeline: Pipeline) -> Pipeline:
        """Store a new pipeline; [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError]
        for a taken id."""
        ...

    def save(self, pipeline: Pipeline) -> Pipeline:
        """Replace the stored pipeline of that id: a conflict if it changed since this unit of work
        read it."""
        ...

    def find(self, id: str) -> Pipeline | None:
        """The pipeline ``id``, or ``None``."""
        ...

    def get(self, id: str) -> Pipeline:
        """The pipeline ``id``; [`NotFoundError`][crmcore.kernel.errors.NotFoundError]
        otherwise."""
        ...

    def all(self) -> tuple[Pipeline, ...]:
        """Every stored pipeline, in id order."""
        ...
