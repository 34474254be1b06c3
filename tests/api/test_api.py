"""JSON API v1 接口: token authentication, procedures, cases, tasks (claim, complete), the
OpenAPI description, and instant issuance walked through the API up to the card job."""
import html as htmllib
import json
import re
from datetime import datetime, time

import pytest
from sqlalchemy import select, update

from app.auth.models import ApiToken, User
from app.auth.service import revoke_token
from app.cards.models import CardJob
from app.engine.models import HumanTask, ProcessInstance
from app.engine.services import ServiceError, registry
from app.procedures.application.models import Application
from app.sla.calendar import deadline_datetime
from tests.api import (  # noqa: F401
    PHOTO,
    CHINA_TZ,
    STATION_TOKEN,
    add_user,
    app,
    application_json,
    application_post,
    bearer,
    calendar,
    db,
    local_today,
    make_next_year_missing,
    missing_year,
    open_task,
    start,
    token,
    user,
)


@pytest.fixture
def api(app):
    """``api(username)`` -> a function calling the API as that user."""
    client = app.test_client()

    def as_user(username):
        headers = bearer(token(app, username))

        def call(method, path, json_body=None, **kw):
            return client.open(path, method=method, json=json_body, headers=headers, **kw)
        return call
    return as_user


# -- authentication --------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer "}, {"Authorization": "Bearer sst_not-a-token"},
    {"Authorization": "Basic d2luZG93OmRlbW8xMjM0"}, {"Authorization": "sst_without_scheme"},
])
def test_missing_or_invalid_token_is_401(client, headers):
    for method, path in (("GET", "/api/v1/process-models"), ("GET", "/api/v1/tasks"),
                         ("POST", "/api/v1/process-instances"), ("GET", "/api/v1/process-instances/1"),
                         ("POST", "/api/v1/tasks/1/claim"), ("POST", "/api/v1/tasks/1/complete")):
        r = client.open(path, method=method, headers=headers, json={})
        assert r.status_code == 401, (method, path)
        body = r.get_json()
        assert body["error"]["code"] == "unauthorized"
        assert body["error"]["message_zh"] == "缺少或无效的 API 令牌"


def test_revoked_token_and_inactive_user_are_401(app, client):
    secret = token(app, "window")
    assert client.get("/api/v1/tasks", headers=bearer(secret)).status_code == 200
    with db(app) as s:
        tok = s.scalar(select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(secret)))
        assert tok.last_used_at is not None  # recorded on use
        assert revoke_token(s, user(s, "window"), tok.id)
        s.commit()
    assert client.get("/api/v1/tasks", headers=bearer(secret)).status_code == 401

    other = token(app, "outlet")
    with db(app) as s:
        s.execute(update(User).where(User.username == "outlet").values(active=False))
        s.commit()
    assert client.get("/api/v1/tasks", headers=bearer(other)).status_code == 401


def test_the_api_ignores_the_session_cookie(web):
    web.login("window")
    assert web.get("/api/v1/tasks").status_code == 401


def test_station_token_is_not_an_api_token(client):
    assert client.get("/api/v1/tasks", headers=bearer(STATION_TOKEN)).status_code == 401


# -- procedures and cases ----------------------------------------------------------------------------

def test_process_models_say_what_the_user_may_start(api):
    r = api("window")("GET", "/api/v1/process-models")
    assert r.status_code == 200
    models = {m["key"]: m for m in r.get_json()["process_models"]}
    assert set(models) == {"instant_issuance", "outlet_application", "calendar_year_entry",
                           "applicant_checks", "card_batch", "employer_application",
                           "employer_pickup", "holder_pickup", "data_correction", "loss_report",
                           "region_move"}
    assert models["applicant_checks"]["startable"] is False  # a shared sub-process
    assert models["calendar_year_entry"]["startable"] is False  # the scheduler opens it
    # the platform opens batches and employer applications (after the checks, on release)
    assert not models["card_batch"]["startable"] and not models["employer_application"]["startable"]
    assert models["instant_issuance"] == {"key": "instant_issuance", "version": 1,
                                          "name": "立等可取（制发卡服务窗口）", "startable": True}
    assert models["outlet_application"]["startable"] is False
    models = {m["key"]: m for m in api("outlet")("GET", "/api/v1/process-models").get_json()["process_models"]}
    assert models["outlet_application"]["startable"] and not models["instant_issuance"]["startable"]


