"""Shared helpers for the card-domain, adapter and procedure tests: a database with the demo
data, a ServiceContext, application form data for the demo persons."""
from __future__ import annotations

import base64
import io
import os
import uuid
from contextlib import contextmanager
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app.procedures import load_families
import app.engine.models  # noqa: F401  (engine tables: the operations set the business key)
import app.sla  # noqa: F401  (calendar tables: the outlet deadline)
from app.adapters.demo import APPLIES_AS, BY_KEY
from app.cards.demo import seed_demo
from app.database import Base
from app.engine.db import make_engine
from app.engine.services import Actor, ServiceContext

load_families()  # tables, service operations and forms of every procedure family


def jpeg(size=(295, 413)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 220, 255)).save(buf, "JPEG")
    return buf.getvalue()


PHOTO = jpeg()


def sqlite_engine(path):
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    return engine


@contextmanager
def demo_session(engine):
    with Session(engine) as session:
        seed_demo(session)
        session.commit()
        yield session


def ctx(session, instance_id=1, user="clerk1", data=None, task_name="t") -> ServiceContext:
    return ServiceContext(session=session, instance_id=instance_id, business_key=None,
                          process_key="test", task_name=task_name,
                          actor=Actor(username=user), data=data or {})


def form_for(key: str, on: date | None = None, **changes) -> dict:
    """Application form data (cleaned JSON, as the workflow holds it) for a demo person."""
    p = {**BY_KEY[key], **APPLIES_AS.get(key, {})}
    data = {
        "application_date": (on or date.today()).isoformat(),
        "name": p["name"], "sex": p["sex"], "ethnicity": p["ethnicity"],
        "photo": "data:image/jpeg;base64," + base64.b64encode(PHOTO).decode(),
        "birth_date": p["birth_date"].isoformat(), "occupation": "职员",
        "landline": None, "mobile": "13805951234", "id_type": "resident_id",
        "id_valid_from": "2016-01-01", "id_valid_to": None, "id_long_term": True,
        "id_number": p["id_number"], "country": "中国",
        "household_address": p["household_address"], "residence_address": p["household_address"],
        "residence_postcode": "362700", "employer": "石狮市宝盖服装有限公司",
        "medical_insurance_type": "urban_employee", "insurance_agency": "石狮市医疗保险管理中心",
        "guardian_name": None, "guardian_id_type": None, "guardian_id_number": None,
        "first_card": "yes", "old_card_city": None, "old_card_number": None,
        "consent_stop_old_card": False, "signed": True, "remarks": None,
    }
    data.update(changes)
    return data


PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_engine(request):
    """An empty schema on PostgreSQL (the shared ``pg_url`` fixture when there is one, else
    DATABASE_URL or the local test server); skipped when no server answers."""
    try:
        url = request.getfixturevalue("pg_url")
    except pytest.FixtureLookupError:
        url = os.environ.get("DATABASE_URL") or PG_DEFAULT
    if not url.startswith("postgresql"):
        pytest.skip("no PostgreSQL URL")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    schema = f"cards_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as e:  # no server
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable: {type(e).__name__}")
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
