"""Replacement 补卡 and exchange 换卡 (seed 002 §1) through both diagrams of the family
(processes/application/instant_issuance.bpmn, outlet_application.bpmn): the purpose on the
application form, the old card checked against the archive (``check_old_card`` and the way back
to the form), the fee 工本费 with its receipt number, what happens to the old card (补卡: 挂失后注销
once the new number is allocated, and never live again; 换卡: stopped with the reason 换卡 and
blocked on its chip by a card job no case waits for), and ``start_replacement``, the case opened
with its form filled in."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.cards import jobs
from app.cards.models import Card, CardJob
from app.cards.states import CardStatus, JobState
from app.engine.clock import engine_clock
from app.engine.errors import FormInvalid
from app.engine.models import HumanTask, ProcessInstance
from app.engine.services import Actor
from app.procedures.application import fees, replacement
from app.procedures.application.models import Application
from app.procedures.application.numbers import next_fee_receipt_number
from app.procedures.application.replacement import ReplacementRefused, start_replacement
from app.procedures.application.states import REPLACING, Purpose
from forms.application import rules as form_rules
from forms.registry import get_form
from hardware import profile
from tests.procedures.application.conftest import NOW, OUTLET, WINDOW, Case  # noqa: F401
from tests.procedures.application.steps import (card_by_number, live_cards, produce_and_hand_over,
                                                 ssn)

WINDOW_P, OUTLET_P = "instant_issuance", "outlet_application"
LI_CARD = "B6C989166"      # 李明辉's card (demo: active, 工商银行)
ZHENG_CARD = "188347080"   # 郑淑贞's card (demo: active, 农业银行)
RECEIPT_OF_THE_DAY = "GBF20260803"


def replacement_form(number: str, **more) -> dict:
    return {"purpose": "replacement", "first_card": "no", "old_card_number": number,
            "consent_stop_old_card": False, **more}


def exchange_form(number: str, **more) -> dict:
    return {"purpose": "exchange", "first_card": "no", "old_card_number": number,
            "old_card_handed_in": True, **more}


def set_status(session, number: str, status: str) -> None:
    """What the lifecycle family's loss reports do to the card (正式挂失: LOST)."""
    card_by_number(session, number).status = status
    session.commit()


def finish_block_job(c: Case, ok: bool = True) -> CardJob:
    """The station of the window blocks the old card (what app/api/station.py does for a job
    no case waits for: the result recorded, the family's hook run, one transaction)."""
    job = jobs.claim_next_job(c.s, "ST-01", kinds=("block",))
    assert job is not None and job.kind == "block" and job.instance_id is None
    wire = jobs.job_payload(c.s, job)
    c.s.commit()
    result = {"job_id": wire["id"], "attempt": wire["attempt"], "kind": "block",
              "station": "ST-01", "result_id": f"res-{wire['id']}", "ok": ok,
              "card": {**wire["card"], "card_identifier": None}, "apdus": 12,
              "error": None if ok else {"code": "WRONG_CARD", "message_zh": "不是该持卡人的卡",
                                        "message_en": "Not the holder's card", "retryable": True},
              "finished_at": NOW.isoformat()}
    job, first_time = jobs.record_result(c.s, job.id, result)
    assert first_time
    jobs.finish_without_case(c.s, job)
    c.s.commit()
    return job


def refused_check(c: Case) -> dict:
    """Back at the application form: what the old card's check said (its task data)."""
    assert c.open_tasks() == ["accept_application"]
    check = c.task_data("accept_application")["old_card_check"]
    assert check["ok"] is False and check["code"] == "old_card_refused"
    return check


# -- 补卡 replacement ----------------------------------------------------------------------------

