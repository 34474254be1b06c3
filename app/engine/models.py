"""Engine tables (流程引擎数据表): deployed models, cases, human tasks, timers, audit, incidents.

Portable between SQLite and PostgreSQL. Times are aware UTC (``UtcDateTime``). Users live in
``app/auth`` (table ``user``, integer ids): user ids and usernames are stored as plain values,
on purpose without a foreign key.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.clock import utcnow
from app.database import Base, sql_in
from app.engine.db import UtcDateTime
from app.engine.errors import AuditImmutable

# Case status (办件状态)
RUNNING = "running"      # someone must act: at least one open human task
WAITING = "waiting"      # no human task open; waiting for a timer or a message
COMPLETED = "completed"  # 已办结
ERROR = "error"          # stopped in an open incident (异常)
CANCELLED = "cancelled"  # 已撤销
ACTIVE_STATUSES = (RUNNING, WAITING, ERROR)

# Human task / timer / incident states
OPEN, DONE, WITHDRAWN = "open", "completed", "cancelled"
TIMER_WAITING, TIMER_FIRED, TIMER_CANCELLED = "waiting", "fired", "cancelled"
# a timer whose fire time needs a calendar year not entered, or a paused/unstarted deadline:
# it waits without a time and never fires on a guess (待定)
TIMER_PENDING = "pending"
INCIDENT_OPEN, INCIDENT_RESOLVED = "open", "resolved"

AUDIT_ACTIONS = ("start", "complete", "claim", "release", "reassign", "timer", "message",
                 "incident", "retry", "deploy", "cancel", "deadline",
                 # four eyes on model versions (app.engine.review): a new version of a deployed
                 # process submitted as a draft, approved (then "deploy"), or rejected
                 "model_submit", "model_approve", "model_reject",
                 # an administrator viewed a case's personal data unmasked (API ?full=1)
                 "view_full_data",
                 # work of a procedure family outside a step (a batch's import, a grid page
                 # saved, a document with personal data downloaded): detail["what"] says which
                 "family")

# Model draft states (流程模型草稿, app.engine.review)
DRAFT_PENDING, DRAFT_APPROVED, DRAFT_REJECTED = "draft", "approved", "rejected"
DRAFT_STATES = (DRAFT_PENDING, DRAFT_APPROVED, DRAFT_REJECTED)


class ProcessModel(Base):
    """One deployed version of one BPMN process (流程模型版本). Rows are never changed:
    a changed file gives a new version; running cases keep theirs."""
    __tablename__ = "process_model"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_process_model_key_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), nullable=False, index=True)  # BPMN process id
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str | None] = mapped_column(String(500))  # the process's name attribute
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)  # of the whole file
    bpmn_xml: Mapped[str] = mapped_column(Text, nullable=False, deferred=True)  # loaded on use
    file_name: Mapped[str] = mapped_column(String(500), nullable=False)
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    deployed_by: Mapped[str | None] = mapped_column(String(150))

    def __repr__(self) -> str:
        return f"<ProcessModel {self.key} v{self.version}>"


class ProcessModelDraft(Base):
    """A new version of a deployed process awaiting a second person's review (待复核的流程模型):
    validated at upload, deployed only when another reviewer approves it (四眼原则)."""
    __tablename__ = "process_model_draft"
    __table_args__ = (CheckConstraint(sql_in("state", DRAFT_STATES), name="state"),
                      Index("ix_process_model_draft_state_key", "state", "process_key"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # the file's processes that already have a deployed version (comma-separated: usually one)
    process_key: Mapped[str] = mapped_column(String(200), nullable=False)
    file_name: Mapped[str] = mapped_column(String(500), nullable=False)
    bpmn_xml: Mapped[str] = mapped_column(Text, nullable=False, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)  # bytes (UTF-8)
    base_model_id: Mapped[int | None] = mapped_column(ForeignKey("process_model.id"))  # latest at upload
    submitted_by: Mapped[str] = mapped_column(String(150), nullable=False)  # username
    submitted_by_id: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=DRAFT_PENDING)
    reviewed_by: Mapped[str | None] = mapped_column(String(150))
    reviewed_by_id: Mapped[int | None] = mapped_column(Integer)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected
    deployed_model_id: Mapped[int | None] = mapped_column(ForeignKey("process_model.id"))

    base_model: Mapped[ProcessModel | None] = relationship(foreign_keys=[base_model_id], lazy="select")
    deployed_model: Mapped[ProcessModel | None] = relationship(foreign_keys=[deployed_model_id],
                                                               lazy="select")

    @property
    def keys(self) -> list[str]:
        return [k for k in self.process_key.split(",") if k]

    def __repr__(self) -> str:
        return f"<ProcessModelDraft {self.id} {self.process_key} {self.state}>"


class ProcessInstance(Base):
    """A case (办件): one run of a process model. ``state`` is the serialized workflow without
    its spec; ``lock_version`` is bumped by every update (optimistic locking)."""
    __tablename__ = "process_instance"
    __table_args__ = (Index("ix_process_instance_key_status", "process_key", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("process_model.id"), nullable=False,
                                          index=True)
    process_key: Mapped[str] = mapped_column(String(200), nullable=False)
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)  # e.g. 申领编号
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=RUNNING, index=True)
    state: Mapped[str] = mapped_column(Text, nullable=False)
    summary: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    started_by: Mapped[str | None] = mapped_column(String(150))
    # the office the case belongs to (代办机构: a window, an outlet, a centre), an opaque code
    # to the engine: the starter's office; who may see it is app.cases.access's rule
    office: Mapped[str | None] = mapped_column(String(32), index=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)  # 法定时限
    # {called process id: model id}: the versions of processes in other files this case calls,
    # bound when it started (see repository.bind_calls)
    call_bindings: Mapped[dict | None] = mapped_column(JSON)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    model: Mapped[ProcessModel] = relationship(lazy="select")

    __mapper_args__ = {"version_id_col": lock_version}

    def __repr__(self) -> str:
        return f"<ProcessInstance {self.id} {self.process_key} {self.status}>"


class HumanTask(Base):
    """A user task waiting for a person (待办任务). ``group`` is the task's BPMN lane."""
    __tablename__ = "human_task"
    __table_args__ = (Index("ix_human_task_group_state", "group", "state"),
                      Index("ix_human_task_assignee_state", "assignee_id", "state"),
                      # the inbox's keyset order within a group: due date, then id
                      Index("ix_human_task_inbox", "group", "state", "due_at", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), nullable=False,
                                             index=True)
    task_guid: Mapped[str] = mapped_column(String(36), nullable=False)  # SpiffWorkflow task id
    task_name: Mapped[str] = mapped_column(String(200), nullable=False)  # BPMN element id
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    title_en: Mapped[str | None] = mapped_column(String(500))  # name.en / titleTemplate.en
    form_key: Mapped[str | None] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(200))
    group: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=OPEN)
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    assignee_name: Mapped[str | None] = mapped_column(String(150))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(Integer)
    completed_by: Mapped[str | None] = mapped_column(String(150))  # username
    completed_by_name: Mapped[str | None] = mapped_column(String(150))  # display name
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    due_working_days: Mapped[int | None] = mapped_column(Integer)  # dueWorkingDays, to recompute
    due_pending_year: Mapped[int | None] = mapped_column(Integer)  # due date awaits this year
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)

    instance: Mapped[ProcessInstance] = relationship(lazy="select")

    def title_in(self, lang: str = "zh") -> str:
        """The title pages show in ``lang``: the English one when the model gave one (rows
        made before ``title_en`` existed show the Chinese)."""
        if lang and lang.lower().startswith("en"):
            return self.title_en or self.title
        return self.title

    def __repr__(self) -> str:
        return f"<HumanTask {self.id} {self.task_name} {self.state}>"


