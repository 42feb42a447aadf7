"""The closed sets the feedback loop speaks in: channels, kinds, case states and triggers.

Every enum of the feedback area lives here, below the modules that use them
(feedback records, cases, events, metrics), so none of those needs another
just for its vocabulary.
"""

from __future__ import annotations

import enum
from typing import Final

from crmcore.kernel.errors import ValidationError

__all__ = [
    "CHANNELS",
    "KINDS",
    "OPEN_STATES",
    "CaseState",
    "CaseTrigger",
    "Channel",
    "FeedbackKind",
    "Priority",
    "Verdict",
]


class Channel(enum.StrEnum):
    """Where feedback arrived: a closed set, so reports never split ``"e-mail"`` from ``"email"``.

    Examples:
        >>> Channel.parse("In-App"), Channel.parse("e-mail")
        (<Channel.IN_APP: 'in_app'>, <Channel.EMAIL: 'email'>)
    """

    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"
    SOCIAL = "social"
    SURVEY = "survey"
    CHAT = "chat"
    VISIT = "visit"
    IN_APP = "in_app"
    WEB = "web"
    REVIEW = "review"
    OTHER = "other"

    @classmethod
    def parse(cls, value: object, field: str = "channel") -> Channel:
        """A channel from itself or its name (case, spaces, ``-`` ignored); else ValidationError."""
        if isinstance(value, Channel):
            return value
        if isinstance(value, str):
            slug = "_".join(value.strip().lower().replace("-", " ").split())
            slug = _CHANNEL_ALIASES.get(slug, slug)
            if slug in cls._value2member_map_:
                return cls(slug)
        raise ValidationError(field, value, f"must be one of {', '.join(c.value for c in cls)}")


_CHANNEL_ALIASES: Final = {"e_mail": "email", "inapp": "in_app", "app": "in_app"}


class FeedbackKind(enum.StrEnum):
    """What kind of feedback it is.

    Examples:
        >>> FeedbackKind.parse(" Complaint ")
        <FeedbackKind.COMPLAINT: 'complaint'>
    """

    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    PRAISE = "praise"
    INQUIRY = "inquiry"

    @classmethod
    def parse(cls, value: object, field: str = "kind") -> FeedbackKind:
        """A kind from itself or its name; ValidationError otherwise."""
        if isinstance(value, FeedbackKind):
            return value
        if isinstance(value, str) and value.strip().lower() in cls._value2member_map_:
            return cls(value.strip().lower())
        raise ValidationError(field, value, f"must be one of {', '.join(k.value for k in cls)}")


CHANNELS: Final[tuple[Channel, ...]] = tuple(Channel)
"""Channel codes of [`FeedbackLog`][crmcore.feedback.FeedbackLog]: ``CHANNELS[code]``."""
KINDS: Final[tuple[FeedbackKind, ...]] = tuple(FeedbackKind)
"""Kind codes of [`FeedbackLog`][crmcore.feedback.FeedbackLog]: ``KINDS[code]``."""


class CaseState(enum.StrEnum):
    """Where a case stands."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class CaseTrigger(enum.StrEnum):
    """What happened to a case."""

    ASSIGN = "assign"
    ACKNOWLEDGE = "acknowledge"
    START = "start"
    WAIT_ON_CUSTOMER = "wait_on_customer"
    CUSTOMER_REPLIED = "customer_replied"
    RESOLVE = "resolve"
    FOLLOW_UP = "follow_up"
    CLOSE = "close"
    REOPEN = "reopen"


class Priority(enum.IntEnum):
    """A case's priority (Zendesk's four levels); ordered, stored by name (``"high"``)."""

    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4

    @property
    def label(self) -> str:
        """The lower-case name used in JSON and rules."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: object, field: str = "priority") -> Priority:
        """A priority from itself or its label; ValidationError otherwise."""
        if isinstance(value, Priority):
            return value
        if isinstance(value, str) and value.strip().upper() in cls.__members__:
            return cls[value.strip().upper()]
        labels = ", ".join(p.label for p in cls)
        raise ValidationError(field, value, f"must be one of {labels}")


class Verdict(enum.StrEnum):
    """The customer's answer to "was your issue resolved?" at follow-up."""

    RESOLVED = "resolved"
    NOT_RESOLVED = "not_resolved"


OPEN_STATES: Final = frozenset(s for s in CaseState if s is not CaseState.CLOSED)
"""States in which the case still needs work or a verdict (all but closed)."""
