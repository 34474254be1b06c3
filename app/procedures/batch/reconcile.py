"""The employer's summary 申领汇总表 and the reconciliation 清点核对 (seed 001 §4.2-3, annexes 4
and 5).

The agent hands in the confirmation forms 确认表 sorted by department (at most two levels) and
by bank, with the summary 《用人单位社保卡申领汇总表》 (persons per department per bank, "申请人数
即为返回有效《信息确认表》的数量") and the two totals "收到《信息确认表》共计 N 份 / 返回 共计 M 份".
The centre counts the forms and compares; once they agree the application counts as made
("核对准确后，单位经办人完成社保卡的申领"): ``Employer.applied_at``.

Here the centre's count is the forms recorded as returned (``confirmation.record_returns``),
computed in SQL (GROUP BY), never by walking ORM rows: an employer may have thousands of persons.

This module also holds what every step of the employer application shares: finding the
employer (``get_employer``), refusing work on a submitted one (``ensure_open``), the city's
banks by code or name (``bank_code``) and the department label (``dept_label``).
"""
from __future__ import annotations

import unicodedata

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.common.clock import to_local_date, utcnow
from app.common.errors import BilingualError
from app.common.ids import parse_id
from app.procedures.batch import city as city_config
from app.procedures.batch.models import Employer, Person
from app.procedures.batch.states import Eligibility, Entry

#: A returned form 返回的确认表: entered, accepted, or sent back for correction (still returned).
RETURNED = (Entry.ENTERED, Entry.ACCEPTED, Entry.SENT_BACK)
DEPT_SEPARATOR = " / "
MAX_DEPT_LEVELS = 2  # annex 4, note 2: "最多按两级单位"
NO_DEPT = ("（未分部门）", "(no department)")


class EmployerNotFound(BilingualError):
    kind = "not_found"
    code = "employer_not_found"
    message_zh = "找不到该单位申领"
    message_en = "No such employer application"


class AlreadySubmitted(BilingualError):
    """The employer's application was submitted: its forms and figures are closed."""

    kind = "conflict"
    code = "already_submitted"


class ReconcileInvalid(BilingualError):
    """The summary as typed cannot be read; ``problems`` lists every problem (zh, en)."""

    kind = "invalid"
    code = "summary_invalid"

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("申领汇总表填写有误：" + "；".join(zh for zh, _ in problems),
                         "The summary cannot be read: " + "; ".join(en for _, en in problems))


class FormsStillOut(BilingualError):
    """Some forms were neither recorded as returned nor reported as not returned."""

    kind = "conflict"
    code = "forms_still_out"


# -- shared by the steps of the employer application

def get_employer(session: Session, employer_id) -> Employer:
    key = parse_id(employer_id)
    employer = session.get(Employer, key) if key else None
    if employer is None:
        raise EmployerNotFound()
    return employer


def ensure_open(employer: Employer) -> None:
    """Refuse work on forms and figures once the application was submitted (N §4.3)."""
    if employer.submitted_at is not None:
        day = to_local_date(employer.submitted_at).isoformat()
        raise AlreadySubmitted(
            f"{employer.name} 已于 {day} 提交申领，确认表和汇总表不能再登记或修改；"
            "迟交的确认表请在下一批次办理",
            f"{employer.name} submitted its application on {day}: its forms and summary can no "
            "longer be recorded or changed; late forms go into a later batch")


def bank_code(city: city_config.City, value) -> str | None:
    """The city's bank a clerk named: its code (any case), short name or full name; None when
    the city has no such partner bank."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if text.upper() in city.banks:
        return text.upper()
    for code, short in city.banks.items():
        if text in (short, city.bank_names.get(code)):
            return code
    return None


def _part(value) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(value or "")).split())


def dept_label(dept1, dept2=None) -> str:
    """"一分厂 / 装配车间", "一分厂", or "" (no department): the summary's 部门名称."""
    return DEPT_SEPARATOR.join(p for p in (_part(dept1), _part(dept2)) if p)


def dept_key(text) -> tuple[str, int]:
    """A department as typed on the summary ("一分厂/装配车间", "一分厂 ／ 装配车间") as its label,
    with the number of levels."""
    parts = [p for p in (_part(x) for x in unicodedata.normalize("NFKC", str(text or ""))
                         .split("/")) if p]
    return DEPT_SEPARATOR.join(parts), len(parts)


def _dept_words(dept: str) -> tuple[str, str]:
    return (dept, dept) if dept else NO_DEPT


# -- the platform's summary 平台清点的申领汇总表

def _persons_of(employer_id: int):
    """The employer's persons of this batch's card list: one confirmation form each."""
    return (Person.employer_id == employer_id, Person.eligibility == Eligibility.ELIGIBLE)


