"""Service operations called directly with a ServiceContext: the edges the diagrams do not
walk (retried steps, refused transitions, outside systems down, results that do not match)."""
from __future__ import annotations

import base64
import hashlib
from datetime import date

import pytest
from sqlalchemy import select

import app.adapters as adapters
from app.cards import jobs
from app.cards import stock as card_stock
from app.cards.models import BlankCard, Card, CardJob
from app.cards.states import BlankCardStatus, CardStatus
from app.engine.services import Actor, ServiceError, registry
from app.procedures.application.models import Application
from tests.cards.helpers import PHOTO, ctx, form_for

OPERATIONS = {
    "application.record", "application.correct", "application.set_status",
    "application.mark_overdue", "application.finish", "archive.query", "archive.stop_old_card",
    "police.verify", "card.allocate", "stock.reserve_blank_card", "card.submit_issue_job",
    "card.mark_issued", "sms.notify_pickup"}


def op(name):
    return registry.get(name)


def record(session, person="lin_kun", channel="window", actor="clerk1", instance_id=1, **form):
    c = ctx(session, instance_id=instance_id, user=actor, data=form_for(person, **form))
    return op("application.record")(c, channel=channel)


def test_all_operations_are_registered():
    assert OPERATIONS <= registry.names()


def test_record_is_idempotent_per_case_and_numbers_per_day(session):
    first = record(session)
    assert record(session) == first  # a retried step finds the same application
    other = record(session, "chen_xiuying", instance_id=2)
    assert other["number"][-4:] == "0002" and other["number"][:10] == first["number"][:10]
    app = session.get(Application, first["application_id"])
    assert app.id_number == "350581199003071311" and app.birth_date == date(1990, 3, 7)
    assert app.first_card is True and app.ethnicity == "01" and app.id_long_term is True
    assert first["id_number"] == "350581********1311" and first["applicant"] == "林堃"


def test_record_keeps_photo_bytes_when_the_data_carries_them(session):
    data = form_for("lin_kun")
    data["photo"] = {"sha256": "x", "format": "JPEG", "data": base64.b64encode(PHOTO).decode()}
    result = op("application.record")(ctx(session, data=data), channel="window")
    app = session.get(Application, result["application_id"])
    assert app.photo == PHOTO and app.photo_sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert app.photo_format == "JPEG"


def test_record_finds_the_clerks_service_point(session):
    c = ctx(session, data=form_for("lin_kun"))
    c.actor = Actor("abc1", 5, frozenset({"window_clerk", "ABC-SS"}))
    result = op("application.record")(c, channel="window")
    assert result["window"] == "ABC-SS" and result["service_point"] == "农业银行石狮支行制卡窗口"
    with pytest.raises(ServiceError) as e:
        op("application.record")(ctx(session, instance_id=9, data=form_for("lin_kun")),
                                 channel="window", service_point="BAOGAI")  # an outlet
    assert e.value.code == "unknown_service_point"
    with pytest.raises(ServiceError) as e:
        op("application.record")(ctx(session, instance_id=9), channel="post")
    assert e.value.code == "bad_channel"
    with pytest.raises(ServiceError) as e:
        op("application.record")(ctx(session, instance_id=9, data={"name": "x"}), channel="window")
    assert e.value.code == "incomplete_application"


def test_set_status_only_moves_forward(session):
    aid = record(session, channel="outlet")["application_id"]
    c = ctx(session)
    with pytest.raises(ServiceError) as e:
        op("application.set_status")(c, aid, "sent_to_outlet")  # not produced yet
    assert e.value.code == "bad_status"
    with pytest.raises(ServiceError):
        op("application.set_status")(c, aid, "picked_up")
    session.get(Application, aid).status = "produced"
    assert op("application.set_status")(c, aid, "sent_to_outlet") == {"status": "sent_to_outlet"}
    assert op("application.set_status")(c, aid, "sent_to_outlet") == {"status": "sent_to_outlet"}
    assert op("application.set_status")(c, aid, "at_outlet") == {"status": "at_outlet"}


def test_unknown_or_closed_application(session):
    for bad in (None, "x", 999):
        with pytest.raises(ServiceError) as e:
            op("police.verify")(ctx(session), bad)
        assert e.value.code == "application_not_found"
    aid = record(session)["application_id"]
    op("application.finish")(ctx(session), aid, "rejected", reason="police_unsolvable")
    with pytest.raises(ServiceError) as e:
        op("police.verify")(ctx(session), aid)
    assert e.value.code == "application_closed"
    assert op("application.finish")(ctx(session), aid, "rejected") == {"status": "rejected"}


def test_finish_refuses_bad_outcomes_and_handover_without_card(session):
    aid = record(session)["application_id"]
    with pytest.raises(ServiceError) as e:
        op("application.finish")(ctx(session), aid, "lost")
    assert e.value.code == "bad_outcome"
    with pytest.raises(ServiceError) as e:
        op("application.finish")(ctx(session), aid, "handed_over")
    assert e.value.code == "card_not_ready"


def test_police_unavailable_is_a_retryable_error(session):
    aid = record(session)["application_id"]

    class Down(adapters.PoliceRegister):
        def __init__(self, session):
            pass

        def verify(self, *args):
            raise adapters.PoliceUnavailable("timeout")

        def compare_bulk(self, id_numbers):
            raise adapters.PoliceUnavailable("timeout")

    adapters.configure(police=Down)
    try:
        with pytest.raises(ServiceError) as e:
            op("police.verify")(ctx(session), aid)
        assert e.value.code == "police_unavailable" and e.value.retryable
    finally:
        adapters.reset()


