"""The employer's authorisation voucher 申领凭证 (seed 001 §4.1, annex 1
《参保单位统一申领本单位职工社会保障卡凭证》).

The employer names one to three agents 经办人 (name, office phone, mobile, ID number) who act
for it: they collect the confirmation forms, hand in the summary and pick up the cards, each by
showing their own ID card. A change of agents (added, removed, replaced) is a new voucher, so
every recording is a new version (1, 2, ...) and the earlier versions stay as history: who was
authorised when must still be readable after the agents changed.

Plain functions on a SQLAlchemy session: they flush, the caller commits.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from app.common.clock import china_today, to_local_date
from app.common.errors import BilingualError
from app.common.masking import mask_id
from app.procedures.batch.models import Voucher, VoucherAgent

MAX_AGENTS = 3  # annex 1 has three agent boxes 经办人（一）（二）（三）
AGENT_FIELDS = ("name", "office_phone", "mobile", "id_number")


class VoucherInvalid(BilingualError):
    """What the clerk typed from the paper voucher cannot be recorded; ``problems`` lists
    every problem (zh, en), so that the clerk corrects them all at once."""

    kind = "invalid"
    code = "voucher_invalid"

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("申领凭证填写有误：" + "；".join(zh for zh, _ in problems),
                         "The voucher cannot be recorded: " + "; ".join(en for _, en in problems))


class AgentNotAuthorised(BilingualError):
    """The person showing this ID card is not an agent on the employer's current voucher."""

    kind = "forbidden"
    code = "agent_not_authorised"


# -- normalising and checking what was typed (the same rules as the task forms'
#    ``forms.validators``; not imported from there: ``forms`` pulls in Flask-WTF)

def compact(value) -> str:
    """Full-width to half-width (IME input), no spaces, upper case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value or ""))).upper()


def clean_text(value) -> str:
    """Free text (names, addresses): half-width, runs of spaces made one, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", str(value or "")).split())


def check_citizen_id(value) -> tuple[str, tuple[str, str] | None]:
    """公民身份号码 (GB 11643): 18 characters, a real birth date, the check character.
    Returns (normalised number, problem or None)."""
    number = compact(value)
    if len(number) != 18:
        return number, (f"公民身份号码应为18位，当前为{len(number)}位",
                        f"A citizen ID number has 18 characters; this one has {len(number)}")
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return number, ("公民身份号码前17位应为数字，最后一位为数字或X",
                        "A citizen ID number is 17 digits followed by a digit or X")
    try:
        birth = ric.get_birth_date(number)
    except Exception:  # stdnum raises InvalidComponent for impossible dates
        birth = None
    if birth is None or birth > china_today():
        return number, ("公民身份号码中的出生日期（第7-14位）不是有效日期",
                        "The date of birth in the citizen ID number (characters 7-14) is not valid")
    if number[17] != ric.calc_check_digit(number):
        return number, ("公民身份号码校验位（最后一位）不正确，请逐位核对",
                        "The check character (last character) of the citizen ID number is wrong; "
                        "please check every digit")
    return number, None


def check_mobile(value) -> tuple[str, tuple[str, str] | None]:
    """手机号码: 11 digits starting with 13-19 (+86 and dashes dropped)."""
    number = re.sub(r"[-()]", "", compact(value))
    for prefix in ("+86", "0086"):
        if number.startswith(prefix) and len(number) == 11 + len(prefix):
            number = number[len(prefix):]
    if re.fullmatch(r"1[3-9]\d{9}", number):
        return number, None
    return number, ("手机号码应为11位数字并以13-19开头，例如13800138000",
                    "A mobile number has 11 digits starting with 13-19, e.g. 13800138000")


def check_phone(value) -> tuple[str, tuple[str, str] | None]:
    """办公电话 / 固定电话: a landline with area code (an extension allowed) or a mobile;
    kept as typed (half-width), at most 25 characters."""
    text = compact(value).replace("（", "(").replace("）", ")")
    digits = re.sub(r"\D", "", text)
    if (len(text) <= 25 and 7 <= len(digits) <= 20
            and re.fullmatch(r"[\d()+\-]+(?:(?:转|EXT\.?|X|#|,)\d{1,6})?", text)):
        return text, None
    return text, ("电话号码应为区号加号码（可加分机号），例如0574-87654321或0574-87654321-123",
                  "A phone number is area code + number, optionally an extension, "
                  "e.g. 0574-87654321 or 0574-87654321-123")


def check_postcode(value) -> tuple[str, tuple[str, str] | None]:
    code = compact(value)
    if re.fullmatch(r"\d{6}", code):
        return code, None
    return code, ("邮政编码应为6位数字", "A post code has 6 digits")


def _blank(value) -> bool:
    return value is None or not str(value).strip()


