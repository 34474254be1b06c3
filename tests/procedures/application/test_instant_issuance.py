"""processes/instant_issuance.bpmn 立等可取: every path through the diagram, run by the engine
runtime on SQLite with the demo data, asserting the domain rows and the audit trail."""
from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import update

from app.cards.models import BlankCard, Card
from app.cards.states import BlankCardStatus, CardStatus
from app.engine.errors import FormInvalid, NotCandidate
from hardware import profile
from tests.cards.helpers import PHOTO
from tests.procedures.application.conftest import NOW, OUTLET, WINDOW2
from tests.procedures.application.steps import (HANDOVER, OLD_CARD, card_by_number, live_cards,
                                   produce_and_hand_over, ssn)

P = "instant_issuance"


def test_happy_path(any_case):
    c = any_case(P)
    assert c.open_tasks() == ["accept_application"]
    assert c.task("accept_application").group == "window_clerk"
    c.accept("lin_kun")

    # accepted, checked, card number allocated, card job queued: waiting for the station
    app = c.app
    assert app.number == c.instance.business_key and app.number.startswith("SQ20260803")
    assert app.channel == "window" and app.window == "ICBC-SS" and app.created_by == "window1"
    assert app.service_point_name == "工商银行石狮支行制卡窗口"
    assert app.status == "in_production" and app.police_checks == 1
    assert app.photo_sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert app.photo == PHOTO  # for the card face
    # the photo's bytes left the case data once recorded (postScript): only its fingerprint stays
    assert c.data()["photo"]["sha256"] == app.photo_sha256 and "data" not in c.data()["photo"]
    assert len(c.instance.state) < 60_000
    assert c.instance.status == "waiting" and c.open_tasks() == []
    [card] = c.cards()
    assert card.status == CardStatus.IN_PRODUCTION and profile.is_valid_card_number(card.card_number)
    assert card.card_identifier.startswith("350581D156000005")
    assert (card.issue_date, card.expiry_date) == (date(2026, 8, 3), date(2036, 8, 3))
    [blank] = c.blank_cards()
    assert blank.status == BlankCardStatus.RESERVED and blank.bank == "中国工商银行石狮支行"
    [job] = c.jobs()
    assert job.state == "queued" and job.kind == "issue" and job.window == "ICBC-SS"
    assert job.payload["card"] == card.chip_data()
    assert job.payload["expected_bank_card_number"] == blank.bank_card_number
    assert job.payload["face"]["bank"] == "中国工商银行石狮支行"
    # task data and case summary carry ids, flags and masked numbers only
    data = c.data()
    assert data["application"]["id_number"] == "350581********1311"
    assert data["card"]["card_number"] == card.card_number_masked
    summary = c.instance.summary["application"]
    assert summary["number"] == app.number and summary["id_number"] == "350581********1311"
    assert ssn("lin_kun") not in str(c.instance.summary)

    c.station(ok=True)
    assert c.open_tasks() == ["hand_over_card"]
    card = c.cards()[0]
    assert card.status == CardStatus.NOT_ACTIVATED and card.bank_card_number == blank.bank_card_number
    assert c.app.status == "produced" and c.blank_cards()[0].status == BlankCardStatus.USED
    assert c.jobs()[0].state == "done"

    c.complete("hand_over_card", HANDOVER, WINDOW2)  # any clerk of the window
    assert c.instance.status == "completed"
    app = c.app
    assert app.status == "handed_over" and app.handed_over_at is not None and app.reason_zh is None
    assert app.handover["by"] == "window2" and app.handover["receipt_signed"] is True
    assert c.cards()[0].status == CardStatus.ACTIVE
    assert [x.id for x in live_cards(c.s, "lin_kun")] == [card.id]
    assert c.audit() == [("start", None), ("complete", "accept_application"), ("message", None),
                         ("complete", "hand_over_card")]


def test_only_window_clerks_work_on_it(case):
    c = case(P)
    with pytest.raises(NotCandidate):
        c.complete("accept_application", {}, OUTLET)


def test_existing_card_with_consent_on_the_form_is_stopped(case):
    c = case(P)
    c.accept("li_minghui", **OLD_CARD)
    old = card_by_number(c.s, "B6C989166")
    assert old.status == CardStatus.CANCELLED and old.stopped_at is not None
    assert c.app.number in old.stop_reason and c.app.old_card_stopped == "B6C989166"
    assert c.data()["archive"] == {"has_live_card": True, "being_made": False,
                                   "card_number": "B6C****66", "status": "active",
                                   "matches_form": True, "consent": True}
    produce_and_hand_over(c)
    [live] = live_cards(c.s, "li_minghui")
    assert live.application_id == c.app.id and live.status == CardStatus.ACTIVE


