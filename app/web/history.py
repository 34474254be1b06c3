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
from app.engine.errors import ModelInvalid
from app.engine.models import AuditEvent, HumanTask, ProcessInstance

# action: (zh template, en template); {who}, {step}, {extra}
_SENTENCES = {
    "start": ("{who} 受理「{step}」", "{who} started “{step}”"),
    "complete": ("{who} 办结「{step}」", "{who} completed “{step}”"),
    "claim": ("{who} 领取「{step}」", "{who} claimed “{step}”"),
    "release": ("{who} 退回「{step}」到岗位组", "{who} released “{step}” to the group"),
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


def step_titles(session, instance: ProcessInstance) -> dict[str, str]:
    """Step titles of the case: its task rows (what the clerk saw), then the model's elements."""
    from app.engine.repository import load, workflow_specs
    titles: dict[str, str] = {}
    try:
        model = load(session, instance.model_id)
        for spec in [model.spec, *workflow_specs(session, model, instance.call_bindings).values()]:
            for ts in spec.task_specs.values():
                name = getattr(ts, "bpmn_name", None)
                if name and getattr(ts, "bpmn_id", None):
                    titles.setdefault(ts.bpmn_id, name)
    except ModelInvalid:  # an old model that no longer parses: titles from the rows only
        pass
    for task_name, title in session.execute(select(HumanTask.task_name, HumanTask.title).where(
            HumanTask.instance_id == instance.id)):
        titles[task_name] = title
    return titles


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


def history(session, instance: ProcessInstance, titles: dict[str, str] | None = None) -> list[Line]:
    """``titles``: the case's step titles when the caller has them already (``step_titles``)."""
    events = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                             .order_by(AuditEvent.id)).all()
    names = _names(session, events)
    titles = step_titles(session, instance) if titles is None else titles
    process_name = instance.model.name if instance.model is not None else instance.process_key
    lines = []
    for e in events:
        zh_t, en_t = _SENTENCES.get(e.action, ("{who} {extra}", "{who} {extra}"))
        step = process_name if e.action == "start" else titles.get(e.task_name or "", e.task_name or "")
        zh = zh_t.format(who=_who(e, names, 0), step=step, extra=_extra(e, 0))
        en = en_t.format(who=_who(e, names, 1), step=step, extra=_extra(e, 1))
        lines.append(Line(e.at, e.action, zh, en))
    return lines
