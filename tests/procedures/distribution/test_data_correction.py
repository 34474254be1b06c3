"""processes/distribution/data_correction.bpmn 退卡信息更正: a card returned with wrong data —
the person texted two days before the week ends, the correction recorded (reported to the
province, the card void), or the week passing to a manager's overdue follow-up."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.adapters.sms import SmsMessage
from app.engine.errors import FormInvalid
from app.procedures.distribution import returns
from app.procedures.distribution.models import DataCorrection
from app.procedures.batch.models import Person
from tests.procedures.batch.walk import CLERK, MANAGER, china
from tests.procedures.distribution.test_employer_pickup import handed_over, record
from tests.procedures.distribution.walk import PICKUP, Counter

P = "data_correction"


@pytest.fixture
def w(app):
    world = Counter(app).cards_at_centre()
    world.start_pickup()
    handed_over(world)
    record(world, {0: ("wrong_data", None)})
    card = world.pickup_cards()[0]
    world.now = china(2026, 8, 10)  # the employer brings the card back a week after the pickup
    with world.factory() as s, s.begin():
        number = dict(zip([c.card_id for c in world.pickup_cards()], world.card_numbers()))[card.card_id]
        returns.receive_return(s, world.employer().id, "陈经办",
                               [{"card_number": number, "reason": "wrong_data", "note": "性别错"}],
                               CLERK.username, pickup_id=world.pickup().id, today=date(2026, 8, 10))
    world.complete(PICKUP, "receive_return", {"confirm": True}, CLERK)
    return world


def test_the_person_is_reminded_then_corrects_within_the_week(w):
    assert w.open_in(P) == ["record_correction"]
    with w.factory() as s:
        assert s.scalars(select(DataCorrection)).one().due_on == date(2026, 8, 17)
    w.fire_timers(china(2026, 8, 16))  # the fifth day passed
    with w.factory() as s:
        texts = list(s.scalars(select(SmsMessage.text)))
    assert any("请于8月17日前携带身份证或户口簿原件" in t for t in texts)
    with pytest.raises(FormInvalid):  # nothing corrected
        w.complete(P, "record_correction", {"document": "id_card"}, CLERK)
    w.complete(P, "record_correction", {"document": "household_register", "sex": "2"}, CLERK)
    assert w.case_of(P).status == "completed"
    with w.factory() as s:
        row = s.scalars(select(DataCorrection)).one()
        assert row.corrected and row.reported and not row.overdue


def test_a_week_without_the_person_goes_to_a_manager(w):
    w.fire_timers(china(2026, 8, 18))
    with w.factory() as s:
        assert s.scalars(select(DataCorrection)).one().overdue
    assert "followup" in w.open_in(P)
    w.complete(P, "followup", {"note": "已电话通知本人"}, MANAGER)
    assert w.open_in(P) == ["record_correction"]  # the person may still come


def test_no_reminder_without_a_mobile(w):
    with w.factory() as s, s.begin():
        for p in s.scalars(select(Person)):
            p.mobile = None
    w.fire_timers(china(2026, 8, 16))
    with w.factory() as s:
        assert not any("更正" in t for t in s.scalars(select(SmsMessage.text)))
