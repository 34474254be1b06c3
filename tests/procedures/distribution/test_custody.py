"""卡片去向 (seed 000 §3): the one table of moves, the rows for cards accepted on delivery, a
move checked card by card before anything is written, one audited event per card, and the
queries per person, employer and batch."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.procedures.batch.states import Production
from app.procedures.distribution import custody
from app.procedures.distribution.custody import TRANSITIONS, CannotMove, CustodyError
from app.procedures.distribution.models import CardCustody, CustodyEvent
from app.procedures.distribution.states import Custody
from tests.procedures.distribution.conftest import CLERK, accepted_employer, snapshot

C = Custody


def test_the_table_of_moves():
    allowed = {(a, b) for a, tos in TRANSITIONS.items() for b in tos}
    assert allowed == {
        (C.MADE, C.ACCEPTED), (C.ACCEPTED, C.AT_CENTRE),
        (C.AT_CENTRE, C.WITH_EMPLOYER), (C.AT_CENTRE, C.WITH_HOLDER),
        (C.WITH_EMPLOYER, C.WITH_HOLDER), (C.WITH_EMPLOYER, C.RETURNED),
        (C.RETURNED, C.WITH_EMPLOYER), (C.RETURNED, C.REISSUED), (C.RETURNED, C.INVALIDATED)}
    assert (C.WITH_HOLDER, C.RETURNED) not in allowed  # the employer does not take it back
    assert set(TRANSITIONS) == set(Custody)


def test_ensure_custody_puts_accepted_cards_at_the_centre_once(db):
    made = accepted_employer(db, ("张三", "李四"))
    late = accepted_employer(db, ("赵六",), code="E9", batch=made.batch,
                             production=Production.MADE, voucher=False)  # not accepted yet
    assert custody.ensure_custody(db, made.employer.id, CLERK) == 2
    assert custody.ensure_custody(db, made.employer.id, CLERK) == 0  # idempotent
    assert custody.ensure_custody(db, late.employer.id, CLERK) == 0
    rows = db.scalars(select(CardCustody).order_by(CardCustody.card_id)).all()
    assert [(r.card_id, r.person_id, r.employer_id, r.batch_id, r.state, r.changed_by)
            for r in rows] == [(c.id, p.id, made.employer.id, made.batch.id, "at_centre", CLERK)
                               for c, p in zip(made.cards, made.persons)]
    events = custody.history(db, made.cards[0].id)
    assert [(e.from_state, e.to_state, e.by) for e in events] == [("accepted", "at_centre", CLERK)]
    assert "到货验收合格" in events[0].note and "2011年第一批" in events[0].note
    assert "宁波甲机械有限公司" in events[0].note
    # a card remade and accepted later gets its row on the next call
    made.persons[1].production = Production.MISSING
    db.flush()
    assert custody.ensure_custody(db, made.employer.id, CLERK) == 0


def test_move_writes_the_rows_and_one_event_per_card(db, made):
    custody.ensure_custody(db, made.employer.id, CLERK)
    assert custody.move(db, made.card_ids, C.WITH_EMPLOYER, "clerk2", note="交接单 JJ1-1") == 3
    assert custody.counts(db, employer_id=made.employer.id)["with_employer"] == 3
    row = custody.of_person(db, made.persons[0].id)
    assert row.state == "with_employer" and row.changed_by == "clerk2" and row.reason is None
    assert custody.move(db, made.card_ids[:1], C.RETURNED, "clerk3", reason="moved") == 1
    assert custody.move(db, made.card_ids[:1], C.INVALIDATED, "clerk3") == 1
    assert custody.of_person(db, made.persons[0].id).reason == "moved"  # kept: why it came back
    trail = [(e.from_state, e.to_state, e.reason, e.by)
             for e in custody.history(db, made.cards[0].id)]
    assert trail == [("accepted", "at_centre", None, CLERK),
                     ("at_centre", "with_employer", None, "clerk2"),
                     ("with_employer", "returned", "moved", "clerk3"),
                     ("returned", "invalidated", None, "clerk3")]
    assert all(e.at is not None for e in custody.history(db, made.cards[0].id))
    # duplicates in the list are one card; an empty list moves nothing
    assert custody.move(db, [made.card_ids[1], made.card_ids[1]], C.WITH_HOLDER, CLERK) == 1
    assert custody.move(db, [], C.WITH_HOLDER, CLERK) == 0


def test_a_move_not_in_the_table_is_refused_card_by_card_and_nothing_changes(db, made):
    custody.ensure_custody(db, made.employer.id, CLERK)
    first, second, third = made.card_ids
    custody.move(db, [first], C.WITH_HOLDER, CLERK)      # collected at the counter
    custody.move(db, [second], C.WITH_EMPLOYER, CLERK)
    before = snapshot(db)
    with pytest.raises(CannotMove) as e:
        custody.move(db, [first, second, third], C.RETURNED, CLERK, reason="moved")
    err = e.value
    assert [(c[0], c[2]) for c in err.cards] == [(first, "with_holder"), (third, "at_centre")]
    number = made.numbers[0]
    assert number not in err.message_zh and f"{number[:3]}****{number[-2:]}" in err.message_zh
    assert "已发放到本人" in err.message_zh and "在社保卡中心" in err.message_zh
    assert "已退回中心" in err.message_zh and "未做任何更改" in err.message_zh
    assert "With its holder" in err.message_en and err.kind == "conflict"
    assert snapshot(db) == before


def test_refusals_of_bad_input(db, made):
    custody.ensure_custody(db, made.employer.id, CLERK)
    custody.move(db, made.card_ids, C.WITH_EMPLOYER, CLERK)
    before = snapshot(db)
    with pytest.raises(CustodyError) as e:  # a return without its reason
        custody.move(db, made.card_ids, C.RETURNED, CLERK)
    assert e.value.code == "custody_reason_missing" and "注明原因" in e.value.message_zh
    with pytest.raises(CustodyError) as e:
        custody.move(db, made.card_ids, "lost_in_the_post", CLERK)
    assert e.value.code == "custody_unknown_state"
    with pytest.raises(CustodyError) as e:
        custody.move(db, made.card_ids, C.RETURNED, CLERK, reason="bored")
    assert e.value.code == "custody_unknown_reason"
    other = accepted_employer(db, ("孙七",), code="E2", voucher=False)  # no custody row yet
    with pytest.raises(CannotMove) as e:
        custody.move(db, [other.card_ids[0]], C.WITH_HOLDER, CLERK)
    assert "无卡片去向记录" in e.value.message_zh
    assert snapshot(db)[:2] == before[:2]


def test_queries_per_person_employer_and_batch(db):
    made = accepted_employer(db, ("张三", "李四", "王五"))
    # roster order is the persons' seq, not the order rows were made
    made.persons[0].seq, made.persons[2].seq = 3, 1
    other = accepted_employer(db, ("孙七",), code="E2", name="慈溪乙电器有限公司",
                              batch_name="2011年第二批", voucher=False)
    custody.ensure_custody(db, made.employer.id, CLERK)
    custody.ensure_custody(db, other.employer.id, CLERK)
    custody.move(db, [made.card_ids[1]], C.WITH_HOLDER, CLERK)

    assert [r[1:] for r in custody.cards_in(db, made.employer.id, C.AT_CENTRE)] == [
        (made.numbers[2], made.persons[2].id, 1, "王五"),
        (made.numbers[0], made.persons[0].id, 3, "张三")]
    by_employer = custody.counts(db, employer_id=made.employer.id)
    assert by_employer["at_centre"] == 2 and by_employer["with_holder"] == 1
    assert set(by_employer) == {s.value for s in Custody} and by_employer["returned"] == 0
    assert custody.counts(db, batch_id=other.batch.id)["at_centre"] == 1
    assert custody.counts(db)["at_centre"] >= 3

    card, row, person = custody.find_card(db, " " + made.numbers[1].lower() + " ")
    assert (card.id, row.state, person.name) == (made.card_ids[1], "with_holder", "李四")
    assert custody.find_card(db, "ZZZZZZZZ9") is None and custody.find_card(db, " ") is None
    assert custody.of_person(db, made.persons[1].id).state == "with_holder"
    assert custody.of_person(db, 10 ** 9) is None
    assert custody.history(db, 10 ** 9) == []
    events = db.scalars(select(CustodyEvent).where(CustodyEvent.card_id == made.card_ids[1])).all()
    assert len(events) == 2
