"""The employer's authorisation voucher 申领凭证 (seed 001 §4.1, annex 1): versions and history,
the agent at the desk (current accepted, replaced refused with the version), validation."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

from app.common.clock import china_today
from app.procedures.batch import voucher as vouchers
from app.procedures.batch.models import Voucher, VoucherAgent
from app.procedures.batch.voucher import AgentNotAuthorised, VoucherInvalid


def idn(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


WANG, LI, ZHAO, QIAN = (idn(f"33020319800101{i:03d}") for i in (11, 12, 13, 14))


def agent(name, id_number, mobile="13800138000", office_phone=None, **kw):
    return {"name": name, "id_number": id_number, "mobile": mobile, "office_phone": office_phone,
            **kw}


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_versions_and_history(db):
    v1 = vouchers.record_voucher(db, "E001", "宁波甲机械有限公司",
                                 [agent("王强", WANG, office_phone="0574-87654321"),
                                  agent("李梅", LI, mobile="139 0000 1111")],
                                 "clerk1", phone="0574-87654321", address="宁波市海曙区中山路1号",
                                 postcode="315000", filled_by="王强")
    v2 = vouchers.record_voucher(db, "E001", "宁波甲机械有限公司", [agent("赵刚", ZHAO)], "clerk2")
    assert (v1.version, v2.version) == (1, 2)
    assert v1.postcode == "315000" and v1.filled_by == "王强" and v1.recorded_by == "clerk1"
    assert vouchers.current_voucher(db, "E001").id == v2.id
    assert [a.name for a in vouchers.agents_of(db, v1)] == ["王强", "李梅"]
    assert vouchers.agents_of(db, v1)[1].mobile == "13900001111"  # spaces dropped
    history = vouchers.history(db, "E001")
    assert [(v.version, [a.name for a in agents]) for v, agents in history] == [
        (2, ["赵刚"]), (1, ["王强", "李梅"])]
    assert vouchers.current_voucher(db, "E999") is None and vouchers.history(db, "E999") == []


def test_other_employers_count_their_own_versions(db):
    vouchers.record_voucher(db, "E001", "甲", [agent("王强", WANG)], "clerk")
    assert vouchers.record_voucher(db, "E002", "乙", [agent("王强", WANG)], "clerk").version == 1


def test_current_agent_accepted(db):
    vouchers.record_voucher(db, "E001", "甲", [agent("王强", WANG), agent("李梅", LI)], "clerk")
    assert vouchers.check_agent(db, "E001", LI).name == "李梅"
    # typed with spaces and a lower-case check character (when there is one) still matches
    assert vouchers.check_agent(db, "E001", " " + WANG.lower() + " ").name == "王强"


def test_replaced_agent_refused_naming_the_current_version(db):
    vouchers.record_voucher(db, "E001", "甲", [agent("王强", WANG), agent("李梅", LI)], "clerk")
    vouchers.record_voucher(db, "E001", "甲", [agent("李梅", LI), agent("赵刚", ZHAO)], "clerk")
    assert vouchers.check_agent(db, "E001", LI).name == "李梅"  # still on version 2
    with pytest.raises(AgentNotAuthorised) as e:
        vouchers.check_agent(db, "E001", WANG)
    day = china_today().isoformat()
    assert e.value.kind == "forbidden" and e.value.code == "agent_replaced"
    assert (f"该经办人已不在单位现行申领凭证（第 2 版，{day} 登记）上，"
            "请由现行凭证上的经办人办理或重新填报申领凭证") in e.value.message_zh
    assert WANG not in e.value.message_zh
    assert WANG[:6] + "********" + WANG[-4:] in e.value.message_zh
    assert "version 2" in e.value.message_en


def test_unknown_agent_and_no_voucher(db):
    with pytest.raises(AgentNotAuthorised) as e:
        vouchers.check_agent(db, "E001", WANG)
    assert "本单位尚未登记申领凭证" in e.value.message_zh
    vouchers.record_voucher(db, "E001", "甲", [agent("王强", WANG)], "clerk")
    with pytest.raises(AgentNotAuthorised) as e:
        vouchers.check_agent(db, "E001", QIAN)
    assert "该身份证号码不是本单位申领凭证上的经办人" in e.value.message_zh
    assert QIAN not in str(e.value)


def test_every_problem_listed_and_nothing_written(db):
    bad_check = WANG[:-1] + ("0" if WANG[-1] != "0" else "1")
    with pytest.raises(VoucherInvalid) as e:
        vouchers.record_voucher(db, "E001", "甲", [
            agent("", LI),                          # no name
            agent("李梅", bad_check),                # wrong check character
            agent("赵刚", ZHAO, mobile="2800138000")  # not a mobile
        ], "clerk", postcode="31500")
    zh = e.value.message_zh
    assert e.value.kind == "invalid" and len(e.value.problems) == 4
    assert "经办人（1）未填写姓名" in zh and "校验位" in zh and "手机号码应为11位" in zh
    assert "邮政编码应为6位数字" in zh
    assert count(db, Voucher) == 0 and count(db, VoucherAgent) == 0 and not db.new


@pytest.mark.parametrize("agents, words", [
    ([], "至少应填写一名经办人"),
    ([agent("甲", WANG), agent("乙", LI), agent("丙", ZHAO), agent("丁", QIAN)], "经办人最多3名"),
    ([agent("王强", WANG), agent("王强", WANG)], "身份证号码相同"),
    ([agent("王强", WANG[:17])], "应为18位"),
    ([agent("王强", WANG, mobile="")], "未填写手机号码"),
    ([agent("王强", WANG, office_phone="12")], "电话号码应为区号加号码"),
    ([agent("王强", WANG, slot=4)], "经办人栏位"),
])
def test_validation(db, agents, words):
    with pytest.raises(VoucherInvalid) as e:
        vouchers.record_voucher(db, "E001", "甲", agents, "clerk")
    assert words in e.value.message_zh
    assert count(db, Voucher) == 0


def test_empty_boxes_are_no_agents_and_slots_kept(db):
    blank = {"name": "", "id_number": " ", "mobile": None, "office_phone": ""}
    v = vouchers.record_voucher(db, "E001", "甲", [blank, agent("李梅", LI, slot="2"), blank],
                                "clerk")
    assert [(a.slot, a.name) for a in vouchers.agents_of(db, v)] == [(2, "李梅")]
