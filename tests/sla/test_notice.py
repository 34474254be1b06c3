"""Reading the State Council's holiday notice (app.sla.notice.parse_notice).

The real notices 2011-2026 (tests/sla/notices/YYYY.txt, as published) are read and, laid over
a plain week (Monday-Friday working), must give exactly the calendar of the ``chinesecalendar``
package for every day of the year, except for the few documented days below. Older wordings,
the advisory sentence of 2024 and every refusal (with its line number and message) are checked
on small texts.
"""
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from app.sla.calendar import package_years
from app.sla.notice import NoticeError, ParsedNotice, parse_notice

NOTICES = Path(__file__).parent / "notices"
YEARS = range(2011, 2027)
D = date.fromisoformat


def read_notice(year: int) -> ParsedNotice:
    return parse_notice((NOTICES / f"{year}.txt").read_text(encoding="utf-8"))


def title(year: int) -> str:
    return f"国务院办公厅关于{year}年部分节假日安排的通知"


# Days of year Y that the notice of year Y+1 names (the 元旦 holiday of Y+1 starts, or its
# make-up day falls, at the end of Y). The notice of Y cannot know them.
NAMED_BY_NEXT_NOTICE = {
    D("2011-12-31"): 2012,  # Saturday made a working day: "2011年12月31日（星期六）上班"
    D("2018-12-29"): 2019,  # Saturday made a working day: "2018年12月29日（星期六）上班"
    D("2018-12-31"): 2019,  # Monday off: "2018年12月30日至2019年1月1日放假调休"
}

# Days changed by a later, supplementary State Council notice that chinesecalendar includes
# but the annual notice does not.
SUPPLEMENTARY = {
    # 抗战胜利70周年纪念日 (国办发明电〔2015〕5号): 9月3日至5日放假调休，9月6日（星期日）上班
    D("2015-09-03"): "抗战胜利70周年 day off (Thursday)",
    D("2015-09-04"): "抗战胜利70周年 day off (Friday)",
    D("2015-09-06"): "抗战胜利70周年 make-up working Sunday",
    # 2019 劳动节 changed (国办发明电〔2019〕4号): 5月1日至4日放假调休，4月28日、5月5日上班
    D("2019-04-28"): "2019 劳动节 make-up working Sunday",
    D("2019-05-02"): "2019 劳动节 day off (Thursday)",
    D("2019-05-03"): "2019 劳动节 day off (Friday)",
    D("2019-05-05"): "2019 劳动节 make-up working Sunday",
    # 2020 春节 extended to 2月2日 (国办发明电〔2020〕1号, novel coronavirus)
    D("2020-01-31"): "2020 春节 extension, day off (Friday)",
    D("2020-02-01"): "2020 春节 extension, day off (Saturday, no longer a make-up day)",
}


def plain_week(parsed: ParsedNotice, d: date) -> bool:
    """Is ``d`` a working day by the notice laid over a Monday-Friday week?"""
    return parsed.days.get(d, d.weekday() < 5)


def days_of(year: int):
    d = date(year, 1, 1)
    while d.year == year:
        yield d
        d += timedelta(days=1)


# -- the real notices --------------------------------------------------------------------------

def test_package_covers_the_notices():
    assert set(YEARS) <= set(package_years())


@pytest.mark.parametrize("year", YEARS)
def test_real_notice_matches_chinesecalendar(year):
    parsed = read_notice(year)
    assert parsed.year == year
    differences = {d: plain_week(parsed, d) for d in days_of(year)
                   if plain_week(parsed, d) != chinese_calendar.is_workday(d)
                   and d not in NAMED_BY_NEXT_NOTICE and d not in SUPPLEMENTARY}
    assert differences == {}


@pytest.mark.parametrize("year", YEARS)
def test_real_notice_days_outside_its_year(year):
    """A notice may name days of the year before (元旦 starting on 30/31 December): those
    must agree with chinesecalendar too, and lie next to 1 January."""
    parsed = read_notice(year)
    outside = {d: w for d, w in parsed.days.items() if d.year != year}
    assert {d: w for d, w in outside.items() if chinese_calendar.is_workday(d) != w} == {}
    assert all(abs((d - date(year, 1, 1)).days) <= 10 for d in outside)


