"""The marketing area's repositories in a buffered unit of work: workflows, enrolments, coupons.

They implement the ports of [`crmcore.marketing_ports`][crmcore.marketing_ports] over the generic
[`BufferedRepository`][crmcore.storage.repositories.BufferedRepository], so every adapter built on
[`BufferedUnitOfWork`][crmcore.storage.unit_of_work.BufferedUnitOfWork] stores them with no code
of its own. Workflow versions and the automation's send counts have no storage version of their
own: they live in the holders [`StoredWorkflow`][crmcore.storage.kinds.StoredWorkflow] and
[`StoredSendCounts`][crmcore.storage.kinds.StoredSendCounts], which the repositories here unwrap.
Enrolments due by a time are read from the ``due`` index of
[`ENROLMENTS`][crmcore.storage.kinds.ENROLMENTS] (status and
[`sortable_time()`][crmcore.storage.kinds.sortable_time] of ``wake_at``): a range of text that is
a range of time.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.marketing.coupon_wallet import Coupon, CouponWallet, wallet_id
from crmcore.marketing.enrolment_machine import EnrolmentStatus
from crmcore.marketing.enrolments import Enrolment
from crmcore.marketing.guardrails import ContactHistory, SendCounts
from crmcore.marketing.workflows import Workflow, WorkflowCatalog
from crmcore.storage.kinds import (
    SEND_COUNTS,
    SEND_COUNTS_ID,
    WORKFLOWS,
    StoredSendCounts,
    StoredWorkflow,
    due_value,
)
from crmcore.storage.repositories import BufferedRepository, check_text

if TYPE_CHECKING:
    from crmcore.storage.unit_of_work import BufferedUnitOfWork

__all__ = [
    "BufferedContactHistoryRepository",
    "BufferedCouponRepository",
    "BufferedCouponWalletRepository",
    "BufferedEnrolmentRepository",
    "BufferedSendCountsRepository",
    "BufferedWorkflowRepository",
]

_OPEN = (EnrolmentStatus.ACTIVE, EnrolmentStatus.WAITING)
"""The statuses of an enrolment with a wake time (the values of the ``due`` index)."""
_EARLIEST = "0" * 18
"""The smallest [`sortable_time()`][crmcore.storage.kinds.sortable_time]."""


def _key(workflow_id: str, version: int) -> str:
    check_text(workflow_id, "workflow_id")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError("version", version, "must be a whole number >= 1")
    return f"{workflow_id}@{version}"


class BufferedWorkflowRepository:
    """The [`WorkflowRepository`][crmcore.marketing_ports.WorkflowRepository] of a unit of work:
    each version is one [`StoredWorkflow`][crmcore.storage.kinds.StoredWorkflow], never
    rewritten."""

    def __init__(self, uow: BufferedUnitOfWork) -> None:
        self._repository = BufferedRepository(uow, WORKFLOWS)

    def add(self, workflow: Workflow) -> Workflow:
        """Store a workflow version; `AlreadyExistsError` if that version is stored."""
        if not isinstance(workflow, Workflow):
            raise ValidationError("workflow", workflow, "must be a Workflow")
        return self._repository.add(StoredWorkflow(workflow=workflow)).workflow

    def find(self, workflow_id: str, version: int) -> Workflow | None:
        """Version ``version`` of ``workflow_id``, or ``None``."""
        stored = self._repository.find(_key(workflow_id, version))
        return None if stored is None else stored.workflow

    def get(self, workflow_id: str, version: int) -> Workflow:
        """Version ``version`` of ``workflow_id``;
        [`NotFoundError`][crmcore.kernel.errors.NotFoundError] otherwise."""
        found = self.find(workflow_id, version)
        if found is None:
            raise NotFoundError("workflow", _key(workflow_id, version))
        return found

    def versions(self, workflow_id: str) -> tuple[Workflow, ...]:
        """Every stored version of ``workflow_id``, oldest first."""
        stored = self._repository._indexed("workflow", (workflow_id,))
        return tuple(sorted((s.workflow for s in stored), key=lambda w: w.version))

    def latest(self, workflow_id: str) -> Workflow:
        """The newest stored version of ``workflow_id``; `NotFoundError` if none."""
        versions = self.versions(workflow_id)
        if not versions:
            raise NotFoundError("workflow", workflow_id)
        return versions[-1]

    def all(self) -> WorkflowCatalog:
        """Every version of every stored workflow (and those added in this unit of work), as a
        checked [`WorkflowCatalog`][crmcore.marketing.workflows.WorkflowCatalog]."""
        found: dict[str, StoredWorkflow] = {}
        after: str | None = None
        while True:
            page = self._repository.list(limit=1000, after=after)
            found.update((s.id, s) for s in page.items)
            if page.next_after is None:
                break
            after = page.next_after
        found.update((w.id, w.aggregate) for w in self._repository._pending_writes())
        return WorkflowCatalog(found[id].workflow for id in sorted(found))


class BufferedEnrolmentRepository(BufferedRepository[Enrolment]):
    """The [`EnrolmentRepository`][crmcore.marketing_ports.EnrolmentRepository] of a unit of
    work."""

    def for_customers(self, customer_ids: Iterable[str]) -> tuple[Enrolment, ...]:
        """Every run of these customers in any workflow, by (customer, id)."""
        if isinstance(customer_ids, str):
            raise ValidationError("customer_ids", customer_ids, "must be customer ids, not one")
        found = self._indexed("customer", customer_ids)
        return tuple(sorted(found, key=lambda e: (e.customer_id, e.id)))

    def due(self, before: datetime) -> tuple[Enrolment, ...]:
        """The open enrolments whose ``wake_at`` is at or before ``before``, by (wake_at, id)."""
        instant = to_utc(before, "before")
        found: builtins.list[Enrolment] = []
        for status in _OPEN:
            low = f"{status.value} {_EARLIEST}"
            found.extend(self._range("due", low, due_value(status.value, instant)))
        return tuple(sorted(found, key=lambda e: (e.wake_at, e.id)))

    def of_workflow(self, workflow_id: str) -> tuple[Enrolment, ...]:
        """Every run of the workflow ``workflow_id`` (any version), in id order."""
        return self._indexed("workflow", (workflow_id,))


class BufferedContactHistoryRepository(BufferedRepository[ContactHistory]):
    """The [`ContactHistoryRepository`][crmcore.marketing_ports.ContactHistoryRepository] of a
    unit of work (histories by customer id)."""

    def for_customers(self, customer_ids: Iterable[str]) -> tuple[ContactHistory, ...]:
        """The stored histories of these customers, in id order."""
        if isinstance(customer_ids, str):
            raise ValidationError("customer_ids", customer_ids, "must be customer ids, not one")
        return self.find_many(customer_ids)


class BufferedSendCountsRepository:
    """The [`SendCountsRepository`][crmcore.marketing_ports.SendCountsRepository] of a unit of
    work: one [`StoredSendCounts`][crmcore.storage.kinds.StoredSendCounts] under
    [`SEND_COUNTS_ID`][crmcore.storage.kinds.SEND_COUNTS_ID]."""

    def __init__(self, uow: BufferedUnitOfWork) -> None:
        self._repository = BufferedRepository(uow, SEND_COUNTS)

    def _stored(self) -> StoredSendCounts | None:
        return self._repository._as_read(SEND_COUNTS_ID)

    def get(self) -> SendCounts:
        """The stored counts (empty when no run stored any)."""
        stored = self._stored()
        return SendCounts() if stored is None else stored.counts

    def last_run(self) -> datetime | None:
        """The ``now`` of the run that stored the counts (``None``: no run yet)."""
        stored = self._stored()
        return None if stored is None else stored.run_at

    def save(self, counts: SendCounts, run_at: datetime | None) -> None:
        """Store the counts and the instant of the last full run (``run_at``; ``None``: none yet):
        a conflict, at the latest at commit, if another run stored counts since this unit of work
        read them (``save`` reads them if it had not)."""
        if not isinstance(counts, SendCounts):
            raise ValidationError("counts", counts, "must be SendCounts")
        stored = self._stored()
        if stored is None:
            self._repository.add(StoredSendCounts(counts=counts, run_at=run_at))
        else:
            self._repository.save(attrs.evolve(stored, counts=counts, run_at=run_at))


class BufferedCouponRepository(BufferedRepository[Coupon]):
    """The [`CouponRepository`][crmcore.marketing_ports.CouponRepository] of a unit of work
    (coupons by code)."""

    def of_definition(self, definition_id: str) -> tuple[Coupon, ...]:
        """The coupons issued under ``definition_id``, by code."""
        return self._indexed("definition", (definition_id,))

    def held_by(self, customer_id: str) -> tuple[Coupon, ...]:
        """The coupons issued to ``customer_id``, by code."""
        return self._indexed("holder", (customer_id,))


class BufferedCouponWalletRepository(BufferedRepository[CouponWallet]):
    """The [`CouponWalletRepository`][crmcore.marketing_ports.CouponWalletRepository] of a unit
    of work (one wallet per customer and definition)."""

    def find_for(self, definition_id: str, customer_id: str) -> CouponWallet | None:
        """The customer's wallet for ``definition_id``, or ``None``."""
        return self.find(wallet_id(definition_id, customer_id))

    def for_customer(self, customer_id: str) -> tuple[CouponWallet, ...]:
        """Every wallet of ``customer_id``, in id order."""
        return self._indexed("customer", (customer_id,))
