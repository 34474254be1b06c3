"""PIN change at the self-service terminal, PIN reset at the counter, blocking a lost card's
chip (card jobs on a card in use, finished by the station's result) and the bank's debit
function."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.cards.models import Card, CardJob
from app.cards.states import CardStatus
from app.procedures.lifecycle import bank, pin
from app.procedures.lifecycle.cards import CardRefused
from app.procedures.lifecycle.models import CardEvent
from tests.procedures.lifecycle.world import CLERK, life  # noqa: F401  (fixture)


def history(life, card_id):
    with life.Session() as s:
        return [(e.kind, e.detail) for e in s.scalars(select(CardEvent).where(CardEvent.card_id == card_id)
                                                      .order_by(CardEvent.id))]


def queue(life, fn, card_id, *args):
    with life.Session() as s:
        job = fn(s, s.get(Card, card_id), CLERK, *args)
        s.commit()
        return job.id


def test_a_pin_change_is_recorded_when_the_station_reports_it(life):
    card_id = life.card()
    queue(life, pin.queue_pin_change, card_id)
    with life.Session() as s:
        job = s.scalars(select(CardJob)).one()
        card = life.get(card_id)
        assert list(job.payload) == ["card"]
        assert (job.payload["card"]["ssn"], job.payload["card"]["card_number"]) == (card.ssn, card.card_number)
        assert job.payload["card"] == card.chip_data()  # the complete chip data, as an issue job's
        assert "pin" not in str(job.payload).lower()  # the PINs stay at the terminal
    with life.Session() as s:  # the clerk's action is on record
        from app.engine.models import AuditEvent
        details = [e.detail for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "family"))]
        assert any(d.get("what") == "queue_change_pin" and d.get("card_id") == card_id for d in details)
    life.station(ok=True)
    assert [k for k, _ in history(life, card_id)] == ["pin_changed"]


def test_a_wrong_pin_is_recorded_with_the_reason(life):
    card_id = life.card()
    queue(life, pin.queue_pin_change, card_id)
    life.station(ok=False, error={"code": "pin_wrong", "message_zh": "原密码错误，还可尝试 2 次",
                                  "message_en": "Wrong PIN, 2 tries left", "tries_left": 2})
    [(kind, detail)] = history(life, card_id)
    assert kind == "pin_change_failed" and detail["error_zh"] == "原密码错误，还可尝试 2 次"


def test_one_open_job_of_a_kind_per_card(life):
    card_id = life.card()
    queue(life, pin.queue_pin_change, card_id)
    with pytest.raises(CardRefused) as e:
        queue(life, pin.queue_pin_change, card_id)
    assert "已有一项" in e.value.message_zh


@pytest.mark.parametrize("status", [CardStatus.TEMP_LOST, CardStatus.LOST, CardStatus.CANCELLED])
def test_no_pin_change_on_a_lost_or_cancelled_card(life, status):
    card_id = life.card(status=status)
    with pytest.raises(CardRefused) as e:
        queue(life, pin.queue_pin_change, card_id)
    assert "不能修改密码" in e.value.message_zh


def test_the_counter_resets_a_pin_with_the_holders_id_card(life):
    card_id = life.card()
    other = life.get(life.card()).ssn
    with pytest.raises(CardRefused):
        queue(life, pin.queue_pin_reset, card_id, other)
    queue(life, pin.queue_pin_reset, card_id, life.get(card_id).ssn)
    life.station(ok=True)
    assert [k for k, _ in history(life, card_id)] == ["pin_reset"]


def test_a_lost_card_presented_is_blocked_and_then_nothing_more_is_done_with_it(life):
    card_id = life.card()
    with pytest.raises(CardRefused):  # a card in use is not blocked
        queue(life, pin.queue_block, card_id)
    with life.Session() as s, s.begin():
        s.get(Card, card_id).status = CardStatus.LOST
    queue(life, pin.queue_block, card_id)
    life.station(ok=True)
    assert [k for k, _ in history(life, card_id)] == ["blocked_on_chip"]
    with pytest.raises(CardRefused) as e:
        queue(life, pin.queue_block, card_id)
    assert "已锁定" in e.value.message_zh


def test_the_debit_function_is_activated_once(life):
    card_id = life.card()
    ssn = life.get(card_id).ssn
    with life.Session() as s:
        card = s.get(Card, card_id)
        with pytest.raises(CardRefused) as e:
            bank.activate_debit(s, card, CLERK, shown_id_number=ssn, form_copy_seen=False)
        assert "确认表" in e.value.message_zh
        done = bank.activate_debit(s, card, CLERK, shown_id_number=ssn, form_copy_seen=True,
                                   branch="工商银行石狮支行")
        s.commit()
        assert done.bank == "中国工商银行" and bank.activation(s, card).reference == done.reference
    with life.Session() as s:
        with pytest.raises(CardRefused) as e:
            bank.activate_debit(s, s.get(Card, card_id), CLERK, shown_id_number=ssn, form_copy_seen=True)
        assert "无需重复激活" in e.value.message_zh
    assert [k for k, _ in history(life, card_id)] == ["bank_activated"]


def test_no_debit_activation_for_a_lost_card_or_another_persons_id(life):
    card_id = life.card(status=CardStatus.TEMP_LOST)
    with life.Session() as s:
        card = s.get(Card, card_id)
        with pytest.raises(CardRefused) as e:
            bank.activate_debit(s, card, CLERK, shown_id_number=card.ssn, form_copy_seen=True)
        assert "不能激活金融功能" in e.value.message_zh
        with pytest.raises(CardRefused):
            bank.activate_debit(s, card, CLERK, shown_id_number=life.get(life.card()).ssn, form_copy_seen=True)
