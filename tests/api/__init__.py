"""Shared by the API tests and the page tests (tests/web/test_inbox.py, test_cases.py,
test_admin.py): a platform app on a fresh SQLite database built by the migrations, with the
demo users, the demo domain data (service points, blank cards, police register) and
processes/ deployed; helpers for application form data, API tokens and database access.

Import the ``app`` fixture from here into a test module: it overrides the plain ``app`` of
tests/fixtures_app.py there, so the ``client`` and ``web`` fixtures run on this platform.
"""
from __future__ import annotations

import base64
import io
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from app import create_app
from app.adapters.demo import APPLIES_AS, BY_KEY
from app.auth.models import User
from app.auth.service import actor_of, create_token, create_user
from app.cli import DEMO_PASSWORD, seed_demo_users
from app.engine import runtime
from app.engine.models import HumanTask, ProcessInstance
from app.engine.repository import deploy_directory
from app.engine.services import Actor
from app.common.clock import CHINA_TZ
from app.sla.calendar import WorkingDayCalendar, package_years
from app.sla.overrides import DbOverrides
from forms.validators import today
from tests.db_templates import sqlite_copy
from tests.fixtures_app import app_config

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
STATION_TOKEN = "station-token-for-tests"


def build_app(tmp_path: Path, **overrides):
    """The platform on a database of its own: migrated, the demo accounts and data, the future
    years entered, processes/ deployed. On SQLite (the default) a copy of one built per run
    (tests.db_templates); a DATABASE_URL given is populated here."""
    if "DATABASE_URL" in overrides:
        flask_app = create_app({**app_config(None, tmp_path), "STATION_TOKEN": STATION_TOKEN, **overrides})
        _populate(flask_app)
        return flask_app
    url = sqlite_copy("platform", tmp_path / "platform.db", _build_platform)
    return create_app({**app_config(url, tmp_path), "STATION_TOKEN": STATION_TOKEN, **overrides})


def _build_platform(url: str, folder: Path) -> None:
    flask_app = create_app(app_config(url, folder))
    _populate(flask_app)
    flask_app.extensions["sscard"].engine.dispose()


def _populate(flask_app) -> None:
    from app.migrate import upgrade
    upgrade(flask_app.config["DATABASE_URL"])
    with flask_app.app_context():
        session = flask_app.extensions["sscard"].session()
        seed_demo_users(session)
        from app.cards.demo import seed_demo
        seed_demo(session)
        enter_future_years(session)
        session.commit()
        deploy_directory(session, PROCESSES, Actor.system("test"))
        session.commit()
        session.close()


def enter_future_years(session) -> list[int]:
    """Years after those chinesecalendar covers, up to next year, entered as plain weeks, so a
    15-working-day deadline computed in December (or after the package's last year) works.
    Tests of the "year missing" error use a year further away."""
    years = [y for y in range(package_years().stop, today().year + 2)]
    overrides = DbOverrides(session)
    for year in years:
        overrides.mark_year(year, "test", complete=True)
    return years


@pytest.fixture
def app(tmp_path):
    flask_app = build_app(tmp_path)
    yield flask_app
    flask_app.extensions["sscard"].engine.dispose()


# -- database ---------------------------------------------------------------------------------

@contextmanager
def db(flask_app):
    """A session of its own (outside any request); closed at the end, never committed."""
    session = flask_app.extensions["sscard"].session_factory()
    try:
        yield session
    finally:
        session.close()


def user(session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


# the demo office of a test user by their first group (a user's data belongs to their office)
OFFICE_OF_GROUP = {"window_clerk": "ICBC-SS", "outlet_clerk": "BAOGAI"}


def add_user(flask_app, username: str, groups: list[str], office: str | None = None) -> None:
    office = office or OFFICE_OF_GROUP.get(groups[0] if groups else "", "SS-CENTRE")
    with db(flask_app) as s:
        create_user(s, username, DEMO_PASSWORD, groups, username, office=office)
        s.commit()


def token(flask_app, username: str) -> str:
    """A new API token of ``username`` (the secret)."""
    with db(flask_app) as s:
        _, secret = create_token(s, user(s, username), "test")
        s.commit()
    return secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def start(flask_app, process_key: str, username: str) -> int:
    """Start a case through the runtime (bulk set-up); returns its id."""
    with db(flask_app) as s:
        return runtime.start_instance(s, process_key, {}, None, actor_of(user(s, username))).id


def complete(flask_app, task_id: int, data: dict, username: str) -> None:
    with db(flask_app) as s:
        runtime.complete_task(s, task_id, data, actor_of(user(s, username)))


def open_tasks(flask_app, instance_id: int) -> list[HumanTask]:
    with db(flask_app) as s:
        return list(s.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.state == "open").order_by(HumanTask.id)))


