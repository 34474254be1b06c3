"""Fixtures of the batch family's tests: a migrated SQLite database (the ``app`` fixture) with
the Ningbo-like configuration, and helpers to write exports and register extracts."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import itertools
from datetime import date

import pytest
from stdnum.cn import ric

from app import create_app
from app.migrate import upgrade
from app.procedures.batch import city
from app.procedures.batch.models import Batch, Employer, Person
from app.procedures.batch.states import Eligibility, EmployerStatus

NINGBO = Path(city.CITIES_DIR) / "ningbo.json"
_serial = itertools.count(1)
HEADER = "参保区域,单位社保编码,单位名称,部门,二级部门,姓名,性别,身份证号,险种,参保日期"
POLICE_HEADER = "身份证号,姓名,性别,民族,出生日期,户籍地址,户籍区划,二代身份证"


def id_number(body17: str) -> str:
    from stdnum.cn import ric
    return body17 + ric.calc_check_digit(body17 + "0")


def csv_bytes(header: str, rows: list[tuple], bom: bool = False) -> bytes:
    out = io.StringIO()
    out.write(header + "\n")
    w = csv.writer(out, lineterminator="\n")
    for r in rows:
        w.writerow(r)
    data = out.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """One migrated SQLite database per module (the ``app`` fixture's recipe, once); each
    test's work is rolled back (the services flush, never commit)."""
    path = tmp_path_factory.mktemp("batch")
    url = f"sqlite:///{path / 'test.db'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "INSTANCE_PATH": str(path),
                      "SCHEDULER_IN_PROCESS": False, "TESTING": True})
    upgrade(url)
    yield app
    app.extensions["sscard"].engine.dispose()


@pytest.fixture
def db(platform):
    session = platform.extensions["sscard"].session_factory()
    city.apply(session, city.load_file(NINGBO))  # ICBC, CCB, BOC
    yield session
    session.rollback()
    session.close()


def employer_with(db, people, code="E1") -> tuple[Employer, list[Person]]:
    """An employer of a batch and its persons: (name, dept1, dept2[, eligibility])."""
    batch = Batch(name="2011年第一批", cutoff=date(2011, 8, 31), regions=["330200"], created_by="t")
    db.add(batch)
    db.flush()
    employer = Employer(batch_id=batch.id, code=code, name="宁波甲机械有限公司", region="330200",
                        status=EmployerStatus.ENTERING, eligible=len(people))
    db.add(employer)
    db.flush()
    persons = []
    for seq, (name, dept1, dept2, *rest) in enumerate(people, 1):
        body = f"33020319800101{next(_serial) % 1000:03d}"
        persons.append(Person(batch_id=batch.id, employer_id=employer.id, employer_code=code,
                              id_number=body + ric.calc_check_digit(body + "0"), name=name,
                              sex="1", dept1=dept1, dept2=dept2, seq=seq,
                              eligibility=rest[0] if rest else Eligibility.ELIGIBLE))
    db.add_all(persons)
    db.flush()
    return employer, persons



@pytest.fixture
def factory(app):
    """The session factory of a migrated SQLite database configured for Ningbo."""
    f = app.extensions["sscard"].session_factory
    with f() as s, s.begin():
        city.apply(s, city.load_file(NINGBO))
    return f
