"""50 clients complete the same task at once over real HTTP (a threaded server on a free port):
exactly one wins, every other one gets a clear 409 (or 503 with Retry-After while a lock wait
remains), never a 500. SQLite file database (the embedded default) and PostgreSQL."""
from __future__ import annotations

import http.client
import json
import threading
import uuid
from collections import Counter
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, func, select, text
from werkzeug.serving import make_server

from app.engine.models import AuditEvent, HumanTask
from tests.api import application_json, build_app, db, open_task, start, token

CLIENTS = 50


@contextmanager
def serving(flask_app):
    """The app on a threaded werkzeug server on a free port; yields the port."""
    server = make_server("127.0.0.1", 0, flask_app, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def post_all(port: int, path: str, body: dict, secrets: list[str]) -> list[tuple[int, dict, dict]]:
    """One POST per secret, all released at the same moment; [(status, headers, json)]."""
    payload = json.dumps(body).encode()
    barrier = threading.Barrier(len(secrets))
    results: list = [None] * len(secrets)

    def run(i: int, secret: str):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.connect()
            barrier.wait(30)
            conn.request("POST", path, body=payload, headers={
                "Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
            r = conn.getresponse()
            raw = r.read()
            try:
                answer = json.loads(raw)
            except ValueError:
                answer = {"raw": raw[:300].decode(errors="replace")}
            results[i] = (r.status, dict(r.getheaders()), answer)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            results[i] = (-1, {}, {"exception": repr(exc)})
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(secrets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def fifty_completions(flask_app):
    case_id = start(flask_app, "instant_issuance", "window")
    task_id = open_task(flask_app, case_id).id
    secrets = [token(flask_app, "window") for _ in range(CLIENTS)]  # 50 clients, 50 fresh tokens
    with serving(flask_app) as port:
        results = post_all(port, f"/api/v1/tasks/{task_id}/complete",
                           {"data": application_json("lin_kun")}, secrets)
    statuses = Counter(status for status, _, _ in results)
    assert statuses[200] == 1, (statuses, [r for r in results if r[0] not in (200, 409)][:3])
    assert statuses[500] == 0 and statuses[-1] == 0, statuses
    assert set(statuses) <= {200, 409, 503}, statuses
    for status, headers, answer in results:
        if status == 200:
            continue
        error = answer["error"]
        assert error["message_zh"] and error["message_en"], answer
        if status == 409:  # the clerk reads who did it
            assert error["code"] in ("TaskAlreadyDone", "CaseChanged"), answer
            if error["code"] == "TaskAlreadyDone":
                assert error["message_zh"] == "该任务已由 窗口经办 陈敏 完成", answer
        else:
            assert int(headers["Retry-After"]) > 0, headers
    with db(flask_app) as s:
        assert s.get(HumanTask, task_id).state == "completed"
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "complete", AuditEvent.instance_id == case_id)) == 1
    return statuses


def test_fifty_concurrent_completions_on_sqlite(tmp_path):
    flask_app = build_app(tmp_path)
    try:
        fifty_completions(flask_app)
    finally:
        flask_app.extensions["sscard"].engine.dispose()


@pytest.fixture
def pg_schema_url(pg_url):
    """A URL whose connections use a schema of their own (dropped at the end)."""
    schema = f"api_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield pg_url + ("&" if "?" in pg_url else "?") + f"options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.mark.postgres
def test_fifty_concurrent_completions_on_postgresql(tmp_path, pg_schema_url):
    from app.migrate import upgrade
    upgrade(pg_schema_url)  # build_app migrates its own SQLite URL only
    flask_app = build_app(tmp_path, DATABASE_URL=pg_schema_url)
    try:
        fifty_completions(flask_app)
    finally:
        flask_app.extensions["sscard"].engine.dispose()


# -- no write on every request; a lock wait is a 503, never a 500 ----------------------------------

def test_reading_and_authenticating_write_nothing_within_five_minutes(tmp_path):
    from datetime import timedelta

    from sqlalchemy import event, update

    from app.auth.models import ApiToken
    from app.common.clock import utcnow
    from tests.api import bearer
    flask_app = build_app(tmp_path)
    engine = flask_app.extensions["sscard"].engine
    try:
        secret = token(flask_app, "window")
        client = flask_app.test_client()
        assert client.get("/api/v1/tasks", headers=bearer(secret)).status_code == 200  # first use
        with db(flask_app) as s:
            first = s.scalar(select(ApiToken.last_used_at).where(ApiToken.token_hash == ApiToken.hash(secret)))
        assert first is not None
        writes = []

        def note(conn, cursor, statement, *args):
            if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
                writes.append(statement)
        event.listen(engine, "before_cursor_execute", note)
        try:
            for path in ("/api/v1/tasks", "/api/v1/tasks?scope=group", "/api/v1/process-models"):
                assert client.get(path, headers=bearer(secret)).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", note)
        assert writes == []
        with db(flask_app) as s:  # six minutes later the use is recorded again
            s.execute(update(ApiToken).where(ApiToken.token_hash == ApiToken.hash(secret))
                      .values(last_used_at=utcnow() - timedelta(minutes=6)))
            s.commit()
        assert client.get("/api/v1/tasks", headers=bearer(secret)).status_code == 200
        with db(flask_app) as s:
            again = s.scalar(select(ApiToken.last_used_at).where(ApiToken.token_hash == ApiToken.hash(secret)))
        assert again.replace(tzinfo=None) >= first.replace(tzinfo=None)
    finally:
        engine.dispose()


def test_a_lock_wait_that_outlives_the_timeout_is_503_with_retry_after(tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.engine import runtime
    from tests.api import bearer
    flask_app = build_app(tmp_path)
    try:
        task_id = open_task(flask_app, start(flask_app, "instant_issuance", "window")).id

        def locked(*a, **kw):
            raise OperationalError("UPDATE human_task ...", {}, Exception("database is locked"))
        monkeypatch.setattr(runtime, "claim", locked)
        r = flask_app.test_client().post(f"/api/v1/tasks/{task_id}/claim",
                                         headers=bearer(token(flask_app, "window")))
        assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
        error = r.get_json()["error"]
        assert error["code"] == "busy" and "稍后重试" in error["message_zh"] and "try again" in error["message_en"]

        def broken(*a, **kw):  # any other failure: still the API's JSON, in both languages
            raise RuntimeError("boom")
        monkeypatch.setattr(runtime, "claim", broken)
        r = flask_app.test_client().post(f"/api/v1/tasks/{task_id}/claim",
                                         headers=bearer(token(flask_app, "window")))
        assert r.status_code == 500 and r.get_json()["error"]["message_en"]
    finally:
        flask_app.extensions["sscard"].engine.dispose()