def test_documented_exceptions_are_real_differences():
    """Each exception is really a difference, and the next year's notice really names it."""
    for d, next_year in NAMED_BY_NEXT_NOTICE.items():
        assert plain_week(read_notice(d.year), d) != chinese_calendar.is_workday(d)
        assert read_notice(next_year).days[d] is chinese_calendar.is_workday(d)
    for d in SUPPLEMENTARY:
        assert plain_week(read_notice(d.year), d) != chinese_calendar.is_workday(d)


def test_2026_notice_in_detail():
    parsed = read_notice(2026)
    working = sorted(d for d, w in parsed.days.items() if w)
    assert working == [D("2026-01-04"), D("2026-02-14"), D("2026-02-28"), D("2026-05-09"),
                       D("2026-09-20"), D("2026-10-10")]
    assert sum(1 for w in parsed.days.values() if not w) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert parsed.notes[D("2026-02-16")] == "春节"
    assert parsed.notes[D("2026-02-14")] == "春节调休上班"
    assert parsed.months()[0] == (2026, 1) and parsed.months()[-1] == (2026, 10)
    as_json = parsed.as_json()
    assert as_json["year"] == 2026
    assert as_json["days"]["2026-10-01"] is False and as_json["days"]["2026-10-10"] is True
    assert list(as_json["days"]) == sorted(as_json["days"])


def test_year_argument_equal_to_title_is_accepted():
    text = (NOTICES / "2025.txt").read_text(encoding="utf-8")
    assert parse_notice(text, year=2025).days == read_notice(2025).days


def test_year_argument_without_title():
    parsed = parse_notice("一、元旦：1月1日（周五）放假1天。", year=2027)
    assert parsed.year == 2027 and parsed.days == {D("2027-01-01"): False}


# -- older wordings ----------------------------------------------------------------------------

def test_old_wording_buxiu_2017():
    parsed = parse_notice(title(2017) + "\n一、元旦：1月1日放假，1月2日（星期一）补休。")
    assert parsed.days == {D("2017-01-01"): False, D("2017-01-02"): False}
    assert read_notice(2017).days[D("2017-01-02")] is False


def test_old_wording_with_weekend_2016():
    """"与周末连休" adds no day: only the holiday itself is named."""
    parsed = parse_notice(title(2016) + "\n一、元旦：1月1日放假，与周末连休。")
    assert parsed.days == {D("2016-01-01"): False}


def test_old_wording_gongxiu_2011():
    parsed = parse_notice(title(2011) + "\n一、元旦：1月1日至3日放假公休，共3天。")
    assert parsed.days == {D("2011-01-01"): False, D("2011-01-02"): False, D("2011-01-03"): False}


def test_cross_year_range_2019():
    parsed = read_notice(2019)
    assert {d: w for d, w in parsed.days.items() if d <= D("2019-01-01")} == {
        D("2018-12-29"): True, D("2018-12-30"): False, D("2018-12-31"): False,
        D("2019-01-01"): False}


def test_advisory_sentence_sets_nothing_2024():
    """"鼓励…安排职工在除夕（2月9日）休息" is a recommendation, not a day off."""
    parsed = read_notice(2024)
    assert D("2024-02-09") not in parsed.days
    assert chinese_calendar.is_workday(D("2024-02-09"))
    line = ("二、春节：2月10日至17日放假调休，共8天。2月4日（星期日）、2月18日（星期日）上班。"
            "鼓励各单位结合带薪年休假等制度落实，安排职工在除夕（2月9日）休息。")
    parsed = parse_notice(title(2024) + "\n" + line)
    assert D("2024-02-09") not in parsed.days
    assert len(parsed.days) == 8 + 2


# -- refusals ----------------------------------------------------------------------------------

GOOD_LINE = "一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。"


