"""Four eyes on model versions (流程模型复核, 四眼原则): replacing a production procedure takes two
people.

A person uploading a BPMN file calls :func:`submit`. The file is validated exactly as a deploy
would validate it (every problem with its file and line). Then:

* a file whose processes have no deployed version yet (a new procedure), or whose content is
  unchanged, is deployed directly, as before;
* a changed file of a process that already has a deployed version becomes a **draft**
  (``ProcessModelDraft``, state ``draft`` 待复核). Nothing runs on it.

Another person in one of :data:`REVIEWER_GROUPS` — never the uploader — reviews the draft and
either :func:`approve`\\ s it (it is validated again and deployed as the new version: new cases
start on it, running cases keep theirs) or :func:`reject`\\ s it with a reason the uploader
reads. Every step writes an audit record: ``model_submit``, ``model_approve`` (with the
``deploy`` records of the versions, which name the draft), ``model_reject``.

``repository.deploy_directory`` and friends stay direct deploys: the start command and the CLI
deploy the files shipped in ``processes/``, which went through the project's own review.
"""
from __future__ import annotations

import difflib
from contextlib import nullcontext
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, undefer

from app.engine import audit, clock, repository
from app.engine.db import check_engine, immediate_transactions
from app.engine.transaction import is_race
from app.engine.errors import EngineError, ModelInvalid, NotFound, Problem
from app.engine.models import (DRAFT_APPROVED, DRAFT_PENDING, DRAFT_REJECTED, ProcessModel,
                               ProcessModelDraft)
from app.engine.services import Actor

#: Who may review (approve or reject) another person's draft.
REVIEWER_GROUPS = frozenset({"process_analyst", "manager", "administrator"})
MAX_REASON = 2000
MAX_DIFF_LINES = 3000


# -- errors ------------------------------------------------------------------------------------

class DraftNotFound(NotFound):
    def __init__(self, draft_id):
        self.draft_id = draft_id
        super().__init__(f"未找到待复核的流程模型草稿 {draft_id}", f"No model draft {draft_id}")


class NotAReviewer(EngineError):
    kind = "forbidden"

    def __init__(self):
        super().__init__("只有流程分析员、科长或系统管理员可以复核流程模型。",
                         "Only a process analyst, a manager or an administrator may review a "
                         "process model.")


class OwnDraft(EngineError):
    """The uploader tried to approve or reject their own draft."""
    kind = "forbidden"

    def __init__(self):
        super().__init__("不能复核本人提交的流程模型：须由另一名流程分析员、科长或系统管理员批准后才能部署。",
                         "You cannot review a model version you submitted yourself: another "
                         "process analyst, manager or administrator must approve it before it "
                         "is deployed.")


class DraftClosed(EngineError):
    kind = "conflict"

    def __init__(self, draft: ProcessModelDraft):
        self.draft = draft
        if draft.state == DRAFT_APPROVED:
            zh, en = "已批准并部署", "approved and deployed"
        else:
            zh, en = "已退回", "rejected"
        super().__init__(f"该流程模型草稿已由 {draft.reviewed_by} 复核（{zh}），不能再次复核。",
                         f"This model draft was already reviewed by {draft.reviewed_by} ({en}).")


class ReviewBusy(EngineError):
    kind = "conflict"

    def __init__(self):
        super().__init__("该草稿正由他人复核，请刷新页面后重试。",
                         "Someone else is reviewing this draft right now; reload the page and try again.")


class ReasonRequired(EngineError):
    kind = "invalid"

    def __init__(self):
        super().__init__("退回时请填写原因，提交人将看到该原因。",
                         "Give a reason for the rejection: the uploader will read it.")


# -- submitting --------------------------------------------------------------------------------

@dataclass
class Submitted:
    """What an upload did: versions deployed directly, processes unchanged, or one draft."""

    deployed: list[ProcessModel] = field(default_factory=list)   # new procedures, deployed now
    unchanged: list[ProcessModel] = field(default_factory=list)  # same file: same version
    draft: ProcessModelDraft | None = None  # awaiting review
    already_pending: bool = False  # the same file was already waiting for review


def _text(xml: str | bytes) -> str:
    return xml.decode("utf-8") if isinstance(xml, (bytes, bytearray)) else xml


def _pending_same(session: Session, digest: str, file_name: str) -> ProcessModelDraft | None:
    return session.scalars(select(ProcessModelDraft).where(
        ProcessModelDraft.state == DRAFT_PENDING, ProcessModelDraft.sha256 == digest,
        ProcessModelDraft.file_name == file_name).order_by(ProcessModelDraft.id)).first()


