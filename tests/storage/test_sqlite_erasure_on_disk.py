"""Erasure leaves no personal data on disk: not in the database file, its -wal or its -shm.

The store stays open while the files are read, as it would in a running application: the old
pages of a row live on in the write-ahead log and in free pages until they are overwritten, so
erasure must zero deleted content (``secure_delete``) and checkpoint the log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from crmcore import Contact, Customer, Interaction, Money, Purchase, ServiceRecord, SqliteStore
from crmcore.feedback import Feedback
from crmcore.sales import Lead
from crmcore.services import (
    capture_lead,
    erase_customer,
    record_interaction,
    record_purchase,
    record_service,
    register_customer,
    set_consent,
    submit_feedback,
)

T = datetime(2026, 2, 1, tzinfo=UTC)
NAME = "Zebulon Quixotic-Farnsworth"
EMAIL = "zebulon.quixotic@example.org"
PHONE = "+44 20 7946 0123"
SECRETS = {
    "name": NAME,
    "email": EMAIL,
    "phone digits": "2079460123",
    "interaction note": "flat 4B, the blue door by the bakery",
    "service summary": "asked about her overdraft at Quixbank",
    "feedback text": "the courier Mortimer was rude to me",
    "consent source": "paper form signed at Quixfair",
    "lead notes": "met Zebulon at the Quixfair stand",
}


def _files(path: Path) -> dict[str, bytes]:
    out = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        file = Path(f"{path}{suffix}")
        if file.exists():
            out[file.name] = file.read_bytes()
    return out


def _leaks(path: Path) -> list[str]:
    found = []
    for file, data in _files(path).items():
        for what, text in SECRETS.items():
            for form in {text, text.lower()}:
                for encoded in (form.encode("utf-8"), form.encode("utf-16-le")):
                    if encoded in data:
                        found.append(f"{what} in {file}")
    return sorted(set(found))


def _customer_with_history(store: SqliteStore) -> None:
    register_customer(
        store,
        Customer.register("C1", NAME, T, contact=Contact(email=EMAIL, phone=PHONE)),
    )
    set_consent(store, "C1", "email", True, T, SECRETS["consent source"])
    for day in range(1, 30):  # many versions of the row: many old page images
        at = T + timedelta(days=day)
        record_purchase(store, Purchase(f"O{day}", "C1", at, Money("12.50", "EUR")))
    record_interaction(
        store, Interaction("I1", "C1", T, "chat", "question", note=SECRETS["interaction note"])
    )
    record_service(
        store, ServiceRecord("S1", "C1", T, "inquiry", "chat", SECRETS["service summary"])
    )
    submit_feedback(
        store,
        Feedback(
            id="F1", customer_id="C1", channel="email", kind="complaint", at=T,
            text=SECRETS["feedback text"], scores={"csat": 1},
        ),
    )  # fmt: skip
    capture_lead(
        store,
        Lead.create(
            "L1",
            T,
            source="event",
            name=NAME,
            contact=Contact(email=EMAIL),
            notes=SECRETS["lead notes"],
        ),
    )


def test_the_check_sees_personal_data_before_erasure(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    store = SqliteStore(path)
    try:
        _customer_with_history(store)
        assert len(_leaks(path)) >= len(SECRETS) - 1  # the check can fail
    finally:
        store.close()


def test_no_personal_data_is_left_on_disk_after_erasure(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    store = SqliteStore(path)
    try:
        _customer_with_history(store)
        store.outbox.relay(lambda message: None)  # sent messages stay in the table
        erase_customer(store, "C1", T + timedelta(days=40))
        assert _leaks(path) == []
    finally:
        store.close()
    assert _leaks(path) == []
