"""Hardening of the JSON API and the pages' ids: business keys, masked personal data (full data
for administrators only, audited), start data the scripts can live with, ids beyond 64 bits,
bodies nested too deep. Every refusal is an answer with a message, never a 500."""
import base64
import json

import pytest
from sqlalchemy import func, select

from app.common.ids import MAX_ID, parse_id
from app.common.masking import mask_data, mask_id, mask_phone
from app.engine.models import AuditEvent, ProcessInstance
from tests.api import (  # noqa: F401
    PHOTO,
    STATION_TOKEN,
    app,
    application_json,
    bearer,
    db,
    open_task,
    person,
    start,
    token,
)

HUGE = "99999999999999999999"  # beyond 64 bits: SQLite's OverflowError before
MOBILE = application_json()["mobile"]


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


def cases(flask_app) -> int:
    with db(flask_app) as s:
        return s.scalar(select(func.count()).select_from(ProcessInstance))


def assert_api_error(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == "application/json"
    error = r.get_json()["error"]
    assert error["code"] and error["message_zh"] and error["message_en"], error
    return error


# -- business keys --------------------------------------------------------------------------------

def test_a_business_key_that_is_not_text_is_400(app, api):
    window = api("window")
    for key in (["SQ1"], {"k": "SQ1"}, 12, True):  # a list or an object gave a 500
        r = window("POST", "/api/v1/process-instances", {"process": "instant_issuance", "business_key": key})
        assert assert_api_error(r, 400)["code"] == "bad_request", key
    assert cases(app) == 0


def test_a_business_key_of_a_bad_format_is_422_naming_the_field(app, api):
    window = api("window")
    for key in ("", "a b", "x" * 65, "SQ1/2", "编号1", "SQ1\n", "../etc", "a;b", "%00"):
        r = window("POST", "/api/v1/process-instances?lang=en",
                   {"process": "instant_issuance", "business_key": key})
        error = assert_api_error(r, 422)
        assert error["code"] == "invalid" and list(error["fields"]) == ["business_key"], key
        assert "64" in error["fields"]["business_key"][0]
    assert cases(app) == 0


def test_a_business_key_is_unique_per_procedure(app, api):
    outlet = api("outlet")
    r = outlet("POST", "/api/v1/process-instances", {"process": "outlet_application",
                                                     "business_key": "BK-2026.01:a_1"})
    assert r.status_code == 201 and r.get_json()["business_key"] == "BK-2026.01:a_1"
    # another office's clerk reuses it: refused, with a message the clerk reads
    from tests.api import add_user
    add_user(app, "outlet2", ["outlet_clerk"], office="SS-CENTRE")
    r = api("outlet2")("POST", "/api/v1/process-instances", {"process": "outlet_application",
                                                             "business_key": "BK-2026.01:a_1"})
    error = assert_api_error(r, 409)
    assert error["code"] == "duplicate_business_key"
    assert "BK-2026.01:a_1" in error["message_zh"] and "already used" in error["message_en"]
    # the same key in another procedure is another case's key
    r = api("window")("POST", "/api/v1/process-instances", {"process": "instant_issuance",
                                                            "business_key": "BK-2026.01:a_1"})
    assert r.status_code == 201
    # without a key the platform assigns one: any number of cases
    for _ in range(2):
        assert outlet("POST", "/api/v1/process-instances", {"process": "outlet_application"}).status_code == 201
    assert cases(app) == 4


# -- masked personal data ------------------------------------------------------------------------

def completed_case(app, api) -> int:
    case_id = start(app, "instant_issuance", "window")
    task_id = open_task(app, case_id).id
    r = api("window")("POST", f"/api/v1/tasks/{task_id}/complete", {"data": application_json("lin_kun")})
    assert r.status_code == 200, r.get_json()
    assert_masked(r.get_data(as_text=True))  # the completion's answer too
    return case_id


def assert_masked(text: str) -> None:
    id_number = person("lin_kun")["id_number"]
    assert id_number not in text and MOBILE not in text
    assert base64.b64encode(PHOTO).decode()[:40] not in text and ";base64," not in text
    assert "/9j/" not in text  # the start of any base64 JPEG


def test_the_case_shows_personal_data_masked(app, api):
    case_id = completed_case(app, api)
    for username in ("window", "manager", "admin"):
        r = api(username)("GET", f"/api/v1/process-instances/{case_id}")
        assert r.status_code == 200
        assert_masked(r.get_data(as_text=True))
        data = r.get_json()["history"][-1]["detail"]["data"]
        assert data["id_number"] == mask_id(person("lin_kun")["id_number"]) == "350581********1311"
        assert data["mobile"] == mask_phone(MOBILE) == "138****1234"
        assert data["photo"] is True and data["name"] == "林堃"


def test_full_data_only_for_administrators_and_audited(app, api):
    case_id = completed_case(app, api)
    for username in ("window", "manager"):
        r = api(username)("GET", f"/api/v1/process-instances/{case_id}?full=1")
        assert assert_api_error(r, 403)["code"] == "forbidden"
        assert person("lin_kun")["id_number"] not in r.get_data(as_text=True)
    with db(app) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "view_full_data")) == 0
    r = api("admin")("GET", f"/api/v1/process-instances/{case_id}?full=1")
    assert r.status_code == 200
    data = r.get_json()["history"][-2]["detail"]["data"]  # the last line is the viewing itself
    assert data["id_number"] == person("lin_kun")["id_number"] and data["mobile"] == MOBILE
    assert r.get_json()["history"][-1]["action"] == "view_full_data"
    with db(app) as s:
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "view_full_data")).all()
        assert event.instance_id == case_id and event.actor == "admin" and event.detail["via"] == "api"
    # ?full=0 is the masked answer, not audited
    assert_masked(api("admin")("GET", f"/api/v1/process-instances/{case_id}?full=0").get_data(as_text=True))


