"""Data entry, review and the freeze 录入、复核与提交 (seed 001 §4.2-2, §4.3).

"社保卡中心工作人员核对《确认表》相关信息，在系统中录入应补充的内容，由第二人复核签名": a clerk enters
each returned form (``confirmation.record_returns``), a SECOND person reviews it (four eyes:
the reviewer is never the person who entered it) and accepts it or sends it back with a note;
a sent-back form is entered again and reviewed again.

When every returned form is accepted and the summary agreed (``reconcile``), the application is
submitted: from then on the persons' basic data is frozen until the card is issued ("提交《确认表》
后，若参保人个人基本信息需要修改的，在社保卡发放之前暂不受理"), ``Person.submitted_at``.

Plain functions on a SQLAlchemy session: they flush, the caller commits.
"""
from __future__ import annotations

from sqlalchemy import and_, func, insert, literal, select, update
from sqlalchemy.orm import Session

from app.common.clock import utcnow
from app.common.errors import BilingualError
from app.common.ids import parse_id
from app.engine.db import UtcDateTime
from app.procedures.batch.models import Person, PersonEvent
from app.procedures.batch.reconcile import (compare, ensure_open, entry_counts, get_employer)
from app.procedures.batch.states import ENTRY_LABELS, EmployerStatus, Eligibility, Entry

ACCEPT, SEND_BACK = "accept", "send_back"
MAX_NOTE = 500


def names_of(names: list[str], most: int = 10) -> tuple[str, str]:
    """"张三、李四" / "张三, 李四"; a long list cut after ``most`` names with the count."""
    shown = names[:most]
    if len(names) <= most:
        return "、".join(shown), ", ".join(shown)
    return ("、".join(shown) + f"等 {len(names)} 人",
            ", ".join(shown) + f" and {len(names) - most} more")


class DataFrozen(BilingualError):
    """The person's data was submitted with the application: frozen until the card is
    issued. ``names`` are the persons refused."""

    kind = "conflict"
    code = "data_frozen"

    def __init__(self, names: list[str]):
        self.names = names
        zh, en = names_of(names)
        super().__init__(f"{zh}：已提交申领，参保人基本信息在社保卡发放前不能修改",
                         f"{en}: the application was submitted; the person's basic data cannot "
                         "be changed until the card is issued")


class FourEyes(BilingualError):
    """录入与复核不能为同一人: the reviewer entered these forms."""

    kind = "forbidden"
    code = "four_eyes"

    def __init__(self, names: list[str]):
        self.names = names
        zh, en = names_of(names)
        super().__init__(f"录入与复核不能为同一人：{zh} 的确认表由您录入，请由另一名工作人员复核",
                         "Data entry and review cannot be done by the same person: you entered "
                         f"the forms of {en}; another clerk must review them")


class ReviewInvalid(BilingualError):
    kind = "invalid"
    code = "review_invalid"

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("复核结果有误：" + "；".join(zh for zh, _ in problems),
                         "The review cannot be recorded: " + "; ".join(en for _, en in problems))


class SubmitRefused(BilingualError):
    """Not ready to submit; ``reasons`` says what is missing (zh, en)."""

    kind = "conflict"
    code = "submit_refused"

    def __init__(self, reasons: list[tuple[str, str]]):
        self.reasons = reasons
        super().__init__("暂不能提交申领：" + "；".join(zh for zh, _ in reasons),
                         "The application cannot be submitted yet: "
                         + "; ".join(en for _, en in reasons))


def ensure_not_frozen(person: Person) -> None:
    """Refuse any change of a person whose data was submitted (N §4.3)."""
    if person.submitted_at is not None:
        raise DataFrozen([person.name])


def event(person: Person, actor_name: str, zh: str, en: str) -> PersonEvent:
    """One line of the person's history 个人办理记录 (added to the session by the caller)."""
    return PersonEvent(person_id=person.id, by=actor_name, at=utcnow(), text_zh=zh, text_en=en)


# -- review 复核

