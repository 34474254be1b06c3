"""processes/lifecycle/region_move.bpmn 跨区域迁移: the same card, the new region written on the
chip by the card station and recorded only after the read-back showed it; a failed write goes
to the clerk (write again, or give up with nothing changed)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.cards.models import Card, CardJob
from app.cards.states import CardStatus
from app.procedures.lifecycle import cases
from app.procedures.lifecycle.cards import CardRefused
from app.procedures.lifecycle.models import CardEvent, RegionMove
from app.procedures.lifecycle.states import MoveState
from tests.procedures.lifecycle.world import CLERK, life  # noqa: F401  (fixture)

P = "region_move"


def move(life, card_id, to="330282", **kw):
    with life.Session() as s:
        card = s.get(Card, card_id)
        return cases.start_move(s, card, CLERK, to_region=to, shown_id_number=kw.get("shown", card.ssn),
                                moved_on=date(2026, 8, 3), now=life.now)


def state(life):
    with life.Session() as s:
        m = s.scalars(select(RegionMove)).one()
        card = s.get(Card, m.card_id)
        kinds = list(s.scalars(select(CardEvent.kind).where(CardEvent.card_id == card.id)))
        return m, card, kinds


def test_the_chip_is_rewritten_and_verified_then_the_archive(life):
    card_id = life.card()
    move(life, card_id)
    with life.Session() as s:
        job = s.scalars(select(CardJob)).one()
        assert job.kind == "rewrite_region" and job.application_id is None
        assert job.payload["region"] == {"region_code": "330282", "moved_on": "2026-08-03"}
        assert job.payload["card"] == s.get(Card, card_id).chip_data()  # complete chip data
    m, card, kinds = state(life)
    assert m.state == MoveState.WRITING and card.insured_region is None  # nothing before the chip
    life.station(ok=True)
    m, card, kinds = state(life)
    assert m.state == MoveState.DONE and card.insured_region == "330282" and card.region_code == "330200"
    assert kinds == ["moved"] and life.case(P).status == "completed"
    with life.Session() as s:
        detail = s.scalars(select(CardEvent.detail)).one()
    assert detail["from"] == "330200" and detail["to"] == "330282"  # the history keeps both


def test_a_read_back_that_differs_is_not_a_move(life):
    card_id = life.card()
    move(life, card_id)
    life.station(ok=True, region="330200")  # the station said ok, the chip shows the old region
    m, card, kinds = state(life)
    assert m.state == MoveState.WRITING and card.insured_region is None and kinds == []
    assert life.open_tasks(P) == ["rewrite_failed"]
    assert "读回的参保地与迁入地不一致" in m.error_zh


def test_a_pulled_card_is_written_again(life):
    card_id = life.card()
    move(life, card_id)
    life.station(ok=False)
    m, card, kinds = state(life)
    assert life.open_tasks(P) == ["rewrite_failed"] and "拔出" in m.error_zh and kinds == []
    life.complete(P, "rewrite_failed", {"decision": "retry"})
    with life.Session() as s:
        job = s.scalars(select(CardJob)).one()
        assert job.state == "queued" and len(job.history) == 1  # the same job, next attempt
    life.station(ok=True)
    m, card, kinds = state(life)
    assert m.state == MoveState.DONE and card.insured_region == "330282" and kinds == ["moved"]


def test_giving_up_changes_nothing(life):
    card_id = life.card()
    move(life, card_id)
    life.station(ok=False)
    life.complete(P, "rewrite_failed", {"decision": "give_up", "note": "卡片损坏，建议换卡"})
    m, card, kinds = state(life)
    assert m.state == MoveState.FAILED and card.insured_region is None and kinds == ["move_failed"]
    assert life.case(P).status == "completed"


@pytest.mark.parametrize("to,status,message", [
    ("330200", CardStatus.ACTIVE, "无需迁移"),
    ("999999", CardStatus.ACTIVE, "不是本市的参保区域"),
    ("330282", CardStatus.LOST, "不能办理跨区域迁移"),
])
def test_refused_moves(life, to, status, message):
    card_id = life.card(status=status)
    with pytest.raises(CardRefused) as e:
        move(life, card_id, to=to)
    assert message in e.value.message_zh
    assert life.case(P) is None


def test_another_persons_id_card_is_refused(life):
    card_id = life.card()
    other = life.get(life.card()).ssn
    with pytest.raises(CardRefused):
        move(life, card_id, shown=other)
