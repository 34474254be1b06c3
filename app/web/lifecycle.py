"""Card service pages 卡片服务 (the lifecycle family): find a card, its page with everything that
happened to it and to its holder's other cards, and the desk's actions on it — the voice service
line's temporary loss report, the formal report, lifting, PIN change and reset, blocking the
chip, the bank's debit function, moving between regions — each with its printout.

Who: the card service groups of any office (card matters are handled where the holder lives,
city-wide: seed 001 §1.5 "社保卡的挂失、损坏等日常事务在全市范围内实行居住地属地化管理"); each
action narrows it further. Every action is validated on the server, refused with the reason in
words, and audited (the card's history row carries the audit record).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth.service import actor_of
from app.cards.models import Card, ServicePoint
from app.cases.errors import STEP_ERRORS, case_errors
from app.common.clock import china_today
from app.common.errors import BilingualError
from app.common.i18n import T, get_locale
from app.common.ids import parse_id
from app.extensions import db_session
from app.permissions import groups
from app.procedures import load_families
from app.procedures.lifecycle import bank as banks
from app.procedures.lifecycle import cases as lifecycle_cases
from app.procedures.lifecycle import history, pin
from app.procedures.lifecycle import loss as losses
from app.procedures.lifecycle.cards import IN_USE, check_identity
from app.procedures.lifecycle.models import LossReport
from app.procedures.lifecycle.moves import region_names
from app.procedures.lifecycle.states import LossState
from forms.base import to_formdata, validate_data
from forms.fields import make_choices
from forms.lifecycle.counter import (
    BankForm,
    CardSearchForm,
    FormalLossForm,
    HotlineForm,
    LiftForm,
    MoveForm,
    PinResetForm,
)

bp = Blueprint("lifecycle", __name__)


@bp.context_processor
def lifecycle_helpers():
    from app.cards.states import CARD_LABELS
    from app.procedures.lifecycle.states import LOSS_LABELS
    return {"card_status": lambda s: CARD_LABELS.get(s, T(s, s)).text(),
            "loss_label": lambda s: LOSS_LABELS.get(s, T(s, s))}

CARD_SERVICE = ("centre_clerk", "window_clerk", "outlet_clerk", "manager")
COUNTER = ("centre_clerk", "window_clerk")   # in person with the ID card
HOTLINE = ("centre_clerk", "manager")         # the voice service line's operators
BANK = ("window_clerk",)                      # the partner bank's window
REPLACING = ("window_clerk", "outlet_clerk")  # 补卡/换卡 are applications at a window or outlet
MOVES = ("centre_clerk",)                     # the new region's centre


def _message(e: BilingualError) -> str:
    return e.message(get_locale())


def _not_found(text: T):
    abort(make_response(render_template("error.html", code=404, message=text), 404))


def card_or_404(card_id) -> Card:
    key = parse_id(card_id)
    card = db_session().get(Card, key) if key else None
    if card is None:
        _not_found(T(f"没有编号为 {str(card_id)[:20]} 的社会保障卡。", f"There is no card number {str(card_id)[:20]}."))
    return card


def _audit(session, what: str, **detail) -> None:
    from app.engine import audit
    audit.record(session, "family", actor_of(current_user), family="lifecycle", what=what, **detail)


def _posted(form_cls, **choices):
    """The posted form validated on the server: (form, errors in words, field values)."""
    form = form_cls(formdata=to_formdata(request.form.to_dict()))
    for name, values in choices.items():
        form[name].choices = values
    if not form.validate():
        return form, form.errors_text(), {}
    return form, {}, {name: field.data for name, field in form._fields.items()}


def _page(template: str, card: Card, form, errors=None, status: int = 200, **extra):
    return render_template(template, card=card, form=form, errors=errors or {},
                           story=history.card_story(db_session(), card), **extra), status


# -- finding a card 查询 ----------------------------------------------------------------------------

@bp.get("/lifecycle/cards")
@groups(*CARD_SERVICE)
def cards():
    """查询社会保障卡: by the card number or the holder's whole ID number."""
    session = db_session()
    q = (request.args.get("q") or "").strip()[:40]
    form, errors, found = CardSearchForm(), {}, None
    if q:
        form, _ = validate_data(CardSearchForm, {"q": q})
        found = history.find_cards(session, q)
        if not found:
            errors = {"q": [T("没有找到：请录入 9 位社会保障卡号或持卡人的 18 位身份证号码",
                              "Nothing found: type the 9-character card number or the holder's 18-character ID number")]}
        elif len(found) == 1:
            return redirect(url_for("lifecycle.card", card_id=found[0].id))
    return render_template("lifecycle/cards.html", form=form, errors=errors, found=found, q=q)


