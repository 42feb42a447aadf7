"""The seven-stage customer funnel."""

from crmcore.funnel.stage import Stage

__all__ = ["Stage"]