def test_mask_data_by_key_name():
    masked = mask_data({"id_number": "350581199003071311", "guardian_id_number": "350581201003071234",
                        "ssn": "350581199003071311", "landline": "05958888888", "phone": "13805951234",
                        "card_number": "B7K334774", "bank_card_number": "6212261408000000055",
                        "photo": "data:image/jpeg;base64,/9j/4AAQ", "id": 7, "instance_id": 9,
                        "nested": [{"contact_mobile": "13805951234", "note": "data:image/png;base64,iVBO"}],
                        "empty_photo": None, "blob": b"\xff\xd8"})
    assert masked == {"id_number": "350581********1311", "guardian_id_number": "350581********1234",
                      "ssn": "350581********1311", "landline": "059****8888", "phone": "138****1234",
                      "card_number": "B7K****74", "bank_card_number": "621226*********0055",
                      "photo": True, "id": 7, "instance_id": 9,
                      "nested": [{"contact_mobile": "138****1234", "note": True}],
                      "empty_photo": False, "blob": True}


# -- start data ---------------------------------------------------------------------------------

def deep(levels: int):
    value = 1
    for _ in range(levels):
        value = [value]
    return value


REFUSED_START_DATA = [
    ({"working_days": 1}, "working_days"),  # a script function of the engine
    ({"today": "x"}, "today"),
    ({"len": 3}, "len"),  # a builtin of the scripts
    ({"class": 1}, "class"),  # a keyword
    ({"bad key": 1}, "bad key"),
    ({"_internal": 1}, "_internal"),
    ({"9lives": 1}, "9lives"),
    ({"x" * 65: 1}, "x" * 64),
    ({"ok": 1, "blob": "x" * (3 * 1024 * 1024)}, "blob"),  # 3 MB
    ({"nested": deep(8)}, "nested"),  # the data object + 8 levels
    ({"nested": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {}}}}}}}}}, "nested"),
    ({"n": float("nan")}, "n"),
]


def test_start_data_the_scripts_cannot_live_with_is_422_naming_the_field(app, api):
    window = api("window")
    for data, field in REFUSED_START_DATA:
        r = window("POST", "/api/v1/process-instances?lang=en",
                   data=json.dumps({"process": "instant_issuance", "data": data}),
                   content_type="application/json")
        error = assert_api_error(r, 422)
        assert error["code"] == "invalid" and list(error["fields"]) == [field], (field, error)
        assert error["fields"][field][0].isascii()  # in English: ?lang=en
    r = window("POST", "/api/v1/process-instances", {"process": "instant_issuance", "data": {"today": 1}})
    assert "保留" in assert_api_error(r, 422)["fields"]["today"][0]  # in Chinese by default
    assert cases(app) == 0


def test_start_data_within_the_limits_starts_a_case(app, api):
    data = {"channel": "api", "nested": deep(7), "note": "x" * 60000, "flag": True, "n": 1.5, "none": None}
    r = api("window")("POST", "/api/v1/process-instances", {"process": "instant_issuance", "data": data})
    assert r.status_code == 201, r.get_json()