@bp.get("/lifecycle/cards/<card_id>")
@groups(*CARD_SERVICE)
def card(card_id):
    """卡片履历: the card, its holder's other cards and everything that happened to them."""
    card = card_or_404(card_id)
    return render_template("lifecycle/card.html", card=card, story=history.card_story(db_session(), card),
                           may=_may())


@bp.get("/lifecycle/cards/<card_id>/print")
@groups(*CARD_SERVICE)
def card_print(card_id):
    """The card's history on A4 (printed and signed for the archive)."""
    card = card_or_404(card_id)
    _audit(db_session(), "print_card_history", card_id=card.id)
    db_session().commit()
    return render_template("lifecycle/card_print.html", card=card, story=history.card_story(db_session(), card),
                           today=china_today())


def _may() -> dict:
    return {name: current_user.in_group(*grp, "administrator") for name, grp in
            (("counter", COUNTER), ("hotline", HOTLINE), ("bank", BANK), ("moves", MOVES),
             ("replace", REPLACING))}


# -- replacement and exchange 补卡、换卡 (applications of the window and outlet procedures) -----------

@bp.post("/lifecycle/cards/<card_id>/replace")
@groups(*REPLACING)
def replace(card_id):
    """办理补卡 (a formally lost card) or 换卡 (a damaged card handed in) at this window or
    outlet: its application form opens filled in from the card; the fee is paid there."""
    from app.procedures.application.replacement import start_replacement
    from app.web.distribution import to_task
    session = db_session()
    card = card_or_404(card_id)
    purpose = request.form.get("purpose")
    point = session.scalars(select(ServicePoint).where(ServicePoint.code == current_user.office)).first()
    process = {"window": "instant_issuance", "outlet": "outlet_application"}.get(point.kind if point else "")
    if purpose not in ("replacement", "exchange") or process is None:
        flash(T("只有制发卡窗口和代办网点可以受理补卡、换卡。", "Only windows and outlets take replacements and exchanges.").text())
        return redirect(url_for("lifecycle.card", card_id=card.id))
    try:
        instance_id = start_replacement(session, process=process, service_point=point.code, purpose=purpose,
                                        old_card_id=card.id, actor=actor_of(current_user))
    except BilingualError as e:
        session.rollback()
        flash(_message(e))
        return redirect(url_for("lifecycle.card", card_id=card.id))
    from app.engine.models import ProcessInstance
    return to_task(session, session.get(ProcessInstance, instance_id))


# -- the voice service line 电话临时挂失 --------------------------------------------------------------

@bp.route("/lifecycle/hotline", methods=["GET", "POST"])
@groups(*HOTLINE)
def hotline():
    """电话临时挂失: the operator asks the identity questions; the card and the medical account
    are frozen at once; the holder then comes with the ID card (the case's task)."""
    session = db_session()
    if request.method == "GET":
        return render_template("lifecycle/hotline.html", form=HotlineForm(), errors={})
    form, errors, data = _posted(HotlineForm)
    if errors:
        return render_template("lifecycle/hotline.html", form=form, errors=errors), 422
    # the holder's card in use; else their newest card (the refusal then names its state)
    card = session.scalars(select(Card).where(Card.ssn == data["id_number"])
                           .order_by(Card.status.in_(IN_USE).desc(), Card.id.desc())).first()
    try:
        if card is None:
            raise losses.CardRefused("没有该身份证号码持卡人的社会保障卡", "No card of this ID number",
                                     code="card_unknown")
        answers = check_identity(session, card, data["holder_name"], data["birth_date"], data.get("mobile_last4"))
        loss, instance = lifecycle_cases.report_by_phone(session, card, actor_of(current_user),
                                                         caller=data["caller"], answers=answers)
    except BilingualError as e:
        session.rollback()
        _audit(session, "hotline_refused", code=e.code)  # a refused call is on record too
        session.commit()
        return render_template("lifecycle/hotline.html", form=form, errors={"_": [_message(e)]}), 422
    except STEP_ERRORS as e:
        session.rollback()
        return render_template("lifecycle/hotline.html", form=form, errors={"_": [case_errors(e)]}), 409
    flash(T("已临时挂失：社会保障卡和医保个人账户已冻结。请告知来电人：持卡人须携带身份证原件到服务大厅办理正式挂失或解挂。",
            "Temporarily reported lost: the card and the medical account are frozen. Tell the caller the "
            "holder must come with the ID card for the formal report or to lift it.").text())
    return redirect(url_for("lifecycle.card", card_id=card.id))


# -- formal loss, lifting 正式挂失、解挂 ----------------------------------------------------------------