def _employer_persons(employer_id: int):
    return (Person.employer_id == employer_id, Person.eligibility == Eligibility.ELIGIBLE)


def open_for_review(session: Session, employer_id: int) -> int:
    """待复核: persons whose form was entered and not yet reviewed."""
    return session.scalar(select(func.count()).select_from(Person)
                          .where(*_employer_persons(employer_id), Person.entry == Entry.ENTERED))


def sent_back(session: Session, employer_id: int) -> list[Person]:
    """复核退回: persons whose form waits to be entered again, in roster order."""
    return list(session.scalars(select(Person).where(*_employer_persons(employer_id),
                                                     Person.entry == Entry.SENT_BACK)
                                .order_by(Person.seq, Person.id)))


def _decision(value) -> tuple[object, str]:
    """("accept", None) / ("send_back", "原因"), or a bare "accept"; the note's spaces tidied."""
    kind, note = (list(value) + [None, None])[:2] if isinstance(value, (tuple, list)) \
        else (value, None)
    return kind, " ".join(str(note or "").split())


def _check_decision(person: Person, employer_id: int, decision, actor: str,
                    problems: list, own: list, frozen: list) -> tuple[str, str | None] | None:
    """One person's decision, or None after noting why it cannot be recorded."""
    if person.employer_id != employer_id or person.eligibility != Eligibility.ELIGIBLE:
        problems.append((f"{person.name} 不是本单位本批的申领人员",
                         f"{person.name} is not an applicant of this employer"))
        return None
    if person.submitted_at is not None:
        frozen.append(person.name)
        return None
    if person.entry != Entry.ENTERED:
        label = ENTRY_LABELS[Entry(person.entry)]
        problems.append((f"{person.name} 的确认表当前为“{label.zh}”，只有已录入待复核的才能复核",
                         f"{person.name}: the form is “{label.en}”; only entered forms are "
                         "reviewed"))
        return None
    kind, note = _decision(decision)
    if kind not in (ACCEPT, SEND_BACK):
        problems.append((f"{person.name}：复核结果应为“通过”或“退回”",
                         f"{person.name}: the decision is accept or send back"))
        return None
    if kind == SEND_BACK and not note:
        problems.append((f"{person.name}：退回时请写明退回原因", f"{person.name}: say why it is sent back"))
        return None
    if kind == SEND_BACK and len(note) > MAX_NOTE:
        problems.append((f"{person.name}：退回原因最多{MAX_NOTE}字",
                         f"{person.name}: the note is longer than {MAX_NOTE} characters"))
        return None
    if (person.entered_by or "") == actor:
        own.append(person.name)  # four eyes: the second person signs (§4.2-2)
        return None
    return kind, note or None


def review(session: Session, employer_id: int, decisions: dict, actor_name: str) -> dict:
    """复核: accept or send back (with a note) entered forms. ``decisions`` is {person id:
    ("accept", None) | ("send_back", "原因")}. The reviewer must not be who entered a form
    (``FourEyes`` names those persons); nothing is recorded unless every decision can be."""
    employer = get_employer(session, employer_id)
    ensure_open(employer)
    actor = str(actor_name or "").strip()
    if not actor:  # first: with no reviewer the four-eyes check means nothing
        raise ReviewInvalid([("缺少复核人", "Who reviews is missing")])
    problems: list[tuple[str, str]] = []
    if not decisions:
        problems.append(("没有要复核的确认表", "No form to review"))
    ids = {key: parse_id(key) for key in (decisions or {})}
    persons = {p.id: p for p in session.scalars(
        select(Person).where(Person.id.in_([i for i in ids.values() if i])))}
    own, frozen, checked = [], [], []
    for key, pid in ids.items():
        person = persons.get(pid)
        if person is None:
            problems.append((f"找不到编号为 {key} 的参保人", f"No person with id {key}"))
            continue
        decision = _check_decision(person, employer.id, decisions[key], actor,
                                   problems, own, frozen)
        if decision:
            checked.append((person, *decision))
    if frozen:
        raise DataFrozen(frozen)
    if own:
        raise FourEyes(own)
    if problems:
        raise ReviewInvalid(problems)
    return _apply_review(session, checked, actor)


