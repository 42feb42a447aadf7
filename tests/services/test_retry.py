"""The retry helper: bounded exponential backoff with full jitter, and the services that use it.

Every test injects the sleep and the random source: nothing sleeps for real.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.customers import Customer
from crmcore.kernel.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    StorageError,
    ValidationError,
)
from crmcore.kernel.money import Money
from crmcore.loyalty import LoyaltyProgram
from crmcore.services import (
    DEFAULT_RETRY,
    NO_RETRY,
    RetryPolicy,
    change_customer,
    is_transient,
    open_account,
    redeem_points,
    register_customer,
    retry,
    retry_on_conflict,
)
from crmcore.storage.memory import MemoryStore
from crmcore.storage.unit_of_work import BufferedUnitOfWork

T = datetime(2026, 3, 1, 12, tzinfo=UTC)
PROGRAM = LoyaltyProgram(id="P", currency="EUR", point_value=Money("0.01", "EUR"))


def conflict() -> ConcurrencyConflictError:
    return ConcurrencyConflictError("account", "A-1", 1, 2)


class Flaky:
    """An operation failing with the given errors, then returning "done"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def policy(**options: Any) -> tuple[RetryPolicy, list[float]]:
    waits: list[float] = []
    return RetryPolicy(sleep=waits.append, random=lambda: 1.0, **options), waits


def test_the_waits_grow_exponentially_up_to_the_cap() -> None:
    chosen, waits = policy(attempts=8, base_delay=0.01, max_delay=0.1)
    operation = Flaky(*(conflict() for _ in range(7)))
    assert retry(operation, chosen) == "done"
    assert operation.calls == 8
    assert waits == pytest.approx([0.01, 0.02, 0.04, 0.08, 0.1, 0.1, 0.1])
    assert chosen.max_total_wait == pytest.approx(sum(waits))


@given(draws=st.lists(st.floats(0, 1), min_size=11, max_size=11))
def test_full_jitter_draws_each_wait_uniformly_below_its_ceiling(draws: list[float]) -> None:
    source = iter(draws)
    waits: list[float] = []
    chosen = RetryPolicy(attempts=12, sleep=waits.append, random=lambda: next(source))
    assert retry(Flaky(*(conflict() for _ in range(11))), chosen) == "done"
    assert waits == pytest.approx([d * chosen.ceiling(n) for n, d in enumerate(draws, 1)])
    assert all(0 <= w <= chosen.max_delay for w in waits)
    assert sum(waits) <= chosen.max_total_wait


def test_after_the_last_attempt_the_error_propagates_unchanged() -> None:
    chosen, waits = policy(attempts=3)
    last = conflict()
    operation = Flaky(conflict(), conflict(), last)
    with pytest.raises(ConcurrencyConflictError) as info:
        retry(operation, chosen)
    assert info.value is last and operation.calls == 3 and len(waits) == 2


def test_errors_that_a_retry_cannot_fix_propagate_at_once() -> None:
    chosen, waits = policy()
    for error in (ValidationError("x", 1, "bad"), AlreadyExistsError("customer", "C1"),
                  StorageError("disk full"), KeyError("bug")):  # fmt: skip
        operation = Flaky(error)
        with pytest.raises(type(error)):
            retry(operation, chosen)
        assert operation.calls == 1
    assert waits == []


def test_transient_database_failures_are_recognised_by_their_cause() -> None:
    class SerializationError(Exception):
        sqlstate = "40001"

    class DeadlockError(Exception):
        sqlstate = "40P01"

    class UniqueError(Exception):
        sqlstate = "23505"

    def storage(cause: BaseException) -> StorageError:
        error = StorageError("commit failed")
        error.__cause__ = cause
        return error

    assert is_transient(conflict())
    assert is_transient(storage(SerializationError()))
    assert is_transient(storage(DeadlockError()))
    assert not is_transient(storage(UniqueError()))
    assert not is_transient(StorageError("no cause"))
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorname = "SQLITE_BUSY"  # type: ignore[attr-defined]
    assert is_transient(storage(busy))
    chosen, waits = policy()
    assert retry(Flaky(storage(DeadlockError()), storage(busy)), chosen) == "done"
    assert len(waits) == 2


