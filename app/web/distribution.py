"""Distribution pages 领卡与发放: an employer's pickups started from its page (办理单位领卡), one
pickup (agent, cards, dates, documents), the signed roster coming back (发放花名册交回登记, a
grid of 50 lines a page), the cards the employer returns (退卡回收) and the return slip, and the
cards themselves: where each one is and every change of its place (卡片去向), found by card
number, ID number or name, and counted per employer and per batch.

Who: the card centre's clerks work (start a pickup, record the roster and the returns), its
reviewers and managers read (:data:`app.cases.access.BATCH_GROUPS`), each for the batches of
their offices (:func:`app.cases.access.may_view_batch` on the card's batch). The BPMN steps of
a pickup (核验领卡人, 当面清点, 交接单签字) are the task forms of ``employer_pickup``; these pages
start the case, show what it recorded and take the work that is a table rather than a form.

Pages show labels (``app.procedures.distribution.states``), never codes: form and query values
that pick a state, an outcome or a reason are its position in the enum's order. Card numbers
and ID numbers are masked; every POST and every document download is an audit record
(``family``: distribution).
"""
from __future__ import annotations

import logging

import re

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import exists, func, or_, select

from app.auth.models import User
from app.auth.service import actor_of
from app.cards.models import Card
from app.cases.access import BATCH_GROUPS, may_view_batch, offices_of
from app.cases.errors import STEP_ERRORS, case_errors
from app.common.clock import china_today
from app.common.errors import BilingualError
from app.common.i18n import T, get_locale
from app.common.ids import parse_id
from app.common.masking import mask_card_number, mask_id
from app.engine import repository, runtime
from app.engine.models import ACTIVE_STATUSES, OPEN, HumanTask, ProcessInstance
from app.extensions import db_session
from app.permissions import groups
from app.procedures.batch.models import Batch, Employer, Person
from app.procedures.batch.states import Production
from app.procedures.distribution import custody, roster
from app.procedures.distribution.models import (
    CardCustody,
    CardReturn,
    EmployerPickup,
    PickupCard,
)
from app.procedures.distribution.states import (
    CUSTODY_LABELS,
    NOT_HANDED_OUT,
    OUTCOME_LABELS,
    PICKUP_LABELS,
    RETURN_LABELS,
    Custody,
    Outcome,
    PickupStatus,
    ReturnReason,
)
from app.web import t
from app.web.batch import employer_or_404, file_response, not_found

log = logging.getLogger(__name__)

bp = Blueprint("distribution", __name__)

PAGE = 50
WORKERS = ("centre_clerk",)              # start a pickup, record the roster, receive returns
PICKUP_PROCESS = "employer_pickup"
CUSTODY_ORDER = tuple(Custody)           # query values: 1-based positions
OUTCOME_ORDER = tuple(Outcome)
REASON_ORDER = tuple(ReturnReason)
#: the pickup's states in which its roster and its returns are recorded
RECORDING = roster.RECORDING
#: the documents of a pickup and of a return (``app.procedures.distribution.documents``)
PICKUP_DOCUMENTS = ("handover", "pickup_slip", "distribution_roster", "usage_notice", "return_register")
RETURN_DOCUMENTS = ("return_slip", "province_slip")
FORMATS = {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FORMAT_NAMES = {"html": T("网页（打印）", "Web page (print)"), "xlsx": T("Excel", "Excel"),
                "pdf": T("PDF", "PDF")}
#: the roster's scan (app.procedures.distribution.roster.MAX_SCAN) and the form around it
SCAN_LIMIT = roster.MAX_SCAN
SCAN_REQUEST_LIMIT = SCAN_LIMIT + 1024 * 1024
SCAN_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}
MAX_LINES = 200                          # lines of one posted page
MAX_SEARCH = 50                          # persons listed by a search
UNKNOWN = T("（未知）", "(unknown)")


def label_of(table: dict, code) -> T | str:
    """A state's label (never its code); '' for none."""
    if code is None or code == "":
        return ""
    return table.get(code, UNKNOWN)


def position(order: tuple, code) -> int:
    return order.index(code) + 1 if code in order else 0


def from_position(order: tuple, value):
    n = parse_id(value)
    return order[n - 1] if n and n <= len(order) else None


