"""Papers for the applicant 给申请人的文书: the acceptance receipt 受理回执 and the refusal
notice 终止制卡告知书, printed from the case page (``/cases/<id>/receipt``,
``/cases/<id>/refusal-notice``; templates ``cases/receipt.html``, ``cases/refusal_notice.html``);
the fee receipt 工本费收据 of a replacement or exchange (``/cases/<id>/fee-receipt``), an A4
sheet of the document kit (``app.documents``, template ``templates/fee_receipt.html`` beside
this module: two copies, the payer's and the counterfoil).

Both carry the applicant's ID number masked, as every page does: the applicant holds the
original, and a paper left on a counter should not give it away.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.cards.models import ServicePoint
from app.documents import Templates
from app.common.clock import CHINA_TZ, china_today
from app.common.i18n import T
from app.common.money import yuan
from app.engine import runtime
from app.engine.errors import EngineError
from app.engine.lengths import BadLength, Length
from app.engine.models import PAUSED, PENDING, CaseDeadline
from app.procedures.application import fees
from app.procedures.application.models import Application
from app.procedures.application.reasons import REASONS
from app.procedures.application.search import REFUSED, outcome_of, reason_code
from app.procedures.application.states import PURPOSE_LABELS, Channel

# -- what the applicant brings to collect the card (Y §3.2.2; the pickup SMS says the same) -----

HOLDER_DOCUMENTS = [T("本人居民身份证原件", "Your own resident ID card (original)"),
                    T("本受理回执", "This receipt")]
PROXY_DOCUMENTS = [T("持卡人（申请人）的居民身份证原件及户口簿", "The holder's resident ID card (original) "
                     "and household register booklet"),
                   T("代领人本人的居民身份证原件及户口簿", "The proxy's own resident ID card (original) "
                     "and household register booklet"),
                   T("本受理回执", "This receipt")]


def _office(session, code: str | None, fallback: str) -> str:
    point = session.scalars(select(ServicePoint).where(ServicePoint.code == code)).first() if code else None
    return point.name if point is not None else fallback


def _local_date(moment):
    return moment.astimezone(CHINA_TZ).date() if moment is not None else None


def _application(session, instance) -> Application | None:
    return session.scalars(select(Application).where(Application.instance_id == instance.id)
                           .order_by(Application.id.desc())).first()


# -- 受理回执 ------------------------------------------------------------------------------------

def receipt(session, instance) -> dict | None:
    """The acceptance receipt: application number, date, where and from when to collect the card,
    the statutory date of the outlet procedure (15 working days), the documents to bring. None
    before the application is recorded and once it ended without a card."""
    app = _application(session, instance)
    if app is None:
        return None
    outcome = outcome_of(app)
    if outcome is not None and outcome[0] != "issued":
        return None
    accepted_on = _local_date(app.accepted_at) or app.application_date
    instant = app.channel == Channel.WINDOW
    office = _office(session, app.service_point, app.service_point_name)
    deadline = CaseDeadline.of(session, instance.id) if not instant else None
    if instant:
        where = office
        when = T("当场制卡：请在窗口稍候，卡片制成后当场领取。",
                 "Made while you wait: please wait at the window and take the card when it is ready.")
    else:
        where = office
        when = T("卡片制成并送达{office}后，我们将发送短信至您的手机 {mobile} 通知您领卡；请于收到短信后到{office}领取。",
                 "Once the card is made and has arrived at {office}, we send an SMS to your mobile "
                 "{mobile}; please collect it at {office} after the SMS.").format(
            office=office, mobile=app.mobile_masked)
    return {"application": app, "office": office, "accepted_on": accepted_on,
            "printed_on": china_today(), "instant": instant, "where": where, "when": when,
            "deadline": _deadline_text(deadline) if deadline is not None else None,
            "holder_documents": HOLDER_DOCUMENTS, "proxy_documents": PROXY_DOCUMENTS}


def _deadline_text(deadline: CaseDeadline) -> dict:
    """The statutory date as the receipt prints it (the same row the case page shows)."""
    try:
        length = Length.parse(deadline.length)
        length = T(length.label("zh"), length.label("en"))
    except BadLength:
        length = T(deadline.length, deadline.length)
    if deadline.state == PENDING:
        due = T("待定（{}年法定节假日安排尚未录入）", "to be fixed (the {} holiday schedule is not entered "
                "yet)").format(deadline.pending_year or "")
    elif deadline.state == PAUSED or deadline.due_on is None:
        due = T("计时暂停中（恢复计时后顺延）", "the clock is paused (the date moves on when it runs again)")
    else:
        due = deadline.due_on.isoformat()
    return {"length": length, "due_on": deadline.due_on, "due": due, "state": deadline.state}


# -- 终止制卡告知书 ------------------------------------------------------------------------------

# the reason in plain words, for the applicant, and what they can do next (by reason code)
PLAIN: dict[str, tuple[T, list[T]]] = {
    "police_unsolvable": (
        T("您申领时填写的身份信息与公安户籍登记信息核对不一致，且当场无法核实更正，因此本次无法为您制作社会保障卡。",
          "The details on your application do not match the police household register, and "
          "this could not be resolved on the spot, so we cannot make your card this time."),
        [T("请携带居民身份证原件和户口簿到户籍所在地派出所核实户籍登记信息。",
           "Take your resident ID card and household register booklet to the police station of "
           "your household and have your registration checked."),
         T("信息核实或更正后，请携带居民身份证原件重新申领。",
           "Once the details are checked or corrected, apply again with your resident ID card.")]),
    "refused_stop_old_card": (
        T("您在本省已持有一张社会保障卡。按照“一人一卡”的规定，须停用原卡后才能制作新卡；您不同意停用原卡，因此本次申领已终止。",
          "You already hold a social security card in the province. One person holds one card: "
          "a new card can only be made once the old one is stopped, and you did not agree to stop "
          "it, so this application has ended."),
        [T("您的原社会保障卡可继续正常使用。", "Your existing card stays valid; keep using it."),
         T("如需换领新卡，请携带居民身份证原件和原卡重新申领，并同意停用原卡。",
           "To get a new card, apply again with your resident ID card and the old card, and agree "
           "to stop the old card.")]),
    "no_consent_old_card": (
        T("您在本省已持有一张社会保障卡。按照“一人一卡”的规定，须停用原卡后才能制作新卡；申领表未勾选同意停用原卡，因此本次申领已终止。",
          "You already hold a social security card in the province. One person holds one card: "
          "a new card can only be made once the old one is stopped, and the form did not give your "
          "consent to stop it, so this application has ended."),
        [T("您的原社会保障卡可继续正常使用。", "Your existing card stays valid; keep using it."),
         T("如需换领新卡，请携带居民身份证原件和原卡重新申领，并在申领表上勾选同意停用原卡。",
           "To get a new card, apply again with your resident ID card and the old card, and tick "
           "the consent to stop the old card on the form.")]),
    "card_being_made": (
        T("您已有一张正在制作中的社会保障卡，同一时间只能办理一张，因此本次申领已终止。",
          "A card is already being made for you; only one can be made at a time, so this "
          "application has ended."),
        [T("请等待正在制作的卡片，收到领卡通知后按通知领取。",
           "Wait for the card being made and collect it when you are told it is ready."),
         T("可凭原申领编号到原受理网点查询制卡进度。",
           "You can ask about its progress at the office that took that application, with its "
           "application number.")]),
    "write_abandoned": (
        T("制卡过程中卡片写入未能成功，本次未能为您制成社会保障卡。",
          "Writing your card failed during production, so your card could not be made this time."),
        [T("请携带居民身份证原件重新申领。给您带来不便，敬请谅解。",
           "Please apply again with your resident ID card. We apologise for the inconvenience.")]),
    "no_blank_card": (
        T("受理窗口暂时没有可用于制卡的卡片，本次未能为您制卡。",
          "The window has no cards left to make yours on, so your card could not be made this time."),
        [T("请稍后或到其他社会保障卡制卡窗口，携带居民身份证原件重新申领。",
           "Please apply again later or at another card window, with your resident ID card.")]),
}
ASK = T("如有疑问，请携带本告知书和居民身份证原件到{office}咨询。",
        "If you have questions, bring this notice and your resident ID card to {office}.")


def refusal_notice(session, instance) -> dict | None:
    """终止制卡告知书: whose application, its number and dates, why no card is made (in plain
    words, and the clerk's own), what the applicant can do next, the office. None unless the
    application ended without a card (a case withdrawn by 撤销办件 has none: nothing was refused)."""
    app = _application(session, instance)
    outcome = outcome_of(app)
    if outcome is None or outcome[0] != REFUSED:
        return None
    code, detail = reason_code(app)
    office = _office(session, app.service_point, app.service_point_name)
    explanation, steps = PLAIN.get(code, (None, []))
    if explanation is None:  # a reason this page does not know: the stored text itself
        explanation = T(app.reason_zh or "", app.reason_en or app.reason_zh or "")
    says = _police_says(session, instance) if code == "police_unsolvable" else []
    if says:  # the police check's own sentences for the applicant: why, then where to go
        parts = [_split(say) for say in says]
        explanation = parts[0][0] if len(parts) == 1 else _joined([why for why, _ in parts])
        steps = [step for _, step in parts if step is not None]
    return {"application": app, "office": office,
            "accepted_on": _local_date(app.accepted_at) or app.application_date,
            "ended_on": _local_date(app.finished_at), "printed_on": china_today(),
            "reason": T(*REASONS[code]) if code in REASONS else None,
            "explanation": explanation, "detail": detail,
            "steps": [*steps, ASK.format(office=office)]}


def _split(say: T) -> tuple[T, T | None]:
    """"Why. What to do." into (why, what to do) when both languages split so; else (say, None)."""
    zh = say.zh.split("。", 1)
    en = say.en.split(". ", 1)
    if len(zh) == 2 and len(en) == 2 and zh[1].strip() and en[1].strip():
        return T(zh[0] + "。", en[0] + "."), T(zh[1].strip(), en[1].strip())
    return say, None


def _joined(items: list[T]) -> T:
    return T("".join(["{}"] * len(items)), " ".join(["{}"] * len(items))).format(*items)


def _police_says(session, instance) -> list[T]:
    """What the failed police check tells the applicant, per reason (app.procedures.application
    .reasons: the advice's ``say``), from the case data; empty when it has nothing to say."""
    try:
        from app.procedures.application.reasons import police_advice
    except ImportError:  # an older reasons module without the advice
        return []
    try:
        police = runtime.instance_data(session, instance.id).get("police")
    except EngineError:
        return []
    if not isinstance(police, dict):
        return []
    says = []
    for reason in police.get("reasons") or []:
        code = reason.get("code") if isinstance(reason, dict) else None
        say = police_advice(code).say if code else None
        if say is not None and say not in says:
            says.append(say)
    return says


# -- 工本费收据 ----------------------------------------------------------------------------------

TEMPLATES = Path(__file__).resolve().parent / "templates"
templates = Templates(TEMPLATES)
FEE_RECEIPT_TITLE = "社会保障卡工本费收据"
#: 一式两联: who keeps each copy
FEE_RECEIPT_COPIES = (("一", "交款人收执"), ("二", "收款单位存根"))


def fee_receipt(session, instance) -> dict | None:
    """The fee receipt of the case's replacement or exchange: receipt number, payer (ID
    masked), application number and purpose, the old card (masked), the amount in yuan in
    figures and in words, where and when it was paid. None when no fee was recorded (a first
    card, or the form not yet submitted)."""
    app = _application(session, instance)
    if app is None or app.fee_cents is None or not app.fee_receipt_number:
        return None
    label = PURPOSE_LABELS.get(app.purpose)
    return {"application": app, "number": app.fee_receipt_number,
            "purpose": label.zh if label is not None else "",
            "office": _office(session, app.service_point, app.service_point_name),
            "paid_on": _local_date(app.fee_paid_at) or _local_date(app.accepted_at),
            "amount": yuan(app.fee_cents), "amount_words": fees.yuan_capital(app.fee_cents),
            "copies": FEE_RECEIPT_COPIES, "title": FEE_RECEIPT_TITLE}


def render_fee_receipt(session, instance, css_href: str | None = None) -> str | None:
    """The fee receipt as an A4 HTML page (the kit's stylesheet linked with ``css_href``, else
    inline); None when the case has none (:func:`fee_receipt`)."""
    paper = fee_receipt(session, instance)
    if paper is None:
        return None
    return templates.render("fee_receipt", css_href=css_href, subject=paper["number"], r=paper)
