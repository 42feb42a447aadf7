"""The repositories of the sales area in a buffered unit of work: leads, opportunities, accounts.

They implement the ports of [`crmcore.sales_ports`][crmcore.sales_ports] over the generic
[`BufferedRepository`][crmcore.storage.repositories.BufferedRepository] and
[`BufferedRecordRepository`][crmcore.storage.repositories.BufferedRecordRepository], so every
adapter built on [`BufferedUnitOfWork`][crmcore.storage.unit_of_work.BufferedUnitOfWork] (memory,
SQLite, PostgreSQL) stores them with no code of its own. Each lookup reads one index of its kind
([`LEADS`][crmcore.storage.kinds.LEADS], [`OPPORTUNITIES`][crmcore.storage.kinds.OPPORTUNITIES],
[`SALES_ACCOUNTS`][crmcore.storage.kinds.SALES_ACCOUNTS]) and sees the unit of work's own writes.
Pipelines are configuration without a storage version of their own: they are kept in a
[`StoredPipeline`][crmcore.storage.kinds.StoredPipeline] holder that
[`BufferedPipelineRepository`][crmcore.storage.sales_repositories.BufferedPipelineRepository]
unwraps.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from crmcore.customers.contact import Contact, normalize_email, normalize_phone
from crmcore.customers.customer import Customer
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.machine import parse_member
from crmcore.sales.accounts import Account
from crmcore.sales.duplicates import duplicate_keys
from crmcore.sales.lead_machine import LeadStatus
from crmcore.sales.leads import Lead
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_frame import OpportunityFrame
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_stages import StageKind
from crmcore.sales.relationships import NodeKind, Relationship, RelationshipKind, node_key
from crmcore.storage.backend import sort_records
from crmcore.storage.kinds import (
    OPEN_LEAD_STATUSES,
    PIPELINES,
    RELATIONSHIPS,
    StoredPipeline,
    relationship_id,
)
from crmcore.storage.repositories import (
    BufferedRecordRepository,
    BufferedRepository,
    check_text,
)

if TYPE_CHECKING:
    from crmcore.storage.unit_of_work import BufferedUnitOfWork

__all__ = [
    "BufferedAccountRepository",
    "BufferedLeadRepository",
    "BufferedOpportunityRepository",
    "BufferedPipelineRepository",
    "BufferedRelationshipRepository",
]


class BufferedLeadRepository(BufferedRepository[Lead]):
    """The [`LeadRepository`][crmcore.sales_ports.LeadRepository] of a unit of work."""

    def find_by_opportunity(self, opportunity_id: str) -> Lead | None:
        """The lead converted into ``opportunity_id``, or ``None``."""
        self._uow._require_open()
        return self._find_by_key("opportunity_id", check_text(opportunity_id, "opportunity_id"))

    def with_email(self, email: str) -> tuple[Lead, ...]:
        """The leads with this e-mail address (compared normalised), in id order."""
        return self._indexed("email", (normalize_email(email),))

    def with_phone(self, phone: str) -> tuple[Lead, ...]:
        """The leads with this phone number (compared in E.164 form), in id order."""
        return self._indexed("phone", (normalize_phone(phone),))

    def matching(self, candidate: Lead | Contact | Customer) -> tuple[Lead, ...]:
        """The leads sharing an e-mail address or a phone number with ``candidate`` (not itself),
        in id order."""
        found: dict[str, Lead] = {}
        for key, value in duplicate_keys(candidate):
            for lead in self._indexed(key, (value,)):
                found[lead.id] = lead
        own = candidate.id if isinstance(candidate, Lead) else None
        return tuple(found[id] for id in sorted(found) if id != own)

    def for_customer(self, customer_id: str) -> tuple[Lead, ...]:
        """The leads linked to the customer ``customer_id``, in id order."""
        return self._indexed("customer", (customer_id,))

    def merged_into(self, lead_id: str) -> tuple[Lead, ...]:
        """The leads absorbed by ``lead_id`` in merges, in id order."""
        return self._indexed("merged_into", (lead_id,))

    def open_for_owner(self, owner: str, status: str | None = None) -> tuple[Lead, ...]:
        """The open leads of ``owner`` (only those in ``status``, an open status, if given)."""
        check_text(owner, "owner")
        if status is None:
            statuses: tuple[str, ...] = OPEN_LEAD_STATUSES
        else:
            chosen = parse_member(LeadStatus, status, "status").value
            if chosen not in OPEN_LEAD_STATUSES:
                raise ValidationError("status", chosen, "must be an open status")
            statuses = (chosen,)
        return self._indexed("owner_status", (f"{owner} {s}" for s in statuses))


class BufferedOpportunityRepository(BufferedRepository[Opportunity]):
    """The [`OpportunityRepository`][crmcore.sales_ports.OpportunityRepository] of a unit of
    work."""

    def find_by_lead(self, lead_id: str) -> Opportunity | None:
        """The opportunity the lead ``lead_id`` was converted into, or ``None``."""
        self._uow._require_open()
        return self._find_by_key("lead_id", check_text(lead_id, "lead_id"))

    def for_account(self, account_id: str) -> tuple[Opportunity, ...]:
        """The account's opportunities, in id order."""
        return self._indexed("account", (account_id,))

    def for_customer(self, customer_id: str) -> tuple[Opportunity, ...]:
        """The customer's opportunities, in id order."""
        return self._indexed("customer", (customer_id,))

    def for_owner(self, owner: str) -> tuple[Opportunity, ...]:
        """The opportunities ``owner`` owns, in id order."""
        return self._indexed("owner", (owner,))

    def in_pipeline(
        self, pipeline_id: str, status: StageKind | str | None = None
    ) -> tuple[Opportunity, ...]:
        """The opportunities of a pipeline (only the open, won or lost ones with ``status``)."""
        check_text(pipeline_id, "pipeline_id")
        kinds = list(StageKind) if status is None else [parse_member(StageKind, status, "status")]
        return self._indexed("pipeline_status", (f"{pipeline_id} {k.value}" for k in kinds))

    def to_frame(self, pipeline: Pipeline) -> OpportunityFrame:
        """Every opportunity of ``pipeline`` as an
        [`OpportunityFrame`][crmcore.sales.opportunity_frame.OpportunityFrame], in id order."""
        if not isinstance(pipeline, Pipeline):
            raise ValidationError("pipeline", pipeline, "must be a Pipeline")
        return OpportunityFrame.from_opportunities(self.in_pipeline(pipeline.id), pipeline)


