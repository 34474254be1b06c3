"""Property-based fuzzing of the JSON API 接口模糊测试: schemathesis generates requests from the
API's own OpenAPI document (/api/v1/openapi.json), valid ones (positive) and invalid ones
(negative: wrong types, missing fields, no token...), and sends them in-process (WSGI) with a
real API token of a demo user. No request may get a server error: a 5xx answer, or an
exception out of the app. The answers must also be the ones the document describes (status
code, content type, body schema), so the document stays true.

Half of the generated requests are aimed at objects that exist (cases, open tasks, an open
incident, a procedure the user may start) so they get past the 404s and 403s; task
completions are sometimes a valid application with one field replaced by an arbitrary value.

Bounded and deterministic: ``MAX_EXAMPLES`` per operation and generation mode, Hypothesis
derandomized (the same requests on every run), no example database.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                                 status_code_conformance)
from sqlalchemy import select

from app.engine.models import HumanTask, Incident
from app.engine.services import ServiceError, registry
from tests.api import application_json, bearer, build_app, complete, db, open_task, start, token

MAX_EXAMPLES = 50  # per operation and generation mode: 8 operations x 2 modes x 50 = 800 requests
USERS = ("window", "admin")  # a clerk who starts and works on cases; an administrator (?full=1)
PROCESSES = ("instant_issuance", "outlet_application")
DOCUMENT_CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,  # the same examples on every run: CI is deterministic
    database=None,  # no .hypothesis directory, nothing carried over between runs
    deadline=timedelta(seconds=5),  # per request, in-process
    suppress_health_check=list(HealthCheck),
)

# Any JSON value, for one field of an otherwise valid application, the start data, a reason.
# Its text may hold any character, also a lone UTF-16 surrogate ("\ud800" is valid JSON, but
# no UTF-8 text): schemathesis' own strings never do.
ODD_CHARS = st.sampled_from(["\ud800", "\udfff", "\x00", "\x1b", "\u202e", "\ufeff", "\U0010ffff", "😀"])
ANY_TEXT = st.one_of(st.text(ODD_CHARS | st.sampled_from("林堃 aZ09·-"), max_size=20),
                     st.text(st.characters(exclude_categories=()), max_size=300))
KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True) | ANY_TEXT  # mostly names the scripts take
JSON_VALUES = st.recursive(
    # JSON carries no NaN or infinity: such a body could not even be sent
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=8)


def _police_down(ctx, **params):
    raise ServiceError("police_unavailable", "公安户籍系统暂时无法访问", "The police register is unavailable")


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """One platform for the module with objects for the requests to hit: cases of the window
    clerk with open tasks, an outlet case, a case with an open incident (the police register
    was down), and cases of their own for the cancel requests (so the other operations still
    find their cases running)."""
    flask_app = build_app(tmp_path_factory.mktemp("fuzz-api"))
    cases = [start(flask_app, "instant_issuance", "window") for _ in range(3)]
    cases.append(start(flask_app, "outlet_application", "outlet"))
    failing = start(flask_app, "instant_issuance", "window")
    original = registry.get("police.verify")
    registry._ops["police.verify"] = _police_down
    try:
        complete(flask_app, open_task(flask_app, failing).id, application_json("lin_kun"), "window")
    finally:
        registry._ops["police.verify"] = original
    cases.append(failing)
    with db(flask_app) as s:
        tasks = list(s.scalars(select(HumanTask.id).where(HumanTask.state == "open")))
        incidents = list(s.scalars(select(Incident.id).where(Incident.state == "open")))
    assert tasks and incidents, "the set-up should leave open tasks and an open incident"
    to_cancel = [start(flask_app, "instant_issuance", "window") for _ in range(3)]
    yield flask_app, {"cases": cases, "tasks": tasks, "incidents": incidents, "cancel": to_cancel}
    flask_app.extensions["sscard"].engine.dispose()


def _known_ids(path: str, known: dict) -> list[int]:
    """The ids of existing objects of the kind an operation's ``{id}`` names."""
    if path.startswith("/api/v1/tasks/"):
        return known["tasks"]
    if path.startswith("/api/v1/incidents/"):
        return known["incidents"]
    if path.endswith("/cancel"):
        return known["cancel"]
    return known["cases"]