# -- recording a voucher 登记申领凭证

def _agent_slots(agents: list[dict]) -> list[tuple[int, dict]]:
    """The filled agent boxes with their slot: a box left empty on the form (every field
    blank) is no agent; a given ``slot`` keeps its box, otherwise the order counts."""
    filled = [a for a in agents if isinstance(a, dict)
              and not all(_blank(a.get(f)) for f in AGENT_FIELDS)]
    return [(_slot(a.get("slot"), i), a) for i, a in enumerate(filled, 1)]


def _slot(value, default: int):
    """A box number as typed ("2", 2) or the position when none was given; anything else
    is kept as is for the check to refuse."""
    if _blank(value):
        return default
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() else value


def _check_agent(slot, agent: dict, problems: list) -> dict:
    """One agent box: name, citizen ID number, mobile, optional office phone."""
    label_zh, label_en = f"经办人（{slot}）", f"Agent {slot}"

    def problem(p):
        problems.append((f"{label_zh}{p[0]}", f"{label_en}: {p[1]}"))

    name = clean_text(agent.get("name"))
    if not name:
        problem(("未填写姓名", "the name is missing"))
    elif len(name) > 30:
        problem(("姓名超过30个字", "the name is longer than 30 characters"))
    id_number, p = check_citizen_id(agent.get("id_number"))
    if _blank(agent.get("id_number")):
        problem(("未填写身份证号码", "the ID number is missing"))
    elif p:
        problem(p)
    mobile, p = check_mobile(agent.get("mobile"))
    if _blank(agent.get("mobile")):
        problem(("未填写手机号码", "the mobile number is missing"))
    elif p:
        problem(p)
    office_phone = None
    if not _blank(agent.get("office_phone")):
        office_phone, p = check_phone(agent.get("office_phone"))
        if p:
            problem(p)
    return {"slot": slot, "name": name, "id_number": id_number, "mobile": mobile,
            "office_phone": office_phone}


def _check_agents(agents, problems: list) -> list[dict]:
    slots = _agent_slots(list(agents or []))
    if not slots:
        problems.append(("至少应填写一名经办人", "At least one agent is needed"))
        return []
    if len(slots) > MAX_AGENTS:
        problems.append((f"经办人最多{MAX_AGENTS}名，填写了{len(slots)}名",
                         f"At most {MAX_AGENTS} agents; {len(slots)} were given"))
        return []
    numbers = [s for s, _ in slots]
    if any(not isinstance(s, int) or isinstance(s, bool) or not 1 <= s <= MAX_AGENTS
           for s in numbers) or len(set(numbers)) != len(numbers):
        problems.append(("经办人栏位应为（一）至（三），且不能重复",
                         "Agent boxes are 1 to 3, each used once"))
        return []
    clean = [_check_agent(slot, agent, problems) for slot, agent in slots]
    seen: dict[str, int] = {}
    for a in clean:
        if a["id_number"] and a["id_number"] in seen:
            problems.append((f"经办人（{seen[a['id_number']]}）与经办人（{a['slot']}）的身份证号码相同"
                             f"（{mask_id(a['id_number'])}），同一人只能填写一次",
                             f"Agents {seen[a['id_number']]} and {a['slot']} have the same ID "
                             f"number ({mask_id(a['id_number'])}); a person is named once"))
        seen.setdefault(a["id_number"], a["slot"])
    return clean


def _check_employer(employer_code, employer_name, phone, address, postcode, filled_by,
                    actor_name, problems: list) -> dict:
    """The voucher's head: 单位社保编码, 单位名称, 电话, 地址, 邮编, 填表人."""
    code, name = compact(employer_code), clean_text(employer_name)
    if not code or len(code) > 30:
        problems.append(("单位社保编码应填写，最多30位", "The employer code is needed (at most 30)"))
    if not name or len(name) > 100:
        problems.append(("单位名称应填写，最多100字", "The employer's name is needed (at most 100)"))
    head = {"employer_code": code, "employer_name": name, "phone": None, "address": None,
            "postcode": None, "filled_by": clean_text(filled_by) or None,
            "recorded_by": str(actor_name or "").strip()}
    if not head["recorded_by"]:
        problems.append(("缺少登记人", "Who records the voucher is missing"))
    if not _blank(phone):
        head["phone"], p = check_phone(phone)
        if p:
            problems.append((f"单位电话：{p[0]}", f"Employer phone: {p[1]}"))
    if not _blank(address):
        head["address"] = clean_text(address)
        if len(head["address"]) > 100:
            problems.append(("单位地址超过100字", "The employer's address is longer than 100"))
    if not _blank(postcode):
        head["postcode"], p = check_postcode(postcode)
        if p:
            problems.append((f"单位{p[0]}", f"Employer: {p[1]}"))
    if head["filled_by"] and len(head["filled_by"]) > 30:
        problems.append(("填表人姓名超过30个字", "The name of who filled in the form is too long"))
    return head


