"""The provincial report of returned cards 省级退卡上报: the embedded default keeps one row per
card (a card reported again answers its first report number), checks the records, lays out the
provincial return slip in two copies; the adapter is registered like the others."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import app.adapters as adapters
from app.adapters.province import (SLIP_COPIES, EmbeddedProvincialReport, ProvinceCardReport,
                                   ProvincialReport, ProvincialReportError, ReportRecord,
                                   clean_records, slip)
from app.engine.db import make_engine


@pytest.fixture
def session(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'province.db'}")
    ProvinceCardReport.__table__.create(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def record(n: int, **changes) -> dict:
    return {"card_number": f"B7K33477{n}", "id_number": f"35058119900307131{n}", "name": f"林{n}",
            "reason": "信息错误：姓名", "returned_on": date(2026, 11, 27), **changes}


def rows(session) -> int:
    return session.scalar(select(func.count()).select_from(ProvinceCardReport))


def test_report_keeps_one_row_per_card(session):
    report = EmbeddedProvincialReport(session)
    number = report.report_returned([record(1), record(2, returned_on="2026-11-28",
                                                        card_number=" b7k334772 ")])
    assert re.fullmatch(r"SJTK\d{8}-\d{6}", number)
    stored = session.scalars(select(ProvinceCardReport).order_by(ProvinceCardReport.id)).all()
    assert [(r.report_number, r.card_number, r.id_number, r.name, r.reason, r.returned_on)
            for r in stored] == [
        (number, "B7K334771", "350581199003071311", "林1", "信息错误：姓名", date(2026, 11, 27)),
        (number, "B7K334772", "350581199003071312", "林2", "信息错误：姓名", date(2026, 11, 28))]
    assert number.endswith(f"-{stored[0].id:06d}")
    assert stored[0].reported_at is not None
    assert "B7K****71" in repr(stored[0])
    # reported again (a retried step): the same number, nothing new
    assert report.report_returned([record(2), record(1)]) == number
    assert rows(session) == 2
    # a new card with one reported before: the new one under a new number
    again = report.report_returned([record(1), record(3)])
    assert again != number and rows(session) == 3
    assert report.report_of("b7k334773") == again and report.report_of("B7K334771") == number
    assert report.report_of("B7K000000") is None
    assert [r.card_number for r in report.records(number)] == ["B7K334771", "B7K334772"]


def test_a_returned_on_datetime_is_a_china_date(session):
    number = EmbeddedProvincialReport(session).report_returned(
        [record(1, returned_on=datetime(2026, 11, 27, 17, 0, tzinfo=timezone.utc))])
    assert EmbeddedProvincialReport(session).records(number)[0].returned_on == date(2026, 11, 28)


@pytest.mark.parametrize("records, words", [
    ([], "没有要上报的退卡"),
    (None, "没有要上报的退卡"),
    ([record(1, name="  ", reason=None)], "第 1 条（卡号 B7K****71）缺少姓名、退卡原因"),
    ([record(1), record(2, card_number="")], "第 2 条缺少卡号"),
    ([record(1, returned_on="27/11/2026")], "缺少退卡日期"),
    ([record(1), record(1)], "第 2 条（卡号 B7K****71）重复"),
    ([record(1, reason="错" * 201)], "卡号、身份证号、姓名或原因过长"),
    (["B7K334771"], "第 1 条不是退卡记录"),
])
def test_bad_records_report_nothing(session, records, words):
    with pytest.raises(ProvincialReportError, match=re.escape(words)) as e:
        EmbeddedProvincialReport(session).report_returned(records)
    assert e.value.kind == "invalid"
    assert "350581199003071311" not in e.value.message_zh
    assert rows(session) == 0


def test_the_printable_slip(session):
    report = EmbeddedProvincialReport(session)
    number = report.report_returned([record(1), record(2)])
    printed = report.slip(number, province="宁夏")
    assert (printed.title, printed.number, printed.copies, printed.count) == (
        "宁夏社会保障卡退卡回收单", number, SLIP_COPIES, 2)
    assert SLIP_COPIES == 2
    first = printed.records[0]
    assert (first.card_number_masked, first.id_number_masked) == ("B7K****71", "350581********1311")
    assert report.slip("SJTK-none") is None
    # any connector's records make the same slip
    made = slip("NX-1", [record(3)], date(2026, 12, 1))
    assert made.title == "社会保障卡退卡回收单" and made.records == [
        ReportRecord("B7K334773", "350581199003071313", "林3", "信息错误：姓名", date(2026, 11, 27))]
    assert clean_records([record(4)])[0].name == "林4"


def test_registered_like_the_other_adapters(session):
    assert adapters.DEFAULTS["province"] is EmbeddedProvincialReport
    assert adapters.INTERFACES["province"] is ProvincialReport
    assert isinstance(adapters.provincial_report(session), EmbeddedProvincialReport)

    class Elsewhere(ProvincialReport):
        def __init__(self, session):
            self.session = session

        def report_returned(self, records):
            return "NX-1"

    adapters.configure(province=Elsewhere)
    try:
        assert adapters.provincial_report(session).report_returned([record(1)]) == "NX-1"
        adapters.configure(province=lambda s: object())
        with pytest.raises(TypeError, match="does not implement ProvincialReport"):
            adapters.provincial_report(session)
    finally:
        adapters.reset()
    assert isinstance(adapters.provincial_report(session), EmbeddedProvincialReport)


def test_chosen_by_the_environment(session, monkeypatch):
    monkeypatch.setenv("SSCARD_ADAPTER_PROVINCE", "embedded")
    assert isinstance(adapters.provincial_report(session), EmbeddedProvincialReport)
    monkeypatch.setenv("SSCARD_ADAPTER_PROVINCE", "app.adapters.province:EmbeddedProvincialReport")
    assert isinstance(adapters.provincial_report(session), EmbeddedProvincialReport)