def in_words(counts: dict) -> T:
    """Custody counts as a sentence: 在社保卡中心 12 张；单位已领取，待发放 30 张."""
    parts = [(CUSTODY_LABELS[state], counts.get(state.value, 0)) for state in CUSTODY_ORDER
             if counts.get(state.value, 0)]
    if not parts:
        return T("尚无卡片去向记录。", "No card has a recorded place yet.")
    zh = "；".join(f"{label.zh} {n} 张" for label, n in parts)
    en = "; ".join(f"{label.en}: {n}" for label, n in parts)
    return T(f"共 {sum(n for _, n in parts)} 张：{zh}。", f"{sum(n for _, n in parts)} cards. {en}.")


def note_text(note: str | None) -> str:
    """A service's note is written "中文 / English": the part of the current language."""
    if not note:
        return ""
    if " / " in note:
        zh, en = note.split(" / ", 1)
        return en if get_locale() == "en" else zh
    return note


@bp.context_processor
def distribution_helpers():
    return {"custody_label": lambda c: label_of(CUSTODY_LABELS, c),
            "outcome_label": lambda c: label_of(OUTCOME_LABELS, c),
            "reason_label": lambda c: label_of(RETURN_LABELS, c),
            "pickup_label": lambda c: label_of(PICKUP_LABELS, c),
            "custody_order": CUSTODY_ORDER, "outcome_order": OUTCOME_ORDER,
            "reason_order": REASON_ORDER, "not_handed_out": NOT_HANDED_OUT,
            "custody_index": lambda c: position(CUSTODY_ORDER, c),
            "outcome_index": lambda c: position(OUTCOME_ORDER, c),
            "reason_index": lambda c: position(REASON_ORDER, c),
            "mask_card": mask_card_number, "format_name": lambda f: FORMAT_NAMES.get(f, f),
            "note_text": note_text}


def audit(session, what: str, **detail) -> None:
    """One audit record 审计记录 of a distribution page, in the page's transaction."""
    from app.engine import audit as engine_audit
    from app.engine.services import Actor
    engine_audit.record(session, "family", Actor(current_user.username, current_user.id),
                        family="distribution", what=what, **detail)


def message(e: BilingualError) -> str:
    return e.message(get_locale())


def page_arg() -> int:
    n = parse_id(request.args.get("page") or request.form.get("page"))
    return min(n, 100_000) if n else 1


def may_work() -> bool:
    return current_user.in_group(*WORKERS, "administrator")


# -- finding rows (404 with words, 403 by the batch's office) -------------------------------------

def pickup_or_404(pickup_id: int) -> tuple[EmployerPickup, Employer, Batch]:
    session = db_session()
    pickup = session.get(EmployerPickup, pickup_id)
    if pickup is None:
        not_found(T(f"没有编号为 {pickup_id} 的领卡交接单。", f"There is no pickup number {pickup_id}."))
    employer = session.get(Employer, pickup.employer_id)
    batch = session.get(Batch, employer.batch_id)
    if not may_view_batch(session, current_user, batch.office):
        abort(403)
    return pickup, employer, batch


def return_or_404(return_id: int) -> tuple[CardReturn, Employer, Batch]:
    session = db_session()
    returned = session.get(CardReturn, return_id)
    if returned is None:
        not_found(T(f"没有编号为 {return_id} 的退卡回收单。", f"There is no return number {return_id}."))
    employer = session.get(Employer, returned.employer_id)
    batch = session.get(Batch, employer.batch_id)
    if not may_view_batch(session, current_user, batch.office):
        abort(403)
    return returned, employer, batch


def card_or_404(card_id: int):
    session = db_session()
    row = session.execute(select(Card, CardCustody, Person).join(CardCustody, CardCustody.card_id == Card.id)
                          .join(Person, Person.id == CardCustody.person_id)
                          .where(Card.id == card_id)).first()
    if row is None:
        not_found(T(f"没有编号为 {card_id} 的批量制卡社会保障卡（或该卡尚无去向记录）。",
                    f"There is no batch card number {card_id} (or it has no recorded place yet)."))
    card, held, person = row
    batch = session.get(Batch, held.batch_id)
    if not may_view_batch(session, current_user, batch.office):
        abort(403)
    employer = session.get(Employer, held.employer_id) if held.employer_id else None
    return card, held, person, employer, batch


def visible_batch_ids(session):
    """SQL condition on ``Batch``: the batches of the user's offices."""
    offices = offices_of(session, current_user)
    if offices is None:
        return Batch.id.is_not(None)
    return or_(Batch.office.is_(None), Batch.office.in_(sorted(offices)))