def record_voucher(session: Session, employer_code: str, employer_name: str, agents: list[dict],
                   actor_name: str, *, phone: str | None = None, address: str | None = None,
                   postcode: str | None = None, filled_by: str | None = None) -> Voucher:
    """登记申领凭证: record the employer's voucher as its next version (1, 2, ...) with its
    one to three agents. Every problem is listed in one ``VoucherInvalid`` and nothing is
    written then. Two clerks recording the same employer at once: the unique (code, version)
    makes the second flush fail rather than two versions with the same number."""
    problems: list[tuple[str, str]] = []
    head = _check_employer(employer_code, employer_name, phone, address, postcode, filled_by,
                           actor_name, problems)
    clean = _check_agents(agents, problems)
    if problems:
        raise VoucherInvalid(problems)
    last = session.scalar(select(func.max(Voucher.version))
                          .where(Voucher.employer_code == head["employer_code"]))
    voucher = Voucher(version=(last or 0) + 1, **head)
    session.add(voucher)
    session.flush()  # the voucher's id for its agents
    session.add_all(VoucherAgent(voucher_id=voucher.id, **a) for a in clean)
    session.flush()
    return voucher


# -- reading 查询

def current_voucher(session: Session, employer_code: str) -> Voucher | None:
    """现行申领凭证: the employer's latest version, or None."""
    return session.scalars(select(Voucher).where(Voucher.employer_code == compact(employer_code))
                           .order_by(Voucher.version.desc()).limit(1)).first()


def agents_of(session: Session, voucher: Voucher) -> list[VoucherAgent]:
    """The voucher's agents 经办人 in the order of the form's boxes."""
    return list(session.scalars(select(VoucherAgent).where(VoucherAgent.voucher_id == voucher.id)
                                .order_by(VoucherAgent.slot)))


def history(session: Session, employer_code: str) -> list[tuple[Voucher, list[VoucherAgent]]]:
    """Every version of the employer's voucher with its agents, newest first (two queries)."""
    vouchers = list(session.scalars(select(Voucher)
                                    .where(Voucher.employer_code == compact(employer_code))
                                    .order_by(Voucher.version.desc())))
    by_voucher: dict[int, list[VoucherAgent]] = {v.id: [] for v in vouchers}
    if vouchers:
        for agent in session.scalars(select(VoucherAgent)
                                     .where(VoucherAgent.voucher_id.in_(by_voucher))
                                     .order_by(VoucherAgent.slot)):
            by_voucher[agent.voucher_id].append(agent)
    return [(v, by_voucher[v.id]) for v in vouchers]


def recorded_on(voucher: Voucher) -> date:
    """The day (Beijing time) the voucher was recorded."""
    return to_local_date(voucher.recorded_at)


# -- an agent at the desk 经办人凭本人身份证办理

def check_agent(session: Session, employer_code: str, id_number: str) -> VoucherAgent:
    """The agent who shows this ID card must be named on the employer's CURRENT voucher
    (§4.1: "今后《申领凭证》内的单位经办人凭本人身份证办理"); an agent of an earlier version
    was replaced and may no longer act. Raises ``AgentNotAuthorised`` saying which case it is."""
    number = compact(id_number)
    current = current_voucher(session, employer_code)
    if current is None:
        raise AgentNotAuthorised("本单位尚未登记申领凭证，请先由单位填报《申领凭证》",
                                 "The employer has no authorisation voucher on record yet",
                                 code="no_voucher")
    rows = session.execute(select(VoucherAgent, Voucher.version)
                           .join(Voucher, Voucher.id == VoucherAgent.voucher_id)
                           .where(Voucher.employer_code == current.employer_code,
                                  VoucherAgent.id_number == number)
                           .order_by(Voucher.version.desc())).all()
    for agent, version in rows:
        if version == current.version:
            return agent
    day = recorded_on(current).isoformat()
    masked = mask_id(number)
    if rows:
        raise AgentNotAuthorised(
            f"身份证号码 {masked}：该经办人已不在单位现行申领凭证（第 {current.version} 版，"
            f"{day} 登记）上，请由现行凭证上的经办人办理或重新填报申领凭证",
            f"ID number {masked}: this agent is no longer on the employer's current voucher "
            f"(version {current.version}, recorded {day}); an agent of the current voucher must "
            "act, or the employer files a new voucher",
            code="agent_replaced")
    raise AgentNotAuthorised(
        f"身份证号码 {masked}：该身份证号码不是本单位申领凭证上的经办人",
        f"ID number {masked}: this ID number is not an agent on the employer's voucher",
        code="agent_unknown")
