"""The task forms of the two card procedures (forms/instant_issuance.py, forms/outlet.py):
registered by form key, bilingual, validating as the diagrams' gateways expect."""
from __future__ import annotations

import pytest

import forms
from forms import set_locale, validate_data
from forms.registry import get_form
from tests.procedures.application.steps import HANDOVER, PICKUP_HOLDER, PICKUP_PROXY

KEYS = ["application." + k for k in (
    "correct_data", "confirm_old_card_stop", "card_write_failed", "handover",
    "produce_card", "send_to_outlet", "receive_at_outlet", "pickup", "overdue_review")]


def errors(key, data, lang="zh"):
    with set_locale(lang):
        return validate_data(get_form(key), data)[1]


def cleaned(key, data):
    form, errs = validate_data(get_form(key), data)
    assert errs == {}
    return form.cleaned()


@pytest.mark.parametrize("key", KEYS)
def test_registered_with_chinese_and_english_labels(key):
    assert key in forms.all_form_keys()
    form = get_form(key)()
    with set_locale("zh"):
        zh = [str(f.label.text) for f in form]
        title_zh = str(form.title)
    with set_locale("en"):
        en = [str(f.label.text) for f in form]
        title_en = str(form.title)
    def cjk(text):
        return any("\u4e00" <= ch <= "\u9fff" for ch in text)

    assert cjk(title_zh) and not cjk(title_en)
    assert all(cjk(label) for label in zh) and not any(cjk(label) for label in en)


def test_correct_data():
    assert cleaned("correct_data", {"decision": "corrected", "name": " 张玮 ", "sex": "1",
                                    "birth_date": "1992年7月15日"}) == {
        "decision": "corrected", "name": "张玮", "sex": "1", "birth_date": "1992-07-15",
        "checked_document": None, "reason": None}
    assert errors("correct_data", {})["decision"] == ["请选择“处理结果”"]
    assert errors("correct_data", {"decision": "unsolvable"}, "en") == {
        "reason": ["Please give the reason"]}
    assert "name" in errors("correct_data", {"decision": "corrected", "name": "林𪚥", "sex": "1",
                                             "birth_date": "1990-03-07"})  # not in GBK


def test_confirm_old_card_stop():
    assert errors("confirm_old_card_stop", {"decision": "stop"}) == {
        "applicant_signed": ["停用原卡须申请人签字同意"]}
    assert errors("confirm_old_card_stop", {"decision": "refuse"}) == {}


def test_card_write_failed():
    assert cleaned("card_write_failed", {"decision": "retry"})["blank_card_spoiled"] is False
    assert cleaned("card_write_failed", {"decision": "retry", "blank_card_spoiled": "on"})[
        "blank_card_spoiled"] is True
    assert set(errors("card_write_failed", {"decision": "abandon"})) == {"reason"}


def test_handover():
    assert errors("handover", HANDOVER) == {}
    assert set(errors("handover", {})) == {"identity_checked", "card_checked", "receipt_signed"}


def test_produce_card():
    assert cleaned("produce_card", {"card_inserted": True, "bank_card_number": "6212 2614 0800 0000 011"})[
        "bank_card_number"] == "6212261408000000011"
    assert cleaned("produce_card", {"card_inserted": True})["bank_card_number"] is None
    assert errors("produce_card", {"card_inserted": True, "bank_card_number": "12345"}, "en") == {
        "bank_card_number": ["A bank card number has 16-19 digits"]}
    assert set(errors("produce_card", {})) == {"card_inserted"}


def test_send_and_receive():
    assert set(errors("send_to_outlet", {})) == {"card_checked"}
    assert set(errors("receive_at_outlet", {})) == {"received"}


def test_pickup_by_holder_clears_proxy_fields():
    data = cleaned("pickup", {**PICKUP_HOLDER, "proxy_name": "某人"})
    assert data["proxy_name"] is None and data["proxy_id_number"] is None


def test_pickup_by_proxy():
    data = cleaned("pickup", {**PICKUP_PROXY, "proxy_id_number": PICKUP_PROXY["proxy_id_number"].lower()})
    assert data["picked_up_by"] == "proxy" and data["proxy_name"] == "林志坚"
    errs = errors("pickup", {"picked_up_by": "proxy", "holder_id_checked": True,
                             "receipt_signed": True}, "en")
    assert errs["proxy_name"] == ["For a proxy, the proxy's name is required"]
    assert set(errs) == {"proxy_name", "proxy_id_number", "proxy_documents_checked"}
    passport = cleaned("pickup", {**PICKUP_PROXY, "proxy_id_type": "passport",
                                  "proxy_id_number": "E12345678"})
    assert passport["proxy_id_number"] == "E12345678"


def test_overdue_review():
    assert set(errors("overdue_review", {"action": "other"})) == {"note"}
    assert errors("overdue_review", {"action": "inform_applicant", "note": "已电话告知"}) == {}