def submit(session: Session, name: str, xml: str | bytes, actor: Actor, *,
           commit: bool = True) -> Submitted:
    """Validate an uploaded BPMN file, then deploy it (a new procedure, or unchanged) or keep
    it as a draft for review (a new version of a deployed procedure). Raises ``ModelInvalid``
    (nothing stored)."""
    xml = _text(xml)
    digest = repository.sha256(xml)
    for attempt in (1, 2):
        parsed = repository.validate_string(session, name, xml)
        latest = {key: repository.latest_model(session, key) for key in parsed.process_ids}
        changed = [key for key, model in latest.items()
                   if model is not None and model.sha256 != digest]
        if changed:
            return _draft(session, parsed.file_name, xml, digest, changed, latest, actor, commit)
        # a new procedure, or the same file again: no production procedure changes
        models = repository.deploy_parsed(session, parsed, xml, actor, commit=False)
        expected = {key: (model.version if model is not None else 1) for key, model in latest.items()}
        if any(model.version != expected[model.key] for model in models) and attempt == 1:
            # someone deployed one of these processes meanwhile: this is a new version now
            session.rollback()
            continue
        result = Submitted(deployed=[m for m in models if latest[m.key] is None],
                           unchanged=[m for m in models if latest[m.key] is not None])
        if commit:
            session.commit()
            for model in result.deployed:  # no second parse on the first start
                repository.spec_cache.put(model, parsed)
        return result
    raise AssertionError("unreachable")


def _draft(session: Session, file_name: str, xml: str, digest: str, changed: list[str],
           latest: dict, actor: Actor, commit: bool) -> Submitted:
    pending = _pending_same(session, digest, file_name)
    if pending is not None:
        return Submitted(draft=pending, already_pending=True)
    keys = ""
    for key in changed:  # the column holds 200 characters: usually there is one key
        if len(keys) + len(key) + 1 > 200:
            break
        keys = f"{keys},{key}" if keys else key
    base = latest[changed[0]]
    draft = ProcessModelDraft(process_key=keys, file_name=file_name, bpmn_xml=xml, sha256=digest,
                              size=len(xml.encode("utf-8")), base_model_id=base.id,
                              submitted_by=actor.username, submitted_by_id=actor.user_id,
                              submitted_at=clock.now(), state=DRAFT_PENDING)
    session.add(draft)
    session.flush()
    audit.record(session, "model_submit", actor, draft=draft.id, process_key=keys, file=file_name,
                 sha256=digest, size=draft.size, base_version=base.version)
    if commit:
        session.commit()
    return Submitted(draft=draft)


# -- reviewing ---------------------------------------------------------------------------------

def get_draft(session: Session, draft_id: int) -> ProcessModelDraft:
    draft = session.get(ProcessModelDraft, draft_id, options=[undefer(ProcessModelDraft.bpmn_xml)])
    if draft is None:
        raise DraftNotFound(draft_id)
    return draft


def list_drafts(session: Session, *, state: str | None = None, limit: int = 200) -> list[ProcessModelDraft]:
    """Drafts newest first (all states unless ``state``)."""
    query = select(ProcessModelDraft).order_by(ProcessModelDraft.id.desc()).limit(limit)
    if state is not None:
        query = query.where(ProcessModelDraft.state == state)
    return list(session.scalars(query))


def is_uploader(draft: ProcessModelDraft, actor: Actor) -> bool:
    if draft.submitted_by_id is not None and actor.user_id is not None:
        if draft.submitted_by_id == actor.user_id:
            return True
    return draft.submitted_by.casefold() == (actor.username or "").casefold()


def may_review(draft: ProcessModelDraft, actor: Actor) -> bool:
    return bool(REVIEWER_GROUPS & set(actor.groups)) and not is_uploader(draft, actor)


def _check(draft: ProcessModelDraft, actor: Actor) -> None:
    if draft.state != DRAFT_PENDING:
        raise DraftClosed(draft)
    if not REVIEWER_GROUPS & set(actor.groups):
        raise NotAReviewer()
    if is_uploader(draft, actor):
        raise OwnDraft()


