"""Card station endpoints 制卡工作站接口 (hardware/PROTOCOL.md): the station token, claiming the
queued card job, progress, results (idempotent per result_id) and what they do to the case
waiting for the card."""
import base64

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.cards import jobs as card_jobs
from app.cards.models import BlankCard, Card, CardJob
from app.engine import runtime
from app.engine.models import AuditEvent, ProcessInstance
from app.engine.services import Actor
from app.procedures.application.models import Application
from hardware import profile
from hardware.station import JOB_ID
from tests.api import (  # noqa: F401
    PHOTO,
    STATION_TOKEN,
    app,
    application_json,
    bearer,
    complete,
    db,
    open_task,
    open_tasks,
    person,
    start,
    token,
)

HANDOVER = {"identity_checked": True, "card_checked": True, "receipt_signed": True,
            "pin_notice_given": True}


@pytest.fixture
def station(app):
    """``station(path, body)`` posts to /api/v1/station/... with the station token."""
    client = app.test_client()

    def post(path, body=None, token=STATION_TOKEN, **kw):
        headers = bearer(token) if token is not None else {}
        return client.post("/api/v1/station" + path, json=body, headers=headers, **kw)
    return post


def waiting_case(app, who="lin_kun") -> int:
    """An instant issuance case accepted at the window: its card job is queued."""
    case_id = start(app, "instant_issuance", "window")
    complete(app, open_task(app, case_id).id, application_json(who), "window")
    with db(app) as s:
        assert s.get(ProcessInstance, case_id).status == "waiting"
    return case_id


def job_of(app, case_id) -> CardJob:
    with db(app) as s:
        return s.scalar(select(CardJob).where(CardJob.instance_id == case_id).order_by(CardJob.id.desc()))


def result_for(job: dict, ok=True, result_id="r-1", error_code="CARD_REMOVED", **extra) -> dict:
    """The station's result for a claimed job (PROTOCOL.md §3): for ok, the card as read back."""
    card = dict(job["card"])
    card.update(issue_date=card["issue_date"].replace("-", ""), expiry_date=card["expiry_date"].replace("-", ""),
                birth_date=card["birth_date"].replace("-", ""),
                bank_card_number=job.get("expected_bank_card_number"), application_state="active")
    body = {"job_id": job["id"], "attempt": job["attempt"], "kind": job["kind"], "station": "ST-01",
            "result_id": result_id, "ok": ok, "card": card if ok else None,
            "bank_card_number": job.get("expected_bank_card_number"), "apdus": 57, "resumed": False,
            "error": None if ok else {"code": error_code, "message_zh": "卡片在操作过程中被拔出",
                                      "message_en": "The card was removed", "retryable": True},
            "finished_at": "2026-11-20T02:31:07+00:00"}
    body.update(extra)
    return body


def audit_actions(app, case_id) -> list[str]:
    with db(app) as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == case_id)
                              .order_by(AuditEvent.id)))


# -- token -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [None, "", "wrong-token", STATION_TOKEN + "x", STATION_TOKEN[:-1]])
def test_wrong_or_missing_station_token_is_401(app, station, bad):
    waiting_case(app)
    for path, body in (("/jobs/claim", {"station": "ST-01"}), ("/jobs/1/progress", {"state": "printing"}),
                       ("/jobs/1/result", {"ok": True})):
        r = station(path, body, token=bad)
        assert r.status_code == 401, path
        assert r.get_json()["error"]["message_en"] == "Invalid card station token"
    assert job_of(app, 1).state == "queued"  # nothing claimed


def test_an_api_token_is_not_a_station_token(app, station):
    r = station("/jobs/claim", {"station": "ST-01"}, token=token(app, "window"))
    assert r.status_code == 401


def test_no_station_token_configured_refuses_every_call(app, station):
    app.config["STATION_TOKEN"] = ""
    assert station("/jobs/claim", {"station": "ST-01"}, token="").status_code == 401
    assert station("/jobs/claim", {"station": "ST-01"}).status_code == 401


def test_station_api_needs_no_csrf_token_but_the_pages_do(app, station, web):
    waiting_case(app)
    assert station("/jobs/claim", {"station": "ST-01"}).status_code == 200
    web.login("window")
    assert web.client.post("/tasks/1/claim").status_code == 400  # page POST without CSRF


# -- claim ------------------------------------------------------------------------------------------

def test_claim_with_nothing_queued_is_204(station):
    r = station("/jobs/claim", {"station": "ST-01", "kinds": ["issue"]})
    assert r.status_code == 204 and r.data == b""


def test_claim_without_station_id_is_400(app, station):
    waiting_case(app)
    assert station("/jobs/claim", {}).status_code == 400
    assert station("/jobs/claim", {"station": "   "}).status_code == 400
    assert job_of(app, 1).state == "queued"