def _apply_review(session: Session, checked: list, actor: str) -> dict:
    counts = {"accepted": 0, "sent_back": 0}
    for person, kind, note in checked:
        person.reviewed_by = actor
        if kind == ACCEPT:
            person.entry, person.review_note = Entry.ACCEPTED, None
            counts["accepted"] += 1
            session.add(event(person, actor, "确认表复核通过",
                              "Confirmation form accepted by the reviewer"))
        else:
            person.entry, person.review_note = Entry.SENT_BACK, note
            counts["sent_back"] += 1
            session.add(event(person, actor, f"确认表复核退回：{note}", f"Form sent back: {note}"))
    session.flush()
    return counts


# -- submission and the freeze 提交申领

def _missing(session: Session, employer) -> list[tuple[str, str]]:
    """What stands between the employer's application and its submission."""
    counts = entry_counts(session, employer.id)
    reasons = []
    if counts[Entry.OUT]:
        reasons.append((f"还有 {counts[Entry.OUT]} 人的确认表未登记返回或未返回",
                        f"{counts[Entry.OUT]} forms are not recorded yet"))
    if counts[Entry.ENTERED]:
        reasons.append((f"还有 {counts[Entry.ENTERED]} 份确认表已录入未复核",
                        f"{counts[Entry.ENTERED]} entered forms are not reviewed yet"))
    if counts[Entry.SENT_BACK]:
        reasons.append((f"还有 {counts[Entry.SENT_BACK]} 份复核退回的确认表未重新录入复核",
                        f"{counts[Entry.SENT_BACK]} forms sent back are not corrected yet"))
    if not counts[Entry.ACCEPTED]:
        reasons.append(("没有复核通过的确认表", "No form is accepted"))
    if employer.applied_at is None:
        reasons.append(("确认表尚未与单位《申领汇总表》核对一致",
                        "The forms have not been reconciled with the employer's summary"))
    else:
        # corrections after a send-back may have moved a person to another bank or department
        differences = compare(session, employer, employer.declared or {},
                              employer.forms_received or 0, employer.forms_returned or 0)
        if differences:
            reasons.append(("复核更正后与单位《申领汇总表》不再一致（"
                            + "；".join(d["zh"] for d in differences[:3])
                            + ("等" if len(differences) > 3 else "") + "），请重新核对汇总表",
                            "After corrections the forms no longer agree with the employer's "
                            "summary (" + "; ".join(d["en"] for d in differences[:3]) + "); "
                            "reconcile again"))
    return reasons


def submit(session: Session, employer_id: int, actor_name: str) -> int:
    """提交申领: freeze the accepted persons' data (``submitted_at``, one UPDATE and one
    INSERT of their history lines, not a loop) and mark the application submitted. Refused
    (``SubmitRefused``) saying what is missing. Returns the number of persons submitted."""
    employer = get_employer(session, employer_id)
    ensure_open(employer)
    actor = str(actor_name or "").strip()
    reasons = [] if actor else [("缺少提交人", "Who submits is missing")]
    reasons += _missing(session, employer)
    if reasons:
        raise SubmitRefused(reasons)
    now = utcnow()
    session.flush()  # pending changes first: the statements below read the table
    chosen = and_(*_employer_persons(employer.id), Person.entry == Entry.ACCEPTED,
                  Person.submitted_at.is_(None))
    session.execute(insert(PersonEvent).from_select(
        ["person_id", "at", "by", "text_zh", "text_en"],
        select(Person.id, literal(now, UtcDateTime()), literal(actor),
               literal("单位申领已提交，基本信息冻结至社保卡发放"),
               literal("Application submitted; basic data frozen until the card is issued"))
        .where(chosen)))
    result = session.execute(update(Person).where(chosen).values(submitted_at=now)
                             .execution_options(synchronize_session="fetch"))
    employer.submitted_at, employer.status = now, EmployerStatus.SUBMITTED
    session.flush()
    return result.rowcount
