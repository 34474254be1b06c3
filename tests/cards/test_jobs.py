"""Card jobs (outbox for the card station), following hardware/PROTOCOL.md."""
import base64
from datetime import date

import pytest

from app.cards import jobs
from app.cards.models import CardJob
from app.cards.states import JobState
from app.procedures.application.models import Application
from tests.cards.helpers import PHOTO


@pytest.fixture
def app_row(session):
    app = Application(number="SQ202611200001", channel="window", service_point="ICBC-SS",
                      service_point_name="工商银行石狮支行制卡窗口", window="ICBC-SS",
                      application_date=date(2026, 11, 20), name="林堃", sex="1", ethnicity="01",
                      birth_date=date(1990, 3, 7), mobile="13805951234", id_type="resident_id",
                      id_number="350581199003071311", created_by="clerk1", photo=PHOTO)
    session.add(app)
    session.flush()
    return app


def add_job(session, app, window="ICBC-SS", instance_id=7):
    job = CardJob(instance_id=instance_id, application_id=app.id, kind="issue", window=window,
                  payload={"card": {"ssn": app.id_number, "card_number": "B7K334774"},
                           "face": {"bank": "中国工商银行石狮支行"},
                           "expected_bank_card_number": "6212261408000000011"})
    session.add(job)
    session.flush()
    return job


def result(job, ok=True, result_id="r1", attempt=None, **kw):
    out = {"job_id": str(job.id), "attempt": attempt or job.attempts, "kind": "issue",
           "station": "S1", "result_id": result_id, "ok": ok,
           "card": {"card_number": "B7K334774", "name": "林堃", "ssn": "350581199003071311"},
           "bank_card_number": "6212261408000000011", "apdus": 57, "resumed": False,
           "error": None if ok else {"code": "CARD_REMOVED", "message_zh": "卡片被拔出",
                                     "message_en": "Card removed", "retryable": True},
           "finished_at": "2026-11-20T02:31:07+00:00"}
    out.update(kw)
    return out


def test_claim_in_order_and_by_window(session, app_row):
    a, b = add_job(session, app_row), add_job(session, app_row, window="ABC-SS")
    assert jobs.claim_next_job(session, "S-ABC", window="ABC-SS").id == b.id
    got = jobs.claim_next_job(session, "S1")
    assert got.id == a.id and got.state == JobState.CLAIMED and got.attempts == 1
    assert got.station_id == "S1" and got.claimed_at is not None
    assert jobs.claim_next_job(session, "S2") is None


def test_unfinished_claim_is_handed_out_again_to_the_same_station(session, app_row):
    job = add_job(session, app_row)
    assert jobs.claim_next_job(session, "S1").id == job.id
    other = add_job(session, app_row)
    again = jobs.claim_next_job(session, "S1")  # S1 crashed before spooling: same job, same attempt
    assert again.id == job.id and again.attempts == 1
    assert jobs.claim_next_job(session, "S2").id == other.id


def test_job_payload_for_the_station(session, app_row):
    job = add_job(session, app_row)
    jobs.claim_next_job(session, "S1")
    wire = jobs.job_payload(session, job)
    assert wire["id"] == str(job.id) and wire["kind"] == "issue" and wire["attempt"] == 1
    assert wire["card"]["card_number"] == "B7K334774"
    assert wire["expected_bank_card_number"] == "6212261408000000011"
    assert base64.b64decode(wire["face"]["photo"]) == PHOTO
    assert "photo" not in job.payload["face"]  # the photo is not copied into the job row


def test_result_is_recorded_once(session, app_row):
    job = add_job(session, app_row)
    jobs.claim_next_job(session, "S1")
    got, first = jobs.record_result(session, job.id, result(job))
    assert first and got.state == JobState.DONE and got.result_id == "r1"
    assert got.result["card"] == {"card_number": "B7K334774", "ssn": "350581199003071311"}
    assert "name" not in got.result["card"]
    # the station re-sends the same result: nothing happens
    again, first = jobs.record_result(session, str(job.id), result(job))
    assert not first and again.finished_at == got.finished_at
    # another result for the same finished attempt is ignored too
    _, first = jobs.record_result(session, job.id, result(job, ok=False, result_id="r2"))
    assert not first and job.state == JobState.DONE and job.result_id == "r1"


def test_failed_attempt_then_retry(session, app_row):
    job = add_job(session, app_row)
    jobs.claim_next_job(session, "S1")
    _, first = jobs.record_result(session, job.id, result(job, ok=False))
    assert first and job.state == JobState.FAILED
    assert jobs.message_payload(job) == {
        "job_id": job.id, "ok": False, "attempt": 1, "bank_card_number": "621226*********0011",
        "error": {"code": "CARD_REMOVED", "message_zh": "卡片被拔出", "message_en": "Card removed",
                  "retryable": True}}
    jobs.requeue(job)
    assert job.state == JobState.QUEUED and job.history[0]["attempt"] == 1
    # a late result of attempt 1 is refused now (409)
    with pytest.raises(jobs.JobSuperseded):
        jobs.record_result(session, job.id, result(job, ok=True, result_id="late", attempt=1))
    claimed = jobs.claim_next_job(session, "S2")
    assert claimed.id == job.id and claimed.attempts == 2 and claimed.station_id == "S2"
    with pytest.raises(jobs.JobSuperseded):
        jobs.record_result(session, job.id, result(job, result_id="late", attempt=1))
    _, first = jobs.record_result(session, job.id, result(job, result_id="r3", attempt=2))
    assert first and job.state == JobState.DONE


def test_only_failed_jobs_are_requeued(session, app_row):
    job = add_job(session, app_row)
    with pytest.raises(ValueError):
        jobs.requeue(job)


def test_cancelled_job_takes_no_result_or_progress(session, app_row):
    job = add_job(session, app_row)
    jobs.claim_next_job(session, "S1")
    jobs.record_progress(session, job, "writing", "写卡")
    assert job.progress["state"] == "writing"
    assert jobs.cancel_open_jobs(session, app_row.id) == 1
    with pytest.raises(jobs.JobCancelled):
        jobs.record_result(session, job.id, result(job))
    with pytest.raises(jobs.JobCancelled):
        jobs.record_progress(session, job.id, "writing")
    assert jobs.claim_next_job(session, "S1") is None


def test_result_for_another_job_or_unknown_job(session, app_row):
    job = add_job(session, app_row)
    jobs.claim_next_job(session, "S1")
    with pytest.raises(jobs.JobResultMismatch):
        jobs.record_result(session, job.id, result(job, job_id="999"))
    with pytest.raises(jobs.JobNotFound):
        jobs.record_result(session, 999, result(job))
    with pytest.raises(jobs.JobNotFound):
        jobs.record_result(session, "J-x", result(job))
    assert jobs.find_job(session, "nope") is None and jobs.find_job(session, str(job.id)) is job
