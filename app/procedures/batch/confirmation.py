"""Returned confirmation forms 确认表回收登记 (seed 001 §4.2, annex 2 《宁波市社会保障卡个人信息
确认及申领表》, annex 5 《〈信息确认表〉未返回人员汇总表》).

Each person checks the form, adds a mobile (and landline, address, post code), ticks ONE partner
bank and signs ("个人的借记卡对应银行不得由用人单位统一选择"); the agent brings the forms sorted by
department (at most two levels) and bank, and lists the persons whose form did not come back.
The centre's clerk records, page by page, each form as returned (with what the person added)
or as not returned; a second person then reviews the entry (``entry.review``).

Plain functions on a SQLAlchemy session: they flush, the caller commits.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.common.errors import BilingualError
from app.common.ids import parse_id
from app.procedures.batch import city as city_config
from app.procedures.batch.entry import DataFrozen, ensure_not_frozen, event
from app.procedures.batch.models import Person
from app.procedures.batch.reconcile import (MAX_DEPT_LEVELS, bank_code, dept_label, ensure_open,
                                            get_employer)
from app.procedures.batch.states import ELIGIBILITY_LABELS, Eligibility, Entry
from app.procedures.batch.voucher import (check_mobile, check_phone, check_postcode, clean_text)

MAX_ROWS = 1000        # a page is 50-200 rows; more is not a page
MAX_ADDRESS = 100      # Person.address
MAX_DEPT = 100         # Person.dept1 / dept2
SEX = {"1": "1", "2": "2", "男": "1", "女": "2"}
SEX_WORDS = {"1": ("男", "male"), "2": ("女", "female")}
_TRUE = {"1", "true", "yes", "y", "是", "已返回", "返回"}
_FALSE = {"0", "false", "no", "n", "否", "未返回"}


class ConfirmationInvalid(BilingualError):
    """Rows that cannot be recorded; ``problems`` lists each one (zh, en) naming its row and
    person, so that the clerk corrects the whole page at once."""

    kind = "invalid"
    code = "confirmation_invalid"

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("确认表登记有误：" + "；".join(zh for zh, _ in problems),
                         "The forms cannot be recorded: " + "; ".join(en for _, en in problems))


class PersonNotFound(BilingualError):
    kind = "not_found"
    code = "person_not_found"
    message_zh = "找不到该参保人"
    message_en = "No such person"


def _flag(value) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def _blank(value) -> bool:
    return value is None or not str(value).strip()


# -- one returned form 一份返回的确认表

def _bank(city, raw, say) -> str | None:
    """The ONE bank the person ticked (§4.2-2); the employer may not choose for anyone."""
    ticked = [b for b in raw if not _blank(b)] if isinstance(raw, (list, tuple, set)) \
        else ([] if _blank(raw) else [raw])
    names = "、".join(city.banks.values())
    if not ticked:
        say(f"未勾选银行：须由本人在确认表上勾选一家合作银行（{names}），单位不能代选",
            f"no bank ticked: the person ticks one partner bank ({', '.join(city.banks)}); "
            "the employer may not choose it")
        return None
    if len(ticked) > 1:
        say(f"勾选了 {len(ticked)} 家银行，只能选择一家", f"{len(ticked)} banks ticked; tick one")
        return None
    code = bank_code(city, ticked[0])
    if code is None:
        say(f"“{ticked[0]}”不是本市合作银行（{names}）",
            f"“{ticked[0]}” is not a partner bank ({', '.join(city.banks)})")
    return code


def _departments(person: Person, row: dict, say) -> tuple[str | None, str | None]:
    """分类: at most two levels (annex 4 note 2); a key left out keeps the department the
    contribution data gave."""
    levels = [k for k in row if re.fullmatch(r"dept([3-9]|\d\d+)", str(k)) and not _blank(row[k])]
    if levels:
        say(f"部门最多两级（{MAX_DEPT_LEVELS} 级），请合并到第二级",
            "a department has at most two levels")
    dept1 = clean_text(row["dept1"]) if "dept1" in row else (person.dept1 or "")
    dept2 = clean_text(row["dept2"]) if "dept2" in row else (person.dept2 or "")
    if dept2 and not dept1:
        say("填写了二级部门但没有一级部门", "a second-level department without a first level")
    if len(dept1) > MAX_DEPT or len(dept2) > MAX_DEPT:
        say(f"部门名称最多{MAX_DEPT}字", f"a department name has at most {MAX_DEPT} characters")
    typed = "".join(clean_text(row.get(k)) for k in ("dept1", "dept2"))
    if "/" in typed:  # clean_text made "／" a "/"
        say("部门名称中不能含有“/”（“/”用于分隔两级部门）",
            "a department name cannot contain “/” (it separates the two levels)")
    return dept1 or None, dept2 or None


def _contact(row: dict, say) -> dict:
    """参保人手机 (required), 固定电话, 通信地址, 邮政编码."""
    values = {"mobile": None, "landline": None, "address": None, "postcode": None}
    if _blank(row.get("mobile")):
        say("未填写手机号码", "the mobile number is missing")
    else:
        values["mobile"], p = check_mobile(row["mobile"])
        if p:
            say(*p)
    if not _blank(row.get("landline")):
        values["landline"], p = check_phone(row["landline"])
        if p:
            say(*p)
    if not _blank(row.get("address")):
        values["address"] = clean_text(row["address"])
        if len(values["address"]) > MAX_ADDRESS:
            say(f"通信地址最多{MAX_ADDRESS}字", f"the address has at most {MAX_ADDRESS} characters")
    if not _blank(row.get("postcode")):
        values["postcode"], p = check_postcode(row["postcode"])
        if p:
            say(*p)
    return values


def _returned_values(city, person: Person, row: dict, say) -> dict:
    values = _contact(row, say)
    values["bank"] = _bank(city, row.get("bank"), say)
    values["dept1"], values["dept2"] = _departments(person, row, say)
    return values


# -- a page of rows 一页登记

def _load(session: Session, rows: list) -> tuple[list, dict[int, Person]]:
    """The rows' person ids and their persons, in ONE query."""
    ids = [parse_id(r.get("person_id")) if isinstance(r, dict) else None for r in rows]
    found = session.scalars(select(Person).where(Person.id.in_(sorted({i for i in ids if i}))))
    return ids, {p.id: p for p in found}


