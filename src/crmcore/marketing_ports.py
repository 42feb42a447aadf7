"""Storage ports of the marketing area: workflows, enrolments, contact histories, coupons.

The repositories a [`UnitOfWork`][crmcore.ports.UnitOfWork] hands out for
[`crmcore.marketing`][crmcore.marketing] (``uow.workflows``, ``uow.enrolments``,
``uow.contact_histories``, ``uow.send_counts``, ``uow.coupons``, ``uow.coupon_wallets``; campaigns,
coupon definitions and pools are plain
[`AggregateRepository`][crmcore.ports.AggregateRepository] s), with the semantics of every port
([`crmcore.ports`][crmcore.ports]).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from crmcore.marketing.coupon_wallet import Coupon, CouponWallet
from crmcore.marketing.enrolments import Enrolment
from crmcore.marketing.guardrails import ContactHistory, SendCounts
from crmcore.marketing.workflows import Workflow, WorkflowCatalog
from crmcore.ports import AggregateRepository

__all__ = [
    "ContactHistoryRepository",
    "CouponRepository",
    "CouponWalletRepository",
    "EnrolmentRepository",
    "SendCountsRepository",
    "WorkflowRepository",
]


class WorkflowRepository(Protocol):
    """Workflow definitions, append-only: each (id, version) is stored once, never rewritten."""

    def add(self, workflow: Workflow) -> Workflow:
        """Store a workflow version;
        [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] if it is stored."""
        ...

    def find(self, workflow_id: str, version: int) -> Workflow | None:
        """Version ``version`` of ``workflow_id``, or ``None``."""
        ...

    def get(self, workflow_id: str, version: int) -> Workflow:
        """Version ``version`` of ``workflow_id``; `NotFoundError` otherwise."""
        ...

    def latest(self, workflow_id: str) -> Workflow:
        """The newest stored version of ``workflow_id``; `NotFoundError` if none."""
        ...

    def versions(self, workflow_id: str) -> tuple[Workflow, ...]:
        """Every stored version of ``workflow_id``, oldest first."""
        ...

    def all(self) -> WorkflowCatalog:
        """Every version of every stored workflow, as a checked
        [`WorkflowCatalog`][crmcore.marketing.workflows.WorkflowCatalog]."""
        ...


class EnrolmentRepository(AggregateRepository[Enrolment], Protocol):
    """Workflow enrolments (versioned), by customer, by workflow, and due by wake time."""

    def for_customers(self, customer_ids: Iterable[str]) -> tuple[Enrolment, ...]:
        """Every run of these customers in any workflow, by (customer, id)."""
        ...

    def due(self, before: datetime) -> tuple[Enrolment, ...]:
        """The open enrolments whose ``wake_at`` is at or before ``before``, by (wake_at, id)."""
        ...

    def of_workflow(self, workflow_id: str) -> tuple[Enrolment, ...]:
        """Every run of the workflow ``workflow_id`` (any version), in id order."""
        ...


class ContactHistoryRepository(AggregateRepository[ContactHistory], Protocol):
    """The messages recently sent to each customer (by customer id), for caps and replays."""

    def for_customers(self, customer_ids: Iterable[str]) -> tuple[ContactHistory, ...]:
        """The stored histories of these customers, in id order."""
        ...


class SendCountsRepository(Protocol):
    """The automation's global send counts: one value, every run reads and writes it."""

    def get(self) -> SendCounts:
        """The stored counts (empty when no run stored any)."""
        ...

    def last_run(self) -> datetime | None:
        """The ``now`` of the run that stored the counts (``None``: no run yet)."""
        ...

    def save(self, counts: SendCounts, run_at: datetime | None) -> None:
        """Store the counts and the instant of the last full run (``run_at``; ``None``: none
        yet): a conflict if another run stored counts since this unit of work read them (``save``
        reads them if it had not)."""
        ...


class CouponRepository(AggregateRepository[Coupon], Protocol):
    """Coupons, by code; found by definition and by holder."""

    def of_definition(self, definition_id: str) -> tuple[Coupon, ...]:
        """The coupons issued under ``definition_id``, by code."""
        ...

    def held_by(self, customer_id: str) -> tuple[Coupon, ...]:
        """The coupons issued to ``customer_id``, by code."""
        ...


class CouponWalletRepository(AggregateRepository[CouponWallet], Protocol):
    """Coupon wallets: one per customer and definition."""

    def find_for(self, definition_id: str, customer_id: str) -> CouponWallet | None:
        """The customer's wallet for ``definition_id``, or ``None``."""
        ...

    def for_customer(self, customer_id: str) -> tuple[CouponWallet, ...]:
        """Every wallet of ``customer_id``, in id order."""
        ...
