"""Steps shared by the procedure tests of both diagrams: the checks at acceptance (archive,
police) are modelled the same way in instant_issuance.bpmn and outlet_application.bpmn."""
from __future__ import annotations

from sqlalchemy import select

from app.adapters.demo import BY_KEY
from app.cards.models import Card
from app.cards.states import LIVE_CARD_STATES
from tests.procedures.application.conftest import OUTLET, WINDOW

HANDOVER = {"identity_checked": True, "card_checked": True, "receipt_signed": True,
            "pin_notice_given": True}
PICKUP_HOLDER = {"picked_up_by": "holder", "holder_id_checked": True, "receipt_signed": True}
PICKUP_PROXY = {"picked_up_by": "proxy", "holder_id_checked": True, "proxy_name": "林志坚",
                "proxy_id_type": "resident_id", "proxy_id_number": BY_KEY["hong_wenjie"]["id_number"],
                "proxy_documents_checked": True, "receipt_signed": True}
OLD_CARD = {"first_card": "no", "old_card_city": "350500", "old_card_number": "B6C989166",
            "consent_stop_old_card": True}


def ssn(person: str) -> str:
    return BY_KEY[person]["id_number"]


def live_cards(session, person: str) -> list[Card]:
    return list(session.scalars(select(Card).where(
        Card.ssn == ssn(person), Card.status.in_(LIVE_CARD_STATES))
        .execution_options(populate_existing=True)))


def card_by_number(session, number: str) -> Card:
    return session.scalars(select(Card).where(Card.card_number == number)
                           .execution_options(populate_existing=True)).one()


def produce_and_hand_over(c, pickup=PICKUP_HOLDER) -> None:
    """From "checks passed" to the card in the holder's hands, on either diagram."""
    if c.key == "instant_issuance":
        assert c.open_tasks() == []  # waiting for the card station
        c.station(ok=True)
        assert c.open_tasks() == ["hand_over_card"]
        c.complete("hand_over_card", HANDOVER, WINDOW)
    else:
        c.complete("produce_card", {"card_inserted": True}, WINDOW)
        c.station(ok=True)
        c.complete("send_to_outlet", {"card_checked": True, "handover_sheet": "JJ-0803-01"}, WINDOW)
        c.complete("receive_at_outlet", {"received": True}, OUTLET)
        assert c.open_tasks() == ["pickup"]
        c.complete("pickup", pickup, OUTLET)
    assert c.instance.status == "completed"