def _aim(case, data, ids: list[int]) -> None:
    """Point a generated request at real objects, half of the time each."""
    if "id" in (case.path_parameters or {}) and data.draw(st.booleans(), label="existing id"):
        case.path_parameters["id"] = data.draw(st.sampled_from(ids), label="id")
    if not isinstance(case.body, dict):
        return
    path = case.operation.path
    if path == "/api/v1/process-instances" and data.draw(st.booleans(), label="real procedure"):
        case.body["process"] = data.draw(st.sampled_from(PROCESSES), label="process")
    if path == "/api/v1/tasks/{id}/complete":
        if data.draw(st.booleans(), label="no lock_version"):
            case.body.pop("lock_version", None)
        if data.draw(st.booleans(), label="almost valid application"):
            form = application_json("lin_kun")
            form[data.draw(st.sampled_from(sorted(form)), label="field")] = data.draw(JSON_VALUES, label="value")
            case.body["data"] = form


def test_no_generated_request_gets_a_server_error(platform):
    flask_app, known = platform
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", flask_app)
    operations = [result.ok() for result in schema.get_all_operations()]  # raises if the document is broken
    assert len(operations) == sum(len(methods) for methods in schema.raw_schema["paths"].values())
    headers = {username: bearer(token(flask_app, username)) for username in USERS}
    requests = 0
    server_errors: list[str] = []
    mismatches: list[str] = []

    for operation in operations:
        ids = _known_ids(operation.path, known)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FUZZ_SETTINGS
            @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
            def fuzz(case, data):
                nonlocal requests
                _aim(case, data, ids)
                username = data.draw(st.sampled_from(USERS), label="user")
                sent = headers[username]
                requests += 1
                try:
                    response = case.call(headers=sent)
                except Exception as e:  # noqa: BLE001 - an exception out of the app is a server error
                    server_errors.append(f"{operation.label} as {username}: {type(e).__name__}: {e}\n"
                                         f"{case.as_curl_command(headers=sent)}")
                    return
                try:
                    case.validate_response(response, checks=[not_a_server_error], headers=sent)
                except FailureGroup as e:
                    server_errors.append(f"{operation.label} as {username}: {e}")
                    return
                try:
                    case.validate_response(response, checks=DOCUMENT_CHECKS, headers=sent)
                except FailureGroup as e:
                    mismatches.append(f"{operation.label} as {username}: {e}")
            fuzz()

    print(f"fuzzed {requests} requests, {len(server_errors)} server errors, "
          f"{len(mismatches)} answers the document does not describe")
    assert requests >= len(operations) * 2 * MAX_EXAMPLES // 2
    assert not server_errors, "\n\n".join(server_errors[:10])
    assert not mismatches, "\n\n".join(mismatches[:10])


# -- the data the API stores, with any JSON in it -------------------------------------------------

def _post(client, path: str, body, headers: dict):
    """POST ``body`` as JSON text the way any client may write it: Python's encoder escapes a
    lone surrogate as "\\ud800" and writes NaN / Infinity, which Python's parser reads back."""
    return client.post(path, data=json.dumps(body), headers={**headers, "Content-Type": "application/json"})