def test_replacement_at_a_window(any_case):
    c = any_case(WINDOW_P)
    set_status(c.s, LI_CARD, CardStatus.LOST)  # 正式挂失 (lifecycle family)
    c.accept("li_minghui", **replacement_form(LI_CARD))
    app = c.app
    assert app.purpose == Purpose.REPLACEMENT and app.old_card_number == LI_CARD
    assert app.first_card is False and app.consent_stop_old_card is False
    assert app.old_card_city == "350500" and app.old_card_handed_in is False
    # the fee: 20.00 yuan, with the day's first receipt number
    assert app.fee_cents == fees.DEFAULT_FEE_CENTS == 2000
    assert app.fee_receipt_number == RECEIPT_OF_THE_DAY + "0001"
    assert app.fee_paid_at == app.accepted_at
    assert c.data()["old_card_check"] == {"ok": True, "purpose": "replacement",
                                          "card_number": "B6C****66", "code": None,
                                          "message_zh": None, "message_en": None}
    # the archive found no live card (a lost card is not live): checked, number allocated
    assert c.data()["archive"]["has_live_card"] is False
    [new] = c.cards()
    old = card_by_number(c.s, LI_CARD)
    assert new.card_number != LI_CARD and profile.is_valid_card_number(new.card_number)
    assert new.ssn == old.ssn == ssn("li_minghui") and new.status == CardStatus.IN_PRODUCTION
    assert old.status == CardStatus.CANCELLED_AFTER_LOSS and old.stopped_at is not None
    assert old.stop_reason == f"挂失后补卡（申领编号 {app.number}）"
    assert c.app.old_card_stopped == LI_CARD
    assert not c.s.scalars(select(CardJob).where(CardJob.kind == "block")).all()  # nothing to block
    # the card station makes it (the same way as any instant card), handed over
    produce_and_hand_over(c)
    assert [x.id for x in live_cards(c.s, "li_minghui")] == [new.id]
    assert card_by_number(c.s, new.card_number).status == CardStatus.ACTIVE
    assert c.audit() == [("start", None), ("complete", "accept_application"), ("message", None),
                         ("complete", "hand_over_card")]


def test_replacement_at_an_outlet(case):
    c = case(OUTLET_P)
    set_status(c.s, ZHENG_CARD, CardStatus.LOST)
    c.accept("zheng_shuzhen", **replacement_form(ZHENG_CARD))
    app = c.app
    assert app.channel == "outlet" and app.window == "ICBC-SS"
    assert app.purpose == "replacement" and app.fee_cents == 2000
    assert app.fee_receipt_number == RECEIPT_OF_THE_DAY + "0001"
    assert c.open_tasks() == ["produce_card"]  # at the window, within the 15 working days
    [new] = c.cards()
    assert card_by_number(c.s, ZHENG_CARD).status == CardStatus.CANCELLED_AFTER_LOSS
    assert new.card_number != ZHENG_CARD and new.ssn == ssn("zheng_shuzhen")
    produce_and_hand_over(c)
    assert c.app.status == "picked_up" and c.sms()  # told to collect it
    assert [x.card_number for x in live_cards(c.s, "zheng_shuzhen")] == [new.card_number]


@pytest.mark.parametrize("process", [WINDOW_P, OUTLET_P])
def test_replacement_of_a_card_not_formally_lost_goes_back_to_the_form(case, process):
    c = case(process)
    c.accept("li_minghui", **replacement_form(LI_CARD))  # the card is active
    check = refused_check(c)
    assert check["message_zh"].startswith("该卡未正式挂失，不能补卡，请先办理正式挂失")
    assert "not been formally reported lost" in check["message_en"]
    assert check["card_number"] == "B6C****66" and LI_CARD not in str(check)
    # nothing recorded, nothing paid, the card untouched
    assert c.s.scalars(select(Application)).all() == []
    assert card_by_number(c.s, LI_CARD).status == CardStatus.ACTIVE
    assert c.instance.business_key is None
    # the card is damaged and in hand after all: an exchange, on the same form
    c.accept("li_minghui", **exchange_form(LI_CARD))
    assert c.app.purpose == "exchange" and c.app.fee_receipt_number == RECEIPT_OF_THE_DAY + "0001"
    assert card_by_number(c.s, LI_CARD).status == CardStatus.CANCELLED


@pytest.mark.parametrize("status, words", [
    (CardStatus.TEMP_LOST, "该卡仅临时挂失，未正式挂失，不能补卡"),
    (CardStatus.NOT_ACTIVATED, "该卡未正式挂失，不能补卡"),
    (CardStatus.CANCELLED, "已注销，不能再补卡或换卡"),
])
def test_replacement_needs_the_card_formally_lost(case, status, words):
    c = case(WINDOW_P)
    set_status(c.s, LI_CARD, status)
    c.accept("li_minghui", **replacement_form(LI_CARD))
    assert words in refused_check(c)["message_zh"]