class BufferedAccountRepository(BufferedRepository[Account]):
    """The [`AccountRepository`][crmcore.sales_ports.AccountRepository] of a unit of work."""

    def children_of(self, parent_id: str) -> tuple[Account, ...]:
        """The accounts directly under ``parent_id``, in id order."""
        return self._indexed("parent", (parent_id,))

    def with_contact(self, customer_id: str) -> tuple[Account, ...]:
        """The accounts listing ``customer_id`` as a contact (in any role), in id order."""
        return self._indexed("contact", (customer_id,))


class BufferedRelationshipRepository:
    """The [`RelationshipRepository`][crmcore.sales_ports.RelationshipRepository] of a unit of
    work: edges are records listed under their source node, keyed by
    [`relationship_id()`][crmcore.storage.kinds.relationship_id]."""

    def __init__(self, uow: BufferedUnitOfWork) -> None:
        self._uow = uow
        self._records = BufferedRecordRepository(uow, RELATIONSHIPS)

    def add(self, relationship: Relationship) -> None:
        """Store a new edge; [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] for
        an edge already stored (or a second referral of a customer)."""
        self._records.add(relationship)

    def referrer_of(self, customer_id: str) -> Relationship | None:
        """The ``referred`` edge whose target is ``customer_id``, or ``None``."""
        key = node_key(NodeKind.CUSTOMER, check_text(customer_id, "customer_id"))
        return self._records.find(f"{RelationshipKind.REFERRED.value} {key}")

    def from_node(self, kind: NodeKind | str, id: str) -> tuple[Relationship, ...]:
        """The edges starting at the node (for symmetric kinds, the smaller id), in time order."""
        node = parse_member(NodeKind, kind, "kind")
        return self._records.for_customer(node_key(node, check_text(id, "id")))

    def all(self) -> tuple[Relationship, ...]:
        """Every edge (stored or pending), in time order."""
        self._uow._require_open()
        merged = {relationship_id(r): r for r in self._uow._backend.all_records(RELATIONSHIPS)}
        for (kind_name, id), write in self._uow._records.items():
            if kind_name == RELATIONSHIPS.name:
                merged[id] = write.record
        return tuple(sort_records(RELATIONSHIPS, merged.values()))

    def count(self) -> int:
        """How many edges are stored."""
        return self._records.count()

    def end(self, relationship: Relationship, at: datetime) -> Relationship:
        """Record that a stored edge ended at ``at``; return it ended."""
        if not isinstance(relationship, Relationship):
            raise ValidationError("relationship", relationship, "must be a Relationship")
        stored = self._records.get(relationship_id(relationship))
        ended = stored.ended(at)
        self._records._replace(ended)
        return ended


class BufferedPipelineRepository:
    """The [`PipelineRepository`][crmcore.sales_ports.PipelineRepository] of a unit of work."""

    def __init__(self, uow: BufferedUnitOfWork) -> None:
        self._repository = BufferedRepository(uow, PIPELINES)

    def add(self, pipeline: Pipeline) -> Pipeline:
        """Store a new pipeline."""
        if not isinstance(pipeline, Pipeline):
            raise ValidationError("pipeline", pipeline, "must be a Pipeline")
        return self._repository.add(StoredPipeline(pipeline=pipeline)).pipeline

    def save(self, pipeline: Pipeline) -> Pipeline:
        """Replace the stored pipeline of that id (a conflict, at the latest at commit, if another
        unit of work changed it since this one read it)."""
        if not isinstance(pipeline, Pipeline):
            raise ValidationError("pipeline", pipeline, "must be a Pipeline")
        stored = self._repository._as_read(pipeline.id)
        if stored is None:
            raise NotFoundError("pipeline", pipeline.id)
        return self._repository.save(attrs.evolve(stored, pipeline=pipeline)).pipeline

    def find(self, id: str) -> Pipeline | None:
        """The pipeline ``id``, or ``None``."""
        stored = self._repository.find(check_text(id, "pipeline_id"))
        return None if stored is None else stored.pipeline

    def get(self, id: str) -> Pipeline:
        """The pipeline ``id``; [`NotFoundError`][crmcore.kernel.errors.NotFoundError]
        otherwise."""
        found = self.find(id)
        if found is None:
            raise NotFoundError("pipeline", id)
        return found

    def all(self) -> tuple[Pipeline, ...]:
        """Every stored pipeline, in id order."""
        found: builtins.list[StoredPipeline] = []
        after: str | None = None
        while True:
            page = self._repository.list(limit=1000, after=after)
            found.extend(page.items)
            if page.next_after is None:
                break
            after = page.next_after
        pending = {w.id: w.aggregate for w in self._repository._pending_writes()}
        stored = {p.id: p for p in found} | pending
        return tuple(stored[id].pipeline for id in sorted(stored))
