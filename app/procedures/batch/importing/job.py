"""The import job 导入比对作业 (``batch.import``): a contribution export into a batch, then the
checks and the rosters. Phases, each resumable (the checkpoint says which phase is done):
``import`` (rows, chunked) → ``classify`` (rules 1-3) → ``police`` (rule 4, chunked) →
``rosters`` → the batch's figures and state."""
from __future__ import annotations

import logging

from app.engine.jobs import JobContext, handler
from app.procedures.batch.importing import checks, records
from app.procedures.batch.models import Batch, BatchUpload
from app.procedures.batch.states import BatchStatus

log = logging.getLogger(__name__)


@handler("batch.import")
def run_import(ctx: JobContext) -> dict:
    batch_id, upload_id = int(ctx.params["batch_id"]), int(ctx.params["upload_id"])
    try:
        result = _run(ctx, batch_id, upload_id)
    except Exception as e:  # the batch page says why; the job row keeps the message too
        _mark_failed(ctx, batch_id, e)
        raise
    from app.procedures.batch.cases import start_batch_case
    try:  # the checks stand even if the case cannot start now (the batch page offers it again)
        start_batch_case(ctx.session_factory, batch_id)
    except Exception:
        log.exception("batch %s: the batch case did not start", batch_id)
    return result


def _run(ctx: JobContext, batch_id: int, upload_id: int) -> dict:
    from app.procedures.batch.city import current
    phase = ctx.checkpoint_data.get("phase", "import")
    with ctx.session_factory() as s, s.begin():
        city_regions = frozenset(current(s).regions)
        batch = s.get(Batch, batch_id)
        batch.status, batch.error_zh, batch.error_en = BatchStatus.IMPORTING, None, None
    if phase == "import":
        records.import_records(ctx, batch_id, upload_id, city_regions)
        phase = _next(ctx, "classify")
    if phase == "classify":
        ctx.progress(0, 1, "classify")
        total = checks.classify(ctx, batch_id)
        phase = _next(ctx, "police", persons=total)
    if phase == "police":
        checks.compare_with_police(ctx, batch_id, ctx.checkpoint_data.get("persons", 0))
        phase = _next(ctx, "rosters")
    ctx.progress(0, 1, "rosters")
    checks.build_rosters(ctx, batch_id)
    with ctx.session_factory() as s, s.begin():
        result = summary(s, batch_id)
        batch = s.get(Batch, batch_id)
        batch.counts, batch.status = result, BatchStatus.CHECKED
        ctx.checkpoint(s, phase="done")
    ctx.progress(1, 1, "done")
    return result


def _next(ctx: JobContext, phase: str, **data) -> str:
    with ctx.session_factory() as s, s.begin():
        ctx.checkpoint(s, phase=phase, **data)
    return phase


def summary(session, batch_id: int) -> dict:
    """``batch-import --json``: rows of every file imported, rejected rows, the checks."""
    from sqlalchemy import func, select
    rows, rejected = session.execute(
        select(func.coalesce(func.sum(BatchUpload.rows), 0),
               func.coalesce(func.sum(BatchUpload.rejected), 0))
        .where(BatchUpload.batch_id == batch_id)).one()
    return {"batch": batch_id, "rows": int(rows), "rejected_rows": int(rejected),
            **checks.counts(session, batch_id)}


def _mark_failed(ctx: JobContext, batch_id: int, error: Exception) -> None:
    from app.common.errors import BilingualError
    with ctx.session_factory() as s, s.begin():
        batch = s.get(Batch, batch_id)
        batch.status = BatchStatus.FAILED
        if isinstance(error, BilingualError):
            batch.error_zh, batch.error_en = error.message_zh, error.message_en
        else:
            batch.error_zh = "导入比对出错，请联系系统管理员"
            batch.error_en = "The import failed with an internal error"