def _replacement_choices(session) -> list:
    points = losses.replacement_points(session, "instant") + losses.replacement_points(session, "outlet")
    return make_choices([(p.code, p.name) for p in points], T("（请选择）", "(choose)"))


@bp.route("/lifecycle/cards/<card_id>/loss", methods=["GET", "POST"])
@groups(*COUNTER)
def formal_loss(card_id):
    """正式挂失 in person with the ID card (a temporary report of the card is confirmed in its case)."""
    session = db_session()
    card = card_or_404(card_id)
    open_report = losses.open_loss(session, card.id)
    if open_report is not None and open_report.state == LossState.TEMPORARY and open_report.instance_id:
        flash(T("该卡已电话临时挂失：请在该挂失办件的任务中办理正式挂失或解挂。",
                "The card was reported lost by phone: confirm or lift it in that case's task.").text())
        return redirect(url_for("cases.show", instance_id=open_report.instance_id))
    form = FormalLossForm()
    form.replace_at.choices = _replacement_choices(session)
    if request.method == "GET":
        return _page("lifecycle/action.html", card, form, action="loss")
    form, errors, data = _posted(FormalLossForm, replace_at=_replacement_choices(session))
    if errors:
        return _page("lifecycle/action.html", card, form, errors, 422, action="loss")
    try:
        loss, instance = lifecycle_cases.report_in_person(
            session, card, actor_of(current_user), shown_id_number=data["shown_id_number"],
            replace_via=data["replace_via"], replace_at=data.get("replace_at") or None)
    except BilingualError as e:
        session.rollback()
        return _page("lifecycle/action.html", card, form, {"_": [_message(e)]}, 422, action="loss")
    flash(T("已正式挂失，原卡已停用。", "Formally reported lost; the card is stopped.").text()
          + (T("补卡办件已开启。", " The replacement case is opened.").text() if data["replace_via"] != "later" else ""))
    return redirect(url_for("lifecycle.card", card_id=card.id))


@bp.route("/lifecycle/cards/<card_id>/lift", methods=["GET", "POST"])
@groups(*COUNTER)
def lift(card_id):
    """解挂 with the ID card, while no replacement card was made."""
    from app.cases.cancel import cancel_case
    session = db_session()
    card = card_or_404(card_id)
    loss = losses.open_loss(session, card.id, for_update=request.method == "POST")
    if loss is None:
        flash(T("该卡没有未解除的挂失。", "The card has no open loss report.").text())
        return redirect(url_for("lifecycle.card", card_id=card.id))
    if loss.state == LossState.TEMPORARY and loss.instance_id:
        flash(T("电话临时挂失请在该挂失办件的任务中解挂。", "Lift a phone report in its case's task.").text())
        return redirect(url_for("cases.show", instance_id=loss.instance_id))
    if request.method == "GET":
        return _page("lifecycle/action.html", card, LiftForm(), action="lift")
    form, errors, data = _posted(LiftForm)
    if errors:
        return _page("lifecycle/action.html", card, form, errors, 422, action="lift")
    actor = actor_of(current_user)
    try:
        losses.lift(session, loss, actor, shown_id_number=data["shown_id_number"],
                    cancel_case=lambda iid, reason: cancel_case(session, load_families(), iid, actor, reason))
        session.commit()
    except BilingualError as e:
        session.rollback()
        return _page("lifecycle/action.html", card, form, {"_": [_message(e)]}, 422, action="lift")
    flash(T("已解除挂失，卡片和医保个人账户恢复使用。", "The loss is lifted; the card and the medical account work again.").text())
    return redirect(url_for("lifecycle.card", card_id=card.id))


@bp.get("/lifecycle/losses/<loss_id>/receipt")
@groups(*CARD_SERVICE)
def loss_receipt(loss_id):
    """挂失回执: what was reported when, for the holder (printed)."""
    session = db_session()
    key = parse_id(loss_id)
    loss = session.get(LossReport, key) if key else None
    if loss is None:
        _not_found(T("没有这份挂失登记。", "There is no such loss report."))
    card = session.get(Card, loss.card_id)
    _audit(session, "print_loss_receipt", loss_id=loss.id)
    session.commit()
    return render_template("lifecycle/loss_receipt.html", loss=loss, card=card, today=china_today(),
                           via=history.VIA)


# -- card jobs 卡片作业: PIN, chip block ----------------------------------------------------------------

def _queue(card_id, fn, done: T, *args):
    session = db_session()
    card = card_or_404(card_id)
    try:
        fn(session, card, actor_of(current_user), *args)
        session.commit()
        flash(done.text())
    except BilingualError as e:
        session.rollback()
        flash(_message(e))
    return redirect(url_for("lifecycle.card", card_id=card.id))


