"""processes/lifecycle/loss_report.bpmn 挂失: a temporary report by phone (identity questions,
the card and the medical account frozen at once) confirmed in person as a formal report or
lifted; the holder texted when not come in time; a formal report made in person at once."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from app.adapters import medical_insurance
from app.adapters.sms import SmsMessage
from app.cards.models import Card
from app.cards.states import CardStatus
from app.common.clock import CHINA_TZ
from app.engine.jobs import BackgroundJob
from app.procedures.lifecycle import cases, loss as losses
from app.procedures.lifecycle.cards import CardRefused, check_identity
from app.procedures.lifecycle.models import CardEvent, LossReport
from app.procedures.lifecycle.states import LossState
from tests.procedures.lifecycle.world import CLERK, life  # noqa: F401  (fixture)

P = "loss_report"


def by_phone(life, card_id, **answers):
    with life.Session() as s:
        card = s.get(Card, card_id)
        checked = check_identity(s, card, answers.get("name", card.name),
                                 answers.get("birth_date", card.birth_date), answers.get("last4"))
        return cases.report_by_phone(s, card, CLERK, caller="本人", answers=checked, now=life.now)


def events(life, card_id) -> list[str]:
    with life.Session() as s:
        return list(s.scalars(select(CardEvent.kind).where(CardEvent.card_id == card_id).order_by(CardEvent.id)))


def frozen(life, ssn) -> bool:
    with life.Session() as s:
        account = medical_insurance(s).account(ssn)
        return bool(account and account.frozen)


def test_a_phone_report_freezes_at_once_and_is_confirmed_in_person(life):
    card_id = life.card()
    by_phone(life, card_id)
    card = life.get(card_id)
    assert card.status == CardStatus.TEMP_LOST and frozen(life, card.ssn)
    assert life.open_tasks(P) == ["confirm_loss"]
    life.complete(P, "confirm_loss", {"decision": "formal", "shown_id_number": card.ssn, "id_seen": True,
                                      "replace_via": "later"})
    assert life.case(P).status == "completed"
    assert life.get(card_id).status == CardStatus.LOST  # no longer live: a replacement may be made
    assert frozen(life, card.ssn)
    assert events(life, card_id) == ["temp_loss", "formal_loss"]
    with life.Session() as s:
        assert s.scalars(select(LossReport)).one().state == LossState.FORMAL


def test_a_phone_report_is_lifted_in_person(life):
    card_id = life.card(status=CardStatus.NOT_ACTIVATED)
    by_phone(life, card_id)
    ssn = life.get(card_id).ssn
    life.complete(P, "confirm_loss", {"decision": "lift", "shown_id_number": ssn, "id_seen": True})
    assert life.case(P).status == "completed"
    assert life.get(card_id).status == CardStatus.NOT_ACTIVATED  # back to what it was
    assert not frozen(life, ssn)
    assert events(life, card_id) == ["temp_loss", "lifted"]


def test_another_persons_id_card_is_refused_and_the_task_comes_back(life):
    card_id = life.card()
    by_phone(life, card_id)
    other = life.get(life.card()).ssn
    life.complete(P, "confirm_loss", {"decision": "formal", "shown_id_number": other, "id_seen": True,
                                      "replace_via": "later"})
    assert life.open_tasks(P) == ["confirm_loss"]
    assert "不是持卡人本人" in life.data(P)["error_message"]
    assert life.get(card_id).status == CardStatus.TEMP_LOST  # nothing changed


def test_not_confirmed_in_time_the_holder_is_texted(life):
    card_id = life.card()
    life.holder_mobile(card_id)
    by_phone(life, card_id, last4="1234")
    life.fire_timers(datetime(2026, 8, 7, 18, tzinfo=CHINA_TZ))  # four working days: not yet
    assert "loss_reminded" not in events(life, card_id)
    life.fire_timers(datetime(2026, 8, 11, 9, tzinfo=CHINA_TZ))  # the fifth working day passed
    assert "loss_reminded" in events(life, card_id)
    assert life.open_tasks(P) == ["confirm_loss"]  # the report stays open
    with life.Session() as s:
        assert s.scalars(select(LossReport)).one().reminded_at is not None
        texts = list(s.scalars(select(SmsMessage.text).where(SmsMessage.phone == "13905741234")))
    assert len(texts) == 1 and "尚未办理正式挂失" in texts[0]


def test_the_mobile_question_must_be_answered_when_a_mobile_is_known(life):
    card_id = life.card()
    life.holder_mobile(card_id)
    with pytest.raises(CardRefused):
        by_phone(life, card_id, last4="9999")
    with pytest.raises(CardRefused):
        by_phone(life, card_id)  # not answered


def test_a_formal_report_in_person_opens_the_replacement(life):
    card_id = life.card()
    ssn = life.get(card_id).ssn
    with life.Session() as s:
        card = s.get(Card, card_id)
        cases.report_in_person(s, card, CLERK, shown_id_number=ssn, replace_via="instant",
                               replace_at="ICBC-SS", now=life.now)
    assert life.case(P).status == "completed"
    assert life.get(card_id).status == CardStatus.LOST
    with life.Session() as s:
        job = s.scalars(select(BackgroundJob).where(BackgroundJob.kind == "lifecycle.open_replacement")).one()
        assert job.params == {"loss_id": s.scalars(select(LossReport.id)).one()}


def test_the_replacement_window_must_exist(life):
    card_id = life.card()
    with life.Session() as s:
        card = s.get(Card, card_id)
        with pytest.raises(CardRefused) as e:
            cases.report_in_person(s, card, CLERK, shown_id_number=card.ssn, replace_via="instant",
                                   replace_at="NOWHERE", now=life.now)
        assert "ICBC-SS" in e.value.message_zh
        s.rollback()
    assert life.get(card_id).status == CardStatus.ACTIVE and life.case(P) is None


@pytest.mark.parametrize("status", [CardStatus.CANCELLED, CardStatus.LOST, CardStatus.IN_PRODUCTION])
def test_a_card_not_in_use_cannot_be_reported_lost(life, status):
    card_id = life.card(status=status)
    with pytest.raises(CardRefused) as e:
        by_phone(life, card_id)
    assert "不能挂失" in e.value.message_zh or "已挂失" in e.value.message_zh
    assert life.case(P) is None and events(life, card_id) == []


def test_wrong_identity_answers_record_nothing(life):
    card_id = life.card()
    with pytest.raises(CardRefused) as e:
        by_phone(life, card_id, birth_date=date(1990, 1, 1))
    assert "身份信息核对不符" in e.value.message_zh
    assert life.get(card_id).status == CardStatus.ACTIVE and life.case(P) is None


def test_a_second_phone_report_is_refused(life):
    card_id = life.card()
    by_phone(life, card_id)
    with pytest.raises(CardRefused):
        by_phone(life, card_id)


def test_lifting_after_the_replacement_was_made_is_refused(life):
    card_id = life.card()
    ssn = life.get(card_id).ssn
    with life.Session() as s:
        cases.report_in_person(s, s.get(Card, card_id), CLERK, shown_id_number=ssn,
                               replace_via="later", replace_at=None, now=life.now)
    new_id = life.card(ssn=ssn, status=CardStatus.NOT_ACTIVATED)  # the replacement is made
    with life.Session() as s:
        loss = s.scalars(select(LossReport)).one()
        with pytest.raises(CardRefused) as e:
            losses.lift(s, loss, CLERK, shown_id_number=ssn)
        assert "补卡已制作" in e.value.message_zh
    with life.Session() as s, s.begin():  # the replacement cancels the old card for good
        s.get(Card, card_id).status = CardStatus.CANCELLED_AFTER_LOSS
    from app.procedures.lifecycle.replacement import close_replaced
    assert close_replaced(life.Session) == 1
    with life.Session() as s:
        loss = s.scalars(select(LossReport)).one()
        assert loss.state == LossState.REPLACED and loss.replacement_card_id == new_id
        with pytest.raises(CardRefused) as e:
            losses.lift(s, loss, CLERK, shown_id_number=ssn)
        assert "已解除或已补卡" in e.value.message_zh
    assert events(life, card_id)[-1] == "replaced"


def test_a_formal_loss_is_lifted_before_the_replacement_case_made_a_card(life):
    """The card page lifts a formal loss: the replacement case not yet past its form is
    cancelled with the reason, in the same transaction."""
    card_id = life.card()
    ssn = life.get(card_id).ssn
    with life.Session() as s:
        cases.report_in_person(s, s.get(Card, card_id), CLERK, shown_id_number=ssn,
                               replace_via="later", replace_at=None, now=life.now)
    cancelled = []
    with life.Session() as s:
        loss = s.scalars(select(LossReport)).one()
        loss.replacement_instance_id = 999
        losses.lift(s, loss, CLERK, shown_id_number=ssn,
                    cancel_case=lambda iid, reason: cancelled.append((iid, reason)))
        s.commit()
    assert cancelled == [(999, "持卡人已解除挂失，补卡申请撤销")]
    assert life.get(card_id).status == CardStatus.ACTIVE and not frozen(life, ssn)
    with life.Session() as s:
        assert s.scalar(select(func.count()).select_from(LossReport).where(
            LossReport.state == LossState.LIFTED)) == 1
