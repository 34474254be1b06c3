"""Human tasks (待办任务): who may do them, claim / release / reassign, the four-eyes rule.

A task's candidates are the members of its group (= its BPMN lane); a claimed task belongs to
its assignee. Claims are conditional UPDATEs, so two clerks claiming at once cannot both win
on SQLite or PostgreSQL. Checking that a reassigning actor is a manager, and that the new
assignee belongs to the group, is the caller's job (users live in ``app/auth``).
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.engine import audit, repository
from app.engine import properties as props
from app.engine.errors import (FourEyesViolation, NotCandidate, NotClaimant, TaskAlreadyDone,
                               TaskClaimed, TaskNotFound, TaskNotOpen)
from app.engine.models import DONE, OPEN, HumanTask
from app.engine.services import Actor
from app.engine.transaction import step


def fresh_task(session: Session, task_id: int, *, lock: bool = False) -> HumanTask:
    """The task row as the database has it now."""
    query = (select(HumanTask).where(HumanTask.id == task_id)
             .execution_options(populate_existing=True))
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise TaskNotFound(task_id)
    return row


def require_open(row: HumanTask) -> None:
    if row.state == DONE:
        raise TaskAlreadyDone(row.completed_by_name or row.completed_by)
    if row.state != OPEN:
        raise TaskNotOpen(row.state)


def is_candidate(row: HumanTask, actor: Actor) -> bool:
    """In the task's group at the case's office, or its assignee."""
    if actor.user_id is not None and row.assignee_id == actor.user_id:
        return True
    if row.group is None or row.group not in actor.groups:
        return False
    office = row.instance.office if row.instance is not None else None
    return actor.offices is None or office is None or office in actor.offices


def may_work_on(row: HumanTask, actor: Actor) -> bool:
    """What pages ask before offering the form or the claim button: the same rule
    ``require_candidate`` enforces (one rule, in the engine)."""
    return not (row.assignee_id is not None and row.assignee_id != actor.user_id) \
        and actor.user_id is not None and is_candidate(row, actor)


def require_candidate(row: HumanTask, actor: Actor) -> None:
    """May ``actor`` work on the task now: a candidate, and not claimed by someone else."""
    if row.assignee_id is not None and row.assignee_id != actor.user_id:
        raise TaskClaimed(row.assignee_name)
    if actor.user_id is None or not is_candidate(row, actor):
        raise NotCandidate(row.group or "")


def task_spec(session: Session, row: HumanTask, model_id: int | None = None):
    """The parsed BPMN spec of a task row (from the model cache)."""
    if model_id is None:
        model_id = row.instance.model_id
    model = repository.load(session, model_id)
    bindings = row.instance.call_bindings if row.instance is not None else None
    specs = [model.spec, *repository.workflow_specs(session, model, bindings).values()]
    for spec in specs:
        if spec is not None and row.task_name in spec.task_specs:
            return spec.task_specs[row.task_name]
    return None


def four_eyes_tasks(session: Session, row: HumanTask) -> list[str]:
    """BPMN ids of the tasks whose performer may not do this one (property ``notSameAs``)."""
    spec = task_spec(session, row)
    return props.not_same_as(spec) if spec is not None else []


def four_eyes_conflicts(session: Session, row: HumanTask, user_id: int | None,
                        username: str | None = None) -> list[str]:
    """Titles of the earlier tasks of this case done by that user that forbid this one."""
    names = four_eyes_tasks(session, row)
    if not names or (user_id is None and username is None):
        return []
    query = select(HumanTask.title).where(HumanTask.instance_id == row.instance_id,
                                          HumanTask.task_name.in_(names),
                                          HumanTask.state == DONE)
    if user_id is not None:
        query = query.where(HumanTask.completed_by_id == user_id)
    else:
        query = query.where(HumanTask.completed_by == username)
    return sorted(set(session.scalars(query)))


def check_four_eyes(session: Session, row: HumanTask, user_id: int | None,
                    username: str | None = None) -> None:
    conflicts = four_eyes_conflicts(session, row, user_id, username)
    if conflicts:
        raise FourEyesViolation(conflicts)


def _conditional_update(session: Session, row: HumanTask, where, values: dict) -> bool:
    result = session.execute(update(HumanTask).where(HumanTask.id == row.id,
                                                     HumanTask.state == OPEN, *where)
                             .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1


def _explain(session: Session, task_id: int) -> None:
    """Why a conditional update matched nothing: raise the matching error."""
    row = fresh_task(session, task_id)
    require_open(row)
    if row.assignee_id is not None:
        raise TaskClaimed(row.assignee_name)
    raise NotClaimant()


def claim(session: Session, task_id: int, actor: Actor, *, now=None) -> HumanTask:
    """Take an open task of one's group (认领). Idempotent for the current assignee."""
    with step(session, now) as moment:
        row = fresh_task(session, task_id)
        require_open(row)
        require_candidate(row, actor)
        check_four_eyes(session, row, actor.user_id, actor.username)
        if row.assignee_id == actor.user_id:
            return row
        if not _conditional_update(session, row, [HumanTask.assignee_id.is_(None)],
                                   {"assignee_id": actor.user_id,
                                    "assignee_name": actor.display_name or actor.username,
                                    "claimed_at": moment}):
            _explain(session, task_id)
        audit.record(session, "claim", actor, instance_id=row.instance_id,
                     task_name=row.task_name, task_id=row.id)
    return fresh_task(session, task_id)


def release(session: Session, task_id: int, actor: Actor, *, now=None) -> HumanTask:
    """Give a claimed task back to its group (退回待认领). Only the assignee may."""
    with step(session, now):
        row = fresh_task(session, task_id)
        require_open(row)
        if actor.user_id is None or row.assignee_id != actor.user_id:
            raise NotClaimant()
        if not _conditional_update(session, row, [HumanTask.assignee_id == actor.user_id],
                                   {"assignee_id": None, "assignee_name": None,
                                    "claimed_at": None}):
            _explain(session, task_id)
        audit.record(session, "release", actor, instance_id=row.instance_id,
                     task_name=row.task_name, task_id=row.id)
    return fresh_task(session, task_id)


def reassign(session: Session, task_id: int, to_user_id: int | None, actor: Actor, *,
             to_username: str | None = None, now=None) -> HumanTask:
    """Give an open task to another user (改派), or back to the group with ``None``.

    The caller checks that ``actor`` is a manager and ``to_user_id`` is in the task's group.
    The four-eyes rule is checked for the new assignee.
    """
    with step(session, now) as moment:
        row = fresh_task(session, task_id)
        require_open(row)
        if to_user_id is not None:
            check_four_eyes(session, row, to_user_id)
        before = {"assignee_id": row.assignee_id, "assignee_name": row.assignee_name}
        values = {"assignee_id": to_user_id,
                  "assignee_name": to_username if to_user_id is not None else None,
                  "claimed_at": moment if to_user_id is not None else None}
        if not _conditional_update(session, row, [], values):
            _explain(session, task_id)
        audit.record(session, "reassign", actor, instance_id=row.instance_id,
                     task_name=row.task_name, task_id=row.id, from_user_id=before["assignee_id"],
                     from_user=before["assignee_name"], to_user_id=to_user_id,
                     to_user=to_username)
    return fresh_task(session, task_id)