def test_police_cannot_check_other_documents(session):
    aid = record(session)["application_id"]
    session.get(Application, aid).id_type = "passport"
    result = op("police.verify")(ctx(session), aid)
    assert result["match"] is False and result["reasons"][0]["code"] == "not_resident_id"


def test_stop_old_card_without_one_and_with_one_in_production(session):
    aid = record(session)["application_id"]
    assert op("archive.stop_old_card")(ctx(session), aid)["stopped"] is False
    other = record(session, "li_minghui", instance_id=2)["application_id"]
    session.scalars(select(Card).where(Card.card_number == "B6C989166")).one().status = \
        CardStatus.IN_PRODUCTION
    with pytest.raises(ServiceError) as e:
        op("archive.stop_old_card")(ctx(session), other)
    assert e.value.code == "card_in_production"


def test_allocate_is_idempotent_and_refuses_a_second_live_card(session):
    aid = record(session)["application_id"]
    first = op("card.allocate")(ctx(session), aid)
    again = op("card.allocate")(ctx(session), aid)
    assert first == again and first["bank_card_number"].startswith("621226")
    assert session.scalar(select(Card.id).where(Card.application_id == aid)) == first["card_id"]
    # another application of the same person while the first card is being made
    twin = record(session, instance_id=2)["application_id"]
    with pytest.raises(ServiceError) as e:
        op("card.allocate")(ctx(session), twin)
    assert e.value.code == "live_card_exists"


def test_allocate_refuses_data_the_chip_cannot_hold(session):
    aid = record(session)["application_id"]
    session.get(Application, aid).name = "林𪚥"  # not in GBK
    with pytest.raises(ServiceError) as e:
        op("card.allocate")(ctx(session), aid)
    assert e.value.code == "invalid_card_data" and "姓名" in e.value.message_zh


def _issued_job(session, aid, **result):
    op("card.allocate")(ctx(session), aid)
    job_id = op("card.submit_issue_job")(ctx(session), aid)["job_id"]
    job = jobs.claim_next_job(session, "S1")
    expected = job.payload["expected_bank_card_number"]
    jobs.record_result(session, job_id, {"job_id": str(job_id), "attempt": 1, "result_id": "r",
                                         "ok": True, "bank_card_number": expected,
                                         "card": {"card_number": job.payload["card"]["card_number"]},
                                         **result})
    return job


def test_mark_issued_checks_the_station_result(session):
    aid = record(session)["application_id"]
    job = _issued_job(session, aid, bank_card_number="6212261408999999999")
    with pytest.raises(ServiceError) as e:
        op("card.mark_issued")(ctx(session), aid, job.id)
    assert e.value.code == "card_result_mismatch"
    card = session.scalars(select(Card).where(Card.application_id == aid)).one()
    assert card.status == CardStatus.IN_PRODUCTION and card.bank_card_number is None


def test_mark_issued_needs_a_finished_job_and_is_idempotent(session):
    aid = record(session)["application_id"]
    op("card.allocate")(ctx(session), aid)
    job_id = op("card.submit_issue_job")(ctx(session), aid)["job_id"]
    with pytest.raises(ServiceError) as e:
        op("card.mark_issued")(ctx(session), aid, job_id)
    assert e.value.code == "job_not_done"
    jobs.cancel_open_jobs(session, aid)
    other = record(session, "chen_xiuying", instance_id=2)["application_id"]
    job = _issued_job(session, other)
    first = op("card.mark_issued")(ctx(session), other, job.id)
    assert op("card.mark_issued")(ctx(session), other, job.id)["status"] == first["status"]
    with pytest.raises(ServiceError):  # another application's job
        op("card.mark_issued")(ctx(session), aid, job.id)


def test_submit_twice_keeps_one_job(session):
    aid = record(session)["application_id"]
    with pytest.raises(ServiceError) as e:
        op("card.submit_issue_job")(ctx(session), aid)
    assert e.value.code == "no_card_allocated"
    op("card.allocate")(ctx(session), aid)
    a = op("card.submit_issue_job")(ctx(session), aid)
    b = op("card.submit_issue_job")(ctx(session), aid)
    assert a["job_id"] == b["job_id"]
    assert session.scalar(select(CardJob.state).where(CardJob.id == a["job_id"])) == "queued"


def test_submit_takes_a_blank_card_when_none_is_reserved(session):
    aid = record(session, channel="outlet")["application_id"]
    op("card.allocate")(ctx(session), aid, reserve_blank_card=False)
    result = op("card.submit_issue_job")(ctx(session), aid)
    blank = session.scalars(select(BlankCard).where(BlankCard.reserved_for == aid)).one()
    assert blank.window == "ICBC-SS" and blank.status == BlankCardStatus.RESERVED
    assert result["bank_card_number"] == card_stock.BlankCardRecord(
        blank.id, blank.bank_card_number, blank.bank, blank.window, blank.status
    ).bank_card_number_masked


def test_mark_overdue_after_notification_changes_nothing(session):
    aid = record(session, channel="outlet")["application_id"]
    op("sms.notify_pickup")(ctx(session), aid)
    assert op("application.mark_overdue")(ctx(session), aid)["overdue"] is False


def test_sms_to_a_bad_number(session):
    aid = record(session, channel="outlet")["application_id"]
    session.get(Application, aid).mobile = "12345"
    with pytest.raises(ServiceError) as e:
        op("sms.notify_pickup")(ctx(session), aid)
    assert e.value.code == "bad_phone"