@pytest.mark.parametrize("process", [WINDOW_P, OUTLET_P])
def test_another_persons_card_is_refused(case, process):
    c = case(process)
    set_status(c.s, LI_CARD, CardStatus.LOST)
    c.accept("lin_kun", **replacement_form(LI_CARD))  # 林堃 with 李明辉's lost card
    check = refused_check(c)
    assert "不是申请人本人的卡" in check["message_zh"] and "not the applicant's own" in check["message_en"]
    assert card_by_number(c.s, LI_CARD).status == CardStatus.LOST
    assert c.s.scalars(select(Application)).all() == []


@pytest.mark.parametrize("process", [WINDOW_P, OUTLET_P])
def test_an_unknown_card_number_is_refused(case, process):
    unknown = next(n for n in iter(profile.new_card_number, None) if n not in (LI_CARD, ZHENG_CARD))
    c = case(process)
    c.accept("li_minghui", **replacement_form(unknown))
    check = refused_check(c)
    assert check["message_zh"].startswith("全省社保卡档案库中没有卡号为") and "请核对原卡卡号" in check["message_zh"]
    assert unknown not in check["message_zh"]  # masked


def test_replacement_refused_while_a_live_card_exists(case):
    c = case(WINDOW_P)
    set_status(c.s, LI_CARD, CardStatus.LOST)
    old = card_by_number(c.s, LI_CARD)
    c.s.add(Card(card_number="B7K334774", ssn=old.ssn, name=old.name, sex=old.sex,
                 ethnicity=old.ethnicity, birth_date=old.birth_date, region_code="350581",
                 status=CardStatus.ACTIVE))  # a new card made elsewhere already
    c.s.commit()
    c.accept("li_minghui", **replacement_form(LI_CARD))
    assert "一人只能持有一张社保卡，不能再补卡" in refused_check(c)["message_zh"]


def test_a_replacement_must_not_say_first_card(case):
    c = case(WINDOW_P)
    with pytest.raises(FormInvalid) as e:
        c.accept("li_minghui", **replacement_form(LI_CARD, first_card="yes"))
    assert "first_card" in e.value.errors
    with pytest.raises(FormInvalid) as e:
        c.accept("li_minghui", **replacement_form(None))
    assert "old_card_number" in e.value.errors


# -- 换卡 exchange -------------------------------------------------------------------------------

def test_exchange_at_a_window_stops_the_old_card_and_queues_its_block(any_case):
    c = any_case(WINDOW_P)
    c.accept("li_minghui", **exchange_form(LI_CARD))
    app = c.app
    assert app.purpose == "exchange" and app.old_card_handed_in is True
    assert app.consent_stop_old_card is True and app.fee_cents == 2000
    old = card_by_number(c.s, LI_CARD)
    assert old.status == CardStatus.CANCELLED and old.stopped_at is not None
    assert old.stop_reason == f"换卡（申领编号 {app.number}）" and app.old_card_stopped == LI_CARD
    assert c.data()["archive"]["consent"] is True  # handing it in is the consent: no question
    block = c.s.scalars(select(CardJob).where(CardJob.kind == "block")
                        .execution_options(populate_existing=True)).one()
    assert (block.instance_id, block.card_id, block.application_id, block.window, block.state) == (
        None, old.id, app.id, "ICBC-SS", JobState.QUEUED)
    assert list(block.payload) == ["card"]
    assert (block.payload["card"]["ssn"], block.payload["card"]["card_number"]) == (ssn("li_minghui"), LI_CARD)
    assert block.payload["card"] == old.chip_data()  # the complete chip data, as an issue job's
    assert c.data()["old_card_stop"]["block_job_id"] == block.id
    # the new card: same social security number, a new card number, being made
    [new] = c.cards()
    assert new.ssn == old.ssn and new.card_number != LI_CARD
    # the station blocks the old card first (no case waits: the family's hook records it)
    done = finish_block_job(c)
    assert done.state == JobState.DONE and done.finished_at is not None
    assert jobs.RESULT_HOOKS.get("block") is not None
    produce_and_hand_over(c)
    assert [x.id for x in live_cards(c.s, "li_minghui")] == [new.id]
    assert card_by_number(c.s, LI_CARD).status == CardStatus.CANCELLED


