"""Police household register: match, and the distinct reasons of a mismatch."""
import pytest

import app.adapters as adapters
from app.adapters.demo import BY_KEY, NOT_IN_REGISTER, PERSONS
from app.adapters.police import EmbeddedPoliceRegister, PoliceRegisterPerson, Reason


def verify(session, key, **changes):
    p = {**BY_KEY[key], **changes}
    return adapters.police(session).verify(p["id_number"], p["name"], p["sex"], p["birth_date"])


@pytest.mark.parametrize("key", ["lin_kun", "chen_xiuying", "wu_meiling", "li_minghui"])
def test_matching_person(session, key):
    result = verify(session, key)
    assert result.match and result.reasons == []
    assert result.household_address == BY_KEY[key]["household_address"]
    assert result.ethnicity == BY_KEY[key]["ethnicity"]


def codes(result):
    return [r.code for r in result.reasons]


def test_unknown_person(session):
    result = verify(session, "qiu_zhiqiang")
    assert not result.match and codes(result) == ["unknown_person"]
    assert result.reason_pairs[0][0].startswith("公安户籍库中无此公民身份号码")


def test_name_differs(session):
    result = verify(session, "zhang_wei", name="张伟")
    assert codes(result) == ["name_differs"]
    assert result.registered == {"name": "张玮"}  # the register's value, for the clerk to compare
    assert verify(session, "zhang_wei").match  # after the correction to 张玮


def test_sex_and_birth_date_differ(session):
    assert codes(verify(session, "xu_xiaoyan", sex="2")) == ["sex_differs"]
    from datetime import date
    result = verify(session, "lin_kun", birth_date=date(1990, 3, 8), name="林 堃")
    assert codes(result) == ["birth_date_differs"]  # blanks inside a name do not count
    assert result.registered == {"birth_date": BY_KEY["lin_kun"]["birth_date"].isoformat()}


def test_not_a_local_household(session):
    result = verify(session, "liu_yang")
    assert codes(result) == ["not_local_household"]
    assert "非本地户籍" in result.reasons[0].zh and "Not a local household" in result.reasons[0].en


def test_no_second_generation_id(session):
    session.get(PoliceRegisterPerson, BY_KEY["hong_wenjie"]["id_number"]).has_second_gen_id = False
    assert codes(verify(session, "hong_wenjie")) == ["no_second_gen_id"]


def test_reasons_are_bilingual_and_serialisable():
    reason = Reason.of("name_differs")
    assert reason.as_dict() == {"code": "name_differs", "zh": "姓名与公安户籍登记不一致",
                                "en": "The name differs from the police household register"}


def test_demo_register(session):
    assert session.query(PoliceRegisterPerson).count() == len(PERSONS)
    assert session.get(PoliceRegisterPerson, NOT_IN_REGISTER["id_number"]) is None
    assert isinstance(adapters.police(session), EmbeddedPoliceRegister)
