"""processes/distribution/employer_pickup.bpmn 单位领卡与发放: every path — the agent checked
against the current voucher (a replaced agent refused), the cards counted (differences back to
the count, nothing recorded), the handover, the signed roster, the return of what was not handed
out (wrong data opening a correction case), the reminders, the overdue return to a manager, and
the case ending at once when every card reached its holder."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.adapters.sms import SmsMessage
from app.engine.errors import FormInvalid
from app.engine.models import CaseDeadline, Timer
from app.procedures.distribution import returns, roster
from app.procedures.distribution.models import DataCorrection
from tests.procedures.batch.walk import CLERK, MANAGER, china
from tests.procedures.distribution.walk import PICKUP, Counter

CORRECTION = "data_correction"


@pytest.fixture
def w(app):
    world = Counter(app).cards_at_centre()
    world.start_pickup()
    return world


def handed_over(w: Counter):
    w.agent()
    w.complete(PICKUP, "count_cards", {"scanned": "\n".join(w.card_numbers())}, CLERK)
    w.complete(PICKUP, "sign_handover", {"signed": True}, CLERK)


def record(w: Counter, outcomes: dict[int, tuple]):
    """outcomes: roster line (0-based) -> (outcome, reason); the rest signed."""
    lines = []
    for i, card in enumerate(w.pickup_cards()):
        outcome, reason = outcomes.get(i, ("signed", None))
        lines.append({"card_id": card.card_id, "outcome": outcome, "reason": reason, "note": None})
    with w.factory() as s, s.begin():
        roster.record_roster(s, w.pickup().id, lines, CLERK.username, scan=b"%PDF-1.4 scan", scan_name="花名册.pdf")
    w.complete(PICKUP, "record_roster", {"confirm": True}, CLERK)


def sms(w: Counter) -> list[str]:
    with w.factory() as s:
        return list(s.scalars(select(SmsMessage.text).order_by(SmsMessage.id)))


def test_counter_to_signed_roster_to_return_and_correction(w):
    assert w.open_tasks(PICKUP) == ["check_agent"] and w.task(PICKUP, "check_agent").group == "centre_clerk"
    handed_over(w)
    assert w.custody() == {"with_employer": 6}
    pickup = w.pickup()
    assert pickup.status == "handed_over" and pickup.distribute_by == date(2026, 8, 6)  # Mon + 3 working days
    assert pickup.return_by == date(2027, 2, 3)
    with w.factory() as s:
        due = {d.name: d.due_on for d in s.scalars(select(CaseDeadline).where(
            CaseDeadline.instance_id == w.case_of(PICKUP).id))}
    assert due == {"distribution": date(2026, 8, 6), "return": date(2027, 2, 3)}
    record(w, {1: ("not_handed_out", "moved"), 4: ("wrong_data", None)})
    assert w.custody() == {"with_holder": 4, "with_employer": 2}
    assert w.open_tasks(PICKUP) == ["receive_return"]
    cards = w.pickup_cards()
    with w.factory() as s, s.begin():
        numbers = {c.card_id: n for c, n in zip(cards, w.card_numbers())}
        returns.receive_return(s, w.employer().id, "陈经办", [
            {"card_number": numbers[cards[1].card_id], "reason": "moved", "note": "已调往杭州"},
            {"card_number": numbers[cards[4].card_id], "reason": "wrong_data", "note": "姓名错字"}],
            CLERK.username, pickup_id=w.pickup().id, today=date(2026, 8, 10))
    w.complete(PICKUP, "receive_return", {"confirm": True}, CLERK)
    assert w.case_of(PICKUP).status == "completed"  # the watch stopped with the work
    assert w.custody() == {"with_holder": 4, "returned": 2} and w.pickup().status == "closed"
    # the wrong-data card's correction within a week
    assert w.open_in(CORRECTION) == ["record_correction"]
    w.complete(CORRECTION, "record_correction", {"document": "id_card", "name": "曾晓贤"}, CLERK)
    assert w.case_of(CORRECTION).status == "completed"
    assert w.custody() == {"with_holder": 4, "returned": 1, "invalidated": 1}
    with w.factory() as s:
        assert s.scalars(select(DataCorrection)).one().reported


def test_every_card_handed_out_ends_the_case(w):
    handed_over(w)
    record(w, {})
    case = w.case_of(PICKUP)
    assert case.status == "completed" and w.pickup().status in ("roster_back", "closed")
    with w.factory() as s:
        assert {t.state for t in s.scalars(select(Timer).where(Timer.instance_id == case.id))} <= {"cancelled", "fired"}


def test_an_agent_of_a_replaced_voucher_is_refused_with_the_reason(w):
    from app.procedures.batch.voucher import record_voucher
    from tests.procedures.batch.conftest import id_number
    with w.factory() as s, s.begin():
        record_voucher(s, w.employer().code, w.employer().name,
                       [{"name": "林新", "mobile": "13905740002", "id_number": id_number("33020319800808123")}],
                       "centre")
    w.agent()
    assert w.open_tasks(PICKUP) == ["check_agent"]
    assert "第 2 版" in w.case_data(PICKUP)["error_message"]


def test_the_letter_and_the_id_shown_must_be_the_same_person(w):
    from tests.procedures.batch.conftest import id_number
    with pytest.raises(FormInvalid):
        w.agent(shown_id_number=id_number("33020319900101123"))


def test_a_missing_card_goes_back_to_the_count_and_nothing_is_recorded(w):
    w.agent()
    w.complete(PICKUP, "count_cards", {"scanned": "\n".join(w.card_numbers()[:-1])}, CLERK)
    assert w.open_tasks(PICKUP) == ["count_cards"] and w.pickup_cards() == []
    assert w.custody() == {"at_centre": 6}


def test_reminder_before_three_working_days_and_the_return_watch(w):
    handed_over(w)
    w.fire_timers(china(2026, 8, 6))  # after Wed 5 Aug: one working day left
    assert any("请于8月6日前将领取的社会保障卡发放到职工本人" in t for t in sms(w))
    record(w, {1: ("not_handed_out", "died")})
    w.fire_timers(china(2027, 1, 4))  # five months on
    assert any("尚有 1 张社会保障卡未发出" in t for t in sms(w))
    w.fire_timers(china(2027, 2, 4))  # six months passed, the card not back
    assert "followup_return" in w.open_tasks(PICKUP)
    assert w.task(PICKUP, "followup_return").group == "manager"
    w.complete(PICKUP, "followup_return", {"note": "已电话催退"}, MANAGER)
    assert w.open_tasks(PICKUP) == ["receive_return"]


def test_roster_not_fully_recorded_goes_back(w):
    handed_over(w)
    w.complete(PICKUP, "record_roster", {"confirm": True}, CLERK)
    assert w.open_tasks(PICKUP) == ["record_roster"]
    assert "未登记" in w.case_data(PICKUP)["error_message"]


def test_cards_returned_uncollected_go_out_again_in_the_next_pickup(w):
    handed_over(w)
    record(w, {0: ("not_handed_out", "not_collected"), 1: ("not_handed_out", "moved")})
    cards = w.pickup_cards()
    numbers = dict(zip([c.card_id for c in cards], w.card_numbers()))
    with w.factory() as s, s.begin():
        returns.receive_return(s, w.employer().id, "陈经办", [
            {"card_number": numbers[cards[0].card_id], "reason": "not_collected", "note": "长期病假"},
            {"card_number": numbers[cards[1].card_id], "reason": "moved", "note": "已调离"}],
            CLERK.username, pickup_id=w.pickup().id, today=date(2026, 8, 10))
    w.complete(PICKUP, "receive_return", {"confirm": True}, CLERK)
    assert w.case_of(PICKUP).status == "completed"
    # 二次发放: the employer takes the uncollected card again; the moved holder's card stays
    w.start_pickup()
    w.agent()
    w.complete(PICKUP, "count_cards", {"scanned": numbers[cards[1].card_id]}, CLERK)
    assert w.open_tasks(PICKUP) == ["count_cards"]  # not the moved holder's card
    w.complete(PICKUP, "count_cards", {"scanned": numbers[cards[0].card_id]}, CLERK)
    w.complete(PICKUP, "sign_handover", {"signed": True}, CLERK)
    assert w.custody() == {"with_holder": 4, "with_employer": 1, "returned": 1}
