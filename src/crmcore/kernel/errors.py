"""The crmcore exception hierarchy.

Every error the public API raises derives from [`CrmError`][crmcore.kernel.errors.CrmError], so a
host application can catch one type at its boundary. Each subclass carries the facts a caller needs
to react (the field and value that failed validation, the expected and actual version of a
conflicting write, ...) as attributes, and a message that quotes them.
"""

from __future__ import annotations

import enum
from typing import Any, Final

from crmcore.kernel.deprecation import renamed

__all__ = [
    "AlreadyExistsError",
    "ConcurrencyConflictError",
    "CrmError",
    "CurrencyMismatchError",
    "CustomerErasedError",
    "DuplicateOperationError",
    "IllegalTransitionError",
    "InsufficientPointsError",
    "MissingDependencyError",
    "ModelFitError",
    "NotFoundError",
    "RuleError",
    "RuleSyntaxError",
    "RuleTypeError",
    "SchemaVersionError",
    "StorageError",
    "ValidationError",
]


def _show(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class CrmError(Exception):
    """Base class of every error raised by crmcore."""


class ValidationError(CrmError, ValueError):
    """A value failed validation.

    ``field`` names what was being validated (a dotted path such as
    ``"contact.email"``, or ``"row 17: at"`` for bulk input), ``value`` is the
    offending value and ``reason`` says what was expected.

    It also derives from `ValueError` so that ``attrs`` validators and
    generic callers that expect ``ValueError`` keep working.
    """

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {reason} (got {_show(value)})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.field, self.value, self.reason))


class CurrencyMismatchError(ValidationError):
    """Two amounts in different currencies were combined."""

    def __init__(self, left: str, right: str, operation: str = "combine") -> None:
        self.left = left
        self.right = right
        self.operation = operation
        super().__init__("currency", right, f"cannot {operation} {left} with {right} amounts")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.left, self.right, self.operation))


class NotFoundError(CrmError, LookupError):
    """Nothing is stored under ``key`` for ``entity`` (e.g. ``"customer"``)."""

    def __init__(self, entity: str, key: object) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} {_show(key)} not found")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.entity, self.key))


class AlreadyExistsError(CrmError):
    """An entity with the same identity (or unique field) is already stored."""

    def __init__(self, entity: str, key: object, field: str = "id") -> None:
        self.entity = entity
        self.key = key
        self.field = field
        super().__init__(f"{entity} with {field} {_show(key)} already exists")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.entity, self.key, self.field))


class ConcurrencyConflictError(CrmError):
    """A write was based on a stale version of an aggregate.

    ``expected`` is the version the writer had loaded, ``actual`` the version
    now stored (``None`` when the aggregate no longer exists). Reload, reapply
    the change and retry.
    """

    def __init__(self, entity: str, key: object, expected: int, actual: int | None) -> None:
        self.entity = entity
        self.key = key
        self.expected = expected
        self.actual = actual
        stored = "no longer exists" if actual is None else f"is at version {actual}"
        super().__init__(
            f"{entity} {_show(key)} was changed concurrently: "
            f"expected version {expected}, but it {stored}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.entity, self.key, self.expected, self.actual))


class DuplicateOperationError(CrmError):
    """An idempotency key was reused with a different payload."""

    def __init__(self, key: str, reason: str = "already used with a different payload") -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"operation key {_show(key)} {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.key, self.reason))


class IllegalTransitionError(CrmError):
    """A state change that the rules do not allow.

    ``from_state`` is where the move started, ``to_state`` where it would
    have led (``None`` when no row of the table leads anywhere), ``trigger``
    what was fired (``None`` for a move asked for by its target), and ``why``
    which rule forbids it.
    """

    def __init__(
        self, from_state: object, to_state: object, why: str, trigger: object = None
    ) -> None:
        self.from_state = from_state
        self.to_state = to_state
        self.trigger = trigger
        self.why = why
        move = f"from {_shown(from_state)}"
        if to_state is not None:
            move += f" to {_shown(to_state)}"
        if trigger is not None:
            move += f" on '{_shown(trigger)}'"
        super().__init__(f"cannot go {move}: {why}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.from_state, self.to_state, self.why, self.trigger))


def _shown(value: object) -> object:
    """An enum member as its value (``done``, not ``ActionStatus.DONE``) in a message."""
    return value.value if isinstance(value, enum.Enum) else value


class CustomerErasedError(CrmError):
    """The customer was erased (anonymised); it accepts no further changes."""

    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        super().__init__(f"customer {customer_id!r} has been erased and cannot be changed")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.customer_id,))


