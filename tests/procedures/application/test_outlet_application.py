"""processes/outlet_application.bpmn 代办网点申领: every path through the diagram, run by the
engine runtime on SQLite with the demo data — checks at the outlet, production at the window,
back to the outlet, SMS, pickup by the holder or a proxy, and the 15-working-day deadline."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.adapters.demo import BY_KEY
from app.cards.models import BlankCard, Card
from app.cards.demo import luhn_complete
from app.cards.states import BlankCardStatus, CardStatus
from app.engine.errors import FormInvalid, NotCandidate
from app.engine.models import CaseDeadline
from app.sla.view import views
from app.common.clock import CHINA_TZ
from app.sla import WorkingDayCalendar, deadline_datetime
from tests.procedures.application.conftest import MANAGER, NOW, OUTLET, WINDOW
from tests.procedures.application.steps import (OLD_CARD, PICKUP_HOLDER, PICKUP_PROXY, card_by_number,
                                   live_cards, produce_and_hand_over, ssn)

P = "outlet_application"
# 15 working days after Mon 3 Aug 2026 (no holiday in between): Mon 24 Aug 2026, 23:59:59 +08:00
DEADLINE = deadline_datetime(date(2026, 8, 24))


def test_deadline_is_the_fifteenth_working_day():
    assert WorkingDayCalendar().add_working_days(NOW, 15) == date(2026, 8, 24)


def to_production(c, person="lin_kun", **form):
    c.accept(person, **form)
    assert c.open_tasks() == ["produce_card"]


def test_happy_path_holder_picks_up(any_case):
    c = any_case(P)
    assert c.task("accept_application").group == "outlet_clerk"
    to_production(c)
    app = c.app
    assert app.channel == "outlet" and app.service_point == "BAOGAI"
    assert app.service_point_name == "宝盖镇代办网点" and app.window == "ICBC-SS"
    statutory = CaseDeadline.of(c.s, c.instance.id)
    assert statutory.due_on == date(2026, 8, 24) and c.instance.deadline_at == DEADLINE
    assert app.number == c.instance.business_key
    # the number is allocated after the checks; the blank card only when the window takes one
    [card] = c.cards()
    assert card.status == CardStatus.NUMBER_ASSIGNED and c.blank_cards() == [] and c.jobs() == []
    # the deadline timer waits on the production subprocess
    [timer] = c.timers()
    assert timer.task_name == "deadline_passed" and timer.state == "waiting"
    assert timer.due_at == DEADLINE
    task = c.task("produce_card")
    assert task.group == "window_clerk"
    assert task.due_at == deadline_datetime(date(2026, 8, 10))  # dueWorkingDays 5
    with pytest.raises(NotCandidate):
        c.complete("produce_card", {"card_inserted": True}, OUTLET)

    c.later(days=1)
    c.complete("produce_card", {"card_inserted": True}, WINDOW)
    [blank] = c.blank_cards()
    assert blank.window == "ICBC-SS" and blank.status == BlankCardStatus.RESERVED
    [job] = c.jobs()
    assert job.state == "queued" and job.payload["expected_bank_card_number"] == blank.bank_card_number
    assert c.open_tasks() == []
    c.station(ok=True)
    assert c.open_tasks() == ["send_to_outlet"] and c.app.status == "produced"
    c.complete("send_to_outlet", {"card_checked": True, "handover_sheet": "JJ-0804-01"}, WINDOW)
    assert c.app.status == "sent_to_outlet" and c.open_tasks() == ["receive_at_outlet"]
    assert c.task("receive_at_outlet").group == "outlet_clerk"
    c.later(days=1)
    c.complete("receive_at_outlet", {"received": True}, OUTLET)

    # received: production done, timer gone, applicant notified by SMS
    app = c.app
    assert app.status == "notified" and app.received_at_outlet_at is not None
    assert app.notified_at is not None and app.overdue is False
    assert [t.state for t in c.timers()] == ["cancelled"]
    [sms] = c.sms()
    assert sms.phone == "13805951234" and sms.state == "queued"
    assert "林堃" in sms.text and app.number in sms.text and "宝盖镇代办网点" in sms.text
    assert c.data()["notified"]["on_time"] is True
    assert c.data()["notified"]["mobile"] == "138****1234"
    assert c.cards()[0].status == CardStatus.NOT_ACTIVATED
    # the 15 working days end at the notification (S §1.3-2): met on time, with the date;
    # waiting for the applicant to collect never makes the case overdue
    statutory = CaseDeadline.of(c.s, c.instance.id)
    assert (statutory.state, statutory.met_late) == ("met", False)
    assert statutory.met_on == c.now.astimezone(CHINA_TZ).date()
    assert c.instance.deadline_at is None
    with c.Session() as s:
        [view] = views(s, [c.instance.id], WorkingDayCalendar(), date(2026, 12, 1))[c.instance.id]
    assert view.state == "met" and "按时完成" in view.text()

    c.complete("pickup", PICKUP_HOLDER, OUTLET)
    assert c.instance.status == "completed"
    app = c.app
    assert app.status == "picked_up" and app.handover["picked_up_by"] == "holder"
    assert "proxy_name" not in app.handover
    assert c.cards()[0].status == CardStatus.ACTIVE and len(live_cards(c.s, "lin_kun")) == 1
    assert c.audit() == [
        ("start", None), ("complete", "accept_application"), ("complete", "produce_card"),
        ("message", None), ("complete", "send_to_outlet"), ("complete", "receive_at_outlet"),
        ("complete", "pickup")]


def test_proxy_pickup_needs_the_proxys_identity(case):
    c = case(P)
    to_production(c, "chen_xiuying")
    c.complete("produce_card", {"card_inserted": True}, WINDOW)
    c.station(ok=True)
    c.complete("send_to_outlet", {"card_checked": True}, WINDOW)
    c.complete("receive_at_outlet", {"received": True}, OUTLET)
    with pytest.raises(FormInvalid) as e:
        c.complete("pickup", {"picked_up_by": "proxy", "holder_id_checked": True,
                              "receipt_signed": True}, OUTLET)
    assert set(e.value.errors) == {"proxy_name", "proxy_id_number", "proxy_documents_checked"}
    with pytest.raises(FormInvalid) as e:  # a wrong check digit in the proxy's ID
        c.complete("pickup", {**PICKUP_PROXY, "proxy_id_number": "350581198808080790"}, OUTLET)
    assert "proxy_id_number" in e.value.errors
    c.complete("pickup", PICKUP_PROXY, OUTLET)
    handover = c.app.handover
    assert handover["picked_up_by"] == "proxy" and handover["proxy_name"] == "林志坚"
    assert handover["proxy_id_number"] == BY_KEY["hong_wenjie"]["id_number"]
    assert c.app.status == "picked_up" and c.cards()[0].status == CardStatus.ACTIVE


def test_window_clerk_picks_a_blank_card_that_is_refused_then_another(case):
    c = case(P)
    to_production(c, "cai_zhiming")
    abc_card = luhn_complete("622848140800000003")  # belongs to the ABC window
    c.complete("produce_card", {"card_inserted": True, "bank_card_number": abc_card}, WINDOW)
    assert c.open_tasks() == ["produce_card"]  # back to the clerk, with the reason
    data = c.task_data("produce_card")
    assert data["error_code"] == "wrong_window" and "不属于本窗口" in data["error_message"]
    assert c.blank_cards() == [] and c.jobs() == []
    icbc_card = luhn_complete("621226140800000005")
    c.complete("produce_card", {"card_inserted": True, "bank_card_number": icbc_card}, WINDOW)
    [blank] = c.blank_cards()
    assert blank.bank_card_number == icbc_card
    assert c.jobs()[0].payload["expected_bank_card_number"] == icbc_card


def test_deadline_passes_before_the_card_is_at_the_outlet(any_case):
    c = any_case(P)
    to_production(c, "wang_jianguo")
    assert c.fire_timers(DEADLINE - timedelta(seconds=1)) == 0
    c.complete("produce_card", {"card_inserted": True}, WINDOW)

    # 15 working days later the card station has not reported yet
    late = DEADLINE + timedelta(seconds=1)
    assert c.fire_timers(late) == 1
    assert c.fire_timers(late) == 0  # fired once
    c.now = late
    app = c.app
    assert app.overdue is True and app.status == "in_production"
    assert c.open_tasks() == ["overdue_review"]
    review = c.task("overdue_review")
    assert review.group == "manager"
    assert [t.state for t in c.timers()] == ["fired"]
    assert ("timer", "deadline_passed") in c.audit()

    # production goes on in parallel; the manager follows up
    c.station(ok=True)
    assert c.open_tasks() == ["overdue_review", "send_to_outlet"]
    with pytest.raises(FormInvalid):
        c.complete("overdue_review", {"action": "urge_window"}, MANAGER)  # note required
    c.complete("overdue_review", {"action": "urge_window", "note": "已电话督促工行窗口"}, MANAGER)
    c.complete("send_to_outlet", {"card_checked": True}, WINDOW)
    c.complete("receive_at_outlet", {"received": True}, OUTLET)
    assert c.data()["notified"]["on_time"] is False and c.app.overdue is True
    statutory = CaseDeadline.of(c.s, c.instance.id)
    assert (statutory.state, statutory.met_late, statutory.due_on) == ("met", True, date(2026, 8, 24))
    c.complete("pickup", PICKUP_HOLDER, OUTLET)
    assert c.instance.status == "completed" and c.app.status == "picked_up"


def test_card_at_the_outlet_on_the_last_day_is_in_time(case):
    c = case(P)
    to_production(c, "huang_lihua")
    c.now = datetime(2026, 8, 24, 16, 0, tzinfo=CHINA_TZ)
    c.complete("produce_card", {"card_inserted": True}, WINDOW)
    c.station(ok=True)
    c.complete("send_to_outlet", {"card_checked": True}, WINDOW)
    c.complete("receive_at_outlet", {"received": True}, OUTLET)
    assert c.data()["notified"]["on_time"] is True and c.app.overdue is False
    assert c.fire_timers(DEADLINE + timedelta(days=1)) == 0


def test_existing_card_stopped_with_consent_on_the_form(case):
    c = case(P)
    to_production(c, "li_minghui", **OLD_CARD)
    assert card_by_number(c.s, "B6C989166").status == CardStatus.CANCELLED
    produce_and_hand_over(c)
    [live] = live_cards(c.s, "li_minghui")
    assert live.application_id == c.app.id


def test_existing_card_consent_given_at_the_outlet(case):
    c = case(P)
    c.accept("zheng_shuzhen")
    assert c.open_tasks() == ["confirm_old_card_stop"]
    assert c.task("confirm_old_card_stop").group == "outlet_clerk"
    c.complete("confirm_old_card_stop", {"decision": "stop", "applicant_signed": True})
    assert c.open_tasks() == ["produce_card"]
    produce_and_hand_over(c, pickup=PICKUP_PROXY)
    assert len(live_cards(c.s, "zheng_shuzhen")) == 1


def test_existing_card_not_stopped(case):
    c = case(P)
    c.accept("zheng_shuzhen")
    c.complete("confirm_old_card_stop", {"decision": "refuse", "reason": "暂不换卡"})
    assert c.instance.status == "completed" and c.app.status == "rejected"
    assert card_by_number(c.s, "188347080").status == CardStatus.ACTIVE
    assert c.timers() == [] and c.cards() == []


def test_card_already_being_made(case):
    c = case(P)
    c.s.add(Card(card_number="B7K334774", ssn=ssn("shi_yating"), name="施雅婷",
                 region_code="350581", status=CardStatus.NUMBER_ASSIGNED))
    c.s.commit()
    c.accept("shi_yating")
    assert c.instance.status == "completed" and c.app.status == "rejected"
    assert "正在制作中" in c.app.reason_zh


def test_police_mismatch_corrected_at_the_outlet(case):
    c = case(P)
    c.accept("zhang_wei")
    assert c.open_tasks() == ["correct_data"]
    assert c.task("correct_data").group == "outlet_clerk"
    assert c.timers() == []  # the deadline timer starts with production
    c.complete("correct_data", {"decision": "corrected", "name": "张玮", "sex": "1",
                                "birth_date": "1992-07-15", "checked_document": "household_register"})
    assert c.open_tasks() == ["produce_card"] and c.app.name == "张玮"
    produce_and_hand_over(c)
    assert c.app.status == "picked_up"


def test_late_checks_start_production_already_overdue(case):
    """The deadline counts from acceptance: checks that took too long make the timer fire at
    once when production starts."""
    c = case(P)
    c.accept("zhang_wei")
    c.now = DEADLINE + timedelta(hours=1)
    c.complete("correct_data", {"decision": "corrected", "name": "张玮", "sex": "1",
                                "birth_date": "1992-07-15"})
    assert c.open_tasks() == ["overdue_review", "produce_card"]
    assert c.app.overdue is True


def test_police_mismatch_not_solvable(case):
    c = case(P)
    c.accept("xu_xiaoyan")
    c.complete("correct_data", {"decision": "unsolvable", "reason": "户籍登记性别有误，需派出所更正"})
    assert c.instance.status == "completed"
    app = c.app
    assert app.status == "rejected" and "需派出所更正" in app.reason_zh
    assert c.cards() == [] and c.timers() == [] and c.sms() == []


def test_card_write_failed_then_retried(case):
    c = case(P)
    to_production(c, "hong_wenjie")
    c.complete("produce_card", {"card_inserted": True}, WINDOW)
    c.station(ok=False, error_code="PRINTER_ERROR")
    assert c.open_tasks() == ["card_write_failed"]
    assert c.task("card_write_failed").group == "window_clerk"
    c.complete("card_write_failed", {"decision": "retry"}, WINDOW)
    c.station(ok=True)
    assert c.jobs()[0].attempts == 2
    c.complete("send_to_outlet", {"card_checked": True}, WINDOW)
    c.complete("receive_at_outlet", {"received": True}, OUTLET)
    c.complete("pickup", PICKUP_HOLDER, OUTLET)
    assert c.app.status == "picked_up"


def test_card_write_abandoned(case):
    c = case(P)
    to_production(c, "wu_meiling")
    c.complete("produce_card", {"card_inserted": True}, WINDOW)
    [blank] = c.blank_cards()
    c.station(ok=False, error_code="AUTHENTICATION_FAILED")
    c.complete("card_write_failed", {"decision": "abandon", "reason": "安全模块故障，无法写卡",
                                     "blank_card_spoiled": False}, WINDOW)
    assert c.instance.status == "completed"
    app = c.app
    assert app.status == "cancelled" and "安全模块故障" in app.reason_zh
    assert app.notified_at is None and c.sms() == []
    assert c.cards()[0].status == CardStatus.CANCELLED
    blank = c.s.get(BlankCard, blank.id, populate_existing=True)
    assert blank.status == BlankCardStatus.AVAILABLE and blank.reserved_for is None
    assert [t.state for t in c.timers()] == ["cancelled"]
    assert live_cards(c.s, "wu_meiling") == []