def entry_counts(session: Session, employer_id: int) -> dict[str, int]:
    """Persons per state of their confirmation form (one GROUP BY)."""
    rows = session.execute(select(Person.entry, func.count()).where(*_persons_of(employer_id))
                           .group_by(Person.entry)).all()
    counts = {str(e): 0 for e in Entry}
    counts.update({entry: n for entry, n in rows})
    return counts


def _cells(session: Session, employer_id: int) -> dict[str, dict[str, int]]:
    """{department label: {bank: returned forms}} (one GROUP BY over department × bank)."""
    rows = session.execute(select(Person.dept1, Person.dept2, Person.bank, func.count())
                           .where(*_persons_of(employer_id), Person.entry.in_(RETURNED))
                           .group_by(Person.dept1, Person.dept2, Person.bank)).all()
    cells: dict[str, dict[str, int]] = {}
    for dept1, dept2, bank, n in rows:
        # two spellings of one department (spaces, full-width) land in one row
        dept = dept_key(dept_label(dept1, dept2))[0]
        row = cells.setdefault(dept, {})
        row[bank or ""] = row.get(bank or "", 0) + n
    return cells


def summary(session: Session, employer_id: int) -> dict:
    """The summary 申领汇总表 as the centre counts it from the forms recorded as returned:
    ``{"rows": [{"dept", "banks": {code: n}, "total"}], "totals": {code: n}, "total",
    "returned", "not_returned", "out", "sent"}`` (every bank of the city in each row)."""
    employer = get_employer(session, employer_id)
    banks = list(city_config.current(session).banks)
    cells = _cells(session, employer.id)
    for row in cells.values():  # a bank no longer configured still counts
        banks += [b for b in row if b not in banks]
    rows = [{"dept": dept, "banks": {b: cells[dept].get(b, 0) for b in banks},
             "total": sum(cells[dept].values())} for dept in sorted(cells)]
    counts = entry_counts(session, employer.id)
    return {"rows": rows,
            "totals": {b: sum(r["banks"][b] for r in rows) for b in banks},
            "total": sum(r["total"] for r in rows),
            "returned": sum(counts[e] for e in RETURNED),
            "not_returned": counts[Entry.NOT_RETURNED],
            "out": counts[Entry.OUT],
            "sent": sum(counts.values())}


# -- the employer's summary as typed 单位填报的汇总表

