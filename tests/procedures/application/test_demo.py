"""The demo's outlet cases: one deadline running, one paused, on the manager's page."""
from sqlalchemy import select

from app.procedures.application.demo import seed_demo_cases
from app.engine.models import CaseDeadline
from tests.api import app, db  # noqa: F401  (fixture)
from tests.fixtures_app import Browser


def test_demo_cases_show_a_running_and_a_paused_deadline(app):
    with db(app) as s:
        ids = seed_demo_cases(s)
        assert len(ids) == 2
        states = [s.scalar(select(CaseDeadline.state).where(CaseDeadline.instance_id == i)) for i in ids]
        assert states == ["running", "paused"]
        assert seed_demo_cases(s) == []  # idempotent
    web = Browser(app.test_client())
    web.login("manager")
    html = web.get("/sla").get_data(as_text=True)
    assert f'data-case="{ids[0]}" data-name="statutory" data-state="running"' in html
    assert f'data-case="{ids[1]}" data-name="statutory" data-state="paused"' in html
    assert "计时暂停：等待申请人补交户口簿复印件（补正材料）" in html
