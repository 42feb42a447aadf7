"""Demo section: a win-back workflow and birthday care run over the customers, coupons, a campaign.

The lifecycle's churn warnings of the last month start a win-back workflow; a birthday workflow
runs on the customers' birth dates. Two scheduler runs
([`advance_automation()`][crmcore.services.marketing.advance_automation], at the end of the data
and three days later) store the enrolments and write the intents to the outbox; the host then
issues the coupons the intents ask for and some are redeemed (with the order's loyalty points, in
one unit of work). Last, a campaign with a control group and an A/B split is sent to a segment
within its budget ([`launch_campaign()`][crmcore.services.marketing.launch_campaign]).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Final, TextIO

from crmcore.columnar import TransactionLog
from crmcore.customers.records import Purchase
from crmcore.demo._text import Timings, section, table, timed
from crmcore.demo.loyalty import program_for
from crmcore.kernel.errors import CrmError
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.money import Money
from crmcore.lifecycle import Lifecycle, classify, classify_log, reclassify
from crmcore.lifecycle import transitions as lifecycle_transitions
from crmcore.marketing.automation_events import ActionIntent, IssueCouponIntent, WorkflowEnrolled
from crmcore.marketing.campaigns import Campaign, CampaignBudget
from crmcore.marketing.coupon_codes import CodeFormat, generate_codes
from crmcore.marketing.coupons import Checkout, CouponDefinition, Discount
from crmcore.marketing.engine import Advance
from crmcore.marketing.experiments import Split, Variant
from crmcore.marketing.guardrails import FrequencyCap, Guardrails, QuietHours
from crmcore.marketing.steps import END, Branch, CreateTask, IssueCoupon, SendMessage, Wait
from crmcore.marketing.triggers import ChurnRiskTrigger, DateTrigger, SegmentTrigger
from crmcore.marketing.workflows import Goal, Reenrolment, Workflow
from crmcore.services.coupons import define_coupon, issue_coupons, redeem_coupon
from crmcore.services.marketing import advance_automation, launch_campaign, save_workflow
from crmcore.storage.sqlite import SqliteStore

__all__ = ["GUARDRAILS", "marketing", "workflows"]

_DAY: Final = timedelta(days=1)
_MORNING: Final = timedelta(hours=10)
GUARDRAILS: Final = Guardrails(
    caps=[FrequencyCap(3, 7 * _DAY, "email")],
    quiet_hours=QuietHours(time(21), time(8)),
)
"""At most three e-mails a week per customer; nothing between 21:00 and 08:00 local time."""
_CODES: Final = CodeFormat(length=8, prefix="CARE", group=4)


def workflows() -> tuple[Workflow, ...]:
    """The demo's workflows: win-back, birthday, and one per variant of the spring campaign."""
    win_back = Workflow(
        id="win-back",
        version=1,
        name="Win back slipping customers",
        trigger=ChurnRiskTrigger(level=0.5),
        steps=[
            SendMessage("offer", channel="email", template="winback-offer"),
            IssueCoupon("coupon", definition="back10"),
            Wait("three-days", 3 * _DAY),
            Branch("big-spender", "total_spent >= 300", then="call", otherwise="sms"),
            CreateTask("call", owner="agent-7", task="winback-call", next=END),
            SendMessage("sms", channel="sms", template="winback-sms"),
        ],
        goal=Goal(events={"customer.purchase_recorded"}),
        reenrolment=Reenrolment.after(90 * _DAY),
    )
    birthday = Workflow(
        id="birthday",
        version=1,
        name="Birthday care",
        trigger=DateTrigger("birth_date"),
        steps=[
            IssueCoupon("gift", definition="birthday"),
            SendMessage("card", channel="email", template="birthday-card"),
        ],
        reenrolment=Reenrolment.after(300 * _DAY),
    )
    spring = tuple(
        Workflow(
            id=f"spring-{variant}",
            version=1,
            name=f"Spring campaign, variant {variant.upper()}",
            trigger=SegmentTrigger("spring-audience"),
            steps=[SendMessage("mail", channel="email", template=f"spring-{variant}")],
        )
        for variant in ("a", "b")
    )
    return (win_back, birthday, *spring)


def _churn_warnings(purchases: Sequence[Purchase], end: datetime) -> list[DomainEvent]:
    """The churn warnings of the customers who slipped into decline in the month before ``end``:
    found vectorised, then raised per customer by the lifecycle record."""
    log = TransactionLog.from_purchases(purchases)
    month_ago = end - 30 * _DAY
    moved = lifecycle_transitions(classify_log(log, month_ago), classify_log(log, end))
    ids = moved.customer_ids if moved.customer_ids is not None else ()
    slipping = {str(ids[i]) for i in moved.warnings}
    bought: dict[str, list[tuple[datetime, Money]]] = {}
    for purchase in purchases:
        if purchase.customer_id in slipping:
            bought.setdefault(purchase.customer_id, []).append((purchase.at, purchase.amount))
    warnings: list[DomainEvent] = []
    for customer, history in sorted(bought.items()):
        record = reclassify(Lifecycle(customer), classify(customer, history, month_ago), month_ago)
        moved_on = reclassify(record.value, classify(customer, history, end), end)
        warnings.extend(e for e in moved_on.events if e.kind == "lifecycle.churn_warning")
    return warnings