def _count(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    text = str(value if value is not None else "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _clean_declared(city: city_config.City, declared, problems: list) -> dict[str, dict[str, int]]:
    """{"一分厂 / 装配车间": {"ICBC": 3}}: departments at most two levels, banks of the city (code
    or name), counts whole numbers; empty cells dropped."""
    if not isinstance(declared, dict):
        problems.append(("汇总表应按部门、银行填写人数", "The summary is persons per department per bank"))
        return {}
    clean: dict[str, dict[str, int]] = {}
    for text, banks in declared.items():
        dept, levels = dept_key(text)
        words = _dept_words(dept)
        if levels > MAX_DEPT_LEVELS:
            problems.append((f"部门“{text}”超过两级（最多两级，如“一分厂 / 装配车间”）",
                             f"Department “{text}” has more than two levels"))
            continue
        if dept in clean:
            problems.append((f"部门“{words[0]}”填写了两次", f"Department “{words[1]}” appears twice"))
            continue
        if not isinstance(banks, dict):
            problems.append((f"{words[0]}：应按银行填写人数", f"{words[1]}: persons per bank needed"))
            continue
        row: dict[str, int] = {}
        for bank, n in banks.items():
            code, count = bank_code(city, bank), _count(n)
            if code is None:
                problems.append((f"{words[0]}：“{bank}”不是本市合作银行（{'、'.join(city.banks.values())}）",
                                 f"{words[1]}: “{bank}” is not a partner bank "
                                 f"({', '.join(city.banks)})"))
            elif count is None:
                problems.append((f"{words[0]} · {city.banks[code]}：人数“{n}”应为整数",
                                 f"{words[1]} · {code}: the count “{n}” must be a whole number"))
            elif code in row:
                problems.append((f"{words[0]}：{city.banks[code]}填写了两次",
                                 f"{words[1]}: {code} appears twice"))
            elif count:
                row[code] = count
        if row:
            clean[dept] = row
    return clean


# -- comparing 核对

def _line(what, dept, bank, declared, counted, zh, en) -> dict:
    return {"what": what, "dept": dept, "bank": bank, "declared": declared, "counted": counted,
            "zh": zh, "en": en}


def _cell_differences(city, declared, counted) -> list[dict]:
    """Every department × bank cell whose counts differ, then every bank's total (合计)."""
    order = {b: i for i, b in enumerate(city.banks)}
    banks = sorted({b for row in (*declared.values(), *counted.values()) for b in row},
                   key=lambda b: (order.get(b, len(order)), b))
    lines = []
    # in the order of the employer's paper summary, then the departments it left out
    for dept in [*declared, *sorted(set(counted) - set(declared))]:
        zh_dept, en_dept = _dept_words(dept)
        for bank in banks:
            d, c = declared.get(dept, {}).get(bank, 0), counted.get(dept, {}).get(bank, 0)
            if d != c:
                name = city.banks.get(bank, bank or "未选银行")
                lines.append(_line("cell", dept, bank, d, c,
                                   f"{zh_dept} · {name}：汇总表 {d} 人，清点确认表 {c} 人",
                                   f"{en_dept} · {bank or 'no bank'}: summary {d}, "
                                   f"forms counted {c}"))
    for bank in banks:
        d = sum(row.get(bank, 0) for row in declared.values())
        c = sum(row.get(bank, 0) for row in counted.values())
        if d != c:
            name = city.banks.get(bank, bank or "未选银行")
            lines.append(_line("bank_total", None, bank, d, c,
                               f"合计 · {name}：汇总表 {d} 人，清点确认表 {c} 人",
                               f"Total · {bank or 'no bank'}: summary {d}, forms counted {c}"))
    return lines


def compare(session: Session, employer: Employer, declared: dict, forms_received: int,
            forms_returned: int) -> list[dict]:
    """The differences between the employer's figures (already cleaned) and the centre's
    count now: cells, bank totals, the total, forms returned, forms received (sent)."""
    city = city_config.current(session)
    counted = _cells(session, employer.id)
    counts = entry_counts(session, employer.id)
    lines = _cell_differences(city, declared, counted)
    d_total = sum(sum(row.values()) for row in declared.values())
    c_total = sum(sum(row.values()) for row in counted.values())
    if d_total != c_total:
        lines.append(_line("total", None, None, d_total, c_total,
                           f"合计：汇总表 {d_total} 人，清点确认表 {c_total} 人",
                           f"Total: summary {d_total}, forms counted {c_total}"))
    returned = sum(counts[e] for e in RETURNED)
    if forms_returned != returned:
        lines.append(_line("forms_returned", None, None, forms_returned, returned,
                           f"返回《确认表》：单位填报 {forms_returned} 份，登记返回 {returned} 份",
                           f"Forms returned: the employer says {forms_returned}, "
                           f"{returned} recorded as returned"))
    sent = sum(counts.values())
    if forms_received != sent:
        lines.append(_line("forms_received", None, None, forms_received, sent,
                           f"收到《确认表》：单位填报 {forms_received} 份，本批发出 {sent} 份",
                           f"Forms received: the employer says {forms_received}, "
                           f"{sent} were sent"))
    return lines


def reconcile(session: Session, employer_id: int, declared: dict, forms_received: int,
              forms_returned: int, actor_name: str) -> list[dict]:
    """清点核对: compare the employer's summary (``declared``: {"一分厂 / 装配车间": {"ICBC": 3}})
    and its two totals with the forms recorded; store the figures and the differences. No
    difference: the application counts as made (``applied_at``; the status stays "录入中" until
    review). Refused (``FormsStillOut``) while a form is neither recorded as returned nor as not
    returned: the count would not be final."""
    employer = get_employer(session, employer_id)
    ensure_open(employer)
    problems: list[tuple[str, str]] = []
    if not str(actor_name or "").strip():
        problems.append(("缺少核对人", "Who reconciles is missing"))
    city = city_config.current(session)
    clean = _clean_declared(city, declared, problems)
    received, returned = _count(forms_received), _count(forms_returned)
    if received is None:
        problems.append(("“收到《确认表》共计”应为整数", "Forms received must be a whole number"))
    if returned is None:
        problems.append(("“返回《确认表》共计”应为整数", "Forms returned must be a whole number"))
    if problems:
        raise ReconcileInvalid(problems)
    out = entry_counts(session, employer.id)[Entry.OUT]
    if out:
        raise FormsStillOut(f"还有 {out} 人的确认表既未登记返回也未登记未返回，请先逐人登记后再核对汇总表",
                            f"{out} forms are recorded neither as returned nor as not returned; "
                            "record them first")
    differences = compare(session, employer, clean, received, returned)
    employer.declared, employer.differences = clean, differences
    employer.forms_received, employer.forms_returned = received, returned
    # agreeing figures make the application; a later disagreeing count unmakes it
    employer.applied_at = (employer.applied_at or utcnow()) if not differences else None
    session.flush()
    return differences
