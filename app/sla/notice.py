"""Reading the State Council's holiday notice (国务院办公厅关于XXXX年部分节假日安排的通知).

The administrator pastes the notice as published; this module reads its holiday lines::

    一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
    三、清明节：4月5日放假，4月6日（星期一）补休。          (older wording)
    一、元旦：1月1日放假，与周末连休。
    一、元旦：2018年12月30日至2019年1月1日放假调休，共3天。2018年12月29日（星期六）上班。

Each sentence (。) is read on its own: dates or ranges (至) before 放假 / 放假调休 / 放假公休 and
dates before 补休 are days off; dates of a sentence with 上班 are make-up working days.
"与周末连休", "不调休" add nothing. A sentence that recommends (鼓励…) sets nothing.

Checked while reading, each refusal naming the line: a weekday in brackets must be the date's
weekday, "共N天" / "放假N天" must count the days off, a date may be named once, a date written
with another year must sit at the year's edge (元旦), a sentence with dates must say whether
they are off or worked. Nothing is entered unless the whole text reads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

_TITLE_YEAR = re.compile(r"关于\s*(\d{4})\s*年.*节假日安排")
_LINE_HEAD = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.．]\s*([^：:]{1,20})[：:]")
_DATE = re.compile(r"(?:(\d{4})\s*年)?\s*(?:(\d{1,2})\s*月)?\s*(\d{1,2})\s*日(?:\s*（([^）]*)）|\s*\(([^)]*)\))?")
_WEEKDAY = re.compile(r"(?:星期|周)([一二三四五六日天])")
_COUNT = re.compile(r"(?:共|放假)\s*(\d{1,2})\s*天")
_WEEKDAYS = "一二三四五六日"
_EDGE_DAYS = 10  # a date of the neighbouring year must be this close to 1 January


class NoticeError(ValueError):
    """The notice could not be read: ``line`` (1-based) and ``text`` say where."""

    def __init__(self, line: int | None, text: str, zh: str, en: str):
        self.line, self.text, self.zh, self.en = line, text, zh, en
        where = f"第 {line} 行：" if line else ""
        where_en = f"line {line}: " if line else ""
        super().__init__(f"{where}{zh}" + (f"（{text.strip()}）" if text.strip() else "")
                         + f" / {where_en}{en}")

    def message(self, lang: str = "zh") -> str:
        if lang.startswith("en"):
            return f"Line {self.line}: {self.en}" if self.line else self.en
        return f"第 {self.line} 行：{self.zh}" if self.line else self.zh


@dataclass
class ParsedNotice:
    """``days``: {date: is_working_day} for each day the notice names (False = day off,
    True = make-up working day); ``notes``: the holiday's name for each day."""
    year: int
    days: dict[date, bool] = field(default_factory=dict)
    notes: dict[date, str] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"year": self.year,
                "days": {d.isoformat(): w for d, w in sorted(self.days.items())}}

    def months(self) -> list[tuple[int, int]]:
        """(year, month) of every month the notice touches, in order (for the preview)."""
        return sorted({(d.year, d.month) for d in self.days})


@dataclass
class _Date:
    day: date
    explicit_year: bool
    start: int
    end: int


def notice_year(text: str) -> int | None:
    m = _TITLE_YEAR.search(text)
    return int(m.group(1)) if m else None


def parse_notice(text: str, year: int | None = None) -> ParsedNotice:
    """Read a notice; ``year`` is taken from its title when not given. Raises NoticeError."""
    if not text or not text.strip():
        raise NoticeError(None, "", "通知内容为空", "the notice is empty")
    titled = notice_year(text)
    if year is None:
        year = titled
    if year is None:
        raise NoticeError(None, "", "未找到通知标题中的年份（如“国务院办公厅关于2027年部分节假日安排的通知”）",
                          "no year found in the notice's title")
    if titled is not None and titled != year:
        raise NoticeError(None, "", f"通知标题的年份 {titled} 与所选年份 {year} 不一致",
                          f"the title's year {titled} is not the year chosen ({year})")
    result = ParsedNotice(year)
    for number, line in enumerate(text.splitlines(), start=1):
        if _TITLE_YEAR.search(line) and not _DATE.search(_TITLE_YEAR.sub("", line)):
            continue
        head = _LINE_HEAD.match(line)
        name = head.group(1).strip() if head else ""
        body = line[head.end():] if head else line
        for sentence in re.split(r"[。；;]", body):
            _read_sentence(result, sentence, name, number, line)
    if not result.days:
        raise NoticeError(None, "", "未读到任何放假或上班日期", "no day off or working day found")
    if not any(d.year == year for d in result.days):
        raise NoticeError(None, "", f"通知中的日期都不在 {year} 年", f"no date of the notice is in {year}")
    return result