def test_exchange_at_an_outlet(case):
    c = case(OUTLET_P)
    c.accept("zheng_shuzhen", **exchange_form(ZHENG_CARD))
    old = card_by_number(c.s, ZHENG_CARD)
    assert old.status == CardStatus.CANCELLED and old.stop_reason.startswith("换卡")
    [block] = c.s.scalars(select(CardJob).where(CardJob.kind == "block")).all()
    assert block.window == "ICBC-SS" and block.instance_id is None  # the outlet's producing window
    assert c.open_tasks() == ["produce_card"]
    finish_block_job(c)
    produce_and_hand_over(c)
    assert c.app.status == "picked_up"


def test_an_exchange_ended_without_a_card_still_blocks_the_old_one(case):
    from app.engine import runtime
    from app.procedures.application.operations.cancel import cancel_for_instance
    c = case(WINDOW_P)
    c.accept("li_minghui", **exchange_form(LI_CARD))
    # the applicant gives up while the new card waits for the station (撤销办件)
    runtime.cancel_instance(c.s, c.id, WINDOW, reason="申请人放弃")
    assert cancel_for_instance(c.s, c.id, WINDOW, "申请人放弃")["status"] == "cancelled"
    c.s.commit()
    issue = c.s.scalars(select(CardJob).where(CardJob.kind == "issue")
                        .execution_options(populate_existing=True)).one()
    block = c.s.scalars(select(CardJob).where(CardJob.kind == "block")
                        .execution_options(populate_existing=True)).one()
    assert issue.state == JobState.CANCELLED and c.cards()[0].status == CardStatus.CANCELLED
    # the old card was stopped when it was handed in: it is blocked all the same
    assert block.state == JobState.QUEUED
    assert card_by_number(c.s, LI_CARD).status == CardStatus.CANCELLED
    assert finish_block_job(c).state == JobState.DONE


def test_exchange_needs_the_old_card_handed_in(case):
    c = case(WINDOW_P)
    with pytest.raises(FormInvalid) as e:
        c.accept("li_minghui", **exchange_form(LI_CARD, old_card_handed_in=False))
    assert [str(m) for m in e.value.errors["old_card_handed_in"]] == [str(form_rules.MSG_HANDED_IN)]
    assert card_by_number(c.s, LI_CARD).status == CardStatus.ACTIVE
    # the operation refuses it as well (an API client bypassing nothing: the same rule)
    with pytest.raises(ReplacementRefused) as refused:
        replacement.check_old_card(c.s, "exchange", LI_CARD, ssn("li_minghui"), handed_in=False)
    assert refused.value.message_zh.startswith("换卡须收回原卡")


@pytest.mark.parametrize("status, words", [
    (CardStatus.LOST, "该卡已正式挂失，不能换卡，请办理补卡"),
    (CardStatus.TEMP_LOST, "该卡已临时挂失，不能换卡"),
    (CardStatus.IN_PRODUCTION, "尚在制作中"),
])
def test_exchange_needs_a_live_card_in_hand(case, status, words):
    c = case(OUTLET_P)
    set_status(c.s, ZHENG_CARD, status)
    c.accept("zheng_shuzhen", **exchange_form(ZHENG_CARD))
    assert words in refused_check(c)["message_zh"]
    assert c.s.scalars(select(CardJob)).all() == []


def test_exchange_of_another_persons_card_is_refused(case):
    c = case(WINDOW_P)
    c.accept("zheng_shuzhen", **exchange_form(LI_CARD))
    assert "不是申请人本人的卡" in refused_check(c)["message_zh"]
    assert card_by_number(c.s, LI_CARD).status == CardStatus.ACTIVE


# -- the old card stays dead ---------------------------------------------------------------------