def _check_row(n: int, row, pid, person, employer_id, city, seen, problems, frozen):
    """One row: (person, returned?, values) or None after noting why it cannot be recorded."""
    def say(zh, en):
        who = f"第 {n} 行 {person.name}" if person else f"第 {n} 行"
        problems.append((f"{who}：{zh}", f"Row {n}{' ' + person.name if person else ''}: {en}"))

    if not isinstance(row, dict) or pid is None:
        return say("缺少参保人编号", "the person is missing")
    if person is None or person.employer_id != employer_id:
        person = None
        return say(f"编号 {pid} 不是本单位的参保人", f"person {pid} is not of this employer")
    if person.eligibility != Eligibility.ELIGIBLE:
        label = ELIGIBILITY_LABELS[Eligibility(person.eligibility)]
        return say(f"不在本批制卡名单中（{label.zh}）", f"not on this batch's card list ({label.en})")
    if pid in seen:
        return say(f"与第 {seen[pid]} 行是同一人", f"the same person as row {seen[pid]}")
    seen[pid] = n
    if person.submitted_at is not None:
        frozen.append(person.name)
        return None
    returned = _flag(row.get("returned"))
    if returned is None:
        return say("请注明确认表是否返回", "say whether the form came back")
    values = _returned_values(city, person, row, say) if returned else {}
    return person, returned, values


def record_returns(session: Session, employer_id: int, rows: list[dict], actor_name: str) -> int:
    """确认表回收登记: record a page of forms as returned (with the bank ticked and the person's
    additions) or as not returned (annex 5). Every row is checked first: one bad row and
    nothing is recorded (``ConfirmationInvalid`` lists every bad row; ``DataFrozen`` for
    persons already submitted). A recorded form waits for a second person's review, so an
    earlier review (a send-back and its note) is cleared. Returns the rows recorded."""
    employer = get_employer(session, employer_id)
    actor = str(actor_name or "").strip()
    rows = list(rows or [])
    problems: list[tuple[str, str]] = []
    if not actor:
        problems.append(("缺少录入人", "Who enters the forms is missing"))
    if not rows or len(rows) > MAX_ROWS:
        problems.append((f"每次应登记 1 至 {MAX_ROWS} 份确认表", f"Record 1 to {MAX_ROWS} forms at a time"))
        raise ConfirmationInvalid(problems)
    city = city_config.current(session)
    ids, persons = _load(session, rows)
    seen: dict[int, int] = {}
    frozen: list[str] = []
    checked = [_check_row(n, row, pid, persons.get(pid), employer.id, city, seen, problems, frozen)
               for n, (row, pid) in enumerate(zip(rows, ids), 1)]
    if frozen:
        raise DataFrozen(frozen)
    ensure_open(employer)  # after: a submitted person hears that their data is frozen
    if problems:
        raise ConfirmationInvalid(problems)
    for person, returned, values in checked:
        _record(session, city, person, returned, values, actor)
    session.flush()
    return len(checked)


