"""The job 统一启用作业 ``lifecycle.activate_round``: the round's cards in chunks, each chunk one
transaction with the job's checkpoint, so a job resumed after kill -9 skips none and repeats none."""
from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cards.models import Card
from app.common.clock import utcnow
from app.engine.db import immediate_transactions
from app.engine.jobs import JobContext, JobLost, handler
from app.procedures.distribution.models import CardCustody
from app.procedures.lifecycle.activation.cards import (CHUNK, Activator, candidates, lock, remaining,
                                                       switch_on, waiting_now)
from app.procedures.lifecycle.activation.errors import RoundNotFound
from app.procedures.lifecycle.activation.rounds import JOB_KIND
from app.procedures.lifecycle.models import ActivationRound, CardActivation
from app.procedures.lifecycle.states import RoundState

log = logging.getLogger(__name__)


def _load(session: Session, round_id: int) -> Activator:
    row = session.get(ActivationRound, round_id)
    if row is None:
        raise RoundNotFound.of(round_id)
    return Activator(row.id, row.batch_id, row.created_by, row.office)


@handler(JOB_KIND)
def activate_round(ctx: JobContext) -> dict:
    """The round's cards in chunks of ``params["chunk"]`` cards by card id, each chunk one
    transaction with the checkpoint (``after``: the last card id done); then one pass from the
    start for cards picked up while the job ran; then the round's figures."""
    round_id = int(ctx.params["round_id"])
    try:
        return _run(ctx, round_id)
    except JobLost:
        raise
    except Exception:
        with ctx.session_factory() as s, s.begin():
            row = s.get(ActivationRound, round_id)
            if row is not None and row.state == RoundState.RUNNING:
                row.state = RoundState.FAILED
        raise


def _run(ctx: JobContext, round_id: int) -> dict:
    size = max(1, int(ctx.params.get("chunk") or CHUNK))
    with ctx.session_factory() as s:
        r = _load(s, round_id)
        left = remaining(s, r.batch_id)
    done = int(ctx.checkpoint_data.get("done", 0))
    total = done + left
    ctx.progress(done, total, "activate")
    passes = ctx.checkpoint_data.get("pass", "first")
    after = int(ctx.checkpoint_data.get("after", 0))
    while True:
        with immediate_transactions(), ctx.session_factory() as s, s.begin():
            now = utcnow()
            rows = s.execute(lock(candidates(r.batch_id)
                                   .where(Card.id > after, CardCustody.card_id > after)
                                   .order_by(Card.id).limit(size), s)).all()
            n, _cents = switch_on(s, rows, by=r, late=False, now=now)
            if rows:
                after, done = rows[-1][0], done + n
            elif passes == "first":  # cards picked up behind the job meanwhile: once more from 0
                passes, after = "final", 0
            else:
                passes = "end"
            ctx.checkpoint(s, after=after, done=done, **{"pass": passes})
        if passes == "end":
            break
        if rows:
            ctx.progress(done, max(total, done))
    with ctx.session_factory() as s, s.begin():
        row = s.get(ActivationRound, r.id)
        activated, moved = s.execute(
            select(func.count(), func.coalesce(func.sum(CardActivation.moved_cents), 0))
            .where(CardActivation.round_id == r.id, CardActivation.late.is_(False))).one()
        row.activated, row.waiting = int(activated), waiting_now(s, r.batch_id)
        row.state, row.finished_at = RoundState.DONE, utcnow()
        result = {"round": r.id, "batch": r.batch_id, "activated": row.activated,
                  "waiting": row.waiting, "moved_cents": int(moved)}
        ctx.checkpoint(s, **{"pass": "end"})
    ctx.progress(done, max(total, done), "done")
    log.info("activation round %s done: %s", r.id, result)
    return result