def test_the_replaced_card_never_lives_again(any_case):
    c = any_case(WINDOW_P)
    set_status(c.s, LI_CARD, CardStatus.LOST)
    c.accept("li_minghui", **replacement_form(LI_CARD))
    produce_and_hand_over(c)
    old = card_by_number(c.s, LI_CARD)
    assert old.status == CardStatus.CANCELLED_AFTER_LOSS
    # through the ORM: refused before anything is written
    for status in (CardStatus.ACTIVE, CardStatus.LOST, CardStatus.TEMP_LOST):
        with pytest.raises(ValueError, match="cannot become"):
            old.status = status
    c.s.rollback()
    # behind the ORM's back: the database refuses a second live card of the person
    with pytest.raises(IntegrityError):
        c.s.execute(text("UPDATE card SET status = 'active' WHERE id = :id"), {"id": old.id})
        c.s.flush()
    c.s.rollback()
    assert card_by_number(c.s, LI_CARD).status == CardStatus.CANCELLED_AFTER_LOSS
    # and a second replacement of the same card is refused
    again = Case(c.Session, WINDOW_P)
    try:
        again.accept("li_minghui", **replacement_form(LI_CARD))
        assert "已挂失后注销，不能再补卡或换卡" in refused_check(again)["message_zh"]
    finally:
        again.close()


# -- the fee 工本费 --------------------------------------------------------------------------------

def test_a_first_card_pays_nothing(case):
    c = case(WINDOW_P)
    c.accept("lin_kun")
    app = c.app
    assert app.purpose == "first" and app.fee_cents is None
    assert app.fee_receipt_number is None and app.fee_paid_at is None
    assert c.data()["application"]["fee"] is None


def test_receipt_numbers_count_per_day_and_the_fee_is_set_in_one_place(case, monkeypatch):
    monkeypatch.setenv(fees.FEE_ENV, "25.5")
    first = case(WINDOW_P)
    set_status(first.s, LI_CARD, CardStatus.LOST)
    first.accept("li_minghui", **replacement_form(LI_CARD))
    second = case(OUTLET_P)
    second.accept("zheng_shuzhen", **exchange_form(ZHENG_CARD))
    assert (first.app.fee_cents, second.app.fee_cents) == (2550, 2550)
    assert [first.app.fee_receipt_number, second.app.fee_receipt_number] == [
        RECEIPT_OF_THE_DAY + "0001", RECEIPT_OF_THE_DAY + "0002"]
    assert second.data()["application"]["fee"] == "25.50"


@pytest.mark.parametrize("setting, cents", [
    (None, 2000), ("20", 2000), ("12.50", 1250), ("0", 0), ("  30 ", 3000),
    ("abc", 2000), ("-5", 2000), ("1.234", 2000), ("5000", 2000), ("nan", 2000), ("inf", 2000),
])
def test_fee_setting(monkeypatch, setting, cents):
    if setting is None:
        monkeypatch.delenv(fees.FEE_ENV, raising=False)
    else:
        monkeypatch.setenv(fees.FEE_ENV, setting)
    assert fees.fee_cents() == cents


@pytest.mark.parametrize("cents, words", [
    (2000, "贰拾元整"), (1000, "壹拾元整"), (1250, "壹拾贰元伍角"), (1205, "壹拾贰元零伍分"),
    (5, "伍分"), (0, "零元整"), (100_000, "壹仟元整"), (10_050, "壹佰元伍角"),
    (1_000_100, "壹万零壹元整"),
])
def test_amount_in_words(cents, words):
    assert fees.yuan_capital(cents) == words


def test_receipt_numbers_are_unique_under_concurrency(any_db):
    """Eight clerks take a receipt number at the same moment: all different, none lost."""
    Session = any_db
    day, got, errors = date(2026, 8, 3), [], []
    barrier = threading.Barrier(8)

    def take():
        with Session() as s:
            try:
                barrier.wait()
                for _ in range(5):
                    got.append(next_fee_receipt_number(s, day))
                    s.commit()
            except Exception as e:  # noqa: BLE001  (reported below)
                errors.append(e)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got) == [f"GBF20260803{n:04d}" for n in range(1, 41)]


# -- start_replacement: a case opened with its form filled in ------------------------------------

LIFECYCLE = Actor.system("lifecycle")


def started(Session, process: str, instance_id: int) -> Case:
    c = Case.__new__(Case)
    c.Session, c.s, c.key, c.now, c.id = Session, Session(), process, NOW, instance_id
    return c


