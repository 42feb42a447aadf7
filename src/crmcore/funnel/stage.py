"""The seven funnel stages: :class:`~crmcore.stage.Stage`, re-exported where funnel code looks.

``Stage`` itself lives in the kernel module :mod:`crmcore.stage`, because
customer records (interactions) carry a stage and sit below the funnel in
the layering.
"""

from crmcore.stage import Stage

__all__ = ["Stage"]
