"""Demo cases 演示办件: outlet applications with their statutory deadline in several states,
so the manager's deadline page and the case pages are not empty on a fresh start.

* 黄丽华: accepted, the card is being made (deadline running);
* 蔡志明: accepted, the clock paused while the outlet waits for a document (计时暂停).

Idempotent: does nothing when outlet cases exist. Needs the processes deployed. Commits each
step (steps are transactions).
"""
from __future__ import annotations

import base64
import io
from datetime import datetime

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.adapters.demo import BY_KEY
from app.auth.models import User
from app.auth.service import actor_of
from app.engine import runtime
from app.engine.models import HumanTask, ProcessInstance
from app.common.clock import CHINA_TZ


def _photo() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (295, 413), (205, 222, 240)).save(buf, "JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def _form(key: str, mobile: str) -> dict:
    p = BY_KEY[key]
    return {"application_date": datetime.now(CHINA_TZ).date().isoformat(), "name": p["name"],
            "sex": p["sex"], "ethnicity": p["ethnicity"], "photo": _photo(),
            "birth_date": p["birth_date"].isoformat(), "occupation": "职员", "mobile": mobile,
            "id_type": "resident_id", "id_valid_from": "2016-01-01", "id_long_term": True,
            "id_number": p["id_number"], "country": "中国",
            "household_address": p["household_address"],
            "residence_address": p["household_address"], "residence_postcode": "362700",
            "medical_insurance_type": "urban_employee", "first_card": "yes", "signed": True}


def seed_demo_cases(session: Session, clerk: str = "outlet") -> list[int]:
    """Start the demo outlet cases; returns their ids (empty when there were some already)."""
    if session.scalar(select(ProcessInstance.id).where(
            ProcessInstance.process_key == "outlet_application").limit(1)) is not None:
        return []
    user = session.scalar(select(User).where(User.username == clerk))
    if user is None:
        return []
    actor = actor_of(user)
    ids = []
    for key, mobile in (("huang_lihua", "13905951001"), ("cai_zhiming", "13905951002")):
        case = runtime.start_instance(session, "outlet_application", {}, None, actor)
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == case.id,
                                                       HumanTask.state == "open")).first()
        runtime.complete_task(session, task.id, _form(key, mobile), actor)
        ids.append(case.id)
    runtime.suspend_deadline(session, ids[1], "等待申请人补交户口簿复印件（补正材料）", actor)
    return ids