def _read_sentence(result: ParsedNotice, sentence: str, name: str, number: int, line: str):
    dates = _dates(sentence, result.year, number, line)
    if not dates or "鼓励" in sentence:
        return
    if "上班" in sentence:
        if "放假" in sentence or "补休" in sentence:
            raise NoticeError(number, line, "同一句中既有放假又有上班，请用句号分开",
                              "one sentence has both days off and working days")
        for d in dates:
            _put(result, d.day, True, f"{name}调休上班" if name else "调休上班", number, line)
        return
    if "放假" not in sentence and "补休" not in sentence:
        raise NoticeError(number, line, "无法判断这些日期是放假还是上班（应写明“放假”“补休”或“上班”）",
                          "cannot tell whether these dates are days off or working days")
    off = []
    i = 0
    while i < len(dates):
        current = dates[i]
        following = dates[i + 1] if i + 1 < len(dates) else None
        if following is not None and sentence[current.end:following.start].strip() == "至":
            if following.day < current.day:
                raise NoticeError(number, line, "日期范围的结束早于开始", "a date range ends before it starts")
            span = (following.day - current.day).days + 1
            if span > 31:
                raise NoticeError(number, line, "日期范围超过 31 天，请检查月份", "a date range is longer than 31 days")
            off += [current.day + timedelta(days=k) for k in range(span)]
            i += 2
        else:
            off.append(current.day)
            i += 1
    count = _COUNT.search(sentence)
    if count and int(count.group(1)) != len(off):
        raise NoticeError(number, line, f"写明共 {count.group(1)} 天，但日期共 {len(off)} 天",
                          f"the text says {count.group(1)} days but the dates give {len(off)}")
    for d in off:
        _put(result, d, False, name or "节假日", number, line)


def _dates(sentence: str, year: int, number: int, line: str) -> list[_Date]:
    found: list[_Date] = []
    current_year, month = year, None
    for m in _DATE.finditer(sentence):
        y, mo, dd = m.group(1), m.group(2), m.group(3)
        if y:
            current_year = int(y)
        if mo:
            month = int(mo)
        if month is None:
            raise NoticeError(number, line, f"“{m.group(0).strip()}”缺少月份", f"'{m.group(0).strip()}' has no month")
        try:
            day = date(current_year, month, int(dd))
        except ValueError:
            raise NoticeError(number, line, f"日期不存在：{current_year}年{month}月{dd}日",
                              f"no such date: {current_year}-{month}-{dd}") from None
        if day.year != year:
            edge = date(year, 1, 1)
            if abs((day - edge).days) > _EDGE_DAYS and abs((day - date(year + 1, 1, 1)).days) > _EDGE_DAYS:
                raise NoticeError(number, line, f"日期 {day.isoformat()} 不属于 {year} 年的节假日安排",
                                  f"{day.isoformat()} does not belong to the {year} schedule")
        bracket = m.group(4) or m.group(5) or ""
        weekday = _WEEKDAY.search(bracket)
        if weekday:
            said = _WEEKDAYS.index("日" if weekday.group(1) == "天" else weekday.group(1))
            if said != day.weekday():
                raise NoticeError(number, line,
                                  f"{day.month}月{day.day}日是星期{_WEEKDAYS[day.weekday()]}，不是星期{weekday.group(1)}",
                                  f"{day.isoformat()} is not the weekday the text gives")
        found.append(_Date(day, bool(y), m.start(), m.end()))
    return found


def _put(result: ParsedNotice, day: date, working: bool, note: str, number: int, line: str):
    if day in result.days:
        raise NoticeError(number, line, f"{day.month}月{day.day}日出现了两次（范围重叠）",
                          f"{day.isoformat()} is named twice (overlapping ranges)")
    result.days[day] = working
    result.notes[day] = note[:64]
