"""From a formal loss to the new card, across the two families: the holder reports the loss
in person choosing an outlet; the job opens the outlet's replacement case with the form filled
in; the clerk completes it (fee receipted), the window makes the card, the holder collects it;
the scheduler round then closes the loss as replaced — the old card cancelled for good, the
medical account on the new card and no longer frozen, lifting refused."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.adapters import medical_insurance
from app.cards.models import Card
from app.cards.states import CardStatus
from app.engine import jobs
from app.engine.clock import engine_clock
from app.procedures.lifecycle import cases, loss as losses
from app.procedures.lifecycle.cards import CardRefused
from app.procedures.lifecycle.models import CardEvent, LossReport
from app.procedures.lifecycle.replacement import close_replaced
from app.procedures.lifecycle.states import LossState
from tests.procedures.application.conftest import NOW, db  # noqa: F401  (fixture)
from tests.procedures.application.steps import card_by_number, live_cards, produce_and_hand_over
from tests.procedures.application.test_replacement import ZHENG_CARD, started, submit_prefilled
from tests.procedures.lifecycle.world import CLERK

OUTLET_P = "outlet_application"


def test_a_formal_loss_ends_with_the_new_card(db):
    with db() as s:
        old = card_by_number(s, ZHENG_CARD)
        old_id, ssn = old.id, old.ssn
        medical_insurance(s).switch_to_cards({ssn: ZHENG_CARD})
        s.commit()
        cases.report_in_person(s, s.get(Card, old_id), CLERK, shown_id_number=ssn,
                               replace_via="outlet", replace_at="BAOGAI", now=NOW)
    with engine_clock(NOW):
        assert jobs.work(db, once=True) >= 1  # lifecycle.open_replacement
    with db() as s:
        loss = s.scalars(select(LossReport)).one()
        assert loss.state == LossState.FORMAL and loss.replacement_instance_id
        assert medical_insurance(s).account(ssn).frozen
        iid = loss.replacement_instance_id
        # it waits for the holder: never withdrawn as an unsubmitted draft
        from datetime import timedelta

        from app.procedures.application.drafts import stale_drafts
        assert iid not in stale_drafts(s, now=NOW + timedelta(days=3))
    c = started(db, OUTLET_P, iid)
    try:
        assert c.task_data("accept_application")["purpose"] == "replacement"
        submit_prefilled(c, mobile="13905950102", residence_address="福建省石狮市湖滨街道长福社区11号",
                         household_address="福建省石狮市湖滨街道长福社区11号",
                         medical_insurance_type="urban_employee", country="中国",
                         id_valid_from="2016-01-01", id_long_term=True)
        assert c.app.fee_receipt_number and card_by_number(c.s, ZHENG_CARD).status == CardStatus.CANCELLED_AFTER_LOSS
        with db() as s:  # the card is being made: too late to lift
            with pytest.raises(CardRefused) as e:
                losses.lift(s, s.scalars(select(LossReport)).one(), CLERK, shown_id_number=ssn)
            assert "原卡已注销" in e.value.message_zh
        produce_and_hand_over(c)
        [new] = live_cards(c.s, "zheng_shuzhen")
    finally:
        c.close()
    assert close_replaced(db) == 1
    with db() as s:
        loss = s.scalars(select(LossReport)).one()
        assert loss.state == LossState.REPLACED and loss.replacement_card_id == new.id
        account = medical_insurance(s).account(ssn)
        assert account.card_number == new.card_number and not account.frozen
        kinds = list(s.scalars(select(CardEvent.kind).where(CardEvent.card_id == old_id).order_by(CardEvent.id)))
        assert kinds == ["formal_loss", "replaced"]
        assert s.get(Card, old_id).status == CardStatus.CANCELLED_AFTER_LOSS
    assert close_replaced(db) == 0  # once


def test_an_exchanged_card_shows_its_block_and_its_exchange(db):
    from app.procedures.lifecycle.history import card_story
    from app.procedures.lifecycle.replacement import record_exchanges
    from tests.procedures.application.conftest import Case
    from tests.procedures.application.test_replacement import LI_CARD, exchange_form, finish_block_job
    with db() as s:  # his medical account is on the old card
        medical_insurance(s).switch_to_cards({card_by_number(s, LI_CARD).ssn: LI_CARD})
        s.commit()
    c = Case(db, "instant_issuance")
    try:
        c.accept("li_minghui", **exchange_form(LI_CARD))
        finish_block_job(c)  # the window's station blocks the handed-in card: the hook records it
        produce_and_hand_over(c)
    finally:
        c.close()
    assert record_exchanges(db) == 1 and record_exchanges(db) == 0
    with db() as s:
        old = card_by_number(s, LI_CARD)
        kinds = list(s.scalars(select(CardEvent.kind).where(CardEvent.card_id == old.id).order_by(CardEvent.id)))
        assert kinds == ["blocked_on_chip", "exchanged"]
        story = card_story(s, old)
        assert story.blocked and [o.card_number for o in story.others] != []
        [new] = live_cards(s, "li_minghui")
        assert medical_insurance(s).account(old.ssn).card_number == new.card_number