def test_start_a_case_and_read_it(api):
    call = api("window")
    r = call("POST", "/api/v1/process-instances", {"process": "instant_issuance"})
    assert r.status_code == 201
    case = r.get_json()
    assert case["process"] == "instant_issuance" and case["status"] == "running"
    assert case["deadline"] is None and case["working_days_left"] is None
    assert [t["name"] for t in case["open_tasks"]] == ["accept_application"]
    assert case["open_tasks"][0]["form_key"] == "application.apply"
    assert case["open_tasks"][0]["group"] == "window_clerk"
    r = call("GET", f"/api/v1/process-instances/{case['id']}")
    assert r.status_code == 200
    again = r.get_json()
    assert again["id"] == case["id"] and again["status"] == "running"
    assert [(h["action"], h["actor"]) for h in again["history"]] == [("start", "window")]
    assert call("GET", "/api/v1/process-instances/9999").status_code == 404


def test_outlet_case_has_its_statutory_deadline(app, api):
    r = api("outlet")("POST", "/api/v1/process-instances", {"process": "outlet_application"})
    assert r.status_code == 201
    case = r.get_json()
    with db(app) as s:
        expected = calendar(s).add_working_days(local_today(), 15)
    deadline = datetime.fromisoformat(case["deadline"]).astimezone(CHINA_TZ)
    assert (deadline.date(), deadline.time()) == (expected, time(23, 59, 59))
    assert case["working_days_left"] == 15


def test_case_whose_deadline_year_is_missing_reports_it(app, api):
    case_id = start(app, "outlet_application", "outlet")
    year = missing_year()
    with db(app) as s:
        s.execute(update(ProcessInstance).where(ProcessInstance.id == case_id)
                  .values(deadline_at=deadline_datetime(local_today().replace(year=year, month=3, day=1))))
        s.commit()
    body = api("outlet")("GET", f"/api/v1/process-instances/{case_id}").get_json()
    assert body["working_days_left"] is None and str(year) in body["calendar_error"]


def test_a_group_that_may_not_start_a_procedure_gets_403(app, api):
    for username, process in (("outlet", "instant_issuance"), ("window", "outlet_application"),
                              ("reviewer", "instant_issuance"), ("analyst", "outlet_application"),
                              ("window", "no_such_process")):
        r = api(username)("POST", "/api/v1/process-instances", {"process": process})
        assert r.status_code == 403, (username, process)
        assert r.get_json()["error"]["code"] == "forbidden"
    with db(app) as s:
        assert s.scalar(select(ProcessInstance.id)) is None


@pytest.mark.parametrize("body", [None, "not json", [], {}, {"process": 1}, {"data": {}},
                                  {"process": "instant_issuance", "data": []},
                                  {"process": "instant_issuance", "data": "x"}])
def test_malformed_start_body_is_400(app, api, body):
    call = api("window")
    if body == "not json":
        r = call("POST", "/api/v1/process-instances", data="{process:", content_type="application/json")
    else:
        r = call("POST", "/api/v1/process-instances", body)
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "bad_request"
    with db(app) as s:
        assert s.scalar(select(ProcessInstance.id)) is None


# -- tasks -----------------------------------------------------------------------------------------

def test_task_scopes_and_claim(app, api):
    case_id = start(app, "instant_issuance", "window")
    task_id = open_task(app, case_id).id
    window = api("window")
    group = window("GET", "/api/v1/tasks?scope=group").get_json()
    assert [t["id"] for t in group["tasks"]] == [task_id] and group["next"] is None
    assert group["tasks"][0]["instance_id"] == case_id and group["tasks"][0]["assignee_id"] is None
    assert window("GET", "/api/v1/tasks?scope=mine").get_json()["tasks"] == []
    assert window("GET", "/api/v1/tasks").get_json()["tasks"] == []  # mine by default
    assert window("GET", "/api/v1/tasks?scope=everything").status_code == 400

    r = window("POST", f"/api/v1/tasks/{task_id}/claim")
    assert r.status_code == 200
    with db(app) as s:
        window_id = user(s, "window").id
    assert r.get_json()["assignee_id"] == window_id
    assert [t["id"] for t in window("GET", "/api/v1/tasks?scope=mine").get_json()["tasks"]] == [task_id]
    assert window("GET", "/api/v1/tasks?scope=group").get_json()["tasks"] == []
    assert window("POST", f"/api/v1/tasks/{task_id}/claim").status_code == 200  # idempotent
    assert api("outlet")("GET", "/api/v1/tasks?scope=group").get_json()["tasks"] == []


