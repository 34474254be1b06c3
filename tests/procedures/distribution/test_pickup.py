"""单位批量领卡 (seed 000 §3(二)1): the agent checked against the letter, the ID shown and the
employer's current voucher; the cards counted in front of both (twice, another employer's, one
missing, an unknown number: refused with the differences, nothing recorded); the handover with
the 3-working-day and 6-month dates across the 2026 National Day holiday."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.engine import ports
from app.procedures.batch import voucher as vouchers
from app.procedures.batch.voucher import AgentNotAuthorised
from app.procedures.distribution import custody, pickup
from app.procedures.distribution.models import CardCustody, EmployerPickup, PickupCard
from app.procedures.distribution.pickup import CountDiffers, PickupError
from app.procedures.distribution.states import Custody
from app.sla.calendar import WorkingDayCalendar
from tests.procedures.distribution.conftest import (
    AGENT,
    AGENT_ID,
    CLERK,
    OTHER_ID,
    accepted_employer,
    add_person,
    snapshot,
)

BEFORE_NATIONAL_DAY = date(2026, 9, 29)


def masked(number: str) -> str:
    return f"{number[:3]}****{number[-2:]}"


def start(db, made, **kw) -> EmployerPickup:
    args = {"agent_name": "王经办", "agent_id": AGENT_ID, "shown_id": AGENT_ID,
            "seal_checked": True, "actor_name": CLERK}
    args.update(kw)
    return pickup.check_agent(db, made.employer.id, **args)


def counted(db, made) -> EmployerPickup:
    row = start(db, made)
    pickup.count_cards(db, row.id, made.numbers, CLERK)
    return row


# -- 1. the agent ------------------------------------------------------------------------------------

def test_the_agent_on_the_current_voucher_opens_the_pickup(db, made):
    row = start(db, made, agent_name=" 王 经办 ", agent_id=AGENT_ID.lower(),
                shown_id=f" {AGENT_ID} ", office="SS-CENTRE", instance_id=7)
    assert row.number == f"JJ{made.employer.id}-1" and row.status == "agent_checked"
    assert (row.letter_agent_name, row.letter_agent_id, row.voucher_version) == ("王 经办", AGENT_ID, 1)
    assert row.seal_checked and row.office == "SS-CENTRE" and row.instance_id == 7
    assert row.created_by == CLERK and row.cards == 0
    assert row.letter_agent_id_masked == AGENT_ID[:6] + "********" + AGENT_ID[-4:]
    # the cards accepted on delivery are now at the centre
    assert custody.counts(db, employer_id=made.employer.id)["at_centre"] == 3


def test_an_agent_not_on_the_voucher_is_refused_and_nothing_changes(db, made):
    before = snapshot(db)
    with pytest.raises(AgentNotAuthorised) as e:
        start(db, made, agent_name="李代办", agent_id=OTHER_ID, shown_id=OTHER_ID)
    assert e.value.code == "agent_unknown" and e.value.kind == "forbidden"
    assert OTHER_ID not in e.value.message_zh and "不是本单位申领凭证上的经办人" in e.value.message_zh
    assert snapshot(db) == before


def test_an_agent_of_a_replaced_voucher_is_refused(db, made):
    vouchers.record_voucher(db, made.employer.code, made.employer.name,
                            [{"name": "李代办", "id_number": OTHER_ID, "mobile": "13900000012"}],
                            CLERK)  # version 2: 王经办 replaced
    before = snapshot(db)
    with pytest.raises(AgentNotAuthorised) as e:
        start(db, made)
    assert e.value.code == "agent_replaced" and "第 2 版" in e.value.message_zh
    assert "version 2" in e.value.message_en and AGENT_ID not in e.value.message_zh
    assert snapshot(db) == before
    row = start(db, made, agent_name="李代办", agent_id=OTHER_ID, shown_id=OTHER_ID)
    assert row.voucher_version == 2


def test_an_employer_without_a_voucher_is_refused(db):
    made = accepted_employer(db, ("张三",), code="E7", voucher=False)
    with pytest.raises(AgentNotAuthorised) as e:
        start(db, made)
    assert e.value.code == "no_voucher"


@pytest.mark.parametrize("kw, code, words", [
    ({"seal_checked": False}, "seal_not_checked", "单位公章"),
    ({"shown_id": OTHER_ID}, "letter_id_mismatch", "与领卡人出示的身份证"),
    ({"agent_name": "王精办"}, "letter_name_mismatch", "与申领凭证上该经办人的姓名"),
    ({"agent_name": "  "}, "letter_name_missing", "领卡人姓名"),
    ({"agent_id": ""}, "letter_id_missing", "身份证号码"),
    ({"agent_id": AGENT_ID[:-1] + ("0" if AGENT_ID[-1] != "0" else "1")}, "letter_id_invalid",
     "校验位"),
    ({"shown_id": ""}, "shown_id_missing", "出示的本人身份证"),
])
def test_the_letter_and_the_seal_are_checked(db, made, kw, code, words):
    before = snapshot(db)
    with pytest.raises(PickupError) as e:
        start(db, made, **kw)
    assert e.value.code == code and words in e.value.message_zh and e.value.message_en
    assert AGENT_ID not in e.value.message_zh and OTHER_ID not in e.value.message_zh
    assert snapshot(db) == before


def test_one_open_pickup_per_employer_and_cards_needed(db, made):
    first = start(db, made)
    with pytest.raises(PickupError) as e:
        start(db, made)
    assert e.value.code == "pickup_open" and first.number in e.value.message_zh
    pickup.count_cards(db, first.id, made.numbers, CLERK)
    with pytest.raises(PickupError) as e:  # counted, not signed yet: still open
        start(db, made)
    assert e.value.code == "pickup_open"
    pickup.hand_over(db, first.id, CLERK, today=BEFORE_NATIONAL_DAY, calendar=WorkingDayCalendar())
    with pytest.raises(PickupError) as e:  # everything went with the first pickup
        start(db, made)
    assert e.value.code == "no_cards_waiting" and made.employer.name in e.value.message_zh
    # a card remade and accepted later: a second pickup
    add_person(db, made, "钱八")
    second = start(db, made)
    assert second.number == f"JJ{made.employer.id}-2"


# -- 2. counting -------------------------------------------------------------------------------------

def test_counting_records_the_cards_in_roster_order(db, made):
    made.persons[0].seq, made.persons[2].seq = 3, 1  # 王五 first on the roster
    db.flush()
    row = start(db, made)
    scanned = [f"  {made.numbers[0].lower()} ", "\u3000" + made.numbers[1], "", made.numbers[2]]
    assert pickup.count_cards(db, row.id, scanned, CLERK) == {"cards": 3}
    assert row.status == "counted" and row.cards == 3 and row.counted_at is not None
    lines = pickup.pickup_cards(db, row.id)
    assert [(l.card_id, l.person_id, l.seq) for l in lines] == [
        (made.card_ids[2], made.persons[2].id, 1), (made.card_ids[1], made.persons[1].id, 2),
        (made.card_ids[0], made.persons[0].id, 3)]
    # counted again before the handover: the new count replaces the first
    assert pickup.count_cards(db, row.id, list(reversed(made.numbers)), CLERK) == {"cards": 3}
    assert db.scalar(select(func.count()).select_from(PickupCard)) == 3
    # nothing moved yet: the cards are at the centre until both sign
    assert custody.counts(db, employer_id=made.employer.id)["at_centre"] == 3


def test_a_card_counted_twice_is_refused_and_nothing_recorded(db, made):
    row = start(db, made)
    before = snapshot(db)
    with pytest.raises(CountDiffers) as e:
        pickup.count_cards(db, row.id, made.numbers + [made.numbers[1].lower()], CLERK)
    err = e.value
    assert err.duplicates == [made.numbers[1]] and not err.missing and not err.extra
    assert f"重复清点 1 张：{masked(made.numbers[1])}" in err.message_zh
    assert "未做任何记录" in err.message_zh and "counted twice" in err.message_en
    assert made.numbers[1] not in err.message_zh and err.kind == "invalid"
    assert snapshot(db) == before


def test_a_card_of_another_employer_in_the_pile_is_refused(db, made):
    other = accepted_employer(db, ("孙七",), code="E2", name="慈溪乙电器有限公司",
                              batch_name="2011年第二批", voucher=False)
    custody.ensure_custody(db, other.employer.id, CLERK)
    row = start(db, made)
    before = snapshot(db)
    with pytest.raises(CountDiffers) as e:
        pickup.count_cards(db, row.id, made.numbers + other.numbers, CLERK)
    extra = e.value.extra
    assert [(x.card_number, x.employer, x.batch) for x in extra] == [
        (other.numbers[0], "慈溪乙电器有限公司", "2011年第二批")]
    assert "不属于本次领取的卡 1 张" in e.value.message_zh
    assert "属于“2011年第二批”批次的“慈溪乙电器有限公司”" in e.value.message_zh
    assert "belongs to 慈溪乙电器有限公司, batch 2011年第二批" in e.value.message_en
    assert snapshot(db) == before


def test_a_missing_card_and_an_unknown_number_are_refused(db, made):
    row = start(db, made)
    before = snapshot(db)
    with pytest.raises(CountDiffers) as e:
        pickup.count_cards(db, row.id, made.numbers[:2] + ["ZZ0000001"], CLERK)
    err = e.value
    assert err.missing == [made.numbers[2]]
    assert f"名单上有但未清点到 1 张（{masked(made.numbers[2])}）" in err.message_zh
    assert [x.card_number for x in err.extra] == ["ZZ0000001"]
    assert "本平台无此卡号" in err.message_zh and "no such card number" in err.message_en
    assert snapshot(db) == before
    with pytest.raises(PickupError) as e:  # nothing at all
        pickup.count_cards(db, row.id, [" ", ""], CLERK)
    assert e.value.code == "nothing_scanned"
    assert snapshot(db) == before


def test_a_card_already_with_its_holder_or_picked_up_is_not_on_the_list(db, made):
    first = counted(db, made)
    pickup.hand_over(db, first.id, CLERK, today=BEFORE_NATIONAL_DAY, calendar=WorkingDayCalendar())
    custody.move(db, [made.card_ids[0]], Custody.WITH_HOLDER, CLERK)  # signed on the roster
    _, late = add_person(db, made, "钱八")
    second = start(db, made)
    before = snapshot(db)
    with pytest.raises(CountDiffers) as e:
        pickup.count_cards(db, second.id, [late.card_number] + made.numbers[:2], CLERK)
    zh = e.value.message_zh
    assert f"{masked(made.numbers[0])}（已发放到本人）" in zh
    assert f"{masked(made.numbers[1])}（已由单位领取，交接单 {first.number}）" in zh
    assert snapshot(db) == before
    assert pickup.count_cards(db, second.id, [late.card_number], CLERK) == {"cards": 1}


def test_many_differences_are_cut_in_the_message(db):
    made = accepted_employer(db, [f"职工{i}" for i in range(15)], code="E5")
    row = start(db, made)
    with pytest.raises(CountDiffers) as e:
        pickup.count_cards(db, row.id, made.numbers[:1], CLERK)
    assert len(e.value.missing) == 14 and "名单上有但未清点到 14 张" in e.value.message_zh
    assert e.value.message_zh.count("****") == 10


# -- 3. the handover ----------------------------------------------------------------------------------

def test_the_handover_moves_the_cards_and_sets_the_dates_across_national_day(db, made):
    row = start(db, made)
    with pytest.raises(PickupError) as e:
        pickup.hand_over(db, row.id, CLERK, today=BEFORE_NATIONAL_DAY, calendar=WorkingDayCalendar())
    assert e.value.code == "not_counted"
    pickup.count_cards(db, row.id, made.numbers, CLERK)
    cal = WorkingDayCalendar()
    assert cal.add_working_days(BEFORE_NATIONAL_DAY, 3) == date(2026, 10, 9)  # 30 Sep, 8 Oct, 9 Oct
    out = pickup.hand_over(db, row.id, "clerk2", today=BEFORE_NATIONAL_DAY, calendar=cal)
    assert out.status == "handed_over" and out.handed_over_by == "clerk2"
    assert out.handed_over_at is not None
    assert out.distribute_by == date(2026, 10, 9) and out.return_by == date(2027, 3, 29)
    assert custody.counts(db, employer_id=made.employer.id)["with_employer"] == 3
    events = custody.history(db, made.card_ids[0])
    assert (events[-1].from_state, events[-1].to_state, events[-1].pickup_id, events[-1].by) == (
        "at_centre", "with_employer", row.id, "clerk2")
    assert row.number in events[-1].note
    with pytest.raises(PickupError) as e:  # signed once
        pickup.hand_over(db, row.id, CLERK, today=BEFORE_NATIONAL_DAY, calendar=cal)
    assert e.value.code == "pickup_wrong_status"
    with pytest.raises(PickupError):  # nor counted again
        pickup.count_cards(db, row.id, made.numbers, CLERK)


def test_the_platforms_calendar_port_agrees(db, made):
    row = counted(db, made)
    out = pickup.hand_over(db, row.id, CLERK, today=BEFORE_NATIONAL_DAY, calendar=ports.calendar(db))
    assert out.distribute_by == date(2026, 10, 9)


class NoYear:
    def add_working_days(self, start, n):
        raise ports.YearNotEntered(start.year + 1)


def test_a_year_not_entered_leaves_the_distribution_date_open(db, made):
    row = counted(db, made)
    out = pickup.hand_over(db, row.id, CLERK, today=date(2027, 8, 31), calendar=NoYear())
    assert out.distribute_by is None and out.status == "handed_over"
    assert out.return_by == date(2028, 2, 29)  # 6 months, clamped to February's end


def test_a_card_that_moved_after_counting_stops_the_handover(db, made):
    row = counted(db, made)
    custody.move(db, [made.card_ids[1]], Custody.WITH_HOLDER, CLERK)  # collected at the counter
    before = snapshot(db)
    with pytest.raises(custody.CannotMove) as e:
        pickup.hand_over(db, row.id, CLERK, today=BEFORE_NATIONAL_DAY, calendar=WorkingDayCalendar())
    assert masked(made.numbers[1]) in e.value.message_zh
    assert snapshot(db) == before
    assert db.get(EmployerPickup, row.id).status == "counted"
    assert db.scalar(select(func.count()).select_from(CardCustody)
                     .where(CardCustody.state == "with_employer")) == 0


def test_unknown_pickup(db):
    with pytest.raises(PickupError) as e:
        pickup.count_cards(db, 10 ** 9, ["X"], CLERK)
    assert e.value.kind == "not_found"
    assert AGENT["name"] == "王经办"
