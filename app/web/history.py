"""The case history as sentences (办理记录): one per audit record, with who did it (display
name) and the step's title — "陈敏 办结「受理：填写申领表」" — never the record's raw keys.

Personal numbers never reach a sentence: sentences are built from titles, names and the
audit's own texts (incident messages, deadline changes, reasons a clerk typed).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.auth.models import User
from app.common.i18n import T
from app.engine import properties as props
from app.engine.errors import ModelInvalid
from app.engine.models import AuditEvent, HumanTask, ProcessInstance

# action: (zh template, en template); {who}, {step}, {extra}
_SENTENCES = {
    "start": ("{who} 受理「{step}」", "{who} started “{step}”"),
    "complete": ("{who} 办结「{step}」", "{who} completed “{step}”"),
    "claim": ("{who} 领取「{step}」", "{who} claimed “{step}”"),
    "release": ("{who} 将「{step}」放回岗位组待他人领取", "{who} put “{step}” back for the group"),
    "reassign": ("{who} 将「{step}」改派给 {extra}", "{who} reassigned “{step}” to {extra}"),
    "timer": ("定时器「{step}」到期触发", "Timer “{step}” fired"),
    "message": ("收到「{extra}」", "Received “{extra}”"),
    "incident": ("「{step}」出现异常：{extra}", "“{step}” failed: {extra}"),
    "retry": ("{who} 重试「{step}」", "{who} retried “{step}”"),
    "cancel": ("{who} 撤销办件：{extra}", "{who} cancelled the case: {extra}"),
    "deadline": ("{extra}", "{extra}"),
    "view_full_data": ("{who} 查看了未遮蔽的个人信息（经接口）", "{who} viewed the unmasked personal data (through the API)"),
}
# what a message is, for the clerk (BPMN message names are the diagram's)
MESSAGES = {"card_job_finished": ("制卡工作站回报结果", "the card station's result"),
            "calendar_year_entered": ("年度节假日安排已录入", "the year's holidays were entered")}
SYSTEM_ACTORS = {"scheduler": ("系统定时任务", "the scheduler"), "calendar": ("工作日历", "the calendar"),
                 "message": ("系统", "the system"), "station": ("制卡工作站", "the card station")}


@dataclass
class Line:
    at: datetime
    action: str
    sentence_zh: str
    sentence_en: str

    def sentence(self, lang: str = "zh") -> str:
        return self.sentence_en if lang.startswith("en") else self.sentence_zh


def _names(session, events) -> dict[str, str]:
    usernames = {e.actor for e in events}
    return dict(session.execute(select(User.username, User.display_name)
                                .where(User.username.in_(usernames))).all())


def step_titles(session, instance: ProcessInstance) -> dict[str, T]:
    """Step titles of the case in both languages (``T``: it renders in the page's language,
    ``.text("en")`` picks one): its task rows (what the clerk saw), then the model's elements
    (their ``name`` and ``name.en``)."""
    from app.engine.repository import load, workflow_specs
    titles: dict[str, T] = {}
    try:
        model = load(session, instance.model_id)
        for spec in [model.spec, *workflow_specs(session, model, instance.call_bindings).values()]:
            for ts in spec.task_specs.values():
                name = getattr(ts, "bpmn_name", None)
                if name and getattr(ts, "bpmn_id", None):
                    titles.setdefault(ts.bpmn_id, T(*props.names(ts)))
    except ModelInvalid:  # an old model that no longer parses: titles from the rows only
        pass
    for task_name, title, title_en in session.execute(
            select(HumanTask.task_name, HumanTask.title, HumanTask.title_en).where(
                HumanTask.instance_id == instance.id)):
        titles[task_name] = T(title, title_en or title)
    return titles


def procedure_names(session, instance: ProcessInstance) -> T:
    """The case's procedure name in both languages (the process's ``name`` and ``name.en``)."""
    from app.web.names import model_names
    return model_names(session, instance.model) if instance.model is not None \
        else T(instance.process_key)


def _who(event: AuditEvent, names: dict[str, str], lang: int) -> str:
    if event.actor in names and names[event.actor]:
        return names[event.actor]
    kind, _, name = event.actor.partition(":")  # e.g. "station:window-1"
    system = SYSTEM_ACTORS.get(kind)
    if system:
        return f"{system[lang]} {name}".strip()
    return event.actor


def _extra(event: AuditEvent, lang: int) -> str:
    d = event.detail or {}
    if event.action == "reassign":
        return str(d.get("to_user") or "")
    if event.action == "message":
        name = d.get("message") or ""
        return MESSAGES.get(name, (name, name))[lang]
    if event.action == "incident":
        return str((d.get("message_en") if lang else d.get("message_zh")) or "")
    if event.action == "cancel":
        return str(d.get("reason") or ("未填写原因", "no reason given")[lang])
    if event.action == "deadline":
        return str((d.get("text_en") if lang else None) or d.get("text_zh") or "")
    return ""


def _text(title, lang: str) -> str:
    return title.text(lang) if isinstance(title, T) else str(title)


def _english_titles(session, instance: ProcessInstance, titles: dict) -> list[tuple[str, str]]:
    """(Chinese, English) of the case's step and deadline titles, longest first: the engine
    writes the English of a deadline or incident record with the Chinese title in it
    ("Clock paused (办理时限): ..."); the English history says the English one."""
    from app.engine.repository import load
    pairs = {(t.text("zh"), t.text("en")) for t in titles.values() if isinstance(t, T)}
    try:
        model = load(session, instance.model_id)
        pairs |= set(props.deadline_titles({**model.process_properties,
                                            **model.start_properties}).values())
    except ModelInvalid:
        pass
    return sorted(((zh, en) for zh, en in pairs if zh and en and zh != en),
                  key=lambda pair: len(pair[0]), reverse=True)


def _in_english(text: str, pairs: list[tuple[str, str]]) -> str:
    for zh, en in pairs:
        if zh in text:
            text = text.replace(zh, en)
    return text


def history(session, instance: ProcessInstance, titles: dict[str, T] | None = None) -> list[Line]:
    """``titles``: the case's step titles when the caller has them already (``step_titles``)."""
    events = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                             .order_by(AuditEvent.id)).all()
    names = _names(session, events)
    titles = step_titles(session, instance) if titles is None else titles
    process_name = procedure_names(session, instance)
    english = None  # (zh, en) titles, read when a record needs them
    lines = []
    for e in events:
        zh_t, en_t = _SENTENCES.get(e.action, ("{who} {extra}", "{who} {extra}"))
        step = process_name if e.action == "start" else titles.get(e.task_name or "", e.task_name or "")
        extra_en = _extra(e, 1)
        if e.action in ("deadline", "incident") and extra_en:
            english = _english_titles(session, instance, titles) if english is None else english
            extra_en = _in_english(extra_en, english)
        zh = zh_t.format(who=_who(e, names, 0), step=_text(step, "zh"), extra=_extra(e, 0))
        en = en_t.format(who=_who(e, names, 1), step=_text(step, "en"), extra=extra_en)
        lines.append(Line(e.at, e.action, zh, en))
    return lines
