"""Finding a card and what is known of its holder 卡片与持卡人 (rules shared by the lifecycle's
pages and steps): a card by number, the holder's mobile for reminders, the identity questions
of the voice service line."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cards.models import Card
from app.cards.states import CARD_LABELS, CardStatus
from app.common.errors import BilingualError
from app.common.i18n import T

#: a card that is in its holder's hands and working (or waiting for activation)
IN_USE = (CardStatus.NOT_ACTIVATED, CardStatus.ACTIVE)


class CardRefused(BilingualError):
    """What a clerk asked of a card cannot be done; the message says why."""

    kind = "invalid"

    def __init__(self, zh: str, en: str, code: str = "card_refused"):
        super().__init__(zh, en, code=code)


def status_words(status: str) -> T:
    return CARD_LABELS.get(status, T(status, status))


def not_in_use(card: Card, what: T) -> CardRefused:
    """The refusal for an action on a card that is not in use, naming its state."""
    label = status_words(card.status)
    return CardRefused(f"该卡当前状态为“{label.zh}”，不能{what.zh}",
                       f"The card is “{label.en}”: cannot {what.en}", code="card_not_in_use")


def card_by_number(session: Session, number: str, for_update: bool = False) -> Card | None:
    compact = re.sub(r"\s", "", str(number or "")).upper()
    query = select(Card).where(Card.card_number == compact)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def holder_mobile(session: Session, card: Card) -> str | None:
    """The holder's mobile as the platform knows it: the application's, or the batch person's."""
    from app.procedures.application.models import Application
    from app.procedures.batch.models import Person
    if card.application_id:
        mobile = session.scalar(select(Application.mobile).where(Application.id == card.application_id))
        if mobile:
            return mobile
    mobile = session.scalar(select(Person.mobile).where(Person.card_id == card.id)
                            .order_by(Person.id.desc()).limit(1))
    if mobile:
        return mobile
    # a card made before the platform: the person's newest application anywhere
    return session.scalar(select(Application.mobile).where(Application.id_number == card.ssn)
                          .order_by(Application.id.desc()).limit(1))


def check_identity(session: Session, card: Card, name: str, birth_date: date | None,
                   mobile_last4: str | None) -> dict:
    """身份核验 on the voice service line: the caller gives the holder's name and date of birth
    and, when the platform knows a mobile, its last four digits. Returns which questions were
    answered; ``CardRefused`` when an answer does not match (not saying which one: the line
    must not help a stranger guess)."""
    answers = {"name": False, "birth_date": False, "mobile": None}
    answers["name"] = " ".join(str(name or "").split()) == card.name
    answers["birth_date"] = birth_date is not None and birth_date == card.birth_date
    known = holder_mobile(session, card)
    if known:
        answers["mobile"] = str(mobile_last4 or "").strip() == known[-4:]
    if not answers["name"] or not answers["birth_date"] or answers["mobile"] is False:
        raise CardRefused("身份信息核对不符，不能受理电话挂失；请持卡人本人携带身份证原件到服务大厅办理挂失",
                          "The identity answers do not match: no phone report; the holder must "
                          "come in person with the ID card", code="identity_mismatch")
    return answers


def same_person(card: Card, shown_id_number: str) -> None:
    """The ID card shown at the counter must be the holder's."""
    if str(shown_id_number or "").strip().upper() != card.ssn:
        raise CardRefused("出示的身份证不是持卡人本人的，不能办理",
                          "The ID card shown is not the cardholder's", code="not_holder")