def submit_prefilled(c: Case, **more) -> None:
    """What the clerk posts: the form as it opened (prefilled), the photo, the signature."""
    from tests.cards.helpers import form_for
    form = get_form("application.apply")
    data = {k: v for k, v in c.task_data("accept_application").items() if k in form()._fields}
    photo = form_for("lin_kun")["photo"]
    c.complete("accept_application", {**data, "application_date": NOW.date().isoformat(),
                                      "photo": photo, "signed": True, **more})


def test_start_replacement_at_an_outlet_from_the_old_card(db):
    with db() as s:
        set_status(s, ZHENG_CARD, CardStatus.LOST)
        old_id = card_by_number(s, ZHENG_CARD).id
        with engine_clock(NOW):
            iid = start_replacement(s, process=OUTLET_P, service_point="BAOGAI",
                                    purpose="replacement", old_card_id=old_id, actor=LIFECYCLE)
        instance = s.get(ProcessInstance, iid)
        assert instance.process_key == OUTLET_P and instance.office == "BAOGAI"
        [task] = s.scalars(select(HumanTask).where(HumanTask.instance_id == iid)).all()
        assert (task.task_name, task.group, task.state) == ("accept_application", "outlet_clerk", "open")
        # idempotent: the lifecycle job resumed after a crash finds the same case
        with engine_clock(NOW):
            assert start_replacement(s, process=OUTLET_P, service_point="BAOGAI",
                                     purpose="replacement", old_card_id=old_id, actor=LIFECYCLE) == iid
    c = started(db, OUTLET_P, iid)
    try:
        data = c.task_data("accept_application")
        person = {k: data.get(k) for k in ("purpose", "first_card", "old_card_number",
                                           "old_card_city", "name", "sex", "ethnicity",
                                           "birth_date", "id_number", "id_type")}
        assert person == {"purpose": "replacement", "first_card": "no",
                          "old_card_number": ZHENG_CARD, "old_card_city": "350500",
                          "name": "郑淑贞", "sex": "2", "ethnicity": "01",
                          "birth_date": "1958-09-30", "id_number": ssn("zheng_shuzhen"),
                          "id_type": "resident_id"}
        assert "photo" not in data and data["consent_stop_old_card"] is False
        # the form opens with those values (the inbox's prefill: task data by field name)
        form = get_form("application.apply")(data={k: v for k, v in data.items()
                                                   if k in ("purpose", "old_card_number", "name")})
        assert (form.purpose.data, form.old_card_number.data, form.name.data) == (
            "replacement", ZHENG_CARD, "郑淑贞")
        # the clerk adds what the card does not know (mobile, addresses...) and the photo
        submit_prefilled(c, mobile="13905950102", residence_address="福建省石狮市湖滨街道长福社区11号",
                         household_address="福建省石狮市湖滨街道长福社区11号",
                         medical_insurance_type="urban_employee", country="中国",
                         id_valid_from="2016-01-01", id_long_term=True)
        app = c.app
        assert app.purpose == "replacement" and app.service_point == "BAOGAI"
        assert app.fee_receipt_number == RECEIPT_OF_THE_DAY + "0001"
        assert card_by_number(c.s, ZHENG_CARD).status == CardStatus.CANCELLED_AFTER_LOSS
        # asked again now (a resumed job): the running case, although its card is cancelled
        with db() as s, engine_clock(NOW):
            assert start_replacement(s, process=OUTLET_P, service_point="BAOGAI",
                                     purpose="replacement", old_card_id=old_id, actor=LIFECYCLE) == iid
        produce_and_hand_over(c)
        [live] = live_cards(c.s, "zheng_shuzhen")
        assert live.application_id == app.id and live.card_number != ZHENG_CARD
    finally:
        c.close()