class Timer(Base):
    """A waiting BPMN timer (定时器) with its fire time; the scheduler scans ``due_at``."""
    __tablename__ = "timer"
    __table_args__ = (Index("ix_timer_state_due_at", "state", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), nullable=False,
                                             index=True)
    task_guid: Mapped[str] = mapped_column(String(36), nullable=False)
    task_name: Mapped[str] = mapped_column(String(200), nullable=False)  # BPMN element id
    event_name: Mapped[str | None] = mapped_column(String(500))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)  # None: pending
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=TIMER_WAITING)
    pending_year: Mapped[int | None] = mapped_column(Integer)  # pending: the year not entered
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<Timer {self.id} {self.task_name} {self.due_at} {self.state}>"


class AuditEvent(Base):
    """Audit trail (审计记录). Append-only: rows are inserted by :func:`app.engine.audit.record`
    and never updated or deleted. The ORM refuses both (``AuditImmutable``); production
    databases should also revoke UPDATE/DELETE on the table from the application role."""
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)  # None: deploy
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(150), nullable=False)  # username
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    task_name: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.actor}>"


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(mapper, connection, target):
    raise AuditImmutable()


class Incident(Base):
    """A case stopped at a failed task (异常): a service operation or script failed and no
    error boundary event handled it. Retry from the UI/API; ``attempts`` counts runs."""
    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), nullable=False,
                                             index=True)
    task_guid: Mapped[str] = mapped_column(String(36), nullable=False)
    task_name: Mapped[str] = mapped_column(String(200), nullable=False)
    operation: Mapped[str | None] = mapped_column(String(200))  # service operation name
    error_code: Mapped[str | None] = mapped_column(String(200))
    message_zh: Mapped[str] = mapped_column(Text, nullable=False)
    message_en: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=INCIDENT_OPEN)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(150))

    def __repr__(self) -> str:
        return f"<Incident {self.id} {self.task_name} {self.state}>"


