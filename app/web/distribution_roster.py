"""The signed distribution roster 发放花名册交回登记 and the cards the employer returns 退卡回收
(routes on ``app.web.distribution.bp``)."""
from __future__ import annotations

from collections import Counter

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge

from app.cards.models import Card
from app.cases.access import BATCH_GROUPS
from app.common.clock import china_today
from app.common.errors import BilingualError
from app.common.i18n import T, get_locale
from app.common.ids import parse_id
from app.common.masking import mask_card_number, mask_id
from app.extensions import csrf, db_session
from app.permissions import groups
from app.procedures.batch.models import Person
from app.procedures.distribution import roster
from app.procedures.distribution.models import (
    CardReturn,
    DataCorrection,
    EmployerPickup,
    PickupCard,
    ReturnedCard,
)
from app.procedures.distribution.states import (
    Custody,
    Outcome,
    ReturnReason,
)
from app.web import t
from app.web.distribution import (
    MAX_LINES,
    OUTCOME_ORDER,
    PAGE,
    REASON_ORDER,
    RECORDING,
    RETURN_DOCUMENTS,
    SCAN_LIMIT,
    SCAN_REQUEST_LIMIT,
    WORKERS,
    ascii_number,
    audit,
    bp,
    display_names,
    documents_of,
    from_position,
    may_work,
    message,
    page_arg,
    pickup_dates,
    pickup_lines,
    pickup_or_404,
    position,
    render_document,
    return_or_404,
)

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