def test_claim_of_a_task_claimed_by_someone_else_is_409(app, api):
    add_user(app, "window2", ["window_clerk"])
    task_id = open_task(app, start(app, "instant_issuance", "window")).id
    assert api("window")("POST", f"/api/v1/tasks/{task_id}/claim").status_code == 200
    r = api("window2")("POST", f"/api/v1/tasks/{task_id}/claim")
    assert r.status_code == 409
    error = r.get_json()["error"]
    assert error["code"] == "TaskClaimed" and "窗口经办 陈敏" in error["message_zh"]
    # nor may window2 complete it
    r = api("window2")("POST", f"/api/v1/tasks/{task_id}/complete", {"data": application_json()})
    assert r.status_code == 403


def test_claim_by_another_group_is_403_and_unknown_task_404(app, api):
    task_id = open_task(app, start(app, "instant_issuance", "window")).id
    assert api("outlet")("POST", f"/api/v1/tasks/{task_id}/claim").status_code == 403
    assert api("outlet")("POST", f"/api/v1/tasks/{task_id}/complete", {"data": {}}).status_code == 403
    assert api("window")("POST", "/api/v1/tasks/9999/claim").status_code == 404
    assert api("window")("POST", "/api/v1/tasks/9999/complete", {"data": {}}).status_code == 404


def _page_errors(web, task_id: int, post: dict) -> dict:
    r = web.post(f"/tasks/{task_id}", post, page=f"/tasks/{task_id}")
    errors = {}
    for name, message in re.findall(r'<li data-field="(\w*)">([^<]*)</li>', r.get_data(as_text=True)):
        errors.setdefault(name, []).append(htmllib.unescape(message))
    return errors


def test_invalid_data_is_422_with_the_same_messages_as_the_page(app, api, web):
    task_id = open_task(app, start(app, "instant_issuance", "window")).id
    bad = {"name": "", "mobile": "12345", "signed": None, "photo": None,
           "birth_date": "1990-03-08", "id_number": "350581199003071311"}
    r = api("window")("POST", f"/api/v1/tasks/{task_id}/complete",
                      {"data": application_json("lin_kun", **bad)})
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "invalid"
    fields = error["fields"]
    assert fields["name"] == ["请填写“姓名”"] and fields["photo"] == ["请提供申请人照片"]
    assert fields["signed"] == ["请确认申请人已在纸质申领表上签字"]
    assert "mobile" in fields and "birth_date" in fields  # birth date differs from the ID number

    web.login("window")
    page = _page_errors(web, task_id, application_post("lin_kun", photo=None,
                                                        **{k: v for k, v in bad.items() if k != "photo"}))
    assert page == fields

    # in English with ?lang=en
    r = api("window")("POST", f"/api/v1/tasks/{task_id}/complete?lang=en",
                      {"data": application_json("lin_kun", **bad)})
    fields_en = r.get_json()["error"]["fields"]
    assert fields_en["photo"] == ["Please provide the applicant's photo"]
    assert r.get_json()["error"]["message"] == "The form has errors"
    with db(app) as s:
        assert s.get(HumanTask, task_id).state == "open"


@pytest.mark.parametrize("body", [None, [], {"data": []}, {"data": "x"}, {"data": {}, "lock_version": "3"},
                                  {"data": {}, "lock_version": True}])
def test_malformed_complete_body_is_400(app, api, body):
    task_id = open_task(app, start(app, "instant_issuance", "window")).id
    r = api("window")("POST", f"/api/v1/tasks/{task_id}/complete", body)
    assert r.status_code == 400


def test_valid_completion_moves_the_case_on_and_a_second_one_is_409(app, api):
    case_id = start(app, "instant_issuance", "window")
    task_id = open_task(app, case_id).id
    window = api("window")
    r = window("POST", f"/api/v1/tasks/{task_id}/complete", {"data": application_json("lin_kun")})
    assert r.status_code == 200, r.get_json()
    case = r.get_json()
    assert case["id"] == case_id and case["status"] == "waiting" and case["open_tasks"] == []
    assert case["business_key"] and case["business_key"].startswith("SQ")
    assert [h["action"] for h in case["history"]][:2] == ["start", "complete"]

    r = window("POST", f"/api/v1/tasks/{task_id}/complete", {"data": application_json("lin_kun")})
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "TaskAlreadyDone"
    assert "窗口经办 陈敏" in r.get_json()["error"]["message_zh"]
    with db(app) as s:
        assert len(s.scalars(select(Application)).all()) == 1


