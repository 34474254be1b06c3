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

import re
from collections import Counter

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import exists, func, or_, select
from werkzeug.exceptions import RequestEntityTooLarge

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
from app.extensions import csrf, db_session
from app.permissions import groups
from app.procedures.batch.models import Batch, Employer, Person
from app.procedures.batch.states import Production
from app.procedures.distribution import custody, roster
from app.procedures.distribution.models import (
    CardCustody,
    CardReturn,
    DataCorrection,
    EmployerPickup,
    PickupCard,
    ReturnedCard,
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
from app.web.batch import batch_or_404, employer_or_404, file_response, not_found

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


def documents_of(kinds) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(kind, zh, en, formats) of the documents offered; PDF is left out while it has no job
    (a page may not wait for WeasyPrint): HTML prints, Excel for the tables."""
    docs = documents_module().DOCUMENTS
    return [(kind, docs[kind][0], docs[kind][1], tuple(f for f in docs[kind][2] if f != "pdf"))
            for kind in kinds if kind in docs]


# -- the employer page's section 领卡与发放 (app/templates/batch/employer.html) ----------------------

def waiting_at_centre(session, employer_id: int) -> int:
    """Cards of the employer at the centre: those with that place recorded, and those accepted
    on delivery whose place is not recorded yet (``custody.ensure_custody`` records it when a
    pickup starts). Reads only."""
    at_centre = session.scalar(select(func.count()).select_from(CardCustody).where(
        CardCustody.employer_id == employer_id, CardCustody.state == Custody.AT_CENTRE))
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
    if fmt == "pdf":
        not_found(T("该单据请以网页打印或下载 Excel；PDF 暂不提供。",
                    "Print this document from its web page or download it as Excel; no PDF yet."))
    try:
        if fmt == "html":
            body = documents.render_html(session, kind, ref_id,
                                         css_href=url_for("static", filename="documents.css"))
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


# -- the signed roster back 发放花名册交回登记 -----------------------------------------------------------

def roster_row_values(line: PickupCard) -> dict:
    return {"outcome": position(OUTCOME_ORDER, line.outcome), "reason": position(REASON_ORDER, line.reason),
            "note": line.note or ""}


def render_roster(pickup, employer, batch, page: int, values=None, row_errors=None, problems=None,
                  status: int = 200):
    session = db_session()
    lines, total = pickup_lines(session, pickup.id, page)
    if not lines and page > 1:
        total = session.scalar(select(func.count()).select_from(PickupCard).where(PickupCard.pickup_id == pickup.id))
    return render_template(
        "distribution/roster.html", pickup=pickup, employer=employer, batch=batch, lines=lines, total=total,
        page=page, pages=PAGE, values=values or {}, row_errors=row_errors or {}, problems=problems or [],
        figures=roster.figures(session, pickup.id), editable=may_work() and pickup.status in RECORDING,
        with_employer=Custody.WITH_EMPLOYER, current=roster_row_values,
        not_handed_out_index=position(OUTCOME_ORDER, Outcome.NOT_HANDED_OUT),
        scan_limit_mb=SCAN_LIMIT // (1024 * 1024)), status


@bp.get("/distribution/pickups/<int:pickup_id>/roster")
@groups(*BATCH_GROUPS)
def roster_page(pickup_id):
    row, employer, batch = pickup_or_404(pickup_id)
    return render_roster(row, employer, batch, page_arg())


def open_scan_request() -> T | None:
    """Raise this request's size limit to the scan's and check its CSRF token (the view is
    exempt from the app-wide check, which would read the body under the app's 4 MB limit)."""
    too_large = T(f"扫描件超过 {SCAN_LIMIT // (1024 * 1024)} MB，请降低分辨率后重新扫描。",
                  f"The scan is larger than {SCAN_LIMIT // (1024 * 1024)} MB: scan it again at a lower resolution.")
    request.max_content_length = SCAN_REQUEST_LIMIT
    if request.content_length is not None and request.content_length > SCAN_REQUEST_LIMIT:
        return too_large
    try:
        csrf.protect()
    except RequestEntityTooLarge:
        return too_large
    return None


def read_scan(problems: list) -> tuple[bytes, str] | None:
    upload = request.files.get("scan")
    if upload is None or not upload.filename:
        return None
    name = upload.filename[:200]
    if not name.lower().endswith((".pdf", ".jpg", ".jpeg", ".png")):
        problems.append(t("花名册扫描件应为 PDF、JPEG 或 PNG 文件。", "The roster scan must be a PDF, JPEG or PNG file."))
        return None
    try:
        content = upload.read(SCAN_LIMIT + 1)
    except RequestEntityTooLarge:
        content = b"x" * (SCAN_LIMIT + 1)
    try:
        roster.scan_kind(content)
    except BilingualError as e:
        problems.append(message(e))
        return None
    return content, name


def _who(name: str, number: str) -> tuple[str, str]:
    """How roster.record_roster names a line (``_card_label``): 姓名（卡号 B7K****74）."""
    shown = mask_card_number(number)
    return f"{name}（卡号 {shown}）", f"{name} (card {shown})"


@bp.post("/distribution/pickups/<int:pickup_id>/roster")
@groups(*WORKERS)
@csrf.exempt  # checked in the view once the scan's size limit is raised (open_scan_request)
def save_roster(pickup_id):
    """The page's changed lines and the scan, all or nothing (``roster.record_roster``)."""
    session = db_session()
    row, employer, batch = pickup_or_404(pickup_id)
    page = page_arg()
    back = url_for("distribution.roster_page", pickup_id=row.id, page=page)
    too_large = open_scan_request()
    if too_large is not None:
        flash(str(too_large))
        return redirect(back)
    ids = list(dict.fromkeys(i for i in (parse_id(v) for v in request.form.getlist("card")[:MAX_LINES]) if i))
    known = {}
    if ids:
        known = {line.card_id: (line, number, name) for line, number, name in session.execute(
            select(PickupCard, Card.card_number, Person.name).join(Card, Card.id == PickupCard.card_id)
            .join(Person, Person.id == PickupCard.person_id)
            .where(PickupCard.pickup_id == row.id, PickupCard.card_id.in_(ids)))}
    values, lines, sent = {}, [], []
    for card_id in ids:
        if card_id not in known:
            continue
        line, number, name = known[card_id]
        outcome = from_position(OUTCOME_ORDER, request.form.get(f"outcome-{card_id}"))
        reason = from_position(REASON_ORDER, request.form.get(f"reason-{card_id}"))
        note = " ".join((request.form.get(f"note-{card_id}") or "").split())[:roster.MAX_NOTE + 10]
        values[card_id] = {"outcome": position(OUTCOME_ORDER, outcome), "reason": position(REASON_ORDER, reason),
                           "note": note}
        if outcome is None:
            continue
        if outcome != Outcome.NOT_HANDED_OUT:
            reason = None
        if (outcome.value, reason.value if reason else None, note or None) == \
                (line.outcome, line.reason if outcome == Outcome.NOT_HANDED_OUT else None, line.note or None):
            continue  # unchanged
        sent.append((card_id, *_who(name, number)))
        lines.append({"card_id": card_id, "outcome": outcome.value,
                      "reason": reason.value if reason else "", "note": note})
    problems: list[str] = []
    scan = read_scan(problems)
    if problems:
        return render_roster(row, employer, batch, page, values, {}, problems)
    if not lines and scan is None:
        flash(t("本页没有需要保存的更改。", "Nothing was changed on this page."))
        return redirect(back)
    try:
        figures = roster.record_roster(session, row.id, lines, current_user.username,
                                       scan=scan[0] if scan else None, scan_name=scan[1] if scan else None)
    except roster.RosterInvalid as e:
        session.rollback()
        row_errors: dict[int, list[str]] = {}
        en = get_locale() == "en"
        for zh_text, en_text in e.problems:
            text = en_text if en else zh_text
            problems.append(text)
            for n, (card_id, who_zh, _who_en) in enumerate(sent, 1):
                if zh_text.startswith((who_zh, f"第 {n} 行")):
                    row_errors.setdefault(card_id, []).append(text)
        return render_roster(row, employer, batch, page, values, row_errors, problems)
    except BilingualError as e:  # the pickup's status, the scan
        session.rollback()
        return render_roster(row, employer, batch, page, values, {}, [message(e)])
    audit(session, "roster", batch=batch.id, employer=employer.id, pickup=row.id,
          lines=figures.get("changed", len(lines)), scan=scan is not None)
    session.commit()
    flash(t(f"已登记 {figures.get('changed', len(lines))} 行{'，已存档扫描件' if scan else ''}。本人签字 {figures['signed']}，"
            f"未发出 {figures['not_handed_out']}，信息错误 {figures['wrong_data']}，尚未登记 {figures['not_recorded']}。",
            f"{figures.get('changed', len(lines))} line(s) recorded{', the scan archived' if scan else ''}. "
            f"Signed {figures['signed']}, not handed out {figures['not_handed_out']}, data wrong "
            f"{figures['wrong_data']}, not recorded {figures['not_recorded']}."))
    return redirect(back)


# -- cards the employer returns 退卡回收 ---------------------------------------------------------------

def return_groups(session, pickup_id: int):
    """The cards still with the employer in the two groups of the slip: not handed out (and
    those whose line is not recorded yet), data wrong."""
    outstanding = roster.outstanding(session, pickup_id)
    ids = [c.person_id for c in outstanding]
    numbers = dict(session.execute(select(Person.id, Person.id_number).where(Person.id.in_(ids))).all()) if ids else {}
    cards = [{"card": c, "card_number": mask_card_number(c.card_number),
              "id_number": mask_id(numbers.get(c.person_id, ""))} for c in outstanding]
    wrong = [c for c in cards if c["card"].outcome == Outcome.WRONG_DATA]
    others = [c for c in cards if c["card"].outcome != Outcome.WRONG_DATA]
    return others, wrong


def render_return_form(pickup, employer, batch, values=None, problems=None, row_errors=None, agent=None,
                       status: int = 200):
    session = db_session()
    others, wrong = return_groups(session, pickup.id)
    returns = list(session.scalars(select(CardReturn).where(CardReturn.pickup_id == pickup.id).order_by(CardReturn.id)))
    return render_template(
        "distribution/return_form.html", pickup=pickup, employer=employer, batch=batch, others=others,
        wrong=wrong, values=values or {}, problems=problems or [], row_errors=row_errors or {},
        agent=pickup.letter_agent_name if agent is None else agent, returns=returns,
        editable=may_work() and pickup.status in RECORDING,
        wrong_index=position(REASON_ORDER, ReturnReason.WRONG_DATA),
        dates=pickup_dates(pickup, len(others) + len(wrong))), status


@bp.get("/distribution/pickups/<int:pickup_id>/return")
@groups(*BATCH_GROUPS)
def return_form(pickup_id):
    row, employer, batch = pickup_or_404(pickup_id)
    return render_return_form(row, employer, batch)


@bp.post("/distribution/pickups/<int:pickup_id>/return")
@groups(*WORKERS)
def receive_return(pickup_id):
    """退卡回收: the ticked cards, each with its reason, and the employer's agent who brought
    them (``returns.receive_return``: every card is checked, nothing written on a refusal)."""
    from app.procedures.distribution import returns
    session = db_session()
    row, employer, batch = pickup_or_404(pickup_id)
    agent = " ".join((request.form.get("agent_name") or "").split())[:returns.MAX_AGENT + 10]
    chosen = list(dict.fromkeys(i for i in (parse_id(v) for v in request.form.getlist("card")[:5000]) if i))
    numbers, holders = {}, {}
    for i in range(0, len(chosen), 500):
        for card_id, number, name in session.execute(
                select(PickupCard.card_id, Card.card_number, Person.name).join(Card, Card.id == PickupCard.card_id)
                .join(Person, Person.id == PickupCard.person_id)
                .where(PickupCard.pickup_id == row.id, PickupCard.card_id.in_(chosen[i:i + 500]))):
            numbers[card_id], holders[card_id] = number, name
    values, cards, problems = {}, [], []
    for card_id in chosen:
        reason = from_position(REASON_ORDER, request.form.get(f"reason-{card_id}"))
        note = " ".join((request.form.get(f"note-{card_id}") or "").split())[:returns.MAX_NOTE + 10]
        values[card_id] = {"checked": True, "reason": position(REASON_ORDER, reason), "note": note}
        if card_id not in numbers:
            problems.append(t(f"编号 {card_id} 的卡不在交接单 {row.number} 中。",
                              f"Card {card_id} is not on pickup {row.number}."))
            continue
        cards.append({"card_number": numbers[card_id], "reason": reason.value if reason else "", "note": note})
    for card_id in (parse_id(v) for v in request.form.getlist("shown")[:5000]):
        if card_id and card_id not in values:
            values[card_id] = {"checked": False,
                               "reason": position(REASON_ORDER, from_position(REASON_ORDER, request.form.get(f"reason-{card_id}"))),
                               "note": " ".join((request.form.get(f"note-{card_id}") or "").split())[:returns.MAX_NOTE]}
    if not chosen:
        problems.append(t("请勾选单位退回的卡。", "Tick the cards the employer brings back."))
    if problems:
        return render_return_form(row, employer, batch, values, problems, {}, agent)
    try:
        returned = returns.receive_return(session, employer.id, agent, cards, current_user.username,
                                          pickup_id=row.id, today=china_today())
    except returns.ReturnRefused as e:
        session.rollback()
        en = get_locale() == "en"
        row_errors: dict[int, list[str]] = {}
        # returns names a card "卡 B7K****74（姓名）": masked numbers alone may be alike
        masked = {card_id: mask_card_number(n) for card_id, n in numbers.items()}
        alike = Counter(masked.values())
        for zh_text, en_text in e.problems:
            text = en_text if en else zh_text
            problems.append(text)
            for card_id, shown in masked.items():
                if f"{shown}（{holders[card_id]}）" in zh_text or (alike[shown] == 1 and f"卡号 {shown} " in zh_text):
                    row_errors.setdefault(card_id, []).append(text)
        return render_return_form(row, employer, batch, values, problems, row_errors, agent)
    except BilingualError as e:
        session.rollback()
        return render_return_form(row, employer, batch, values, [message(e)], {}, agent)
    audit(session, "return", batch=batch.id, employer=employer.id, pickup=row.id, card_return=returned.id,
          number=returned.number, not_handed_out=returned.not_handed_out, wrong_data=returned.wrong_data)
    session.commit()
    flash(t(f"已登记退卡回收单 {returned.number}：未发出 {returned.not_handed_out} 张，信息错误 {returned.wrong_data} 张。"
            "请打印退卡回收单（一式两联）双方签字盖章。",
            f"Return {returned.number} recorded: {returned.not_handed_out} not handed out, {returned.wrong_data} "
            "with wrong data. Print the return slip (two copies) for both to sign."))
    return redirect(url_for("distribution.return_page", return_id=returned.id))


@bp.get("/distribution/returns/<int:return_id>")
@groups(*BATCH_GROUPS)
def return_page(return_id):
    from app.procedures.distribution import returns
    session = db_session()
    returned, employer, batch = return_or_404(return_id)
    slip = returns.returned_cards(session, returned.id)
    pickup_row = session.get(EmployerPickup, returned.pickup_id) if returned.pickup_id else None
    corrections = dict(session.execute(
        select(Card.card_number, DataCorrection.due_on).join(Card, Card.id == DataCorrection.card_id)
        .where(DataCorrection.return_id == returned.id)).all())
    card_ids = dict(session.execute(
        select(Card.card_number, ReturnedCard.card_id).join(Card, Card.id == ReturnedCard.card_id)
        .where(ReturnedCard.return_id == returned.id)).all())
    return render_template(
        "distribution/return.html", returned=returned, slip=slip, employer=employer, batch=batch,
        pickup=pickup_row, corrections=corrections, card_ids=card_ids,
        received_by=display_names(session, [returned.received_by]).get(returned.received_by, returned.received_by),
        documents=documents_of(RETURN_DOCUMENTS))


@bp.get("/distribution/returns/<int:return_id>/documents/<kind>.<fmt>")
@groups(*BATCH_GROUPS)
def return_document(return_id, kind, fmt):
    """退卡回收单、上报省厅的退卡清单: full ID numbers, each download audited."""
    returned, employer, batch = return_or_404(return_id)
    return render_document(kind, fmt, returned.id, RETURN_DOCUMENTS, f"{employer.name}-{returned.number}",
                           f"return-{ascii_number(returned.number, returned.id)}", batch=batch.id,
                           employer=employer.id, card_return=returned.id)


# -- cards 卡片去向 -------------------------------------------------------------------------------------

CARD_NUMBER = re.compile(r"^[A-Z0-9]{9}$")
ID_DIGITS = re.compile(r"^\d{4,17}[\dX]?$")


def search_cards(session, q: str) -> list:
    """Persons of the batches the user may see matching ``q`` (the card's number, the ID number
    whole or its last digits, the name), each with their card's place (none: not accepted
    yet): rows (Person, CardCustody or None, Card or None, employer name, batch name)."""
    compact = custody.normalise_number(q)
    base = (select(Person, CardCustody, Card, Employer.name, Batch.name)
            .join(Batch, Batch.id == Person.batch_id)
            .outerjoin(CardCustody, CardCustody.person_id == Person.id)
            .outerjoin(Card, Card.id == CardCustody.card_id)
            .outerjoin(Employer, Employer.id == Person.employer_id)
            .where(visible_batch_ids(session)))
    if CARD_NUMBER.match(compact) and (not compact.isdigit() or session.scalar(
            select(Card.id).where(Card.card_number == compact)) is not None):
        where = Card.card_number == compact
    elif ID_DIGITS.match(compact):
        where = Person.id_number == compact if len(compact) == 18 else \
            Person.id_number.like(f"%{compact}")
    else:
        name = re.sub(r"([\\%_])", r"\\\1", " ".join(q.split()))
        where = Person.name.like(f"{name}%", escape="\\")
    return session.execute(base.where(where).order_by(Person.name, Person.id, CardCustody.changed_at)
                           .limit(MAX_SEARCH + 1)).all()


@bp.get("/distribution/cards")
@groups(*BATCH_GROUPS)
def cards():
    """查询卡片: a card number finds the card; an ID number (whole or its last digits) or a name
    finds persons and their cards."""
    session = db_session()
    q = (request.args.get("q") or "").strip()[:40]
    rows, hint = [], None
    if q:
        if len(re.sub(r"\s", "", q)) < 2:
            hint = t("请至少输入 2 个字符：卡号、身份证号（全部或后 4 位以上）或姓名。",
                     "Type at least 2 characters: a card number, an ID number (whole or its last 4+ digits) or a name.")
        elif q.isdigit() and len(q) < 4:
            hint = t("身份证号请至少输入后 4 位。", "Type at least the last 4 digits of an ID number.")
        else:
            rows = search_cards(session, q)
            if len(rows) == 1 and rows[0][1] is not None:
                return redirect(url_for("distribution.card", card_id=rows[0][1].card_id))
    more = len(rows) > MAX_SEARCH
    return render_template("distribution/cards.html", q=q, rows=rows[:MAX_SEARCH], more=more, hint=hint,
                           searched=bool(q) and hint is None)


@bp.get("/distribution/cards/<int:card_id>")
@groups(*BATCH_GROUPS)
def card(card_id):
    """One card: where it is, whose it is, every change of its place (who, when, from → to, why)
    and the pickups and returns it went with."""
    session = db_session()
    row, held, person, employer, batch = card_or_404(card_id)
    events = custody.history(session, row.id)
    pickups = {p.id: p for p in session.scalars(select(EmployerPickup).where(
        EmployerPickup.id.in_({e.pickup_id for e in events if e.pickup_id}
                              | set(session.scalars(select(PickupCard.pickup_id).where(PickupCard.card_id == row.id))))))}
    returns_ = {r.id: r for r in session.scalars(select(CardReturn).where(
        CardReturn.id.in_({e.return_id for e in events if e.return_id}
                          | set(session.scalars(select(ReturnedCard.return_id).where(ReturnedCard.card_id == row.id))))))}
    lines = list(session.scalars(select(PickupCard).where(PickupCard.card_id == row.id).order_by(PickupCard.id)))
    returned = list(session.scalars(select(ReturnedCard).where(ReturnedCard.card_id == row.id).order_by(ReturnedCard.id)))
    names = display_names(session, [e.by for e in events])
    return render_template("distribution/card.html", card=row, held=held, person=person, employer=employer,
                           batch=batch, events=events, pickups=pickups, returns=returns_, lines=lines,
                           returned=returned, names=names, card_number=mask_card_number(row.card_number))


def card_list(session, page: int, state, *, employer_id=None, batch_id=None):
    q = (select(CardCustody, Card.card_number, Person.name, Person.id_number, Person.seq, Employer.name,
                func.count().over())
         .join(Card, Card.id == CardCustody.card_id)
         .join(Person, Person.id == CardCustody.person_id)
         .outerjoin(Employer, Employer.id == CardCustody.employer_id))
    if employer_id is not None:
        q = q.where(CardCustody.employer_id == employer_id)
    if batch_id is not None:
        q = q.where(CardCustody.batch_id == batch_id)
    if state is not None:
        q = q.where(CardCustody.state == state.value)
    order = (Person.seq.asc().nulls_last(), Person.id) if employer_id is not None else \
        (Employer.name, Person.seq.asc().nulls_last(), Person.id)
    rows = session.execute(q.order_by(*order).limit(PAGE).offset((page - 1) * PAGE)).all()
    items = [{"held": held, "card_number": mask_card_number(number), "name": name, "id_number": mask_id(idn),
              "seq": seq, "employer": employer_name}
             for held, number, name, idn, seq, employer_name, _ in rows]
    return items, (rows[0][-1] if rows else 0)


def render_card_list(title, page_endpoint, args: dict, counts: dict, *, employer=None, batch=None,
                     employer_id=None, batch_id=None):
    session = db_session()
    state = from_position(CUSTODY_ORDER, request.args.get("state"))
    page = page_arg()
    items, total = card_list(session, page, state, employer_id=employer_id, batch_id=batch_id)
    return render_template("distribution/card_list.html", title=title, endpoint=page_endpoint, args=args,
                           counts=counts, words=in_words(counts), items=items, total=total, page=page,
                           pages=PAGE, state=state, state_index=position(CUSTODY_ORDER, state),
                           employer=employer, batch=batch, show_employer=employer is None)


@bp.get("/distribution/employers/<int:employer_id>/cards")
@groups(*BATCH_GROUPS)
def employer_cards(employer_id):
    """卡片去向（单位）: the employer's cards per place, in words, and the list by place."""
    session = db_session()
    employer, batch = employer_or_404(employer_id)
    counts = custody.counts(session, employer_id=employer.id)
    return render_card_list(employer.name, "distribution.employer_cards", {"employer_id": employer.id}, counts,
                            employer=employer, batch=batch, employer_id=employer.id)


@bp.get("/distribution/batches/<int:batch_id>/cards")
@groups(*BATCH_GROUPS)
def batch_cards(batch_id):
    """卡片去向（批次）: the batch's cards per place, in words, and the list by place."""
    session = db_session()
    batch = batch_or_404(batch_id)
    counts = custody.counts(session, batch_id=batch.id)
    return render_card_list(batch.name, "distribution.batch_cards", {"batch_id": batch.id}, counts,
                            batch=batch, batch_id=batch.id)

