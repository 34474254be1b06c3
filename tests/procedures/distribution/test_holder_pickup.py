"""processes/distribution/holder_pickup.bpmn 个人领卡或代领: in person with the ID original, by
proxy with all four documents (refused without the household registers: back to the form's
rules), the roster signature, and a card handed over once — a second attempt says who took it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.engine import runtime
from app.engine.errors import FormInvalid
from app.procedures.distribution.models import HolderPickup
from tests.procedures.batch.conftest import id_number
from tests.procedures.batch.walk import CLERK
from tests.procedures.distribution.walk import Counter

P = "holder_pickup"


@pytest.fixture
def w(app):
    return Counter(app).cards_at_centre()


def start(w: Counter) -> int:
    with w.factory() as s:
        return runtime.start_instance(s, P, {}, None, CLERK, now=w.now).id


def test_in_person_then_a_second_attempt_is_refused_with_who_and_when(w):
    number = w.card_numbers()[0]
    start(w)
    assert w.open_tasks(P) == ["hand_card"] and w.task(P, "hand_card").group == "centre_clerk"
    w.complete(P, "hand_card", {"card": number, "who": "holder", "holder_id_seen": True}, CLERK)
    assert w.open_tasks(P) == ["sign_roster"]
    w.complete(P, "sign_roster", {"signed": True}, CLERK)
    assert w.case_of(P).status == "completed" and w.custody().get("with_holder") == 1
    start(w)
    w.complete(P, "hand_card", {"card": number, "who": "holder", "holder_id_seen": True}, CLERK)
    assert w.open_tasks(P) == ["hand_card"]
    message = w.case_data(P)["error_message"]
    assert "已于" in message and "领取" in message


def test_a_proxy_needs_all_four_documents(w):
    number = w.card_numbers()[1]
    start(w)
    proxy = {"card": number, "who": "proxy", "holder_id_seen": True, "proxy_name": "王五",
             "proxy_id_number": id_number("33020319700101123"), "proxy_id_seen": True}
    with pytest.raises(FormInvalid):  # no household registers
        w.complete(P, "hand_card", proxy, CLERK)
    w.complete(P, "hand_card", {**proxy, "holder_household_seen": True, "proxy_household_seen": True}, CLERK)
    w.complete(P, "sign_roster", {"signed": True}, CLERK)
    with w.factory() as s:
        row = s.scalars(select(HolderPickup)).one()
        assert row.by_proxy and row.proxy_name == "王五" and row.holder_household_seen and row.proxy_household_seen