def open_task(flask_app, instance_id: int, name: str | None = None) -> HumanTask:
    tasks = [t for t in open_tasks(flask_app, instance_id) if name is None or t.task_name == name]
    assert len(tasks) == 1, [t.task_name for t in open_tasks(flask_app, instance_id)]
    return tasks[0]


def instance(flask_app, instance_id: int) -> ProcessInstance:
    with db(flask_app) as s:
        return s.get(ProcessInstance, instance_id)


def calendar(session) -> WorkingDayCalendar:
    return WorkingDayCalendar(DbOverrides(session))


def local_today() -> date:
    return today()


def missing_year() -> int:
    """The first year neither chinesecalendar nor the fixture covers (a deadline in it cannot
    be counted down until a manager enters it)."""
    return max(package_years().stop, today().year + 2)


def make_next_year_missing(flask_app) -> int:
    """Enter the rest of this year as holidays and remove next year's entry: any working-day
    count from today (deadline, due date, timer) then needs next year, which is missing.
    Skips the test when chinesecalendar itself covers next year."""
    from sqlalchemy import delete

    from app.sla.models import CalendarYear
    next_year = today().year + 1
    if next_year in package_years():
        pytest.skip("chinesecalendar covers next year")
    with db(flask_app) as s:
        s.execute(delete(CalendarYear).where(CalendarYear.year == next_year))
        overrides = DbOverrides(s)
        day = today()
        while day.year < next_year:
            overrides.set_day(day, False, "test")
            day += timedelta(days=1)
        s.commit()
    return next_year


# -- application form data ----------------------------------------------------------------------

def jpeg(size=(295, 413), colour=(200, 220, 255)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    return buf.getvalue()


PHOTO = jpeg()


def person(key: str) -> dict:
    """A demo person as they fill in the form (APPLIES_AS: where it differs from the police
    register)."""
    return {**BY_KEY[key], **APPLIES_AS.get(key, {})}


def application_json(key: str = "lin_kun", **changes) -> dict:
    """The application form as the JSON API takes it (photo as a data URL)."""
    p = person(key)
    data = {
        "application_date": today().isoformat(), "name": p["name"], "sex": p["sex"],
        "ethnicity": p["ethnicity"],
        "photo": "data:image/jpeg;base64," + base64.b64encode(PHOTO).decode(),
        "birth_date": p["birth_date"].isoformat(), "occupation": "职员",
        "mobile": "13805951234", "id_type": "resident_id", "id_valid_from": "2016-01-01",
        "id_long_term": True, "id_number": p["id_number"], "country": "中国",
        "household_address": p["household_address"], "residence_address": p["household_address"],
        "residence_postcode": "362700", "medical_insurance_type": "urban_employee",
        "first_card": "yes", "signed": True,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def application_post(key: str = "lin_kun", photo: bytes | None = PHOTO, **changes) -> dict:
    """The same form as a browser posts it (multipart, the photo as an uploaded file)."""
    data = {}
    for name, value in application_json(key, **changes).items():
        if name == "photo":
            continue
        if value is True:
            value = "y"
        data[name] = value
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "photo.jpg", "image/jpeg")
    return data


def deadline_in(days: int):
    """An aware datetime at the end of the day ``days`` calendar days from today (Shishi)."""
    from app.sla.calendar import deadline_datetime
    return deadline_datetime(today() + timedelta(days=days))


__all__ = ["app", "PHOTO", "CHINA_TZ", "STATION_TOKEN"]