def test_stale_lock_version_is_409(app, api):
    case_id = start(app, "instant_issuance", "window")
    task_id = open_task(app, case_id).id
    with db(app) as s:
        version = s.get(ProcessInstance, case_id).lock_version
    r = api("window")("POST", f"/api/v1/tasks/{task_id}/complete",
                      {"data": application_json(), "lock_version": version + 7})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "CaseChanged"


def test_incident_retry_through_the_api(app, api, monkeypatch):
    def police_down(ctx, **params):
        raise ServiceError("police_unavailable", "公安户籍系统暂时无法访问", "The police register is unavailable")
    original = registry.get("police.verify")
    monkeypatch.setitem(registry._ops, "police.verify", police_down)
    case_id = start(app, "instant_issuance", "window")
    task_id = open_task(app, case_id).id
    r = api("window")("POST", f"/api/v1/tasks/{task_id}/complete", {"data": application_json()})
    assert r.status_code == 200
    case = r.get_json()
    assert case["status"] == "error"
    [incident] = case["incidents"]
    assert incident["state"] == "open" and incident["message_zh"] == "公安户籍系统暂时无法访问"
    monkeypatch.setitem(registry._ops, "police.verify", original)
    assert api("outlet")("POST", f"/api/v1/incidents/{incident['id']}/retry").status_code == 403
    r = api("window")("POST", f"/api/v1/incidents/{incident['id']}/retry")
    assert r.status_code == 200 and r.get_json()["status"] == "waiting"
    assert api("window")("POST", f"/api/v1/incidents/{incident['id']}/retry").status_code == 409
    assert api("window")("POST", "/api/v1/incidents/9999/retry").status_code == 404


def test_task_list_pages_with_next(app, api):
    ids = {open_task(app, start(app, "instant_issuance", "window")).id for _ in range(7)}
    window = api("window")
    seen, after, pages = [], None, 0
    while True:
        query = "/api/v1/tasks?scope=group&limit=3" + (f"&after={after}" if after else "")
        body = window("GET", query).get_json()
        seen += [t["id"] for t in body["tasks"]]
        pages += 1
        after = body["next"]
        if after is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 7 and set(seen) == ids
    for limit in ("0", "-5", "x"):
        r = window("GET", f"/api/v1/tasks?scope=group&limit={limit}")
        assert r.status_code == 200 and r.get_json()["tasks"], limit
    assert window("GET", "/api/v1/tasks?scope=group&after=garbage").get_json()["tasks"] == []


def test_a_missing_calendar_year_never_blocks_a_step_and_the_deadline_says_pending(app, api):
    case_id = start(app, "outlet_application", "outlet")
    task_id = open_task(app, case_id).id
    year = make_next_year_missing(app)
    outlet = api("outlet")
    r = outlet("POST", f"/api/v1/tasks/{task_id}/complete", {"data": application_json("chen_xiuying")})
    assert r.status_code == 200
    r = outlet("POST", "/api/v1/process-instances", {"process": "outlet_application"})
    assert r.status_code == 201
    case = r.get_json()
    assert case["deadline"] is None and case["deadline_state"] == "pending"
    [statutory] = case["deadlines"]
    assert statutory["name"] == "statutory" and statutory["pending_year"] == year
    assert statutory["text_zh"] == f"待定：{year}年法定节假日安排未录入" and str(year) in statutory["text_en"]
    # the "at risk" filter's horizon needs next year: it still filters (known deadlines fall
    # before the missing year)
    r = outlet("GET", "/api/v1/tasks?scope=group&deadline=at_risk")
    assert r.status_code == 200 and isinstance(r.get_json()["tasks"], list)



# -- OpenAPI --------------------------------------------------------------------------------------

def test_openapi_document_is_valid_and_describes_the_routes(app, client):
    r = client.get("/api/v1/openapi.json")  # no token needed
    assert r.status_code == 200 and r.mimetype == "application/json"
    spec = json.loads(r.data)
    try:
        from openapi_spec_validator import validate
    except ImportError:
        validate = None
    if validate is not None:
        validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"] and spec["info"]["version"]
    assert spec["components"]["securitySchemes"]["token"] == {"type": "http", "scheme": "bearer"}
    documented = {
        "/api/v1/process-models": {"get"}, "/api/v1/process-instances": {"post"},
        "/api/v1/process-instances/{id}": {"get"}, "/api/v1/tasks": {"get"},
        "/api/v1/tasks/{id}/claim": {"post"}, "/api/v1/tasks/{id}/complete": {"post"},
        "/api/v1/incidents/{id}/retry": {"post"}, "/api/v1/process-instances/{id}/cancel": {"post"},
    }
    assert {p: set(ops) for p, ops in spec["paths"].items()} == documented

    # every documented operation is a route of the app with that method, and back
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and not rule.rule.startswith("/api/v1/station") \
                and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:\w+:)?\w+>", "{id}", rule.rule)
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    assert routes == documented

    def resolve(ref):
        node = spec
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        return node

    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op["summary"] and op["responses"] and "401" in op["responses"]
            assert all(re.fullmatch(r"[1-5]\d\d", code) for code in op["responses"])
            for param in op.get("parameters", []):
                assert param["in"] in ("path", "query") and param["name"]
                if param["in"] == "path":
                    assert param["required"] is True and "{%s}" % param["name"] in path
            for match in re.findall(r'"\$ref": "([^"]+)"', json.dumps(op)):
                assert resolve(match) is not None
    for name, schema in spec["components"]["schemas"].items():
        assert schema["type"] == "object"