def test_claim_returns_the_queued_job_as_the_protocol_says(app, station):
    case_id = waiting_case(app, "lin_kun")
    r = station("/jobs/claim", {"station": "ST-01", "kinds": ["issue", "read"]})
    assert r.status_code == 200
    job = r.get_json()["job"]
    assert JOB_ID.fullmatch(job["id"]) and job["kind"] == "issue" and job["attempt"] == 1
    # card: the profile's fields, and they fit the card profile
    assert set(job["card"]) == {f.key for f in profile.FIELDS}
    profile.encode_card(job["card"])
    lin = person("lin_kun")
    assert job["card"]["ssn"] == lin["id_number"] and job["card"]["name"] == "林堃"
    assert job["card"]["birth_date"] == "1990-03-07" and job["card"]["sex"] == "1"
    assert profile.is_valid_card_number(job["card"]["card_number"])
    # face: the bank of the blank card and the applicant's photo
    assert job["face"]["bank"] == "中国工商银行石狮支行"
    assert base64.b64decode(job["face"]["photo"]) == PHOTO
    with db(app) as s:
        stored = s.get(CardJob, int(job["id"]))
        assert stored.state == "claimed" and stored.station_id == "ST-01" and stored.instance_id == case_id
        application = s.scalar(select(Application).where(Application.instance_id == case_id))
        blank = s.scalar(select(BlankCard).where(BlankCard.bank_card_number == job["expected_bank_card_number"]))
        assert blank.reserved_for == application.id and blank.window == "ICBC-SS"
        assert "photo" not in (stored.payload.get("face") or {})  # the photo is not kept in the job row

    # handed out again to the same station (it may have crashed), to no other
    again = station("/jobs/claim", {"station": "ST-01"}).get_json()["job"]
    assert (again["id"], again["attempt"]) == (job["id"], 1)
    assert station("/jobs/claim", {"station": "ST-02"}).status_code == 204


def test_a_window_station_takes_only_its_windows_jobs(app, station):
    waiting_case(app)
    assert station("/jobs/claim", {"station": "ABC-SS:01"}).status_code == 204
    job = station("/jobs/claim", {"station": "ICBC-SS:01"}).get_json()["job"]
    assert job["kind"] == "issue"
    assert station("/jobs/claim", {"station": "ST-01", "kinds": ["read"]}).status_code == 204


# -- progress ---------------------------------------------------------------------------------------

