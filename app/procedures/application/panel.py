"""The application family's panel on the case page (申领资料): the applicant (masked), the
application's status in the clerk's words, why it ended when it did, and its cards; and its
header on the task pages (whose card it is, and what a failed check said)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.adapters.sms import SmsMessage, SmsState
from app.cards import archive as card_archive
from app.cards.models import Card, CardJob, ServicePoint
from app.cards.states import CARD_LABELS, JobState
from app.common.clock import CHINA_TZ, china_today, utcnow
from app.common.i18n import T
from app.common.masking import mask_bank_card, mask_card_number
from app.common.money import yuan
from app.engine import runtime
from app.engine.models import ACTIVE_STATUSES, ENDED, NOT_STARTED, HumanTask
from app.procedures.application.models import Application
from app.procedures.application.reasons import (
    FIELD_LABELS,
    SEX_LABELS,
    police_advice,
    police_may_pass_again,
    stock_advice,
)
from app.procedures.application.search import CANCELLED, ISSUED, REFUSED, outcome_of
from app.procedures.application.states import (
    APPLICATION_LABELS,
    FINAL_APPLICATION_STATES,
    PURPOSE_LABELS,
    REPLACING,
    ApplicationStatus,
    Channel,
)
from app.sla.overrides import calendar_for
from app.sla.view import DeadlineView, primary
from app.sla.view import views as deadline_views
from forms.choices import FUJIAN_CITIES

ENDED_WITHOUT_CARD = (ApplicationStatus.REJECTED, ApplicationStatus.CANCELLED)


def application_of(session, instance) -> Application | None:
    """The case's application, found by the case's own id (never by a key a caller typed)."""
    return session.scalars(select(Application).where(Application.instance_id == instance.id)).first()


def application_panel(session, instance) -> dict | None:
    app = application_of(session, instance)
    if app is None:
        return None
    cards = session.scalars(select(Card).where(Card.application_id == app.id).order_by(Card.id)).all()
    outcome = None
    ended = outcome_of(app)
    if ended is not None and ended[0] == CANCELLED:  # 撤销办件: the clerk's reason, not "已终止"
        label, reason = ended[1], ended[2]
        outcome = (f"{label.zh}：{reason.zh}" if reason else label.zh,
                   f"{label.en}: {reason.en}" if reason else label.en)
    elif app.status in ENDED_WITHOUT_CARD:
        label = APPLICATION_LABELS[app.status]
        outcome = (f"{label.zh}：{app.reason_zh or ''}".rstrip("："),
                   f"{label.en}: {app.reason_en or ''}".rstrip(": "))
    return {"application": app, "status": APPLICATION_LABELS.get(app.status),
            "cards": [(c, CARD_LABELS.get(c.status)) for c in cards], "outcome": outcome,
            "final": app.status in FINAL_APPLICATION_STATES,
            **replacement_facts(session, app),
            # the papers for the applicant the case page offers (app.procedures.application.documents)
            "refusal_notice": ended is not None and ended[0] == REFUSED,
            "receipt": ended is None or ended[0] == ISSUED,
            "waits": application_waits(session, instance, app)}


JOB_STATE_LABELS = {
    JobState.QUEUED: T("已下达，等待制卡工作站锁定原卡芯片", "queued: waiting for a card station to block the old card's chip"),
    JobState.CLAIMED: T("制卡工作站正在锁定原卡芯片", "a card station is blocking the old card's chip"),
    JobState.DONE: T("原卡芯片社保应用已锁定", "the old card's social-security application is blocked"),
    JobState.FAILED: T("原卡芯片锁定失败，请重试", "blocking the old card's chip failed: try again"),
    JobState.CANCELLED: T("已取消", "cancelled"),
}


def replacement_facts(session, app: Application) -> dict:
    """补卡/换卡 on the panel: the purpose, the old card (masked) and its status now, the chip
    block of an exchanged card, the fee (yuan) and its receipt (printed from the case page)."""
    if app.purpose not in REPLACING:
        return {"purpose": None}
    old = session.scalars(select(Card).where(Card.card_number == app.old_card_number)).first() \
        if app.old_card_number else None
    block = session.scalars(select(CardJob).where(
        CardJob.application_id == app.id, CardJob.kind == "block").order_by(CardJob.id.desc())).first()
    return {"purpose": PURPOSE_LABELS.get(app.purpose),
            "old_card": (mask_card_number(app.old_card_number) if app.old_card_number else None,
                         CARD_LABELS.get(old.status) if old is not None else None),
            "block": JOB_STATE_LABELS.get(block.state) if block is not None else None,
            "fee": yuan(app.fee_cents) if app.fee_cents is not None else None,
            "fee_receipt": bool(app.fee_receipt_number)}


# -- what the case waits for 等待事项 (the case page reloads while the card station works) --------

# no sign of the card station for this long (claim, progress, result): it is not working on it
STATION_SILENT = timedelta(minutes=5)
JOB_STEPS = {  # the station's progress states (hardware/PROTOCOL.md §2)
    "claimed": T("已领取制卡任务", "took the job"),
    "resuming": T("继续未完成的制卡", "resuming an interrupted job"),
    "checking_bank": T("核对半成品卡的金融数据", "checking the blank card's bank data"),
    "printing": T("打印卡面", "printing the card face"),
    "writing": T("写入芯片并校验", "writing and verifying the chip"),
    "waiting_for_card": T("等待插入卡片", "waiting for the card to be inserted"),
    "waiting_for_original_card": T("等待放回原来的卡片", "waiting for the original card to be put back"),
}


def application_waits(session, instance, app, now: datetime | None = None) -> list[dict]:
    """What the case waits for besides its open tasks and timers (the engine's rows, which the
    case page lists itself): the card station making the card, the applicant coming for it
    after the SMS. Each ``{"kind", "text": T, "refresh": bool, "task": BPMN id or None}``:
    ``refresh`` while the station works on the card (the page reloads every few seconds);
    ``task`` names the open task the line explains (the page shows this line instead of its
    own for that task)."""
    if instance.status not in ACTIVE_STATUSES:
        return []
    now = now or utcnow()
    waits = []
    job = session.scalars(select(CardJob).where(
        CardJob.instance_id == instance.id, CardJob.state.in_([JobState.QUEUED, JobState.CLAIMED]))
        .order_by(CardJob.id.desc())).first()
    if job is not None:
        waits.append(_job_wait(session, job, now))
    pickup = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.state == "open",
        HumanTask.form_key.in_(PICKUP))).first()
    if pickup is not None:
        waits.append(_applicant_wait(session, app, pickup))
    return waits


def _job_wait(session, job: CardJob, now: datetime) -> dict:
    window = _point(session, job.window)
    where = window.name if window is not None else (job.window or "")
    seen = [job.created_at, job.claimed_at, _parse_time((job.progress or {}).get("at")),
            *[_parse_time(h.get("finished_at")) for h in (job.history or []) if isinstance(h, dict)]]
    last = max((_aware(t) for t in seen if t is not None), default=now)
    silent = now - last > STATION_SILENT
    if job.state == JobState.QUEUED:
        again = job.attempts or 0
        text = (T("制卡任务已下达，等待{where}的制卡工作站领取（第 {n} 次制卡）",
                  "The card job is queued for a card station of {where} (attempt {n})")
                .format(where=where, n=again + 1) if again else
                T("制卡任务已下达，等待{where}的制卡工作站领取", "The card job is queued for a card "
                  "station of {where}").format(where=where))
    else:
        progress = job.progress or {}
        step = JOB_STEPS.get(progress.get("state")) or progress.get("state") or JOB_STEPS["claimed"]
        text = T("制卡工作站 {station} 正在制卡：{step}", "Card station {station} is making the card: "
                 "{step}").format(station=job.station_id or "", step=step)
        if progress.get("detail"):
            text = T("{}（{}）", "{} ({})").format(text, progress["detail"])
    if silent:
        minutes = int((now - last).total_seconds() // 60)
        text = T("{}。制卡工作站已 {m} 分钟没有回应：请检查工作站是否开机、联网，读卡器中是否放好半成品卡",
                 "{}. The card station has not answered for {m} minutes: check that it is on and "
                 "connected and that the blank card is in the reader").format(text, m=minutes)
    return {"kind": "card_station", "state": job.state, "text": text, "refresh": not silent,
            "task": None}


def _applicant_wait(session, app, task) -> dict:
    sms = session.scalars(select(SmsMessage).where(SmsMessage.application_id == app.id)
                          .order_by(SmsMessage.id.desc())).first()
    point = app.service_point_name
    if app.notified_at is not None:
        when = app.notified_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
        sent = T("（短信发件箱：待发送）", " (SMS outbox: queued)") \
            if sms is not None and sms.state == SmsState.QUEUED else T("", "")
        text = T("等待申请人（或代领人）到{point}领卡：已于 {when} 短信通知 {mobile}{sent}",
                 "Waiting for the applicant (or a proxy) to collect the card at {point}: told by "
                 "SMS to {mobile} on {when}{sent}").format(point=point, when=when,
                                                          mobile=app.mobile_masked, sent=sent)
    else:
        text = T("等待申请人（或代领人）到{point}领卡", "Waiting for the applicant (or a proxy) to "
                 "collect the card at {point}").format(point=point)
    return {"kind": "applicant", "state": None, "text": text, "refresh": False,
            "task": task.task_name}


def _parse_time(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# -- the task header 任务页抬头: whose card it is, and what a failed check said --------------------

# the tasks a failed check leads to, by form key (with the first versions' bare keys)
CORRECT_DATA = ("application.correct_data", "correct_data")
PRODUCE_CARD = ("application.produce_card", "produce_card")
CONFIRM_OLD_CARD_STOP = ("application.confirm_old_card_stop", "confirm_old_card_stop")
PICKUP = ("application.pickup", "pickup")  # the outlet hands the card to the applicant
INTAKE = ("application.apply", "application")  # the application form (back after a refusal)


def application_header(session, instance) -> dict | None:
    """The header of the case's task pages: the applicant (masked), the card (masked) when
    there is one, where the application was accepted and where the card is made, the
    statutory deadline with the working days left; and ``notes``: for each open task a
    failed check leads to, what the check said (``{human task id: note}``)."""
    app = application_of(session, instance)
    if app is None:  # the form not recorded yet: only what the old card's check said, if anything
        notes = _intake_notes(session, instance)
        return {"application": None, "notes": notes} if notes else None
    card = app.card
    accepted_at = _point(session, app.service_point)
    window = _point(session, app.window) if app.window else None
    return {"application": app, "card": card,
            "bank": (card.bank if card is not None and card.bank else None)
            or (window.bank if window is not None else None),
            "accepted_at": accepted_at.name if accepted_at else app.service_point_name,
            "window": window.name if window is not None else app.window,
            "instant": app.channel == Channel.WINDOW,
            "deadline": _statutory(session, instance), "notes": _notes(session, instance, app)}


def _point(session, code: str | None) -> ServicePoint | None:
    if not code:
        return None
    return session.scalars(select(ServicePoint).where(ServicePoint.code == code)).first()


def _statutory(session, instance) -> DeadlineView | None:
    """The case's statutory deadline as the inbox and the case page read it (none once it
    ended or before it started)."""
    found = deadline_views(session, [instance.id], calendar_for(session), china_today())
    deadline = primary(found.get(instance.id, []))
    if deadline is None or deadline.state in (ENDED, NOT_STARTED):
        return None
    return deadline


def _notes(session, instance, app) -> dict[int, dict]:
    keys = (*CORRECT_DATA, *PRODUCE_CARD, *CONFIRM_OLD_CARD_STOP)
    tasks = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.state == "open",
        HumanTask.form_key.in_(keys)).order_by(HumanTask.id)).all()
    notes = {}
    for task in tasks:
        if task.form_key in CONFIRM_OLD_CARD_STOP:
            note = _archive_note(session, app)  # the archive itself: the card is still live
        else:
            data = runtime.task_data(session, task.id)
            note = (_police_note(data.get("police"), app) if task.form_key in CORRECT_DATA
                    else _stock_note(data))
        if note is not None:
            notes[task.id] = note
    return notes


def _intake_notes(session, instance) -> dict[int, dict]:
    """{task id: note} for the open application form when the old card of a replacement or
    exchange was refused (``old_card_check`` in its task data)."""
    tasks = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.state == "open",
        HumanTask.form_key.in_(INTAKE)).order_by(HumanTask.id)).all()
    notes = {}
    for task in tasks:
        note = _old_card_note(runtime.task_data(session, task.id).get("old_card_check"))
        if note is not None:
            notes[task.id] = note
    return notes


def _old_card_note(check) -> dict | None:
    """Why the old card on the form does not qualify, and what to do."""
    if not isinstance(check, dict) or check.get("ok") is not False or not check.get("message_zh"):
        return None
    message = T(check["message_zh"], check.get("message_en") or check["message_zh"])
    label = PURPOSE_LABELS.get(check.get("purpose"))
    facts = [(T("申领类型", "Type of application"), label)] if label is not None else []
    if check.get("card_number"):
        facts.append((T("申领表所填原卡卡号", "Old card number on the form"), check["card_number"]))
    return {
        "kind": "old_card", "code": check.get("code") or "old_card_refused",
        "title": T("原卡不符合补卡、换卡条件，申领未受理", "The old card does not qualify: the application was not accepted"),
        "reasons": [message], "fields": [], "retry": True, "facts": facts, "say": [],
        "ask": [T("请与申请人核对原卡卡号、申领类型和证件号码，更正后重新提交（照片须重新选择）；不符合补卡或换卡条件的，请按提示先办理相应手续。",
                  "Check the old card's number, the type of application and the ID number with the "
                  "applicant, correct them and submit again (choose the photo again); if the card "
                  "does not qualify, the applicant first does what the message says.")],
        "again": T("申领未受理：{}", "The application was not accepted: {}").format(message),
        "first": T("申领未受理：{}", "The application was not accepted: {}").format(message),
    }


def _value(field: str, value):
    if value in (None, ""):
        return None
    return SEX_LABELS.get(str(value), value) if field == "sex" else value


def _police_note(police: dict | None, app) -> dict | None:
    """What the police check said: its reasons, the fields that differ (register vs the
    application), what to ask, whether another check can pass, what to tell the applicant."""
    if not isinstance(police, dict) or police.get("match") is not False:
        return None
    reasons = [r for r in police.get("reasons") or [] if isinstance(r, dict)]
    codes = [r.get("code") for r in reasons]
    retry = police.get("retry")
    if retry is None:  # a result kept before the check said so
        retry = police_may_pass_again(codes)
    fields = [{"field": f.get("field"), "label": FIELD_LABELS.get(f.get("field"), f.get("field")),
               "register": _value(f.get("field"), f.get("register")),
               "form": _value(f.get("field"), f.get("form"))}
              for f in police.get("fields") or [] if isinstance(f, dict)]
    texts = []
    for r in reasons:
        text = T(r.get("zh") or r.get("code"), r.get("en") or r.get("zh") or r.get("code"))
        if r.get("code") == "unknown_person":
            text = T("{}（证件号码 {}）", "{} (ID number {})").format(text, app.id_number_masked)
        texts.append(text)
    details = [T("{label}：公安户籍“{register}”，申领数据“{form}”",
                 "{label}: register “{register}”, application “{form}”").format(**f)
               for f in fields if f["register"] is not None]
    summary = _join([*texts, *details])
    advice = [police_advice(code) for code in codes]
    checks = police.get("checks") or app.police_checks or 1
    return {
        "kind": "police", "code": ",".join(c for c in codes if c),
        "title": T("公安户籍联网比对未通过（第 {n} 次比对）", "The police check failed (check {n})")
        .format(n=checks),
        "reasons": texts, "fields": fields, "retry": bool(retry),
        "ask": _unique(a.ask for a in advice),
        "say": _unique(a.say for a in advice if a.say is not None) if not retry else [],
        "facts": [],
        "again": T("已重新比对，仍未通过：{}", "Checked again, still not passed: {}").format(summary),
        "first": T("已提交。公安户籍联网比对未通过：{}", "Submitted. The police check failed: {}").format(summary),
    }


def _stock_note(data: dict) -> dict | None:
    """Why the blank card the clerk named could not be taken (the stock's own message, kept
    by the error boundary event in the task data), and what to do."""
    code = data.get("error_code")
    if not code or not data.get("error_message"):
        return None
    message = T(data["error_message"], data.get("error_message_en") or data["error_message"])
    production = data.get("production") if isinstance(data.get("production"), dict) else {}
    number = production.get("bank_card_number")
    facts = [(T("上次输入的半成品卡银行卡号", "Bank card number entered last time"),
              mask_bank_card(number))] if number else []
    return {
        "kind": "stock", "code": code,
        "title": T("半成品卡未能领用", "The blank card could not be taken"),
        "reasons": [message], "fields": [], "retry": True, "ask": [stock_advice(code)],
        "say": [], "facts": facts,
        "again": T("半成品卡未能领用：{}", "The blank card could not be taken: {}").format(message),
    }


def _archive_note(session, app) -> dict | None:
    """The card the provincial archive found for the applicant: masked number, city, year."""
    record = card_archive.archive(session).find_live_card(app.id_number)
    if record is None:
        return None
    if not app.old_card_number:
        on_form = T("申领表未填写", "not given on the form")
    elif app.old_card_number.upper() == record.card_number:
        on_form = T("与申领表所填一致", "the same as on the form")
    else:
        on_form = T("与申领表所填（{}）不一致", "differs from the form's ({})").format(
            mask_card_number(app.old_card_number))
    year = record.issue_date.year if record.issue_date else None
    city = _city(record.region_code)
    facts = [(T("社会保障卡号", "Card number"), record.card_number_masked),
             (T("发卡城市", "Issued in"), city),
             (T("发卡年份", "Issue year"), year or T("不详", "unknown")),
             (T("银行", "Bank"), record.bank or T("不详", "unknown")),
             (T("卡状态", "Card status"), CARD_LABELS.get(record.status, record.status)),
             (T("申领表所填卡号", "Card number on the form"), on_form)]
    return {
        "kind": "archive", "code": "has_live_card",
        "title": T("全省社保卡档案库查到申请人已持有社保卡：{}，{}，{}年发卡",
                   "The provincial archive found a card of the applicant: {}, {}, issued {}")
        .format(record.card_number_masked, city, year or "?"),
        "reasons": [], "fields": [], "retry": True,
        "ask": [T("一人只能持有一张社保卡。请向申请人确认是否同意停用该卡：同意的，请申请人在申领表“本人同意停用该社保卡”处签字并收回原卡；不同意的，终止本次申领。",
                  "A person holds one card only. Ask the applicant whether they agree to stop "
                  "this card: if so, they sign “I agree to stop the existing card” on the form "
                  "and hand the card in; if not, end this application.")],
        "say": [], "facts": facts, "again": None,
    }


def _city(region_code: str | None):
    """The Fujian city (设区市) of a 6-digit region code, else the code."""
    code = region_code or ""
    for city, label in FUJIAN_CITIES:
        if code == city or (city.endswith("00") and code[:4] == city[:4]):
            return label
    return code or T("不详", "unknown")


def _join(items: list, zh: str = "；", en: str = "; ") -> T:
    """Bilingual texts joined, still lazy (each in the page's language)."""
    return T(zh.join(["{}"] * len(items)), en.join(["{}"] * len(items))).format(*items)


def _unique(items) -> list:
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