def test_existing_card_consent_given_at_the_window(case):
    c = case(P)
    c.accept("zheng_shuzhen")  # ticked "first card" although she holds one
    assert c.open_tasks() == ["confirm_old_card_stop"]
    assert card_by_number(c.s, "188347080").status == CardStatus.ACTIVE
    with pytest.raises(FormInvalid) as e:  # stopping needs her signature
        c.complete("confirm_old_card_stop", {"decision": "stop"})
    assert "applicant_signed" in e.value.errors
    c.complete("confirm_old_card_stop", {"decision": "stop", "applicant_signed": True,
                                         "old_card_returned": True})
    assert card_by_number(c.s, "188347080").status == CardStatus.CANCELLED
    assert c.app.consent_stop_old_card is True
    produce_and_hand_over(c)
    assert len(live_cards(c.s, "zheng_shuzhen")) == 1


def test_existing_card_not_stopped_ends_the_application(case):
    c = case(P)
    c.accept("zheng_shuzhen")
    c.complete("confirm_old_card_stop", {"decision": "refuse", "reason": "原卡仍在使用"})
    assert c.instance.status == "completed"
    app = c.app
    assert app.status == "rejected" and "不同意停用原卡" in app.reason_zh
    assert "原卡仍在使用" in app.reason_zh and "does not agree" in app.reason_en
    assert card_by_number(c.s, "188347080").status == CardStatus.ACTIVE
    assert c.cards() == [] and c.jobs() == []
    assert c.audit()[-1] == ("complete", "confirm_old_card_stop")


def test_card_already_being_made_ends_the_application(case):
    c = case(P)
    c.s.add(Card(card_number="B7K334774", ssn=ssn("chen_xiuying"), name="陈秀英",
                 region_code="350581", status=CardStatus.IN_PRODUCTION))
    c.s.commit()
    c.accept("chen_xiuying")
    assert c.instance.status == "completed"
    assert c.app.status == "rejected" and "正在制作中" in c.app.reason_zh
    assert card_by_number(c.s, "B7K334774").status == CardStatus.IN_PRODUCTION  # untouched
    assert c.cards() == []


def test_police_mismatch_corrected_on_the_spot(case):
    c = case(P)
    c.accept("zhang_wei")  # writes 张伟, the register says 张玮
    assert c.open_tasks() == ["correct_data"]
    assert c.data()["police"]["reasons"] == [{
        "code": "name_differs", "zh": "姓名与公安户籍登记不一致",
        "en": "The name differs from the police household register"}]
    assert c.app.status == "checking" and c.cards() == []
    with pytest.raises(FormInvalid) as e:  # "corrected" needs the checked values
        c.complete("correct_data", {"decision": "corrected"})
    assert set(e.value.errors) == {"name", "sex", "birth_date"}
    c.complete("correct_data", {"decision": "corrected", "name": "张玮", "sex": "1",
                                "birth_date": "1992-07-15", "checked_document": "resident_id"})
    app = c.app
    assert app.name == "张玮" and app.police_checks == 2
    assert app.corrections == [{"field": "name", "old": "张伟", "new": "张玮", "by": "window1",
                                "at": NOW.astimezone(app.accepted_at.tzinfo).isoformat(),
                                "document": "resident_id"}]
    assert c.cards()[0].name == "张玮"
    produce_and_hand_over(c)
    assert c.app.status == "handed_over"


def test_police_mismatch_corrected_wrongly_loops_again(case):
    c = case(P)
    c.accept("zhang_wei")
    c.complete("correct_data", {"decision": "corrected", "name": "张卫", "sex": "1",
                                "birth_date": "1992-07-15"})
    assert c.open_tasks() == ["correct_data"] and c.app.police_checks == 2
    c.complete("correct_data", {"decision": "corrected", "name": "张玮", "sex": "1",
                                "birth_date": "1992-07-15"})
    assert c.app.police_checks == 3 and c.open_tasks() == []
    assert [x["new"] for x in c.app.corrections] == ["张卫", "张玮"]


@pytest.mark.parametrize("person, code", [("xu_xiaoyan", "sex_differs"),
                                          ("qiu_zhiqiang", "unknown_person"),
                                          ("liu_yang", "not_local_household")])
def test_police_mismatch_not_solvable_on_the_spot(case, person, code):
    c = case(P)
    c.accept(person)
    assert [r["code"] for r in c.data()["police"]["reasons"]] == [code]
    with pytest.raises(FormInvalid) as e:
        c.complete("correct_data", {"decision": "unsolvable"})
    assert "reason" in e.value.errors
    c.complete("correct_data", {"decision": "unsolvable", "reason": "请到户籍所在地派出所核实"})
    assert c.instance.status == "completed"
    app = c.app
    assert app.status == "rejected" and app.finished_at is not None
    assert app.reason_zh == "公安户籍比对不一致，当场无法解决，终止制卡：请到户籍所在地派出所核实"
    assert c.cards() == [] and c.jobs() == [] and live_cards(c.s, person) == []