def test_policies_are_validated() -> None:
    for options in ({"attempts": 0}, {"attempts": True}, {"base_delay": -1},
                    {"max_delay": float("inf")}, {"base_delay": 1.0, "max_delay": 0.5},
                    {"sleep": None}, {"random": 3}, {"retry_if": "yes"}):  # fmt: skip
        with pytest.raises(ValidationError):
            RetryPolicy(**options)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        retry(Flaky(), "three times")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        retry("not callable", DEFAULT_RETRY)  # type: ignore[arg-type]
    bad_random = RetryPolicy(random=lambda: 2.0, sleep=lambda s: None)
    with pytest.raises(ValidationError, match="random"):
        retry(Flaky(conflict()), bad_random)


def test_no_retry_and_none_run_once() -> None:
    for chosen in (NO_RETRY, None):
        operation = Flaky(conflict())
        with pytest.raises(ConcurrencyConflictError):
            retry(operation, chosen)
        assert operation.calls == 1
    assert DEFAULT_RETRY.attempts == 20 and DEFAULT_RETRY.max_total_wait < 7.0


def test_the_old_name_keeps_working_with_backoff() -> None:
    operation = Flaky(conflict())
    assert retry_on_conflict(operation, attempts=2) == "done"
    with pytest.raises(ValidationError):
        retry_on_conflict(operation, attempts=0)


class RacingStore(MemoryStore):
    """A memory store where the next ``races`` commits meet a concurrent change first."""

    def __init__(self) -> None:
        super().__init__()
        self.races = 0

    def unit_of_work(self) -> BufferedUnitOfWork:
        inner = super().unit_of_work()
        store = self

        class Racing(BufferedUnitOfWork):
            def commit(self) -> None:
                if store.races and self._aggregates:
                    store.races -= 1
                    with MemoryStore.unit_of_work(store) as other:  # someone else commits
                        customer = other.customers.get("C1")
                        other.customers.save(other.take(customer.tag([f"r{store.races}"], T)))
                super().commit()

        return Racing(inner._backend)


def test_services_redo_their_unit_of_work_after_conflicts() -> None:
    store = RacingStore()
    register_customer(store, Customer.register("C1", "Ann", T))
    chosen, waits = policy()
    store.races = 3  # the next three commits each lose a race
    saved = change_customer(store, "C1", lambda c: c.tag(["mine"], T), retry=chosen)
    assert saved.tags == {"mine", "r2", "r1", "r0"} and len(waits) == 3
    with pytest.raises(ConcurrencyConflictError):  # retry=None: the conflict is the answer
        store.races = 1
        change_customer(store, "C1", lambda c: c.tag(["again"], T), retry=None)
    with pytest.raises(ConcurrencyConflictError):  # so it is with an expected version
        store.races = 0
        change_customer(store, "C1", lambda c: c.tag(["x"], T), expected_version=1, retry=chosen)


def test_a_retried_redemption_is_applied_once() -> None:
    store = MemoryStore()
    register_customer(store, Customer.register("C1", "Ann", T))
    open_account(store, "A-1", "C1", PROGRAM)
    with store.unit_of_work() as uow:
        account = uow.loyalty_accounts.get("A-1")
        uow.loyalty_accounts.save(account.adjust(PROGRAM, 100, reason="gift", at=T, key="g").value)
    calls = 0
    real = store.unit_of_work

    def flaky_unit_of_work() -> BufferedUnitOfWork:
        nonlocal calls
        calls += 1
        uow = real()
        if calls == 1:  # the first attempt commits, then the caller sees a deadlock
            original = uow.commit

            def commit() -> None:
                original()
                error = StorageError("deadlock")
                error.__cause__ = type("Deadlock", (Exception,), {"sqlstate": "40P01"})()
                raise error

            uow.commit = commit  # type: ignore[method-assign]
        return uow

    store.unit_of_work = flaky_unit_of_work  # type: ignore[method-assign]
    chosen, _waits = policy()
    account = redeem_points(store, "A-1", PROGRAM, 30, at=T, key="r-1", retry=chosen)
    assert calls == 2 and account.balance(T) == 70  # the replayed key posted nothing
    assert [e.key for e in account.entries] == ["g", "r-1"]