def _record(session: Session, city, person: Person, returned: bool, values: dict, actor: str):
    """Write one form's entry and its history line (only when something changed)."""
    before = (person.entry, person.bank, person.mobile, person.landline, person.address,
              person.postcode, person.dept1, person.dept2, person.entered_by, person.review_note)
    previous = person.entry
    if returned:
        for key, value in values.items():
            setattr(person, key, value)
        person.entry = Entry.ENTERED
    else:
        # no form, no bank ticked: a bank left from an earlier entry would be counted
        person.entry, person.bank = Entry.NOT_RETURNED, None
    person.entered_by, person.reviewed_by, person.review_note = actor, None, None
    after = (person.entry, person.bank, person.mobile, person.landline, person.address,
             person.postcode, person.dept1, person.dept2, person.entered_by, person.review_note)
    if before != after:
        session.add(event(person, actor, *_entry_words(city, person, previous, returned)))


def _entry_words(city, person: Person, previous: str, returned: bool) -> tuple[str, str]:
    if not returned:
        return "登记确认表未返回（单位报未返回）", "Form reported not returned by the employer"
    dept = dept_label(person.dept1, person.dept2)
    what_zh = f"{city.banks.get(person.bank, person.bank)}" + (f"，{dept}" if dept else "")
    what_en = person.bank + (f", {dept}" if dept else "")
    if previous == Entry.SENT_BACK:
        return f"复核退回后重新录入确认表：{what_zh}", f"Form entered again after a send-back: {what_en}"
    if previous == Entry.ACCEPTED:
        return (f"更正已复核的确认表，待重新复核：{what_zh}",
                f"Accepted form corrected, to be reviewed again: {what_en}")
    if previous == Entry.ENTERED:
        return f"更正确认表录入：{what_zh}", f"Form entry corrected: {what_en}"
    return f"录入确认表：{what_zh}", f"Confirmation form entered: {what_en}"


# -- basic data 基本信息

def _check_name(value, say) -> str:
    """姓名 as it goes on the chip: GBK, at most 30 bytes; letters and the middle dot."""
    name = clean_text(value).replace("•", "·").replace("・", "·")
    if not name:
        say("姓名不能为空", "the name cannot be empty")
        return name
    try:
        size = len(name.encode("gbk"))
    except UnicodeEncodeError:
        say("姓名中有社保卡芯片无法存储的字（GBK 字符集以外）",
            "the name has a character the card chip cannot store (outside GBK)")
        return name
    if size > 30 or any(not (ch.isalpha() or ch in "·") for ch in name):
        say("姓名只能由文字和间隔号“·”组成，最多15个汉字",
            "a name is letters and the middle dot “·”, at most 15 Chinese characters")
    return name


def change_basic_data(session: Session, person_id: int, actor_name: str, *,
                      name: str | None = None, sex: str | None = None) -> Person:
    """更正基本信息 (姓名、性别) before submission; refused with ``DataFrozen`` once submitted
    (N §4.3). A correction of an accepted form goes back to review: it is an entry like any
    other, and a second person signs every entry."""
    person = session.get(Person, parse_id(person_id) or 0)
    if person is None:
        raise PersonNotFound()
    ensure_not_frozen(person)
    problems: list[tuple[str, str]] = []

    def say(zh, en):
        problems.append((f"{person.name}：{zh}", f"{person.name}: {en}"))

    actor = str(actor_name or "").strip()
    if not actor:
        say("缺少更正人", "who corrects is missing")
    if name is None and sex is None:
        say("没有要更正的内容", "nothing to correct")
    new_name = person.name if name is None else _check_name(name, say)
    new_sex = person.sex if sex is None else SEX.get(str(sex).strip())
    if new_sex is None:
        say("性别应为“男”或“女”", "sex is male or female")
    if problems:
        raise ConfirmationInvalid(problems)
    changes_zh, changes_en = [], []
    if new_name != person.name:
        changes_zh.append(f"姓名 {person.name} → {new_name}")
        changes_en.append(f"name {person.name} → {new_name}")
    if new_sex != person.sex:
        old = SEX_WORDS.get(person.sex, (person.sex, person.sex))
        changes_zh.append(f"性别 {old[0]} → {SEX_WORDS[new_sex][0]}")
        changes_en.append(f"sex {old[1]} → {SEX_WORDS[new_sex][1]}")
    if not changes_zh:
        return person
    person.name, person.sex = new_name, new_sex
    zh, en = "更正基本信息：" + "，".join(changes_zh), "Basic data corrected: " + ", ".join(changes_en)
    if person.entry == Entry.ACCEPTED:
        person.entry, person.entered_by, person.reviewed_by = Entry.ENTERED, actor, None
        zh, en = zh + "（待重新复核）", en + " (to be reviewed again)"
    session.add(event(person, actor, zh, en))
    session.flush()
    return person