def test_any_json_in_start_data_task_data_and_reasons_is_never_a_server_error(platform):
    """What schemathesis rarely gets to: start data a procedure accepts, an application that
    passes but one field, a cancel reason, holding any JSON value with any text (lone
    surrogates, NUL, bidi overrides...). The API stores these: no value may break the store."""
    flask_app, _known = platform
    client = flask_app.test_client()
    headers = bearer(token(flask_app, "window"))
    state = {"task": open_task(flask_app, start(flask_app, "instant_issuance", "window")).id,
             "case": start(flask_app, "instant_issuance", "window")}
    requests = 0
    server_errors: list[str] = []
    statuses: Counter = Counter()

    def send(path, body):
        nonlocal requests
        requests += 1
        try:
            r = _post(client, path, body, headers)
        except Exception as e:  # noqa: BLE001 - TESTING: an exception out of the app is the 500
            server_errors.append(f"POST {path} {json.dumps(body)[:300]}: {type(e).__name__}: {e}")
            return None
        statuses[(path.split("/")[3], r.status_code)] += 1
        if r.status_code >= 500:
            server_errors.append(f"POST {path} {json.dumps(body)[:300]}: {r.status_code} "
                                 f"{r.get_data(as_text=True)[:200]}")
        return r

    @FUZZ_SETTINGS
    @given(data=st.dictionaries(KEYS, JSON_VALUES, min_size=1, max_size=4),
           business_key=st.none() | ANY_TEXT)
    def start_data(data, business_key):
        body = {"process": "instant_issuance", "data": data}
        if business_key is not None:
            body["business_key"] = business_key
        send("/api/v1/process-instances", body)

    @FUZZ_SETTINGS
    @given(changes=st.dictionaries(st.sampled_from(sorted(application_json())), JSON_VALUES,
                                   min_size=1, max_size=3),
           extra=st.dictionaries(KEYS, JSON_VALUES, max_size=2))
    def task_data(changes, extra):
        send(f"/api/v1/tasks/{state['task']}/complete",
             {"data": {**application_json("lin_kun"), **extra, **changes}})
        with db(flask_app) as s:
            if s.get(HumanTask, state["task"]).state != "open":  # completed: a fresh one
                state["task"] = open_task(flask_app, start(flask_app, "instant_issuance", "window")).id

    @FUZZ_SETTINGS
    @given(reason=ANY_TEXT | JSON_VALUES)
    def reason(reason):
        r = send(f"/api/v1/process-instances/{state['case']}/cancel", {"reason": reason})
        if r is not None and r.status_code == 200:  # cancelled: a fresh case
            state["case"] = start(flask_app, "instant_issuance", "window")

    for fuzz in (start_data, task_data, reason):
        fuzz()
    print(f"fuzzed {requests} requests, {len(server_errors)} server errors: {dict(sorted(statuses.items()))}")
    assert requests >= 3 * MAX_EXAMPLES // 2
    assert not server_errors, "\n\n".join(server_errors[:10])


# -- regressions: what the fuzzing found ----------------------------------------------------------

LONE_SURROGATE = "\ud800"  # "\ud800" in JSON text: valid JSON, no Unicode text


@pytest.mark.parametrize("path, body", [
    ("/api/v1/process-instances", {"process": "instant_issuance", "data": {"note": "0" + LONE_SURROGATE}}),
    ("/api/v1/process-instances", {"process": "instant_issuance", "data": {"note": {LONE_SURROGATE: 1}}}),
    ("/api/v1/process-instances", {"process": "instant_issuance", "business_key": LONE_SURROGATE}),
    ("complete", {"data": application_json("lin_kun", remarks=LONE_SURROGATE + "x")}),
    ("cancel", {"reason": LONE_SURROGATE}),
])
def test_a_lone_surrogate_in_the_body_is_400_not_a_500(platform, path, body):
    """Was a 500 for start data and task data holding "\\ud800" (the case's data could not be
    written: UnicodeEncodeError from the database driver). Now every API body with a lone
    surrogate is refused up front, also a business key (was a 422) and a cancel reason (was
    stored, escaped, in the audit trail)."""
    flask_app, _known = platform
    if path == "complete":
        path = f"/api/v1/tasks/{open_task(flask_app, start(flask_app, 'instant_issuance', 'window')).id}/complete"
    elif path == "cancel":
        path = f"/api/v1/process-instances/{start(flask_app, 'instant_issuance', 'window')}/cancel"
    r = _post(flask_app.test_client(), path, body, bearer(token(flask_app, "window")))
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
    error = r.get_json()["error"]
    assert error["code"] == "bad_request" and "surrogate" in error["message_en"]


def test_a_lone_surrogate_as_raw_utf8_bytes_is_400_too(platform):
    """Python's parser decodes a JSON body of bytes with "surrogatepass": the three bytes of an
    encoded surrogate (ED A0 80, no valid UTF-8) arrive as "\\ud800" as well."""
    flask_app, _known = platform
    raw = b'{"process": "instant_issuance", "data": {"note": "\xed\xa0\x80"}}'
    r = flask_app.test_client().post("/api/v1/process-instances", data=raw, headers={
        **bearer(token(flask_app, "window")), "Content-Type": "application/json"})
    assert r.status_code == 400, r.get_data(as_text=True)[:300]


def test_an_astral_character_is_no_surrogate(platform):
    """A character beyond the BMP ("\\ud83d\\ude00" in JSON, a surrogate pair) is text: kept."""
    flask_app, _known = platform
    r = _post(flask_app.test_client(), "/api/v1/process-instances",
              {"process": "instant_issuance", "data": {"note": "😀"}}, bearer(token(flask_app, "window")))
    assert r.status_code == 201, r.get_data(as_text=True)[:300]
