"""processes/batch/employer_application.bpmn 单位申领: every path — voucher recorded or already
there (refused voucher back to the form), forms reconciled or not, review with send-back and
four eyes, delivery accepted at once or after a remake, foreign cards refused, the SMS
reminder and the manager's follow-up when the forms are late."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.adapters.sms import SmsMessage
from app.engine.errors import FourEyesViolation
from app.procedures.batch.cases import BATCH_PROCESS, EMPLOYER_PROCESS as P
from app.procedures.batch.models import Employer
from tests.procedures.batch.walk import CLERK, CLERK2, MANAGER, REVIEWER, World, china


@pytest.fixture
def world(app):
    w = World(app)
    w.import_batch()
    w.release(days=10)
    return w


def applied(w: World):
    """Voucher, every form entered and declared, reconciled, reviewed: the cards are ordered."""
    w.voucher()
    w.enter_all()
    w.declare()
    w.returns()
    w.review_all()
    w.complete(P, "review", {"confirm": True}, REVIEWER)


def sms_texts(w: World) -> list[str]:
    with w.factory() as s:
        return list(s.scalars(select(SmsMessage.text).order_by(SmsMessage.id)))


def test_happy_path_to_the_agents_sms(world):
    w = world
    assert w.case_of(BATCH_PROCESS) is not None
    assert w.open_tasks(P) == ["record_voucher"]
    assert w.task(P, "record_voucher").group == "centre_clerk"
    applied(w)
    assert w.employer().status == "submitted" and all(p.frozen for p in w.persons())
    assert w.open_tasks(P) == []  # waiting for the cards
    w.complete(BATCH_PROCESS, "production_decision", {"decision": "send"}, MANAGER)
    assert w.employer().status == "delivered" and w.open_tasks(P) == ["accept_delivery"]
    numbers = w.card_numbers()
    assert len(numbers) == 6
    w.complete(P, "accept_delivery", {"scanned": "\n".join(numbers)}, CLERK)
    assert w.employer().status == "notified"
    assert any("已到货" in t and "宁波甲机械有限公司" in t for t in sms_texts(w))
    # the batch closes once every employer is done
    w.complete(BATCH_PROCESS, "production_decision", {"decision": "close"}, MANAGER)
    assert w.batch.status == "closed" and w.case_of(BATCH_PROCESS).status == "completed"


def test_voucher_of_an_earlier_batch_is_not_asked_again(app):
    w = World(app)
    w.import_batch()
    w.release()
    w.voucher()
    w.import_batch()  # a second batch of the same employer
    w.release()
    assert w.open_tasks(P) == ["record_returns"]


def test_differences_go_back_to_the_clerk(world):
    w = world
    w.voucher()
    w.enter_all()
    w.declare({"一分厂": {"ICBC": 1}, "二分厂": {"ICBC": 3}})  # the employer counted wrongly
    w.returns()
    assert w.open_tasks(P) == ["record_returns"]
    assert w.employer().differences and w.employer().applied_at is None
    w.declare()
    w.returns()
    assert w.open_tasks(P) == ["review"] and w.employer().applied_at is not None


def test_sent_back_entries_are_corrected_and_reviewed_again(world):
    w = world
    w.voucher()
    w.enter_all()
    w.declare()
    w.returns()
    w.review_all("send_back", note="手机号码与确认表不符")
    w.complete(P, "review", {"confirm": True}, REVIEWER)
    assert w.open_tasks(P) == ["record_returns"] and w.employer().status == "entering"
    w.enter_all(CLERK2)
    w.returns(CLERK2)
    w.review_all()
    w.complete(P, "review", {"confirm": True}, REVIEWER)
    assert w.employer().status == "submitted"


def test_four_eyes_on_the_review_task(world):
    w = world
    w.voucher()
    w.enter_all()
    w.declare()
    w.returns()
    both = CLERK.__class__(CLERK.username, CLERK.user_id, frozenset({"centre_clerk", "reviewer"}),
                           CLERK.display_name, CLERK.office, CLERK.offices)
    with pytest.raises(FourEyesViolation):
        w.complete(P, "review", {"confirm": True}, both)


def test_missing_and_damaged_cards_are_remade(world):
    w = world
    applied(w)
    w.complete(BATCH_PROCESS, "production_decision", {"decision": "send"}, MANAGER)
    numbers = w.card_numbers()
    w.complete(P, "accept_delivery", {"scanned": "\n".join(numbers[:4]), "damaged": numbers[3]}, CLERK)
    # two missing, one damaged: remade and delivered again (the embedded manufacturer)
    assert w.open_tasks(P) == ["accept_delivery"]
    renewed = w.card_numbers()
    assert renewed[:3] == numbers[:3] and len(set(renewed[3:]) & set(numbers)) == 0
    w.complete(P, "accept_delivery", {"scanned": "\n".join(renewed[3:])}, CLERK)
    assert w.employer().status == "notified"


def test_a_foreign_card_in_the_pile_is_refused(world):
    w = world
    applied(w)
    w.complete(BATCH_PROCESS, "production_decision", {"decision": "send"}, MANAGER)
    numbers = w.card_numbers()
    w.complete(P, "accept_delivery", {"scanned": "\n".join(numbers + ["A00000001"])}, CLERK)
    assert w.open_tasks(P) == ["accept_delivery"] and w.employer().status == "delivered"


def test_reminder_then_follow_up_when_forms_are_late(world):
    w = world
    w.voucher()
    reminder, deadline = [t for t in w.timers(P) if t.state == "waiting"] + [None]
    # 10 working days from Mon 3 Aug 2026: reminder after 8 (Thu 13 Aug), return date 17 Aug
    assert reminder.due_at.astimezone(china(2026, 8, 1).tzinfo).date().isoformat() == "2026-08-13"
    w.fire_timers(china(2026, 8, 14))
    assert any("请于8月17日前" in t for t in sms_texts(w))
    w.fire_timers(china(2026, 8, 18))
    assert "followup" in w.open_tasks(P)
    assert w.task(P, "followup").group == "manager"
    w.complete(P, "followup", {"note": "已电话催收"}, MANAGER)
    assert "record_returns" in w.open_tasks(P)


def test_no_follow_up_when_forms_came_back_in_time(world):
    w = world
    w.voucher()
    w.enter_all()
    w.declare()
    w.returns()
    w.fire_timers(china(2026, 8, 14))
    assert not any("请于" in t for t in sms_texts(w))  # back already: no reminder
    w.fire_timers(china(2026, 8, 18))
    assert "followup" not in w.open_tasks(P)


def test_close_refused_while_employers_are_open(world):
    w = world
    w.complete(BATCH_PROCESS, "production_decision", {"decision": "close"}, MANAGER)
    assert w.open_tasks(BATCH_PROCESS) == ["production_decision"]
    assert w.batch.status == "confirming"
    with w.factory() as s:
        assert s.scalars(select(Employer.status)).one() == "confirming"


def test_reconciling_with_forms_still_out_goes_back_with_the_reason(world, app):
    from app.procedures.batch.panel import batch_panel
    w = world
    w.voucher()
    w.returns()  # nothing entered in the grid yet
    assert w.open_tasks(P) == ["record_returns"] and w.case_of(P).status != "error"
    with w.factory() as s:
        panel = batch_panel(s, w.case_of(P))
    assert "确认表" in panel["refused"][0]
    w.enter_all()
    w.declare()
    w.returns()
    with w.factory() as s:
        assert batch_panel(s, w.case_of(P))["refused"] is None  # passed: the reason is gone


def test_completing_the_review_before_reviewing_everyone_goes_back(world):
    w = world
    w.voucher()
    w.enter_all()
    w.declare()
    w.returns()
    w.complete(P, "review", {"confirm": True}, REVIEWER)  # nobody reviewed in the grid
    assert w.open_tasks(P) == ["review"] and w.case_of(P).status != "error"
