import pickle

import pytest

from crmcore.kernel import errors
from crmcore.kernel.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    CrmError,
    CurrencyMismatchError,
    CustomerErasedError,
    DuplicateOperationError,
    IllegalTransitionError,
    InsufficientPointsError,
    MissingDependencyError,
    ModelFitError,
    NotFoundError,
    RuleSyntaxError,
    RuleTypeError,
    SchemaVersionError,
    StorageError,
    ValidationError,
)

EXAMPLES: list[CrmError] = [
    ValidationError("contact.email", "nope", "must look like name@example.com"),
    CurrencyMismatchError("EUR", "USD", "add"),
    NotFoundError("customer", "C1"),
    AlreadyExistsError("customer", "a@example.com", "email"),
    ConcurrencyConflictError("customer", "C1", 3, 4),
    DuplicateOperationError("key-1"),
    IllegalTransitionError("new", "closed", "a case must be resolved first"),
    CustomerErasedError("C1"),
    SchemaVersionError(9, 1),
    StorageError("disk full"),
    InsufficientPointsError("A1", 40, 100),
    RuleSyntaxError("expected a value", "total_spent >= ", 1, 16),
    RuleTypeError("unknown field 'x'", "x > 1", 1, 1),
    ModelFitError("BG/NBD", "the optimiser did not converge"),
    MissingDependencyError("scipy", "models", "fitting BG/NBD"),
]


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_every_error_is_a_crm_error_and_survives_pickling(error: CrmError) -> None:
    assert isinstance(error, CrmError)
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)


def test_messages_quote_the_facts() -> None:
    assert (
        str(ValidationError("name", "", "must not be empty")) == "name: must not be empty (got '')"
    )
    conflict = ConcurrencyConflictError("customer", "C1", 3, None)
    assert "expected version 3" in str(conflict)
    assert "no longer exists" in str(conflict)
    transition = IllegalTransitionError("new", "closed", "why not")
    assert (transition.from_state, transition.to_state) == ("new", "closed")
    assert "from new to closed" in str(transition)


def test_long_values_are_shortened_in_messages() -> None:
    message = str(ValidationError("note", "x" * 500, "too long"))
    assert len(message) < 150
    assert message.endswith("...)")


def test_validation_error_is_also_a_value_error() -> None:
    assert issubclass(ValidationError, ValueError)
    assert issubclass(NotFoundError, LookupError)


def test_module_exports_every_error() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), CrmError)


def test_rule_errors_point_at_the_column_with_a_caret() -> None:
    error = RuleSyntaxError("expected a value", "a = 1 and\nb >= ", 2, 6)
    assert (error.line, error.column) == (2, 6)
    assert error.excerpt == "b >= \n     ^"
    assert str(error).startswith("line 2, column 6: expected a value")
    assert RuleTypeError("bad", "", 0, 0).excerpt == ""


def test_insufficient_points_names_balance_and_request() -> None:
    error = InsufficientPointsError("A1", 40, 100)
    assert (error.balance, error.requested) == (40, 100)
    assert "40 points available, 100 requested" in str(error)
    assert issubclass(MissingDependencyError, ImportError)
