"""Data belongs to an office (app.cases.access): a clerk of another bank window sees neither the
cases, nor the photos, nor the queue of the first window; a window sees the outlet cases it
produces for; the card centre's manager sees the region; the SMS page and the manager's
deadline page show what the user's office may see."""
import re

import pytest
from sqlalchemy import select

from app.auth.service import actor_of
from app.cases.access import offices_for
from app.engine import runtime
from app.engine.errors import NotCandidate
from app.engine.models import ProcessInstance
from tests.api import (app, application_json, complete, db, open_task, start,  # noqa: F401
                       user)
from tests.web.test_cases import accept_on_page
from tests.web.test_inbox import task_rows


def _outlet_case_at_production(app) -> int:
    instance_id = start(app, "outlet_application", "outlet")
    complete(app, open_task(app, instance_id).id, application_json("chen_xiuying"), "outlet")
    assert open_task(app, instance_id).task_name == "produce_card"
    return instance_id


def test_a_case_belongs_to_the_office_of_its_starter(app):
    window_case = start(app, "instant_issuance", "window")
    outlet_case = start(app, "outlet_application", "outlet")
    with db(app) as s:
        assert s.get(ProcessInstance, window_case).office == "ICBC-SS"
        assert s.get(ProcessInstance, outlet_case).office == "BAOGAI"
        # the rule's offices: a window serves its outlets, the centre its region
        assert offices_for(s, "ICBC-SS", {"window_clerk"}) == {"ICBC-SS", "BAOGAI"}
        assert offices_for(s, "ABC-SS", {"window_clerk"}) == {"ABC-SS"}
        assert offices_for(s, "BAOGAI", {"outlet_clerk"}) == {"BAOGAI"}
        assert offices_for(s, "SS-CENTRE", {"manager"}) >= {"ICBC-SS", "ABC-SS", "BAOGAI"}
        assert offices_for(s, None, {"window_clerk"}) == frozenset()
        assert offices_for(s, None, {"administrator"}) is None


def test_another_windows_clerk_sees_neither_the_case_nor_its_photo(app, web):
    web.login("window")
    case_id = accept_on_page(web)
    assert web.get(f"/cases/{case_id}/photo").status_code == 200
    assert f'href="/cases/{case_id}"' in web.get("/cases").get_data(as_text=True)

    web.client.post("/logout", data={"csrf_token": web.csrf("/inbox")})
    web.login("window_abc")
    assert web.get(f"/cases/{case_id}").status_code == 403
    assert web.get(f"/cases/{case_id}/photo").status_code == 403
    assert f'href="/cases/{case_id}"' not in web.get("/cases").get_data(as_text=True)

    web.client.post("/logout", data={"csrf_token": web.csrf("/inbox")})
    web.login("manager")  # the centre supervises both windows
    assert web.get(f"/cases/{case_id}").status_code == 200
    assert f'href="/cases/{case_id}"' in web.get("/cases").get_data(as_text=True)


def test_the_queue_of_a_window_is_its_own_and_its_outlets(app, web):
    instant = start(app, "instant_issuance", "window")
    outlet_case = _outlet_case_at_production(app)
    tasks = {open_task(app, instant).id, open_task(app, outlet_case).id}

    web.login("window")
    assert set(task_rows(web.get("/inbox?scope=group").get_data(as_text=True))) == tasks
    web.client.post("/logout", data={"csrf_token": web.csrf("/inbox")})
    web.login("window_abc")
    assert task_rows(web.get("/inbox?scope=group").get_data(as_text=True)) == []


def test_the_engine_refuses_a_clerk_of_another_office(app):
    """The candidate check itself (claim, complete, API) knows the office: no page needed."""
    instant = start(app, "instant_issuance", "window")
    task = open_task(app, instant)
    with db(app) as s:
        with pytest.raises(NotCandidate):
            runtime.claim(s, task.id, actor_of(user(s, "window_abc")))
        s.rollback()
        runtime.claim(s, task.id, actor_of(user(s, "window")))  # the case's own window


def test_sms_and_deadline_pages_show_the_office_s_cases_only(app, web):
    outlet_case = _outlet_case_at_production(app)
    with db(app) as s:
        from app.adapters.sms import SmsMessage
        from app.procedures.application.models import Application
        application = s.scalar(select(Application).where(Application.instance_id == outlet_case))
        s.add(SmsMessage(phone="13805951234", text="您的社保卡已制好", application_id=application.id))
        s.commit()
    web.login("outlet")
    assert "138****1234" in web.get("/sms").get_data(as_text=True)
    web.client.post("/logout", data={"csrf_token": web.csrf("/inbox")})
    web.login("window_abc")
    assert "138****1234" not in web.get("/sms").get_data(as_text=True)
    web.client.post("/logout", data={"csrf_token": web.csrf("/inbox")})
    web.login("manager")
    page = web.get("/sla").get_data(as_text=True)
    assert re.search(rf'data-case="{outlet_case}"', page)
