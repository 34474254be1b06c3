"""The card's debit function 金融借记功能 (seed 001 annex 2 note 4, seed 000 §4.2.3): activated at
the bank the holder chose, by the holder with the ID card and the copy of the confirmation form;
the bank adapter reports the activation and the card's history shows it."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.adapters import partner_bank
from app.adapters.bank import Activation, BankRefused
from app.cards.models import Card
from app.common.i18n import T
from app.common.masking import mask_card_number
from app.engine.services import Actor
from app.procedures.lifecycle import events
from app.procedures.lifecycle.cards import IN_USE, CardRefused, not_in_use, same_person
from app.procedures.lifecycle.states import EventKind


def activation(session: Session, card: Card) -> Activation | None:
    return partner_bank(session).activation(card.bank_card_number) if card.bank_card_number else None


def bank_of(name: str | None) -> str:
    """The bank of a bank or branch name: 中国工商银行石狮支行 -> 中国工商银行."""
    name = (name or "").strip()
    return name[:name.index("银行") + 2] if "银行" in name else name


def activate_debit(session: Session, card: Card, actor: Actor, *, shown_id_number: str,
                   form_copy_seen: bool, branch: str | None = None,
                   at_bank: str | None = None) -> Activation:
    """激活借记功能 at the card's bank (``at_bank``: the bank of the window doing it). Refused
    for another bank's window, a card not in use, a card without a bank account, without the
    confirmation-form copy, or already activated (saying when)."""
    same_person(card, shown_id_number)
    if at_bank is not None and bank_of(at_bank) != bank_of(card.bank):
        raise CardRefused(f"该卡的金融账户在{bank_of(card.bank) or '其他银行'}，请持卡人到该银行办理激活",
                          f"The card's account is at {bank_of(card.bank) or 'another bank'}: the holder "
                          "activates it there", code="other_bank")
    if card.status not in IN_USE:
        raise not_in_use(card, T("激活金融功能", "activate the debit function"))
    if not card.bank_card_number:
        raise CardRefused("该卡没有银行账户，不能激活金融功能", "The card carries no bank account",
                          code="no_bank_account")
    if not form_copy_seen:
        raise CardRefused("请查验《确认表》打印复件（加盖社保卡业务专用章）",
                          "Check the stamped copy of the confirmation form", code="form_copy")
    before = activation(session, card)
    if before is not None:
        day = before.activated_at.date().isoformat()
        raise CardRefused(f"该卡金融功能已于 {day} 在{before.bank}激活，无需重复激活",
                          f"The debit function was activated on {day} at {before.bank}",
                          code="bank_already_active")
    try:
        done = partner_bank(session).activate_debit(card.bank, card.bank_card_number, card.ssn,
                                                    branch=branch)
    except BankRefused as e:
        raise CardRefused(e.message_zh, e.message_en, code=e.code) from None
    events.record(session, card.id, EventKind.BANK_ACTIVATED, actor,
                  detail={"bank": card.bank, "reference": done.reference,
                          "card": mask_card_number(card.card_number)})
    return done
