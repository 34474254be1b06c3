"""Errors of the engine layer (流程引擎错误), each with a clerk-readable bilingual message.

Every error carries ``message_zh`` and ``message_en`` and a ``kind`` the web/API layer maps to
its own answer (the engine knows nothing of HTTP):

=============  ============================================  =========================
kind           meaning                                       typical HTTP answer
=============  ============================================  =========================
``not_found``  no such model, case, task, incident           404
``invalid``    refused input: BPMN model, form data          422
``forbidden``  the actor may not do this (group, four-eyes)  403
``conflict``   someone else was faster / wrong state         409
=============  ============================================  =========================
"""
from __future__ import annotations

from dataclasses import dataclass

from app.common.errors import BilingualError
from typing import Iterable


def find_cause(exc: BaseException, types) -> BaseException | None:
    """The first exception of ``types`` in ``exc``'s chain (``__cause__`` / ``__context__``):
    SpiffWorkflow wraps what a script or service raised into its own exceptions."""
    seen, current = set(), exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, types):
            return current
        current = current.__cause__ or current.__context__
    return None


class EngineError(BilingualError):
    kind = "conflict"

    def __init__(self, message_zh: str, message_en: str):
        super().__init__(message_zh, message_en)


# -- not found ---------------------------------------------------------------------------------

class NotFound(EngineError):
    kind = "not_found"


class ProcessNotFound(NotFound):
    def __init__(self, key: str):
        self.key = key
        super().__init__(f"未找到已部署的流程“{key}”", f"No deployed process '{key}'")


class InstanceNotFound(NotFound):
    def __init__(self, instance_id):
        self.instance_id = instance_id
        super().__init__(f"未找到业务办件 {instance_id}", f"No case {instance_id}")


class TaskNotFound(NotFound):
    def __init__(self, task_id):
        self.task_id = task_id
        super().__init__(f"未找到待办任务 {task_id}", f"No task {task_id}")


class IncidentNotFound(NotFound):
    def __init__(self, incident_id):
        self.incident_id = incident_id
        super().__init__(f"未找到异常记录 {incident_id}", f"No incident {incident_id}")


class NoMessageReceiver(NotFound):
    def __init__(self, message_name: str, business_key=None, instance_id=None):
        self.message_name = message_name
        which = business_key or instance_id or ""
        super().__init__(f"没有办件 {which} 在等待消息“{message_name}”",
                         f"No case {which} is waiting for message '{message_name}'".replace("  ", " "))


# -- invalid input ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One reason a BPMN model is refused: where (file, line, element id) and why."""

    message: str
    file: str | None = None
    line: int | None = None
    element_id: str | None = None

    def __str__(self) -> str:
        where = self.file or "<bpmn>"
        if self.line:
            where += f":{self.line}"
        if self.element_id:
            where += f" [{self.element_id}]"
        return f"{where}: {self.message}"


class ModelInvalid(EngineError):
    """The BPMN model was refused at deploy time; ``problems`` lists every reason."""
    kind = "invalid"

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"流程模型校验未通过（{len(self.problems)} 处问题）：\n{lines}",
                         f"The process model was refused ({len(self.problems)} problems):\n{lines}")


class FormInvalid(EngineError):
    """Form data did not validate; ``errors`` is ``{field: [message, ...]}`` (form-level
    errors under "")."""
    kind = "invalid"

    def __init__(self, errors: dict[str, list[str]], form_key: str = ""):
        self.errors = errors
        self.form_key = form_key
        super().__init__("表单填写有误，请按提示修改", "The form has errors, please correct them")


# -- not allowed -------------------------------------------------------------------------------

class Forbidden(EngineError):
    kind = "forbidden"


class NotCandidate(Forbidden):
    """The actor is neither in the task's group (lane) nor its assignee."""

    def __init__(self, group: str):
        self.group = group
        super().__init__(f"您不在该任务的办理岗位（{group}）中",
                         f"You are not in this task's group ({group})")


class FourEyesViolation(Forbidden):
    """Four-eyes rule (双人复核): the actor did one of the tasks this one must be checked
    against."""

    def __init__(self, task_titles: list[str]):
        self.task_titles = task_titles
        names = "、".join(task_titles)
        super().__init__(f"双人复核：办理过“{names}”的人员不能办理本任务",
                         "Four-eyes rule: whoever did '" + "', '".join(task_titles)
                         + "' may not do this task")


# -- conflicts ---------------------------------------------------------------------------------

class CaseChanged(EngineError):
    """The case changed since the caller looked at it (another clerk, a timer, a message)."""

    def __init__(self, zh: str = "办件已被他人或系统更新，请刷新后重试",
                 en: str = "The case was changed by someone else or by the system; "
                           "please reload and try again"):
        super().__init__(zh, en)


class TaskAlreadyDone(CaseChanged):
    def __init__(self, by: str | None):
        self.by = by
        who = by or "他人"
        super().__init__(f"该任务已由 {who} 完成",
                         f"This task was already completed by {by or 'someone else'}")


class TaskNotOpen(CaseChanged):
    """The task was cancelled (e.g. a deadline timer or a cancellation took the case on)."""

    def __init__(self, state: str):
        self.state = state
        super().__init__("该任务已撤销，无需再办理", "This task was withdrawn and needs no action")


