"""Marketing: automated workflows, campaigns, coupons, customer care and cross-sell.

Seed 002 §3.1 (市场营销模块, 营销自动化模块) and §4.2, seed 003 §5: crmcore decides who
gets what and when; the host application sends the e-mail, SMS or push.
"""

__all__: list[str] = []
