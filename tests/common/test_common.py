"""app.common: one clock, one masking rule per kind of number, one bilingual error base."""
from datetime import date, datetime, timezone

import pytest

from app.adapters.police import PoliceUnavailable
from app.adapters.sms import SmsError
from app.cards.archive import ArchiveError
from app.cards.rules import LiveCardExists
from app.cards.stock import StockError
from app.common.clock import china_today, deadline_datetime, to_local_date
from app.common.errors import BilingualError
from app.common.masking import mask_bank_card, mask_card_number, mask_id, mask_phone
from app.engine.errors import InstanceNotFound
from app.engine.services import ServiceError


def test_masks():
    assert mask_id("350581199003071311") == "350581********1311"
    assert mask_phone("13805951234") == "138****1234" and mask_phone("1234") == "****"
    assert mask_card_number("B7K334774") == "B7K****74"
    assert mask_bank_card("6212261408000000055") == "621226*********0055"
    assert mask_id(None) == "" and mask_id("12345") == "*****"


def test_one_clock():
    late_utc = datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc)  # 01:00 on 1 January in China
    assert to_local_date(late_utc) == date(2027, 1, 1)
    assert deadline_datetime(date(2027, 1, 11)).isoformat() == "2027-01-11T23:59:59+08:00"
    assert isinstance(china_today(), date)


@pytest.mark.parametrize("error, kind", [
    (InstanceNotFound(7), "not_found"),
    (ServiceError("police_unavailable", "公安户籍库暂时无法访问", "The register is down"), "invalid"),
    (ArchiveError("card_unknown", "档案库中无此卡", "No such card"), "conflict"),
    (StockError("no_blank_card", "无半成品卡", "No blank card"), "conflict"),
    (SmsError("sms_failed", "短信发送失败", "SMS failed"), "conflict"),
    (PoliceUnavailable(), "conflict"),
    (LiveCardExists(), "conflict"),
])
def test_every_error_a_person_reads_has_one_shape(error, kind):
    assert isinstance(error, BilingualError) and error.kind == kind
    assert error.message_zh and error.message_en and error.message("en") == error.message_en
    as_service = ServiceError.of(error)
    assert (as_service.message_zh, as_service.message_en) == (error.message_zh, error.message_en)
    assert as_service.code == (error.code or type(error).__name__)