def _close(session: Session, draft: ProcessModelDraft, **values) -> None:
    """Move the draft out of ``draft``, once: a second reviewer as fast loses (DraftClosed)."""
    done = session.execute(update(ProcessModelDraft).where(
        ProcessModelDraft.id == draft.id, ProcessModelDraft.state == DRAFT_PENDING).values(**values)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        session.rollback()
        session.refresh(draft)
        raise DraftClosed(draft)
    session.expire(draft, list(values))  # read back in this transaction


def _one_review(session: Session, draft_id: int, work):
    """Run a review's writes; a reviewer who lost a race learns the draft was reviewed
    (``DraftClosed``) or is being reviewed (``ReviewBusy``). On SQLite a review that begins its
    own transaction takes the write lock first, like a runtime step."""
    immediate = (immediate_transactions() if check_engine(session) == "sqlite"
                 and not session.in_transaction() else nullcontext())
    with immediate:
        try:
            return work()
        except DBAPIError as exc:
            if not is_race(exc):
                raise
            session.rollback()
            draft = get_draft(session, draft_id)
            if draft.state != DRAFT_PENDING:
                raise DraftClosed(draft) from exc
            raise ReviewBusy() from exc


def approve(session: Session, draft_id: int, actor: Actor, *, commit: bool = True) -> list[ProcessModel]:
    """Deploy a draft as the new version of its processes (validated again first: a form or
    called process may have gone since the upload). Raises ``OwnDraft``, ``NotAReviewer``,
    ``DraftClosed``, ``ReviewBusy``, ``DraftNotFound``, ``ModelInvalid`` (the draft stays a
    draft)."""
    return _one_review(session, draft_id, lambda: _approve(session, draft_id, actor, commit))


def _approve(session: Session, draft_id: int, actor: Actor, commit: bool) -> list[ProcessModel]:
    draft = get_draft(session, draft_id)
    _check(draft, actor)
    xml, file_name, key, uploader = draft.bpmn_xml, draft.file_name, draft.process_key, draft.submitted_by
    parsed = repository.validate_string(session, file_name, xml)
    models = repository.deploy_parsed(session, parsed, xml, actor, commit=False,
                                      detail={"draft": draft_id, "submitted_by": uploader})
    main = next((m for m in models if m.key in draft.keys), models[0] if models else None)
    _close(session, draft, state=DRAFT_APPROVED, reviewed_by=actor.username,
           reviewed_by_id=actor.user_id, reviewed_at=clock.now(),
           deployed_model_id=main.id if main is not None else None)
    audit.record(session, "model_approve", actor, draft=draft_id, process_key=key, file=file_name,
                 sha256=draft.sha256, submitted_by=uploader,
                 versions={m.key: m.version for m in models})
    if commit:
        session.commit()
    return models


def reject(session: Session, draft_id: int, actor: Actor, reason: str, *,
           commit: bool = True) -> ProcessModelDraft:
    """Refuse a draft with a reason the uploader reads; nothing is deployed."""
    return _one_review(session, draft_id, lambda: _reject(session, draft_id, actor, reason, commit))


def _reject(session: Session, draft_id: int, actor: Actor, reason: str,
            commit: bool) -> ProcessModelDraft:
    draft = get_draft(session, draft_id)
    _check(draft, actor)
    reason = (reason or "").strip()[:MAX_REASON]
    if not reason:
        raise ReasonRequired()
    _close(session, draft, state=DRAFT_REJECTED, reviewed_by=actor.username,
           reviewed_by_id=actor.user_id, reviewed_at=clock.now(), reason=reason)
    audit.record(session, "model_reject", actor, draft=draft_id, process_key=draft.process_key,
                 file=draft.file_name, sha256=draft.sha256, submitted_by=draft.submitted_by,
                 reason=reason)
    if commit:
        session.commit()
    return draft


# -- what the reviewer sees --------------------------------------------------------------------

@dataclass
class Comparison:
    """The draft against the version it replaces: sizes, hashes, a unified diff."""

    base: ProcessModel | None  # the latest version now (pending) or the one at upload (closed)
    base_size: int | None
    diff: list[str]
    truncated: bool
    stale: bool  # pending, and another version was deployed since the upload


def compare(session: Session, draft: ProcessModelDraft) -> Comparison:
    if draft.state == DRAFT_PENDING and draft.keys:
        base = repository.latest_model(session, draft.keys[0])
    else:
        base = draft.base_model
    old = base.bpmn_xml if base is not None else ""
    label = f"{base.file_name} v{base.version}" if base is not None else "/dev/null"
    lines = list(difflib.unified_diff(old.splitlines(), draft.bpmn_xml.splitlines(),
                                      fromfile=label, tofile=f"{draft.file_name} (draft {draft.id})",
                                      lineterm="", n=3))
    return Comparison(base, len(old.encode("utf-8")) if base is not None else None,
                      lines[:MAX_DIFF_LINES], len(lines) > MAX_DIFF_LINES,
                      draft.state == DRAFT_PENDING and base is not None
                      and base.id != draft.base_model_id)


def validation(session: Session, draft: ProcessModelDraft) -> list[Problem]:
    """The draft validated now, as approving would (empty: it may be deployed)."""
    try:
        repository.validate_string(session, draft.file_name, draft.bpmn_xml)
    except ModelInvalid as e:
        return e.problems
    return []
