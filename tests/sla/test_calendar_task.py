"""The warning before the cliff: from 60 days before 1 January of a year not entered, managers
get the inbox task "录入 XXXX 年法定节假日安排" and a banner on every page, until the year is
entered (in the task itself, or anywhere else)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from app.engine import runtime
from app.engine.models import HumanTask, ProcessInstance
from app.common.clock import CHINA_TZ
from app.sla.entry import enter_year_complete
from app.sla.models import CalendarYear
from app.sla.operations import calendar_round
from app.auth.service import actor_of
from tests.api import app, db, user  # noqa: F401  (fixture)

DEC_1 = datetime(2026, 12, 1, 9, tzinfo=CHINA_TZ)
TEST_NOTICE_2027 = ("国务院办公厅关于2027年部分节假日安排的通知（测试用虚构数据 / made-up test data）\n"
                    "一、元旦：1月1日（周五）至3日（周日）放假，共3天。\n")


def _forget_2027(app):
    with db(app) as s:
        s.execute(delete(CalendarYear).where(CalendarYear.year == 2027))
        s.commit()


def _calendar_tasks(app) -> list[HumanTask]:
    with db(app) as s:
        return s.scalars(select(HumanTask).join(ProcessInstance).where(
            ProcessInstance.process_key == "calendar_year_entry").order_by(HumanTask.id)).all()


def test_no_task_before_the_warning_period(app):
    _forget_2027(app)
    calendar_round(app.extensions["sscard"].session_factory, datetime(2026, 10, 1, tzinfo=CHINA_TZ))
    assert _calendar_tasks(app) == []


def test_one_task_for_the_missing_year_ended_when_the_year_is_entered_elsewhere(app):
    _forget_2027(app)
    factory = app.extensions["sscard"].session_factory
    calendar_round(factory, DEC_1)
    calendar_round(factory, DEC_1)  # a second round opens no second task
    [task] = _calendar_tasks(app)
    assert (task.title, task.group, task.state) == ("录入 2027 年法定节假日安排", "manager", "open")
    with db(app) as s:
        enter_year_complete(s, 2027, "manager")
        s.commit()
    calendar_round(factory, DEC_1)
    [task] = _calendar_tasks(app)
    assert task.state == "cancelled"  # withdrawn: the year is in
    with db(app) as s:
        assert s.get(ProcessInstance, task.instance_id).status == "completed"


def test_the_manager_pastes_the_notice_in_the_task(app):
    _forget_2027(app)
    factory = app.extensions["sscard"].session_factory
    calendar_round(factory, DEC_1)
    [task] = _calendar_tasks(app)
    with db(app) as s:
        manager = actor_of(user(s, "manager"))
        # unreadable text (wrong weekday): the task comes back, nothing is entered
        runtime.complete_task(s, task.id, {"notice_text": TEST_NOTICE_2027.replace("周五", "周四")}, manager)
        again = _calendar_tasks(app)[-1]
        assert again.state == "open" and again.id != task.id
        assert s.get(CalendarYear, 2027) is None
        runtime.complete_task(s, again.id, {"notice_text": TEST_NOTICE_2027}, manager)
        assert s.get(CalendarYear, 2027).complete
        assert s.get(ProcessInstance, task.instance_id).status == "completed"


def test_banner_for_managers_only_while_the_year_is_missing(app):
    from tests.fixtures_app import Browser
    _forget_2027(app)
    web = Browser(app.test_client())
    web.login("manager")
    assert 'id="calendar-warning"' in web.get("/inbox").get_data(as_text=True)
    window = Browser(app.test_client())
    window.login("window")
    assert 'id="calendar-warning"' not in window.get("/inbox").get_data(as_text=True)
    with db(app) as s:
        enter_year_complete(s, 2027, "manager")
        s.commit()
    assert 'id="calendar-warning"' not in web.get("/inbox").get_data(as_text=True)