class StorageError(CrmError):
    """The storage back end failed (I/O error, corrupt file, locked database)."""


class SchemaVersionError(StorageError):
    """The stored schema is newer than this version of crmcore understands."""

    def __init__(self, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            f"database schema version {found} is newer than the newest this crmcore "
            f"supports ({supported}); upgrade crmcore"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.found, self.supported))


class InsufficientPointsError(CrmError):
    """A redemption (or a clawback the policy forbids to go negative) exceeds the balance.

    ``balance`` is the points available at the time, ``requested`` what was asked for.
    """

    def __init__(self, account: str, balance: int, requested: int) -> None:
        self.account = account
        self.balance = balance
        self.requested = requested
        super().__init__(
            f"account {account!r} has {balance} points available, {requested} requested"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.account, self.balance, self.requested))


def _caret(text: str, line: int, column: int) -> str:
    """The source line ``line`` (1-based) with a caret under ``column`` (1-based)."""
    lines = text.splitlines() or [""]
    source = lines[line - 1] if 1 <= line <= len(lines) else ""
    return f"{source}\n{' ' * max(column - 1, 0)}^"


class RuleError(CrmError):
    """A segment rule is malformed: base class of the rule language's errors.

    ``line`` and ``column`` are 1-based positions in ``text`` (the rule's
    source, ``""`` for a rule built in code, where the position is then 0, 0);
    ``excerpt`` is the offending source line with a caret under the column.
    """

    def __init__(self, message: str, text: str = "", line: int = 0, column: int = 0) -> None:
        self.message = message
        self.text = text
        self.line = line
        self.column = column
        self.excerpt = _caret(text, line, column) if text and line else ""
        where = f"line {line}, column {column}: " if line else ""
        full = f"{where}{message}"
        if self.excerpt:
            full += "\n" + self.excerpt
        super().__init__(full)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.text, self.line, self.column))


class RuleSyntaxError(RuleError):
    """Rule text does not follow the grammar (or a JSON form is malformed)."""


class RuleTypeError(RuleError):
    """A well-formed rule does not type-check against the schema it runs on.

    For example an unknown field, a string compared with a number, or an
    aggregate over an event kind the log does not know.
    """


class ModelFitError(CrmError):
    """A statistical model could not be fitted (no data, no variance, no convergence).

    ``model`` names the model, ``reason`` says what went wrong.
    """

    def __init__(self, model: str, reason: str) -> None:
        self.model = model
        self.reason = reason
        super().__init__(f"cannot fit {model}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.model, self.reason))


class MissingDependencyError(CrmError, ImportError):
    """An optional dependency is needed for this feature but not installed.

    ``package`` is the missing import, ``extra`` the crmcore extra that installs it.
    """

    def __init__(self, package: str, extra: str, feature: str) -> None:
        self.package = package
        self.extra = extra
        self.feature = feature
        super().__init__(
            f"{feature} needs {package!r}; install it with: pip install 'crmcore[{extra}]'"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.package, self.extra, self.feature))


_RENAMED: Final = {
    "AlreadyExists": "AlreadyExistsError",
    "ConcurrencyConflict": "ConcurrencyConflictError",
    "CurrencyMismatch": "CurrencyMismatchError",
    "CustomerIsErased": "CustomerErasedError",
    "DuplicateOperation": "DuplicateOperationError",
    "IllegalTransition": "IllegalTransitionError",
    "InsufficientPoints": "InsufficientPointsError",
    "MissingDependency": "MissingDependencyError",
    "NotFound": "NotFoundError",
}
"""Names before 0.2 (every error class now ends in ``Error``); removed in 0.3."""
__getattr__ = renamed(globals(), _RENAMED)