def test_progress_is_recorded_and_refused_once_cancelled(app, station):
    case_id = waiting_case(app)
    job = station("/jobs/claim", {"station": "ST-01"}).get_json()["job"]
    r = station(f"/jobs/{job['id']}/progress", {"station": "ST-01", "state": "printing", "detail": "打印卡面"})
    assert r.status_code == 200 and r.get_json() == {"ok": True}
    assert job_of(app, case_id).progress["state"] == "printing"
    with db(app) as s:
        card_jobs.cancel_open_jobs(s, s.get(CardJob, int(job["id"])).application_id)
        s.commit()
    r = station(f"/jobs/{job['id']}/progress", {"station": "ST-01", "state": "writing"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "cancelled"
    assert station("/jobs/9999/progress", {"state": "x"}).status_code == 404
    assert station("/jobs/not-a-number/progress", {"state": "x"}).status_code == 404


# -- results ----------------------------------------------------------------------------------------

def test_ok_result_wakes_the_case_once_even_when_resent(app, station):
    case_id = waiting_case(app, "wang_jianguo")
    job = station("/jobs/claim", {"station": "ST-01"}).get_json()["job"]
    body = result_for(job, result_id="res-1")
    r = station(f"/jobs/{job['id']}/result", body)
    assert r.status_code == 200 and r.get_json() == {"ok": True, "recorded": True}
    assert [t.task_name for t in open_tasks(app, case_id)] == ["hand_over_card"]
    assert audit_actions(app, case_id).count("message") == 1

    # the station was not sure the platform got it: the same result again
    for _ in range(2):
        r = station(f"/jobs/{job['id']}/result", body)
        assert r.status_code == 200 and r.get_json() == {"ok": True, "recorded": False}
    assert audit_actions(app, case_id).count("message") == 1
    assert [t.task_name for t in open_tasks(app, case_id)] == ["hand_over_card"]
    with db(app) as s:
        stored = s.get(CardJob, int(job["id"]))
        assert stored.state == "done" and stored.result_id == "res-1"
        message = s.scalar(select(AuditEvent).where(AuditEvent.instance_id == case_id,
                                                    AuditEvent.action == "message"))
        assert message.actor == "station:ST-01" or message.actor.startswith("station:")
        assert message.detail["message"] == "card_job_finished"
        assert message.detail["payload"]["ok"] is True
        # the workflow and its audit keep no full bank card number
        assert job["expected_bank_card_number"] not in str(message.detail)
        application = s.scalar(select(Application).where(Application.instance_id == case_id))
        assert application.status == "produced"
        card = s.scalar(select(Card).where(Card.application_id == application.id))
        assert card.card_number == job["card"]["card_number"] and card.status == "not_activated"
        assert card.bank_card_number == job["expected_bank_card_number"]

    # the clerk hands the card over through the API: the case is done
    handover = open_task(app, case_id, "hand_over_card")
    r = app.test_client().post(f"/api/v1/tasks/{handover.id}/complete", json={"data": HANDOVER},
                               headers=bearer(token(app, "window")))
    assert r.status_code == 200 and r.get_json()["status"] == "completed"


def test_another_result_for_a_finished_attempt_records_nothing(app, station):
    case_id = waiting_case(app)
    job = station("/jobs/claim", {"station": "ST-01"}).get_json()["job"]
    assert station(f"/jobs/{job['id']}/result", result_for(job, result_id="a")).status_code == 200
    r = station(f"/jobs/{job['id']}/result", result_for(job, ok=False, result_id="b"))
    assert r.status_code == 200 and r.get_json()["recorded"] is False
    assert audit_actions(app, case_id).count("message") == 1
    assert job_of(app, case_id).state == "done"


def test_failed_result_takes_the_case_to_the_card_write_failed_task(app, station):
    case_id = waiting_case(app, "cai_zhiming")
    job = station("/jobs/claim", {"station": "ST-01"}).get_json()["job"]
    r = station(f"/jobs/{job['id']}/result", result_for(job, ok=False, result_id="f-1"))
    assert r.status_code == 200 and r.get_json()["recorded"] is True
    failed = open_task(app, case_id)
    assert failed.task_name == "card_write_failed" and failed.group == "window_clerk"
    with db(app) as s:
        assert s.get(CardJob, int(job["id"])).state == "failed"
        data = runtime.instance_data(s, case_id)
    assert data["card_job"]["ok"] is False and data["card_job"]["error"]["code"] == "CARD_REMOVED"

    # the clerk tries again: the same job is handed out as attempt 2, a late result of attempt 1
    # is refused
    complete(app, failed.id, {"decision": "retry"}, "window")
    assert open_tasks(app, case_id) == []
    job2 = station("/jobs/claim", {"station": "ST-02"}).get_json()["job"]
    assert (job2["id"], job2["attempt"]) == (job["id"], 2)
    late = station(f"/jobs/{job['id']}/result", result_for(job, ok=True, result_id="late"))
    assert late.status_code == 409
    r = station(f"/jobs/{job['id']}/result", result_for(job2, result_id="ok-2"))
    assert r.status_code == 200 and r.get_json()["recorded"] is True
    assert open_task(app, case_id).task_name == "hand_over_card"
    assert audit_actions(app, case_id).count("message") == 2


def test_results_the_platform_cannot_use(app, station):
    case_id = waiting_case(app)
    queued = job_of(app, case_id)
    # before the job was claimed: no attempt to report on
    fake = {"id": str(queued.id), "attempt": 1, "kind": "issue", "card": queued.payload["card"],
            "expected_bank_card_number": queued.payload.get("expected_bank_card_number")}
    assert station(f"/jobs/{queued.id}/result", result_for(fake)).status_code == 409
    job = station("/jobs/claim", {"station": "ST-01"}).get_json()["job"]
    assert station(f"/jobs/{job['id']}/result", {"job_id": job["id"]}).status_code == 400  # no "ok"
    assert station(f"/jobs/{job['id']}/result", None, data="{", content_type="application/json").status_code == 400
    assert station(f"/jobs/{job['id']}/result", result_for(job, job_id="999")).status_code == 422
    assert station("/jobs/9999/result", result_for(job)).status_code == 404
    assert job_of(app, case_id).state == "claimed" and open_tasks(app, case_id) == []
    assert audit_actions(app, case_id).count("message") == 0


def test_result_of_a_cancelled_job_is_409(app, station):
    case_id = waiting_case(app)
    job = station("/jobs/claim", {"station": "ST-01"}).get_json()["job"]
    with db(app) as s:
        card_jobs.cancel_open_jobs(s, s.get(CardJob, int(job["id"])).application_id)
        s.commit()
    r = station(f"/jobs/{job['id']}/result", result_for(job))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "cancelled"
    assert audit_actions(app, case_id).count("message") == 0


def test_result_for_a_case_no_longer_waiting_is_409_and_records_nothing(app, station):
    case_id = waiting_case(app)
    job = station("/jobs/claim", {"station": "ST-01"}).get_json()["job"]
    with db(app) as s:
        manager = s.scalar(select(User).where(User.username == "manager"))
        runtime.cancel_instance(s, case_id, Actor("manager", manager.id, frozenset({"manager"})), "test")
    r = station(f"/jobs/{job['id']}/result", result_for(job))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "no_case_waiting"
    with db(app) as s:
        stored = s.get(CardJob, int(job["id"]))
        assert stored.state == "claimed" and stored.result is None
        assert s.get(ProcessInstance, case_id).status == "cancelled"
    assert "message" not in audit_actions(app, case_id)
