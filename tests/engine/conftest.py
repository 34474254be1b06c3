"""Fixtures of the engine tests: test forms and service operations, a configured SQLite or
PostgreSQL database with the test models deployed, and actors."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from wtforms.validators import Optional

import forms.registry
from app.database import Base
from app.engine import repository, services
from app.engine.db import make_engine
from app.engine.functions import script_functions
from app.engine.models import HumanTask, ProcessInstance
from app.engine.services import Actor, ServiceError
from app.common.clock import CHINA_TZ
from forms.base import TaskForm
from forms.fields import SelectField, StringField, make_choices
from forms.i18n import T
from forms.validators import Required

BPMN_DIR = Path(__file__).parent / "bpmn"

# Mon 3 March 2025, 10:00 in Fuzhou: a plain working week, no holiday for a month.
MONDAY = datetime(2025, 3, 3, 10, 0, tzinfo=CHINA_TZ)

CLERK = Actor("clerk1", 1, frozenset({"clerks"}), "王小明")
CLERK2 = Actor("clerk2", 2, frozenset({"clerks", "reviewers"}), "李华")
REVIEWER = Actor("reviewer", 3, frozenset({"reviewers"}), "陈审核")
MANAGER = Actor("manager", 4, frozenset({"managers"}), "张科长")
ADMIN = Actor("admin", 9)


# -- test forms --------------------------------------------------------------------------------

class EnterForm(TaskForm):
    form_key = "engine_test_enter"
    title = T("测试：录入", "Test: enter")
    name = StringField(T("姓名", "Name"), [Required()])
    ssn = StringField(T("社会保障号码", "Social security number"), [Required()])


class ApproveForm(TaskForm):
    form_key = "engine_test_approve"
    title = T("测试：审核", "Test: approve")
    decision = SelectField(T("审核结论", "Decision"), [Required(choose=True)],
                           choices=make_choices([("approve", T("同意", "approve")),
                                                 ("reject", T("退回", "reject"))], T("-", "-")),
                           default="")
    remark = StringField(T("备注", "Remark"), [Optional()])


TEST_FORMS = (EnterForm, ApproveForm)


@pytest.fixture(scope="session", autouse=True)
def test_forms():
    for form in TEST_FORMS:
        forms.registry.register(form)
    yield
    for form in TEST_FORMS:  # the registry has no unregister: leave it as we found it
        forms.registry._FORMS.pop(form.form_key, None)


# -- a domain table and test service operations --------------------------------------------------

class TestBase(DeclarativeBase):
    pass


class DomainRecord(TestBase):
    """A stand-in for a domain row written by a service operation."""
    __tablename__ = "engine_test_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200))


class Behaviour:
    """What the test operations do; tests change it."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.verify_error: ServiceError | None = None
        self.fail_after_write: Exception | None = None
        self.calls: list[tuple[str, dict]] = []


BEHAVIOUR = Behaviour()


def _verify(ctx, name, ssn):
    BEHAVIOUR.calls.append(("verify", {"name": name, "ssn": ssn, "task": ctx.task_name}))
    if BEHAVIOUR.verify_error is not None:
        raise BEHAVIOUR.verify_error
    return {"ok": True, "checked_name": name}


def _write(ctx, label):
    ctx.session.add(DomainRecord(label=label))
    ctx.session.flush()
    return {"label": label}


def _write_then_fail(ctx, label):
    ctx.session.add(DomainRecord(label=label))
    ctx.session.flush()
    if BEHAVIOUR.fail_after_write is not None:
        raise BEHAVIOUR.fail_after_write
    return {"label": label}


TEST_OPERATIONS = {"engine_test.verify": _verify, "engine_test.write": _write,
                   "engine_test.write_then_fail": _write_then_fail}


@pytest.fixture(scope="session", autouse=True)
def test_operations():
    for name, fn in TEST_OPERATIONS.items():
        services.registry.operation(name)(fn)
    yield
    for name in TEST_OPERATIONS:
        services.registry.unregister(name)


@pytest.fixture(autouse=True)
def behaviour():
    BEHAVIOUR.reset()
    yield BEHAVIOUR
    BEHAVIOUR.reset()


# -- databases -----------------------------------------------------------------------------------

@dataclass
class Db:
    engine: object
    Session: sessionmaker

    def session(self):
        return self.Session()

    def task(self, session, instance_id, task_name, state="open") -> HumanTask:
        return session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.task_name == task_name,
            HumanTask.state == state).execution_options(populate_existing=True)).one()

    def instance(self, session, instance_id) -> ProcessInstance:
        return session.get(ProcessInstance, instance_id, populate_existing=True)


def create_schema(engine):
    Base.metadata.create_all(engine)
    TestBase.metadata.create_all(engine)


def deploy_test_models(session_factory):
    with session_factory() as session:
        repository.deploy_directory(session, BPMN_DIR, ADMIN)


@pytest.fixture
def db(tmp_path) -> Db:
    """A fresh SQLite file database with the test models deployed."""
    engine = make_engine(f"sqlite:///{tmp_path / 'engine.db'}")
    create_schema(engine)
    Session = sessionmaker(engine)
    deploy_test_models(Session)
    yield Db(engine, Session)
    engine.dispose()


@pytest.fixture(scope="session")
def pg_engine(pg_url):
    engine = make_engine(pg_url, pool_size=20, max_overflow=20)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_db(pg_engine) -> Db:
    """The PostgreSQL test database, emptied, with the test models deployed."""
    with pg_engine.begin() as conn:
        tables = [t.name for t in [*Base.metadata.sorted_tables, *TestBase.metadata.sorted_tables]]
        conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                             + " RESTART IDENTITY CASCADE")
    Session = sessionmaker(pg_engine)
    deploy_test_models(Session)
    return Db(pg_engine, Session)


@pytest.fixture
def no_extra_functions():
    """Script functions registered by a test are removed after it."""
    before = script_functions.names()
    yield
    for name in script_functions.names() - before:
        script_functions.unregister(name)