def test_card_write_failed_then_retried_with_another_blank_card(any_case):
    c = any_case(P)
    c.accept("shi_yating")
    first_blank = c.blank_cards()[0]
    c.station(ok=False, error_code="CARD_ALREADY_PERSONALISED")
    assert c.open_tasks() == ["card_write_failed"]
    assert c.data()["card_job"]["ok"] is False
    assert c.jobs()[0].state == "failed" and c.cards()[0].status == CardStatus.IN_PRODUCTION
    c.complete("card_write_failed", {"decision": "retry", "blank_card_spoiled": True})
    [job] = c.jobs()  # the same job, queued again as attempt 2
    assert job.state == "queued" and job.history[0]["attempt"] == 1
    blanks = {b.id: b.status for b in c.blank_cards()}
    assert blanks[first_blank.id] == BlankCardStatus.SPOILED and len(blanks) == 2
    new_blank = [b for b in c.blank_cards() if b.status == BlankCardStatus.RESERVED][0]
    assert job.payload["expected_bank_card_number"] == new_blank.bank_card_number
    job = c.station(ok=True)
    assert job.attempts == 2
    c.complete("hand_over_card", HANDOVER)
    assert c.cards()[0].bank_card_number == new_blank.bank_card_number
    assert c.audit() == [("start", None), ("complete", "accept_application"), ("message", None),
                         ("complete", "card_write_failed"), ("message", None),
                         ("complete", "hand_over_card")]


def test_card_write_failed_retried_with_the_same_blank_card(case):
    c = case(P)
    c.accept("cai_zhiming")
    c.station(ok=False, error_code="CARD_REMOVED")
    c.complete("card_write_failed", {"decision": "retry"})
    assert [b.status for b in c.blank_cards()] == [BlankCardStatus.RESERVED]
    c.station(ok=True)
    c.complete("hand_over_card", HANDOVER)
    assert c.app.status == "handed_over"


def test_card_write_abandoned(case):
    c = case(P)
    c.accept("hong_wenjie")
    blank = c.blank_cards()[0]
    c.station(ok=False, error_code="VERIFICATION_FAILED")
    with pytest.raises(FormInvalid):
        c.complete("card_write_failed", {"decision": "abandon"})  # needs a reason
    c.complete("card_write_failed", {"decision": "abandon", "reason": "读卡器故障",
                                     "blank_card_spoiled": True})
    assert c.instance.status == "completed"
    app = c.app
    assert app.status == "cancelled" and app.reason_zh == "制卡失败，经办人放弃制卡：读卡器故障"
    assert c.cards()[0].status == CardStatus.CANCELLED and live_cards(c.s, "hong_wenjie") == []
    assert c.s.get(BlankCard, blank.id, populate_existing=True).status == BlankCardStatus.SPOILED
    assert c.jobs()[0].state == "failed"


def test_card_write_abandoned_gives_the_blank_card_back(case):
    c = case(P)
    c.accept("wu_meiling")
    blank = c.blank_cards()[0]
    c.station(ok=False)
    c.complete("card_write_failed", {"decision": "abandon", "reason": "申请人有急事离开"})
    assert c.s.get(BlankCard, blank.id, populate_existing=True).status == BlankCardStatus.AVAILABLE


def test_no_blank_card_at_the_window(case, db):
    c = case(P)
    c.s.execute(update(BlankCard).where(BlankCard.window == "ICBC-SS")
                .values(status=BlankCardStatus.USED))
    c.s.commit()
    c.accept("wang_jianguo")
    assert c.instance.status == "completed"
    app = c.app
    assert app.status == "cancelled" and "无可用半成品卡" in app.reason_zh
    assert c.cards() == [] and c.jobs() == []  # the failed allocation left nothing behind
    assert c.data()["error_code"] == "no_blank_card"


def test_a_resent_station_result_changes_nothing(case):
    c = case(P)
    c.accept("huang_lihua")
    c.station(ok=True, resend=True)
    assert c.open_tasks() == ["hand_over_card"]
    assert [a for a, _ in c.audit()].count("message") == 1


def test_handover_needs_identity_check_and_receipt(case):
    c = case(P)
    c.accept("lin_kun")
    c.station(ok=True)
    with pytest.raises(FormInvalid) as e:
        c.complete("hand_over_card", {"identity_checked": True})
    assert set(e.value.errors) == {"card_checked", "receipt_signed"}
    assert c.cards()[0].status == CardStatus.NOT_ACTIVATED


def test_no_timers_in_instant_issuance(case):
    c = case(P)
    c.accept("lin_kun")
    assert c.timers() == [] and c.instance.deadline_at is None


def test_cancelling_the_case_releases_card_blank_card_and_job(case):
    from app.procedures.application.operations.cancel import cancel_for_instance
    from app.engine import runtime
    c = case(P)
    c.accept("lin_kun")
    blank = c.blank_cards()[0]
    runtime.cancel_instance(c.s, c.id, WINDOW2, reason="申请人放弃")
    assert cancel_for_instance(c.s, c.id, WINDOW2, "申请人放弃") == {"status": "cancelled",
                                                                 "reason": "case_cancelled"}
    c.s.commit()
    assert c.instance.status == "cancelled"
    assert c.app.status == "cancelled" and c.app.reason_zh == "办件已撤销：申请人放弃"
    assert c.cards()[0].status == CardStatus.CANCELLED and c.jobs()[0].state == "cancelled"
    assert c.s.get(BlankCard, blank.id, populate_existing=True).status == BlankCardStatus.AVAILABLE
    assert cancel_for_instance(c.s, c.id, WINDOW2) is None  # already closed