def display_names(session, usernames) -> dict[str, str]:
    names = {u for u in usernames if u}
    if not names:
        return {}
    return {u: (d or u) for u, d in session.execute(
        select(User.username, User.display_name).where(User.username.in_(sorted(names))))}


def documents_module():
    from app.procedures.distribution import documents
    return documents


#: made on request (a few pages each); the usage notices are one page per person: a large
#: employer's would keep the page waiting minutes, so they print from the web page
NO_PDF = ("usage_notice",)


def documents_of(kinds) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(kind, zh, en, formats) of the documents offered."""
    docs = documents_module().DOCUMENTS
    return [(kind, docs[kind][0], docs[kind][1],
             tuple(f for f in docs[kind][2] if f != "pdf" or kind not in NO_PDF))
            for kind in kinds if kind in docs]


# -- the employer page's section 领卡与发放 (app/templates/batch/employer.html) ----------------------

def waiting_at_centre(session, employer_id: int) -> int:
    """Cards the employer's next pickup would take: at the centre (or returned to be issued a
    second time through the employer), and those accepted on delivery whose place is not
    recorded yet (``custody.ensure_custody`` records it when a pickup starts). Reads only."""
    at_centre = len(custody.cards_to_pick_up(session, employer_id))
    accepted = session.scalar(select(func.count()).select_from(Person).where(
        Person.employer_id == employer_id, Person.production == Production.ACCEPTED,
        Person.card_id.is_not(None), ~exists().where(CardCustody.card_id == Person.card_id)))
    return (at_centre or 0) + (accepted or 0)


def pickup_dates(pickup: EmployerPickup, outstanding: int | None = None) -> dict:
    """Whether the distribution (3 working days, met when the roster is back) and the return
    (6 months, met when no card is left with the employer) are overdue today."""
    today = china_today()
    return {"distribution_overdue": bool(pickup.distribute_by and pickup.roster_back_at is None
                                         and today > pickup.distribute_by),
            "return_overdue": bool(pickup.return_by and today > pickup.return_by and outstanding)}


def employer_section(session, employer: Employer) -> dict:
    """What the employer page shows under 领卡与发放."""
    pickups = list(session.scalars(select(EmployerPickup).where(EmployerPickup.employer_id == employer.id)
                                   .order_by(EmployerPickup.id.desc())))
    outstanding: dict[int, int] = {}
    if pickups:
        outstanding = dict(session.execute(
            select(PickupCard.pickup_id, func.count()).join(CardCustody, CardCustody.card_id == PickupCard.card_id)
            .where(PickupCard.pickup_id.in_([p.id for p in pickups]),
                   CardCustody.state == Custody.WITH_EMPLOYER)
            .group_by(PickupCard.pickup_id)).all())
    returns = list(session.scalars(select(CardReturn).where(CardReturn.employer_id == employer.id)
                                   .order_by(CardReturn.id.desc())))
    waiting = waiting_at_centre(session, employer.id)
    counts = custody.counts(session, employer_id=employer.id)
    return {"pickups": [(p, pickup_dates(p, outstanding.get(p.id, 0))) for p in pickups],
            "returns": returns, "pickup_numbers": {p.id: p.number for p in pickups},
            "waiting": waiting, "counts_words": in_words(counts),
            "documents": documents_of(PICKUP_DOCUMENTS),
            "may_start": may_work() and waiting > 0,
            "unfinished": may_work() and waiting > 0 and unfinished_pickup_case(session, employer) is not None,
            # the batch blueprint's page: this blueprint's template helpers are not there
            "pickup_label": lambda c: label_of(PICKUP_LABELS, c)}


# -- starting a pickup 办理单位领卡 ------------------------------------------------------------------

def business_key(employer: Employer, n: int) -> str:
    return f"LK{employer.id}-{n}"


def open_task_of(session, instance_id: int) -> HumanTask | None:
    return session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                   HumanTask.state == OPEN)
                           .order_by(HumanTask.id)).first()


def unfinished_pickup_case(session, employer: Employer) -> ProcessInstance | None:
    """A pickup case of the employer still before its handover (its agent being checked, its
    cards being counted or signed for): the clerk continues that one."""
    cases = session.scalars(select(ProcessInstance).where(
        ProcessInstance.process_key == PICKUP_PROCESS,
        ProcessInstance.business_key.like(f"LK{employer.id}-%"),
        ProcessInstance.status.in_(ACTIVE_STATUSES)).order_by(ProcessInstance.id)).all()
    for case in cases:
        pickup = session.scalars(select(EmployerPickup).where(EmployerPickup.instance_id == case.id)).first()
        if pickup is None or pickup.status in (PickupStatus.AGENT_CHECKED, PickupStatus.COUNTED):
            return case
    return None


def to_task(session, instance: ProcessInstance):
    """The case's open task (claimed for the clerk when it is their group's), else its page."""
    task = open_task_of(session, instance.id)
    if task is None:
        return redirect(url_for("cases.show", instance_id=instance.id))
    if task.assignee_id is None and current_user.in_group(task.group):
        try:
            runtime.claim(session, task.id, actor_of(current_user))
        except STEP_ERRORS:
            session.rollback()
    return redirect(url_for("inbox.task", task_id=task.id))


@bp.post("/distribution/employers/<int:employer_id>/pickups")
@groups(*WORKERS)
def start_pickup(employer_id):
    """办理单位领卡: the employer's agent is at the counter; the case's first task is checking them."""
    session = db_session()
    employer, batch = employer_or_404(employer_id)
    back = url_for("batch.employer", employer_id=employer.id) + "#distribution"
    if repository.latest_model(session, PICKUP_PROCESS) is None:
        flash(t("单位领卡流程尚未部署，请联系管理员。", "The employer pickup procedure is not deployed yet; ask an administrator."))
        return redirect(back)
    unfinished = unfinished_pickup_case(session, employer)
    if unfinished is not None:
        flash(t("该单位有一笔尚未交接完毕的领卡，请继续办理。",
                "This employer has a pickup not yet handed over: continue it."))
        response = to_task(session, unfinished)
        session.commit()
        return response
    try:
        custody.ensure_custody(session, employer.id, current_user.username)
    except BilingualError as e:
        session.rollback()
        flash(message(e))
        return redirect(back)
    waiting = custody.counts(session, employer_id=employer.id).get(Custody.AT_CENTRE.value, 0)
    if not waiting:
        session.rollback()
        flash(t(f"“{employer.name}”没有在社保卡中心待领取的卡。",
                f"{employer.name} has no card waiting at the centre."))
        return redirect(back)
    n = session.scalar(select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.process_key == PICKUP_PROCESS,
        ProcessInstance.business_key.like(f"LK{employer.id}-%"))) + 1
    try:
        instance = runtime.start_instance(session, PICKUP_PROCESS,
                                          {"employer_id": employer.id, "employer_name": employer.name},
                                          business_key(employer, n), actor_of(current_user))
    except STEP_ERRORS as e:
        session.rollback()
        flash(case_errors(e))
        return redirect(back)
    audit(session, "start_pickup", batch=batch.id, employer=employer.id, instance=instance.id,
          cards_waiting=waiting)
    session.commit()
    return to_task(session, instance)


# -- one pickup 领卡交接单 ----------------------------------------------------------------------------

def pickup_lines(session, pickup_id: int, page: int):
    """One page of the pickup's cards in roster order, with the person, the place and the
    line; and how many there are (one query)."""
    rows = session.execute(
        select(PickupCard, Card.card_number, Person.name, Person.id_number, CardCustody.state,
               func.count().over())
        .join(Card, Card.id == PickupCard.card_id)
        .join(Person, Person.id == PickupCard.person_id)
        .join(CardCustody, CardCustody.card_id == PickupCard.card_id)
        .where(PickupCard.pickup_id == pickup_id)
        .order_by(PickupCard.seq, PickupCard.id).limit(PAGE).offset((page - 1) * PAGE)).all()
    lines = [{"line": line, "card_number": mask_card_number(number), "name": name,
              "id_number": mask_id(id_number), "state": state}
             for line, number, name, id_number, state, _ in rows]
    return lines, (rows[0][-1] if rows else 0)


@bp.get("/distribution/pickups/<int:pickup_id>")
@groups(*BATCH_GROUPS)
def pickup(pickup_id):
    session = db_session()
    row, employer, batch = pickup_or_404(pickup_id)
    page = page_arg()
    lines, total = pickup_lines(session, row.id, page)
    figures = roster.figures(session, row.id)
    returns = list(session.scalars(select(CardReturn).where(CardReturn.pickup_id == row.id).order_by(CardReturn.id)))
    task = open_task_of(session, row.instance_id) if row.instance_id else None
    names = display_names(session, [row.created_by, row.handed_over_by])
    return render_template(
        "distribution/pickup.html", pickup=row, employer=employer, batch=batch, lines=lines,
        total=total, page=page, pages=PAGE, figures=figures, returns=returns, task=task,
        names=names, dates=pickup_dates(row, figures["outstanding"]),
        documents=documents_of(PICKUP_DOCUMENTS), handed_over=row.handed_over_at is not None,
        recording=row.status in RECORDING)


def render_document(kind: str, fmt: str, ref_id: int, kinds, name: str, ascii_name: str, **detail):
    session = db_session()
    documents = documents_module()
    if kind not in kinds or kind not in documents.DOCUMENTS or fmt not in documents.DOCUMENTS[kind][2] \
            or fmt not in FORMATS:
        not_found(T("没有这种单据或格式。", "There is no such document or format."))
    if fmt == "pdf" and kind in NO_PDF:
        not_found(T("使用须知每人一页，该单据请在网页上打印。", "The usage notices (a page each) print from the web page."))
    try:
        if fmt == "html":
            body = documents.render_html(session, kind, ref_id,
                                         css_href=url_for("static", filename="documents.css"))
        elif fmt == "pdf":
            body = pdf_or_message(documents, session, kind, ref_id)
        else:
            body = documents.render_xlsx(session, kind, ref_id)
    except BilingualError as e:
        session.rollback()
        not_found(T(e.message_zh, e.message_en))
    audit(session, "document", kind=kind, format=fmt, **detail)
    session.commit()
    zh = documents.DOCUMENTS[kind][0]
    return file_response(body, FORMATS[fmt], f"{name}-{zh}.{fmt}", f"{ascii_name}-{kind}.{fmt}",
                         inline=fmt != "xlsx")


def pdf_or_message(documents, session, kind: str, ref_id: int) -> bytes:
    """The PDF, or a page that says it could not be made: a printing failure never touches
    what was recorded (the handover is committed before any document is asked for)."""
    try:
        return documents.render_pdf(session, kind, ref_id)
    except BilingualError:
        raise
    except Exception:  # WeasyPrint, fonts, memory: the clerk prints the web page instead
        log.exception("PDF of %s %s failed", kind, ref_id)
        session.rollback()
        abort(make_response(render_template("error.html", code=503, message=T(
            "PDF 暂时无法生成，请改用网页打印（A4）；已登记的交接、发放和退卡记录不受影响。",
            "The PDF cannot be made just now: print the web page (A4) instead. What was recorded "
            "(handover, roster, returns) is not affected.")), 503))


def ascii_number(number: str, fallback: int) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", number or "")[:30] or str(fallback)


@bp.get("/distribution/pickups/<int:pickup_id>/documents/<kind>.<fmt>")
@groups(*BATCH_GROUPS)
def pickup_document(pickup_id, kind, fmt):
    """交接单、领卡单、发放花名册、使用须知、退回登记表: full ID numbers, each download audited."""
    row, employer, batch = pickup_or_404(pickup_id)
    return render_document(kind, fmt, row.id, PICKUP_DOCUMENTS, f"{employer.name}-{row.number}",
                           f"pickup-{ascii_number(row.number, row.id)}", batch=batch.id,
                           employer=employer.id, pickup=row.id)


@bp.get("/distribution/pickups/<int:pickup_id>/roster-scan")
@groups(*BATCH_GROUPS)
def roster_scan(pickup_id):
    """The archived scan of the signed roster (its download is an audit record)."""
    session = db_session()
    row, employer, batch = pickup_or_404(pickup_id)
    scan = row.roster_scan
    if not scan:
        not_found(T("该交接单尚未上传发放花名册扫描件。", "No scan of the signed roster was uploaded for this pickup."))
    try:
        kind = roster.scan_kind(scan)
    except BilingualError:
        kind = "pdf"
    audit(session, "document", kind="roster_scan", batch=batch.id, employer=employer.id, pickup=row.id)
    session.commit()
    name = row.roster_scan_name or f"{row.number}-发放花名册.{kind}"
    return file_response(scan, SCAN_TYPES[kind], name, f"pickup-{ascii_number(row.number, row.id)}-roster.{kind}",
                         inline=True)


# routes on bp by what they show: the signed roster and returns, the cards' places
from app.web import distribution_cards, distribution_roster  # noqa: E402,F401