def _issue(
    store: SqliteStore, runs: Sequence[Advance], at: datetime
) -> dict[str, list[tuple[str, str]]]:
    """The host's side of the coupon intents: one batch of codes per coupon definition."""
    holders: dict[str, list[str]] = {}
    for run in runs:
        for action in run.actions:
            if isinstance(action, IssueCouponIntent):
                holders.setdefault(action.definition, []).append(action.customer_id)
    issued: dict[str, list[tuple[str, str]]] = {}
    start = 0
    for definition, customers in sorted(holders.items()):
        codes = generate_codes(_CODES, len(customers), seed="demo", start=start)
        start += len(customers)
        issue_coupons(store, definition, codes, at, key=f"intents-{definition}", holders=customers)
        issued[definition] = list(zip(codes, customers, strict=True))
    return issued


def marketing(
    out: TextIO,
    store: SqliteStore,
    purchases: Sequence[Purchase],
    currency: str,
    end: datetime,
    seed: int,
    timings: Timings,
) -> None:
    """Workflows advanced over the customers, the coupons they issue, a campaign."""
    for workflow in workflows():
        save_workflow(store, workflow)
    back10 = CouponDefinition(
        id="back10",
        discount=Discount.percentage(10, cap=Money(20, currency)),
        valid_from=end - 30 * _DAY,
        per_customer_limit=1,
        budget=Money(150, currency),
    )
    gift = CouponDefinition(
        id="birthday", discount=Discount.fixed(Money(5, currency)), valid_from=end - 30 * _DAY
    )
    for definition in (back10, gift):
        define_coupon(store, definition)
    warnings = timed(
        "churn warnings of the last month", timings, lambda: _churn_warnings(purchases, end)
    )
    morning = end + _MORNING  # the scheduler's daily run, after the quiet hours
    first = timed(
        "automation run: churn warnings and birthdays",
        timings,
        lambda: advance_automation(store, morning, warnings, guardrails=GUARDRAILS).value,
    )
    later = timed(
        "automation run three days later",
        timings,
        lambda: advance_automation(store, morning + 3 * _DAY, guardrails=GUARDRAILS).value,
    )
    issued = _issue(store, (first, later), morning + 3 * _DAY)
    program, _tiers = program_for(currency, end)
    redeemed = refused = 0
    for code, customer in issued.get("back10", [])[::3]:  # a third come back and buy
        order = Checkout(f"winback-{customer}", customer, Money(80 + len(code), currency))
        try:
            redeem_coupon(
                store, code, order, morning + 4 * _DAY, key=order.order_id, record_purchase=True,
                account_id=f"L-{customer}", program=program,
            )  # fmt: skip
            redeemed += 1
        except CrmError:
            refused += 1  # over the budget, or no loyalty account
    draft = Campaign.draft(
        "spring", "Spring offers", channels=["email"], starts_at=end + 4 * _DAY, at=end,
        segment="total_spent >= 100", split=Split(Decimal("0.1"), (Variant("a"), Variant("b"))),
        budget=CampaignBudget(messages=400), cost_per_send=Money("0.02", currency),
    )  # fmt: skip
    with store.unit_of_work() as uow:
        uow.campaigns.add(uow.take(draft))
    launch = timed(
        "launch a campaign (audience, A/B, budget)",
        timings,
        lambda: (
            launch_campaign(
                store,
                "spring",
                morning + 4 * _DAY + timedelta(hours=2),
                workflows={"a": "spring-a", "b": "spring-b"},
                guardrails=GUARDRAILS,
            ).value
        ),
    )

    runs = (first, later, launch.run)
    intents = Counter(a.kind.rsplit(".", 1)[-1] for r in runs for a in r.actions)
    suppressed = Counter(
        getattr(e, "reason", "?") for r in runs for e in r.events if e.kind.endswith("suppressed")
    )
    enrolled = Counter(
        e.workflow_id for r in runs for e in r.events if isinstance(e, WorkflowEnrolled)
    )
    section(out, "Marketing automation: win-back, birthdays, coupons, a campaign")
    out.write(
        f"  {len(warnings)} churn warnings in the last month; runs at {morning:%Y-%m-%d %H:%M} and "
        f"three days later (consent, 3 e-mails a week, quiet hours 21:00-08:00 local)\n"
    )
    table(out, ["workflow", "enrolled"], sorted(enrolled.items()))
    table(out, ["intent", "count"], sorted(intents.items()))
    table(out, ["suppressed because", "messages"], sorted(suppressed.items()))
    keys = [a.idempotency_key for r in runs for a in r.actions if isinstance(a, ActionIntent)]
    out.write(f"  {len(keys)} intents in the outbox, {len(set(keys))} idempotency keys\n")
    with store.unit_of_work() as uow:
        pools = [uow.coupon_pools.get(d.id) for d in (back10, gift)]
    table(
        out,
        ["coupon", "issued", "redeemed", "discount given"],
        [
            (p.id, p.issued, p.redemptions, str(p.discount_total or Money(0, currency)))
            for p in pools
        ],
    )
    out.write(f"  win-back redemptions: {redeemed} (refused: {refused})\n")
    campaign = launch.campaign
    sizes = launch.audience.sizes()
    spent = campaign.usage.money or Money(0, currency)
    out.write(
        f"  campaign {campaign.id!r}: {len(launch.audience)} in the segment "
        + ", ".join(f"{group} {n}" for group, n in sizes.items())
        + f"; {launch.sent} e-mails sent, {spent} spent of the "
        f"{campaign.budget.messages}-message budget\n"
    )