class CalendarChange(Base):
    """A change to the calendar (日历变更): a year entered, a day corrected. Written in the
    same transaction as the days; the recomputation job (``app.engine.recompute``) processes
    each once (``processed_at``) and is resumed by the scheduler after a crash."""
    __tablename__ = "calendar_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_day: Mapped[date] = mapped_column(Date, nullable=False)  # earliest day changed
    last_day: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)  # "2027 年节假日安排录入"
    entered_by: Mapped[str | None] = mapped_column(Text)
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cases_changed: Mapped[int | None] = mapped_column(Integer)


# Deadline states (时限状态). "overdue" is not stored: a running deadline whose day passed.
# A running deadline is "running", like a running case: the same constant RUNNING.
NOT_STARTED, PAUSED, PENDING, MET, ENDED = ("not_started", "paused", "pending", "met", "ended")


class CaseDeadline(Base):
    """A named deadline of a case (办件时限), e.g. ``statutory`` = 15 working days from
    acceptance to notification. Declared in the BPMN (``deadline.NAME``); several per case."""
    __tablename__ = "case_deadline"
    __table_args__ = (UniqueConstraint("instance_id", "name", name="uq_case_deadline_instance_name"),
                      Index("ix_case_deadline_state_due_on", "state", "due_on"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), nullable=False,
                                             index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    length: Mapped[str] = mapped_column(String(40), nullable=False)  # "15 working_days"
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=NOT_STARTED)
    start_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)   # None while pending or paused
    pending_year: Mapped[int | None] = mapped_column(Integer)  # the year not entered
    met_on: Mapped[date | None] = mapped_column(Date)
    met_late: Mapped[bool | None] = mapped_column(Boolean)

    @classmethod
    def of(cls, session, instance_id: int, name: str = "statutory") -> "CaseDeadline | None":
        """The named deadline of a case (domain code reads its own case's deadline here)."""
        from sqlalchemy import select
        return session.scalars(select(cls).where(cls.instance_id == instance_id,
                                                 cls.name == name)).first()


class DeadlinePause(Base):
    """A span in which a deadline does not count (时限挂起): by a clerk with a reason, or while
    the case waits at a BPMN element with ``pausesDeadline``."""
    __tablename__ = "deadline_pause"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("case_deadline.id"), nullable=False,
                                             index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    task_guid: Mapped[str | None] = mapped_column(String(36))  # set when a BPMN element pauses
    paused_on: Mapped[date] = mapped_column(Date, nullable=False)
    paused_by: Mapped[str | None] = mapped_column(String(150))
    resumed_on: Mapped[date | None] = mapped_column(Date)
    resumed_by: Mapped[str | None] = mapped_column(String(150))