# -- end to end ------------------------------------------------------------------------------------

def test_instant_issuance_through_the_api_up_to_the_card_job(app, api):
    window = api("window")
    models = {m["key"]: m for m in window("GET", "/api/v1/process-models").get_json()["process_models"]}
    assert models["instant_issuance"]["startable"]
    case = window("POST", "/api/v1/process-instances", {"process": "instant_issuance"}).get_json()
    [task] = window("GET", "/api/v1/tasks?scope=group&process=instant_issuance").get_json()["tasks"]
    assert task["instance_id"] == case["id"] and task["form_key"] == "application.apply"
    assert window("POST", f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    r = window("POST", f"/api/v1/tasks/{task['id']}/complete",
               {"data": application_json("hong_wenjie"), "lock_version": case["lock_version"]})
    assert r.status_code == 200, r.get_json()
    case = r.get_json()
    assert case["status"] == "waiting" and case["open_tasks"] == [] and case["incidents"] == []
    with db(app) as s:
        application = s.scalar(select(Application).where(Application.instance_id == case["id"]))
        assert application.number == case["business_key"] and application.photo == PHOTO
        assert application.name == "洪文杰" and application.status == "in_production"
        job = s.scalar(select(CardJob).where(CardJob.instance_id == case["id"]))
        assert job.state == "queued" and job.kind == "issue" and job.window == "ICBC-SS"
        assert job.payload["card"]["ssn"] == application.id_number
        assert job.payload["card"]["name"] == "洪文杰"
    history = window("GET", f"/api/v1/process-instances/{case['id']}").get_json()["history"]
    assert [h["action"] for h in history] == ["start", "claim", "complete"]
    assert {h["actor"] for h in history} == {"window"}
    complete_data = history[-1]["detail"]["data"]
    assert complete_data["name"] == "洪文杰"


def test_case_outside_the_users_lanes_is_refused(app, client):
    inst_id = start(app, "instant_issuance", "window")
    r = client.get(f"/api/v1/process-instances/{inst_id}", headers=bearer(token(app, "outlet")))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    r = client.get(f"/api/v1/process-instances/{inst_id}", headers=bearer(token(app, "manager")))
    assert r.status_code == 200


def test_cancel_a_case_ends_the_application_and_its_card_job(app, client):
    from tests.api import application_json, complete, open_task
    inst_id = start(app, "instant_issuance", "window")
    complete(app, open_task(app, inst_id).id, application_json("lin_kun"), "window")
    with db(app) as s:  # the case now waits for the card station
        assert s.scalar(select(CardJob.state).where(CardJob.instance_id == inst_id)) == "queued"
    auth = bearer(token(app, "window"))
    r = client.post(f"/api/v1/process-instances/{inst_id}/cancel", json={}, headers=auth)
    assert r.status_code == 400
    r = client.post(f"/api/v1/process-instances/{inst_id}/cancel", json={"reason": "申请人放弃"},
                    headers=bearer(token(app, "outlet")))
    assert r.status_code == 403
    r = client.post(f"/api/v1/process-instances/{inst_id}/cancel", json={"reason": "申请人放弃"}, headers=auth)
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert r.get_json()["history"][-1]["action"] == "cancel"
    with db(app) as s:
        assert s.scalar(select(CardJob.state).where(CardJob.instance_id == inst_id)) == "cancelled"
        assert s.scalar(select(Application.status).where(Application.instance_id == inst_id)) == "cancelled"
    r = client.post(f"/api/v1/process-instances/{inst_id}/cancel", json={"reason": "again"}, headers=auth)
    assert r.status_code == 409  # a closed case cannot be cancelled twice