@pytest.mark.parametrize("text, line, zh, en", [
    pytest.param(title(2026) + "\n" + GOOD_LINE + "1月4日（周日）上斑。", 2,
                 "无法判断这些日期是放假还是上班", "cannot tell whether", id="typo-in-keyword"),
    pytest.param(title(2026) + "\n一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周一）上班。", 2,
                 "1月4日是星期日，不是星期一", "2026-01-04 is not the weekday", id="wrong-weekday"),
    pytest.param(title(2026) + "\n" + GOOD_LINE + "\n二、春节：2月15日至23日放假调休，共8天。", 3,
                 "写明共 8 天，但日期共 9 天", "says 8 days but the dates give 9", id="count-mismatch"),
    pytest.param(title(2026) + "\n七、国庆节：10月1日至7日放假调休，共7天。\n八、其他：10月6日至8日放假，共3天。", 3,
                 "10月6日出现了两次", "2026-10-06 is named twice", id="overlapping-ranges"),
    pytest.param(title(2026) + "\n" + GOOD_LINE + "\n二、春节：2月14日（周六）上班。2月14日放假。", 3,
                 "2月14日出现了两次", "2026-02-14 is named twice", id="date-named-twice"),
    pytest.param(title(2027) + "\n一、元旦：2025年3月1日放假，共1天。", 2,
                 "日期 2025-03-01 不属于 2027 年", "does not belong to the 2027 schedule", id="far-off-year"),
    pytest.param(title(2026) + "\n" + GOOD_LINE + "\n二、春节：2月30日放假。", 3,
                 "日期不存在：2026年2月30日", "no such date", id="impossible-date"),
    pytest.param(title(2026) + "\n" + GOOD_LINE + "\n七、国庆节：10月7日至1日放假调休，共7天。", 3,
                 "日期范围的结束早于开始", "ends before it starts", id="range-backwards"),
    pytest.param(title(2026) + "\n一、元旦：1月1日至2月15日放假。", 2,
                 "日期范围超过 31 天", "longer than 31 days", id="range-too-long"),
    pytest.param(title(2026) + "\n一、元旦：3日放假。", 2, "缺少月份", "has no month", id="no-month"),
    pytest.param(title(2026) + "\n一、元旦：1月1日放假。1月4日上班，2月1日放假。", 2,
                 "同一句中既有放假又有上班", "both days off and working days", id="mixed-sentence"),
])
def test_bad_line_is_refused_with_its_number(text, line, zh, en):
    with pytest.raises(NoticeError) as err:
        parse_notice(text)
    e = err.value
    assert e.line == line
    assert zh in e.zh and en in e.en
    assert e.message("zh") == f"第 {line} 行：{e.zh}"
    assert e.message("en") == f"Line {line}: {e.en}"
    assert f"第 {line} 行" in str(e) and f"line {line}" in str(e)
    assert e.text.strip() in text  # the offending line is kept


@pytest.mark.parametrize("text, year, zh, en", [
    pytest.param("", None, "通知内容为空", "the notice is empty", id="empty"),
    pytest.param("  \n\t\n", None, "通知内容为空", "the notice is empty", id="blank"),
    pytest.param(title(2026) + "\n各省、自治区、直辖市人民政府，国务院各部委、各直属机构：", None,
                 "未读到任何放假或上班日期", "no day off or working day found", id="no-dates"),
    pytest.param("一、元旦：1月1日放假。", None, "未找到通知标题中的年份", "no year found", id="no-year"),
    pytest.param(title(2026) + "\n" + GOOD_LINE, 2027, "通知标题的年份 2026 与所选年份 2027 不一致",
                 "the title's year 2026 is not the year chosen (2027)", id="title-year-differs"),
    pytest.param(title(2027) + "\n一、元旦：2026年12月31日放假。", None, "通知中的日期都不在 2027 年",
                 "no date of the notice is in 2027", id="no-date-in-year"),
])
def test_whole_text_is_refused(text, year, zh, en):
    with pytest.raises(NoticeError) as err:
        parse_notice(text, year=year)
    e = err.value
    assert e.line is None
    assert zh in e.zh and en in e.en
    assert e.message("zh") == e.zh and e.message("en") == e.en
    assert zh in str(e) and en in str(e)


def test_one_bad_line_refuses_the_whole_notice():
    """Nothing is returned for the good lines before a bad one."""
    good = (NOTICES / "2026.txt").read_text(encoding="utf-8")
    assert len(parse_notice(good).days) == 39
    bad = good.replace("9月20日（周日）", "9月20日（周六）")
    with pytest.raises(NoticeError) as err:
        parse_notice(bad)
    assert err.value.line == 8
    assert "9月20日是星期日，不是星期六" in err.value.zh