@bp.post("/lifecycle/cards/<card_id>/pin-change")
@groups(*COUNTER)
def pin_change(card_id):
    """自助终端修改密码: the job for the terminal at this office (the holder types the PINs there)."""
    return _queue(card_id, pin.queue_pin_change, T(
        "已下达改密任务：请持卡人在自助终端插卡，输入原密码（初始密码 000000）和新密码。",
        "PIN change queued: the holder inserts the card at the terminal and types the old and new PIN."))


@bp.route("/lifecycle/cards/<card_id>/pin-reset", methods=["GET", "POST"])
@groups(*COUNTER)
def pin_reset(card_id):
    """柜台重置密码 (a blocked or forgotten PIN) with the holder's ID card."""
    card = card_or_404(card_id)
    if request.method == "GET":
        return _page("lifecycle/action.html", card, PinResetForm(), action="pin_reset")
    form, errors, data = _posted(PinResetForm)
    if errors:
        return _page("lifecycle/action.html", card, form, errors, 422, action="pin_reset")
    session = db_session()
    try:
        pin.queue_pin_reset(session, card, actor_of(current_user), data["shown_id_number"])
        session.commit()
    except BilingualError as e:
        session.rollback()
        return _page("lifecycle/action.html", card, form, {"_": [_message(e)]}, 422, action="pin_reset")
    flash(T("已下达密码重置任务：请将卡放入柜台读卡器；重置后密码为 000000，请持卡人到自助终端修改。",
            "PIN reset queued: put the card in the desk's reader; the PIN becomes 000000.").text())
    return redirect(url_for("lifecycle.card", card_id=card.id))


@bp.post("/lifecycle/cards/<card_id>/block")
@groups(*COUNTER)
def block(card_id):
    """芯片锁定 of a lost or cancelled card presented at the desk."""
    return _queue(card_id, pin.queue_block, T("已下达芯片锁定任务：请将卡放入柜台读卡器。",
                                              "Chip block queued: put the card in the desk's reader."))


# -- the bank's debit function 金融功能激活 -------------------------------------------------------------

@bp.route("/lifecycle/cards/<card_id>/bank", methods=["GET", "POST"])
@groups(*BANK)
def bank(card_id):
    card = card_or_404(card_id)
    if request.method == "GET":
        return _page("lifecycle/action.html", card, BankForm(), action="bank")
    form, errors, data = _posted(BankForm)
    if errors:
        return _page("lifecycle/action.html", card, form, errors, 422, action="bank")
    session = db_session()
    point = session.scalars(select(ServicePoint).where(ServicePoint.code == current_user.office)).first()
    try:
        banks.activate_debit(session, card, actor_of(current_user), shown_id_number=data["shown_id_number"],
                             form_copy_seen=data["form_copy_seen"], branch=point.name if point else None,
                             at_bank=(point.bank or "") if point else "")
        session.commit()
    except BilingualError as e:
        session.rollback()
        return _page("lifecycle/action.html", card, form, {"_": [_message(e)]}, 422, action="bank")
    flash(T("金融借记功能已激活。", "The debit function is activated.").text())
    return redirect(url_for("lifecycle.card", card_id=card.id))


# -- moving between regions 跨区域迁移 ------------------------------------------------------------------

def _region_choices(session) -> list:
    return make_choices(region_names(session).items(), T("（请选择）", "(choose)"))


@bp.route("/lifecycle/cards/<card_id>/move", methods=["GET", "POST"])
@groups(*MOVES)
def move(card_id):
    """迁入登记: the case rewrites the region on the chip (verified) and then in the archive."""
    session = db_session()
    card = card_or_404(card_id)
    form = MoveForm()
    form.to_region.choices = _region_choices(session)
    if request.method == "GET":
        return _page("lifecycle/action.html", card, form, action="move")
    form, errors, data = _posted(MoveForm, to_region=_region_choices(session))
    if errors:
        return _page("lifecycle/action.html", card, form, errors, 422, action="move")
    try:
        _, instance = lifecycle_cases.start_move(session, card, actor_of(current_user), to_region=data["to_region"],
                                                 shown_id_number=data["shown_id_number"], moved_on=china_today())
    except BilingualError as e:
        session.rollback()
        return _page("lifecycle/action.html", card, form, {"_": [_message(e)]}, 422, action="move")
    flash(T("已下达改写卡内参保地任务：请将卡放入读卡器，写卡并读回核验后记迁入。",
            "The chip rewrite is queued: put the card in the reader; the move is recorded once read back.").text())
    return redirect(url_for("cases.show", instance_id=instance.id))