def test_the_engine_refuses_reserved_start_data_for_every_caller(app):
    from app.engine import runtime
    from app.engine.errors import FormInvalid
    from tests.api import user
    from app.auth.service import actor_of
    with db(app) as s:
        with pytest.raises(FormInvalid) as refused:
            runtime.start_instance(s, "instant_issuance", {"working_days": 1, "today": "x"}, None,
                                   actor_of(user(s, "window")))
        assert set(refused.value.errors) == {"working_days", "today"}
    assert cases(app) == 0


# -- bodies ---------------------------------------------------------------------------------------

def test_json_nested_1000_deep_is_400(app, api):
    case_id = start(app, "instant_issuance", "window")
    task_id = open_task(app, case_id).id
    body = '{"process": "instant_issuance", "data": {"x": ' + "[" * 1000 + "]" * 1000 + "}}"
    window = api("window")
    for path in ("/api/v1/process-instances", f"/api/v1/tasks/{task_id}/complete",
                 f"/api/v1/process-instances/{case_id}/cancel"):
        r = window("POST", path, data=body, content_type="application/json")
        assert assert_api_error(r, 400)["code"] == "bad_request", path
    r = window("POST", "/api/v1/process-instances", data="[" * 100000 + "]" * 100000,
               content_type="application/json")
    assert_api_error(r, 400)
    assert cases(app) == 1


def test_station_bodies_that_are_no_object_or_too_deep_are_400(app, client):
    auth = bearer(STATION_TOKEN)
    for body in ("[1]", '"x"', "[" * 1000 + "]" * 1000):
        r = client.post("/api/v1/station/jobs/claim", data=body, content_type="application/json", headers=auth)
        assert_api_error(r, 400)


# -- ids ------------------------------------------------------------------------------------------

def test_parse_id():
    assert parse_id("42") == 42 and parse_id(" 7 ") == 7 and parse_id(42) == 42
    assert parse_id(str(MAX_ID)) == MAX_ID
    for bad in ("abc", "", "0", "-3", "1.5", "²", "٣", HUGE, str(MAX_ID + 1), None, True, 1.0, [], 0, -1):
        assert parse_id(bad) is None, bad


def test_ids_beyond_64_bits_in_api_urls_are_404(app, api):
    window = api("window")
    for method, path in (("GET", f"/api/v1/process-instances/{HUGE}"),
                         ("POST", f"/api/v1/process-instances/{HUGE}/cancel"),
                         ("POST", f"/api/v1/tasks/{HUGE}/claim"),
                         ("POST", f"/api/v1/tasks/{HUGE}/complete"),
                         ("POST", f"/api/v1/incidents/{HUGE}/retry"),
                         ("GET", f"/api/v1/process-instances/{MAX_ID}"),  # the largest id: looked up
                         ("POST", f"/api/v1/tasks/{MAX_ID}/claim"),
                         ("GET", "/api/v1/tasks/abc/claim")):
        r = window(method, path, {"data": {}, "reason": "x"})
        assert assert_api_error(r, 404)["code"] == "not_found", path
    r = window("DELETE", "/api/v1/tasks")
    assert assert_api_error(r, 405)["code"] == "method_not_allowed"
    auth = bearer(STATION_TOKEN)
    for what in ("progress", "result"):
        r = app.test_client().post(f"/api/v1/station/jobs/{HUGE}/{what}", json={"ok": True}, headers=auth)
        assert_api_error(r, 404)


def test_ids_beyond_64_bits_in_page_urls_are_404(app, web):
    web.login("window")
    for path in (f"/cases/{HUGE}", f"/tasks/{HUGE}", f"/tasks/{MAX_ID}", "/tasks/abc"):
        r = web.get(path)
        assert r.status_code == 404, path
        assert "text/html" in r.content_type
    for path in (f"/tasks/{HUGE}/claim", "/tasks/abc/claim", f"/tasks/{HUGE}/release"):
        assert web.post(path, page="/inbox").status_code == 404, path


def test_tampered_cursors_give_an_empty_page_not_an_error(app, api, web):
    start(app, "instant_issuance", "window")
    web.login("window")
    window = api("window")
    for cursor in (f"|{HUGE}", f"2026-01-01T00:00:00|{HUGE}", "|abc", "garbage", "|-1", "|0"):
        r = web.get(f"/inbox?scope=group&after={cursor}")
        assert r.status_code == 200, cursor
        r = window("GET", f"/api/v1/tasks?scope=group&after={cursor}")
        assert r.status_code == 200 and r.get_json() == {"tasks": [], "next": None}, cursor
    assert len(window("GET", "/api/v1/tasks?scope=group").get_json()["tasks"]) == 1