class TaskClaimed(CaseChanged):
    def __init__(self, by: str | None):
        self.by = by
        super().__init__(f"该任务已由 {by or '他人'} 认领",
                         f"This task was already claimed by {by or 'someone else'}")


class NotClaimant(CaseChanged):
    def __init__(self):
        super().__init__("该任务不是由您认领的", "You have not claimed this task")


class InstanceNotActive(CaseChanged):
    def __init__(self, status: str):
        self.status = status
        zh = {"completed": "已办结", "cancelled": "已撤销"}.get(status, status)
        super().__init__(f"该办件{zh}，不能再办理", f"The case is {status}; no more steps")


class IncidentNotOpen(CaseChanged):
    def __init__(self):
        super().__init__("该异常已处理", "This incident was already resolved")


class AuditImmutable(EngineError):
    def __init__(self):
        super().__init__("审计记录只能追加，不能修改或删除",
                         "Audit records are append-only: never updated or deleted")


class SqliteNotConfigured(RuntimeError):
    """SQLite engine used without :func:`app.engine.db.configure_sqlite` (savepoints would
    silently commit)."""


class DeadlineNotRunning(EngineError):
    kind = "conflict"

    def __init__(self, name: str | None, title: str | None = None):
        self.name = name  # the BPMN name; the message says the deadline's title
        what = f"“{title or name}”" if name else ""
        super().__init__(f"时限{what}未在计时，无法暂停（未开始、已暂停或已结束）",
                         f"The deadline {title or name or ''} is not running, so it cannot be paused")


class DeadlineNotPaused(EngineError):
    kind = "conflict"

    def __init__(self, name: str | None, title: str | None = None):
        self.name = name
        what = f"“{title or name}”" if name else ""
        super().__init__(f"时限{what}未暂停，无需恢复计时",
                         f"The deadline {title or name or ''} is not paused")


# -- scripts over their budget, task data that is not JSON -----------------------------------------

def _amount(value: float) -> str:
    """1.0 -> "1", 0.3 -> "0.3", 1500000 -> "1,500,000"."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    return f"{int(value):,}"


class ScriptLimitExceeded(EngineError):
    """A BPMN script, condition or timer expression was stopped by its budget
    (:mod:`app.engine.scripting`): too long, too much memory, a too large value or too deep a
    recursion. A script task or gateway stops in an incident, its data as it was before the
    script; a timer expression refuses the step. ``line``: where it was stopped (or None)."""
    kind = "invalid"

    def __init__(self, message_zh: str, message_en: str):
        self.line: int | None = None
        super().__init__(message_zh, message_en)


class ScriptTimeExceeded(ScriptLimitExceeded):
    def __init__(self, seconds: float):
        self.seconds = seconds
        s = _amount(seconds)
        super().__init__(f"脚本运行超过时间预算（{s} 秒），已中止",
                         f"The script exceeded its time budget ({s} s) and was stopped")


class ScriptMemoryExceeded(ScriptLimitExceeded):
    def __init__(self, megabytes: int):
        self.megabytes = megabytes
        super().__init__(f"脚本占用内存超过预算（{megabytes} MB），已中止",
                         f"The script exceeded its memory budget ({megabytes} MB) and was stopped")


class ScriptValueTooLarge(ScriptLimitExceeded):
    """The script was about to build a value over the size limit (nothing was allocated)."""

    _WHAT = {"items": ("文本或列表", "text or list", "个字符或元素", "characters or items"),
             "bits": ("整数", "integer", "位二进制", "bits")}

    def __init__(self, size: int, limit: int, unit: str = "items", *, at_least: bool = False):
        self.size, self.limit, self.unit = size, limit, unit
        what_zh, what_en, unit_zh, unit_en = self._WHAT[unit]
        if at_least:  # counted up to the limit only
            zh = f"超过上限 {_amount(limit)} {unit_zh}"
            en = f"over the limit of {_amount(limit)} {unit_en}"
        else:
            amount = _amount(size) if size < 10 ** 30 else f"{size:.3g}"
            zh = f"约 {amount} {unit_zh}，上限 {_amount(limit)}"
            en = f"about {amount} {unit_en}, limit {_amount(limit)}"
        super().__init__(f"脚本要生成的{what_zh}过大（{zh}），已中止",
                         f"The script tried to build a too large {what_en} ({en}) and was stopped")


class ScriptTooDeep(ScriptLimitExceeded):
    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"脚本函数调用嵌套超过 {limit} 层（递归过深），已中止",
                         f"The script's function calls nested more than {limit} levels deep "
                         f"(runaway recursion) and it was stopped")


class TaskDataNotJson(EngineError):
    """Task data that cannot be stored as JSON (a set, bytes, an integer beyond ±2^63, NaN, a
    circular structure...). From a script or a service result: the task stops in an incident
    and its data stays as it was. ``path`` names the value (``tags``, ``order['lines'][0]``)."""
    kind = "invalid"

    def __init__(self, path: str, reason_zh: str, reason_en: str):
        self.path = path
        self.reason_zh, self.reason_en = reason_zh, reason_en
        super().__init__(f"任务数据“{path}”{reason_zh}", f"Task data '{path}' {reason_en}")