def test_start_replacement_prefills_from_the_previous_application(case, db):
    first = case(WINDOW_P)
    first.accept("lin_kun", mobile="13805950001", employer="石狮市宝盖服装有限公司")
    produce_and_hand_over(first)
    card = first.cards()[0]
    set_status(first.s, card.card_number, CardStatus.LOST)
    with db() as s, engine_clock(NOW):
        iid = start_replacement(s, process=WINDOW_P, service_point="ICBC-SS",
                                purpose="replacement", old_card_id=card.id, actor=LIFECYCLE)
    c = started(db, WINDOW_P, iid)
    try:
        data = c.task_data("accept_application")
        previous = first.app
        for field in ("name", "mobile", "employer", "residence_address", "household_address",
                      "medical_insurance_type", "occupation", "residence_postcode"):
            assert data[field] == getattr(previous, field), field
        assert data["birth_date"] == "1990-03-07" and data["id_long_term"] is True
        assert data["old_card_number"] == card.card_number and data["purpose"] == "replacement"
        submit_prefilled(c)
        assert c.instance.office == "ICBC-SS" and c.app.fee_cents == 2000
        produce_and_hand_over(c)
        [live] = live_cards(c.s, "lin_kun")
        assert live.id != card.id and live.ssn == card.ssn and live.card_number != card.card_number
        assert card_by_number(c.s, card.card_number).status == CardStatus.CANCELLED_AFTER_LOSS
    finally:
        c.close()


def test_start_exchange_prefills_the_consent(db):
    with db() as s, engine_clock(NOW):
        card_id = card_by_number(s, LI_CARD).id
        iid = start_replacement(s, process=WINDOW_P, service_point="ICBC-SS", purpose="exchange",
                                old_card_id=card_id, actor=LIFECYCLE)
    c = started(db, WINDOW_P, iid)
    try:
        data = c.task_data("accept_application")
        assert data["purpose"] == "exchange" and data["consent_stop_old_card"] is True
        assert data["old_card_handed_in"] is False  # the clerk ticks it when the card is handed in
        with pytest.raises(FormInvalid):
            submit_prefilled(c, mobile="13805950002", residence_address="福建省石狮市宝盖镇后宅村新华路66号",
                             household_address="福建省石狮市宝盖镇后宅村新华路66号",
                             medical_insurance_type="urban_employee", id_valid_from="2016-01-01",
                             id_long_term=True)
        submit_prefilled(c, mobile="13805950002", residence_address="福建省石狮市宝盖镇后宅村新华路66号",
                         household_address="福建省石狮市宝盖镇后宅村新华路66号",
                         medical_insurance_type="urban_employee", id_valid_from="2016-01-01",
                         id_long_term=True, old_card_handed_in=True)
        assert card_by_number(c.s, LI_CARD).status == CardStatus.CANCELLED
        assert c.s.scalars(select(CardJob).where(CardJob.kind == "block")).one().card_id == card_id
    finally:
        c.close()


@pytest.mark.parametrize("changes, code", [
    ({"purpose": "replacement"}, "old_card_refused"),        # the card is not formally lost
    ({"process": "outlet_application"}, "unknown_service_point"),  # ICBC-SS is a window
    ({"service_point": "NOWHERE"}, "unknown_service_point"),
    ({"process": "holder_pickup"}, "bad_process"),
    ({"purpose": "first"}, "bad_purpose"),
    ({"old_card_id": 999999}, "card_unknown"),
])
def test_start_replacement_refusals_start_nothing(db, changes, code):
    with db() as s:
        args = {"process": WINDOW_P, "service_point": "ICBC-SS", "purpose": "exchange",
                "old_card_id": card_by_number(s, LI_CARD).id, "actor": LIFECYCLE, **changes}
        with pytest.raises(ReplacementRefused) as e:
            start_replacement(s, **args)
        assert e.value.code == code and e.value.message_zh and e.value.message_en
        s.rollback()
        assert s.scalars(select(ProcessInstance)).all() == []


def test_purposes_of_the_form_are_the_applications():
    assert [code for code, _ in form_rules.PURPOSES] == [p.value for p in Purpose]
    assert set(form_rules.REPLACING) == {p.value for p in REPLACING}


def test_only_the_windows_clerks_take_a_prefilled_window_form(db):
    with db() as s, engine_clock(NOW):
        iid = start_replacement(s, process=WINDOW_P, service_point="ICBC-SS", purpose="exchange",
                                old_card_id=card_by_number(s, LI_CARD).id, actor=LIFECYCLE)
    c = started(db, WINDOW_P, iid)
    try:
        from app.engine.errors import NotCandidate
        with pytest.raises(NotCandidate):
            c.complete("accept_application", {}, OUTLET)
        assert c.task("accept_application").group == "window_clerk"
    finally:
        c.close()
