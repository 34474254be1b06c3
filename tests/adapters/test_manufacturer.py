"""The card manufacturer adapter 制卡厂商: the two file formats, the embedded manufacturer
(card numbers, bank accounts with their Luhn digit, idempotent orders, lines it cannot make)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from app.adapters import manufacturer as mf
from app.adapters.manufacturer import (
    DELIVERY_HEADER,
    PRODUCTION_HEADER,
    DeliveryLine,
    EmbeddedCardManufacturer,
    LineStatus,
    ManufacturerCard,
    ManufacturerError,
    ProductionLine,
    is_valid_bank_account,
    luhn_check_digit,
    new_bank_account,
    read_delivery,
    read_production,
    write_delivery,
    write_production,
)
from app.engine.db import make_engine
from hardware.profile import card_number_check_char, is_valid_card_number, new_card_number


def citizen_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def line(n: int, bank: str = "ICBC", **changes) -> ProductionLine:
    values = dict(line=n, batch="7", employer_code="E1", employer_name="宁波甲机械有限公司",
                  name=f"职工{n}", sex="1", ethnicity="01",
                  id_number=citizen_id(f"33020319800101{n:03d}"), birth_date="19800101",
                  region="330200", bank=bank, photo="")
    values.update(changes)
    return ProductionLine(**values)


@pytest.fixture
def session(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'mf.db'}")
    ManufacturerCard.__table__.create(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


# -- bank accounts 银行卡号 ---------------------------------------------------------------------

def test_luhn_check_digit():
    assert luhn_check_digit("7992739871") == "3"          # the textbook example
    assert is_valid_bank_account("6212261402000000015")   # the demo's ICBC card
    assert not is_valid_bank_account("6212261402000000016")
    assert not is_valid_bank_account("621226140200000001")  # 18 digits
    assert not is_valid_bank_account(None)


@pytest.mark.parametrize("bank, bin_", [("ICBC", "621226"), ("CCB", "621700"), ("BOC", "621661"),
                                        ("ABC", "622848"), ("NBCB", mf.FALLBACK_BIN)])
def test_bank_account_has_the_banks_bin_and_a_luhn_digit(bank, bin_):
    for _ in range(50):
        number = new_bank_account(bank)
        assert len(number) == 19 and number.startswith(bin_) and is_valid_bank_account(number)


# -- the file formats --------------------------------------------------------------------------

def test_production_file_round_trip():
    lines = [line(1), line(2, employer_name='宁波"甲",机械\n有限公司', photo="x.jpg"), line(3, bank="BOC")]
    text = write_production(lines)
    assert text.splitlines()[0] == ",".join(PRODUCTION_HEADER)
    assert text.endswith("\r\n")
    assert read_production(text) == lines
    assert read_production("\ufeff" + text) == lines  # saved by Excel with a BOM


def test_delivery_file_round_trip():
    lines = [DeliveryLine(1, citizen_id("33020319800101001"), "职工1", _card(), "ICBC",
                          new_bank_account("ICBC"), date(2011, 10, 9), LineStatus.MADE),
             DeliveryLine(2, citizen_id("33020319800101002"), "职工2", None, "工行", None, None,
                          LineStatus.FAILED, "银行代码“工行”无效")]
    text = write_delivery(lines)
    assert text.splitlines()[0] == ",".join(DELIVERY_HEADER)
    assert text.splitlines()[1].split(",")[6:8] == ["20111009", "made"]
    assert read_delivery(text) == lines
    assert write_delivery(read_delivery(text)) == text


@pytest.mark.parametrize("text, words", [
    ("", "为空"),
    ("序号,姓名\r\n1,张三\r\n", "标题行"),
    (",".join(PRODUCTION_HEADER) + "\r\n2" + ",x" * 11 + "\r\n", "序号应为 1"),
    (",".join(PRODUCTION_HEADER) + "\r\n1" + ",x" * 11 + "\r\n1" + ",x" * 11 + "\r\n", "序号应为 2"),
])
def test_unreadable_production_file_is_refused_as_a_whole(text, words):
    with pytest.raises(ManufacturerError) as e:
        read_production(text)
    assert words in e.value.message_zh and e.value.message_en


def test_production_line_of_the_wrong_shape_is_read_with_its_problem():
    text = write_production([line(1)]) + "2,7,E1\r\n"
    first, second = read_production(text)
    assert first.problem is None and second.problem == "应有 12 列"
    assert mf.line_problem(second) == "应有 12 列"


def test_delivery_lines_that_do_not_say_made_clearly_are_failed():
    head = ",".join(DELIVERY_HEADER) + "\r\n"
    account = new_bank_account("ICBC")
    bad_luhn = account[:-1] + str((int(account[-1]) + 1) % 10)
    rows = [f"1,ID,甲,BADNUMBER,ICBC,{account},20111009,made,",
            "2,ID,乙,,ICBC,,,failed,照片缺失",
            f"3,ID,丙,{_card()},ICBC,{bad_luhn},20111009,made,",
            f"4,ID,丁,{_card()},ICBC,{account},2011-10-09,made,",
            f"5,ID,戊,{_card()},ICBC,{account},20111009,done,",
            "6,ID,己"]
    lines = read_delivery(head + "\r\n".join(rows) + "\r\n")
    assert [d.status for d in lines] == [LineStatus.FAILED] * 6
    assert [d.note for d in lines] == ["卡号无效", "照片缺失", "银行卡号无效", "制卡日期无效",
                                       "状态“done”无效", "结果行应有 9 列"]
    assert all(d.card_number is None and d.bank_account is None for d in lines)


def _card() -> str:
    return new_card_number()


# -- the embedded manufacturer -----------------------------------------------------------------

def test_delivery_is_none_before_the_order_is_submitted(session):
    assert EmbeddedCardManufacturer(session).delivery("ZK1-1") is None


def test_embedded_manufacturer_makes_every_card(session):
    maker = EmbeddedCardManufacturer(session)
    lines = [line(n, bank=b) for n, b in enumerate(["ICBC", "CCB", "BOC", "ABC", "NBCB"], 1)]
    maker.submit("ZK1-1", write_production(lines))
    delivered = read_delivery(maker.delivery("ZK1-1"))
    assert [d.line for d in delivered] == [1, 2, 3, 4, 5]
    assert all(d.made for d in delivered)
    assert [d.id_number for d in delivered] == [l.id_number for l in lines]
    assert [d.name for d in delivered] == [l.name for l in lines]
    assert all(is_valid_card_number(d.card_number) for d in delivered)
    assert [d.bank_account[:6] for d in delivered] == ["621226", "621700", "621661", "622848",
                                                       mf.FALLBACK_BIN]
    assert all(is_valid_bank_account(d.bank_account) and d.made_on for d in delivered)


def test_submitting_the_same_order_twice_makes_the_cards_once(session):
    maker = EmbeddedCardManufacturer(session)
    text = write_production([line(1), line(2)])
    maker.submit("ZK1-1", text)
    first = maker.delivery("ZK1-1")
    maker.submit("ZK1-1", text)
    assert maker.delivery("ZK1-1") == first
    assert session.scalar(select(func.count()).select_from(ManufacturerCard)) == 2


def test_an_order_number_reused_for_other_persons_is_refused(session):
    maker = EmbeddedCardManufacturer(session)
    maker.submit("ZK1-1", write_production([line(1)]))
    with pytest.raises(ManufacturerError) as e:
        maker.submit("ZK1-1", write_production([line(1, id_number=citizen_id("33020319800101999"))]))
    assert e.value.code == "order_conflict"


@pytest.mark.parametrize("number", ["", "ZK 1", "ZK1/1", "Z" * 31])
def test_invalid_order_number_is_refused(session, number):
    with pytest.raises(ManufacturerError) as e:
        EmbeddedCardManufacturer(session).submit(number, write_production([line(1)]))
    assert e.value.code == "order_number"


def test_bad_lines_fail_and_the_others_are_made(session):
    maker = EmbeddedCardManufacturer(session)
    lines = [line(1), line(2, bank="工行"), line(3, bank=""), line(4, id_number="330203198001010049"),
             line(5, name=""), line(6, sex="男"), line(7, birth_date="1980-01-01"), line(8)]
    maker.submit("ZK1-1", write_production(lines))
    delivered = read_delivery(maker.delivery("ZK1-1"))
    assert [d.status for d in delivered] == ["made"] + ["failed"] * 6 + ["made"]
    assert [d.note for d in delivered[1:7]] == ["银行代码“工行”无效", "银行代码“”无效", "身份证号无效",
                                                "姓名为空", "性别代码无效", "出生日期无效"]
    assert all(d.card_number is None and d.bank_account is None for d in delivered[1:7])


def test_numbers_drawn_twice_or_already_taken_are_drawn_again(session, monkeypatch):
    numbers = [b + card_number_check_char(b) for b in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC", "DDDDDDDD")]
    maker = EmbeddedCardManufacturer(session)
    draws = iter([numbers[0]])
    monkeypatch.setattr(mf, "new_card_number", lambda: next(draws))
    maker.submit("ZK1-1", write_production([line(1)]))  # takes AAAAAAAA
    # the next order draws A (taken), B, B again (drawn twice), then C for the line left
    draws = iter([numbers[0], numbers[1], numbers[1], numbers[2]])
    monkeypatch.setattr(mf, "new_card_number", lambda: next(draws))
    maker.submit("ZK1-2", write_production([replace(line(2), line=1), replace(line(3), line=2)]))
    made = session.scalars(select(ManufacturerCard.card_number).order_by(ManufacturerCard.id)).all()
    assert sorted(made) == numbers[:3]


def test_many_lines_get_unique_numbers(session):
    maker = EmbeddedCardManufacturer(session)
    lines = [line(n, id_number=citizen_id(f"330203198001{n:05d}")) for n in range(1, 2501)]
    maker.submit("ZK1-1", write_production(lines))
    delivered = read_delivery(maker.delivery("ZK1-1"))
    assert len(delivered) == 2500
    assert len({d.card_number for d in delivered}) == 2500
    assert len({d.bank_account for d in delivered}) == 2500
