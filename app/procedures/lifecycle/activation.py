"""统一启用 — the central activation of an issuance round's cards (seed 000 §4.2.2, §4.3):

    "社会保障卡在发放期间处于锁定状态，不可以使用。…待社会保障卡发卡结束后，统一启用，具体时间详见…
    公告，同时原医疗保险卡作废。" — "社会保障卡启用后，原医保个人账户资金自动转入社会保障卡" —
    "暂时没有领到社会保障卡的参保人员，仍可继续使用原医疗保险卡。"

A manager starts the round of a closed batch (:func:`start_round`, with the date of the
announcement 启用公告); the durable job ``lifecycle.activate_round`` (:func:`activate_round`)
then switches on, chunk by chunk, every card of the batch that has left the centre (custody
with the employer, with its holder, or issued a second time) and is still locked: the
medical-insurance system stops the old medical card and moves the personal account's balance
to the card (``app.adapters.medical_insurance``), the card becomes 正常 (ACTIVE), and each card
gets its ``CardActivation`` row (the card is the key: exactly once) and its history line
(``CardEvent`` activated, the cents moved). Cards not picked up yet stay locked; the scheduler's
round (:func:`late_round`) switches each on once it is picked up (``CardActivation.late``).

Why CLOSED only, not DELIVERED: the seed activates "待社会保障卡发卡结束后" — after the issuance
is over — and a batch is closed (``batch.close``) only once every employer application was
finished and told to collect its cards; a delivered batch is still being handed out, and
activating it would leave most of its cards locked and the announcement premature.

Set-based, resumable: each chunk is a few statements (the cards locked ``FOR UPDATE`` on
PostgreSQL, the write lock taken at once on SQLite) that commit together with the job's
checkpoint; a job resumed after kill -9 goes on from its checkpoint, and the filters (card still
NOT_ACTIVATED, no ``CardActivation`` row) make a repeated chunk a no-op: no card is skipped, none
activated twice. The medical-insurance call is idempotent too (a repeated switch moves nothing).

Late activations watch the custody events (``card_custody_event``, by id): each done round keeps
``late_mark``, the last event it has looked at. When nothing happened, the round costs one
query (rounds whose mark is below the newest event id, an index lookup). The mark only passes
events older than :data:`LATE_LAG`, so an event committed late by a slow transaction (ids are
handed out at insert, not at commit, on PostgreSQL) is still seen. A card that becomes
activatable without moving (a temporary loss reported before the round, lifted after it: 解挂
gives back 未启用) is switched on by :func:`activate_if_due`, which the lifting step calls.

The round's ``activated`` and ``waiting`` are the figures at the end of its job (the list page
shows them); :func:`figures` gives them as they are now (the round's page, the announcement).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import Integer, String, case, exists, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.adapters import medical_insurance
from app.cards.models import Card
from app.cards.states import CardStatus
from app.common.clock import CHINA_TZ, china_today, to_local_date, utcnow
from app.common.errors import BilingualError
from app.database import insert_ignoring
from app.engine.db import UtcDateTime, immediate_transactions
from app.engine.jobs import BackgroundJob, JobContext, JobLost, enqueue, handler
from app.engine.scheduler import ROUND_HOOKS
from app.procedures.batch.models import Batch
from app.procedures.batch.states import BATCH_LABELS, BatchStatus
from app.procedures.distribution.models import CardCustody, CustodyEvent
from app.procedures.distribution.states import Custody
from app.procedures.lifecycle.models import ActivationRound, CardActivation, CardEvent
from app.procedures.lifecycle.states import EventKind, RoundState

log = logging.getLogger(__name__)

JOB_KIND = "lifecycle.activate_round"
CHUNK = 1000  # cards per transaction of the job
#: custody states of a card that has left the centre: it is switched on
LEFT = (Custody.WITH_EMPLOYER, Custody.WITH_HOLDER, Custody.REISSUED)
#: custody states of a card not picked up yet: it stays locked (the old medical card goes on)
WAITING = (Custody.MADE, Custody.ACCEPTED, Custody.AT_CENTRE, Custody.RETURNED)
#: the batches whose cards may be activated (see the module docstring)
ACTIVATABLE = (BatchStatus.CLOSED,)
#: custody events younger than this are looked at again by the next late round
LATE_LAG = timedelta(minutes=5)
EARLIEST = date(2000, 1, 1)

_LEFT = [s.value for s in LEFT]
_WAITING = [s.value for s in WAITING]


# -- refusals 不能启用 ----------------------------------------------------------------------------

class ActivationError(BilingualError):
    """统一启用 cannot be done (the message says why); nothing was changed."""

    kind = "conflict"
    code = "activation_refused"


class AlreadyActivated(ActivationError):
    """The batch was activated before: once per issuance round (``batch_id`` is unique)."""

    code = "activation_twice"

    def __init__(self, batch_name: str, existing: ActivationRound):
        self.round_id = existing.id
        at = local(existing.created_at)
        zh_at, en_at = f"{at:%Y-%m-%d %H:%M}", f"{at:%Y-%m-%d %H:%M} (China time)"
        announced = existing.announced_on.isoformat()
        if existing.state == RoundState.DONE:
            zh = (f"制卡批次“{batch_name}”已于 {zh_at} 统一启用（启用公告日期 {announced}），"
                  f"不能重复启用。领卡后尚未启用的卡由系统在领卡后自动启用。")
            en = (f"Batch “{batch_name}” was activated on {en_at} (announcement dated {announced}); "
                  f"it cannot be activated again. Cards picked up later are activated automatically.")
        else:
            zh = (f"制卡批次“{batch_name}”已于 {zh_at} 开始统一启用（启用公告日期 {announced}），"
                  f"不能重复启用。")
            en = (f"The activation of batch “{batch_name}” was started on {en_at} (announcement "
                  f"dated {announced}); it cannot be started again.")
        super().__init__(zh, en)


class BatchNotClosed(ActivationError):
    code = "activation_batch_open"

    def __init__(self, batch: Batch):
        label = BATCH_LABELS.get(batch.status)
        zh_state = label.zh if label else "未知"
        en_state = label.en if label else "unknown"
        super().__init__(
            f"制卡批次“{batch.name}”尚未结束（当前：{zh_state}）。社会保障卡在发放期间处于锁定状态，"
            f"待本批发卡结束、批次结束后才能统一启用。",
            f"Batch “{batch.name}” is not closed yet (now: {en_state}). Cards stay locked while "
            f"they are handed out; the round is activated once the batch is closed.")


class BadAnnouncementDate(ActivationError):
    kind = "invalid"
    code = "activation_bad_date"


class RoundNotFound(ActivationError):
    kind = "not_found"
    code = "activation_not_found"


def local(value: datetime) -> datetime:
    """A stored UTC time in China's time."""
    from datetime import timezone
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(CHINA_TZ)


# -- starting a round 统一启用 ------------------------------------------------------------------

def round_of(session: Session, batch_id: int) -> ActivationRound | None:
    return session.scalars(select(ActivationRound).where(ActivationRound.batch_id == batch_id)).first()


def _event_mark(session: Session, now: datetime) -> int:
    """The newest custody event older than :data:`LATE_LAG` (0: none)."""
    return int(session.scalar(select(func.max(CustodyEvent.id))
                              .where(CustodyEvent.at <= now - LATE_LAG)) or 0)


def check_announcement(batch: Batch, announced_on) -> date:
    if not isinstance(announced_on, date):
        raise BadAnnouncementDate("请填写启用公告日期（格式 YYYY-MM-DD）",
                                  "Give the date of the announcement (YYYY-MM-DD)")
    if isinstance(announced_on, datetime):
        announced_on = announced_on.date()
    if announced_on > china_today():
        raise BadAnnouncementDate(
            "启用公告日期不能晚于今天：先发布公告，再统一启用",
            "The announcement cannot be dated after today: it is published before the activation")
    created = local(batch.created_at).date() if batch.created_at else EARLIEST
    if announced_on < max(created, EARLIEST):
        raise BadAnnouncementDate(
            f"启用公告日期不能早于制卡批次建立之日（{created.isoformat()}）",
            f"The announcement cannot be dated before the batch was created ({created.isoformat()})")
    return announced_on


def start_round(session: Session, batch_id: int, announced_on: date, actor_name: str,
                office: str | None, *, chunk: int = CHUNK) -> ActivationRound:
    """统一启用 of a closed batch: the round and its job (``lifecycle.activate_round``), in the
    caller's transaction (the job runs once the caller commits). Refused, nothing written, for
    a batch not closed, a bad announcement date, or a batch activated before (the message says
    when: :class:`AlreadyActivated`)."""
    batch = session.get(Batch, int(batch_id))
    if batch is None:
        raise RoundNotFound(f"没有编号为 {batch_id} 的制卡批次", f"There is no batch number {batch_id}")
    existing = round_of(session, batch.id)
    if existing is not None:
        raise AlreadyActivated(batch.name, existing)
    if batch.status not in ACTIVATABLE:
        raise BatchNotClosed(batch)
    announced_on = check_announcement(batch, announced_on)
    now = utcnow()
    row = ActivationRound(batch_id=batch.id, office=office or batch.office, announced_on=announced_on,
                          state=RoundState.RUNNING, activated=0, waiting=0,
                          late_mark=_event_mark(session, now), created_by=actor_name, created_at=now)
    try:
        with session.begin_nested():  # two managers at once: the unique batch_id decides
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = round_of(session, batch.id)
        if existing is None:
            raise
        raise AlreadyActivated(batch.name, existing) from None
    job = enqueue(session, JOB_KIND, {"round_id": row.id, "chunk": max(1, int(chunk))}, actor_name,
                  subject=subject(row.id))
    row.job_id = job.id
    session.flush()
    log.info("activation round %s of batch %s started by %s (job %s)", row.id, batch.id,
             actor_name, job.id)
    return row


def subject(round_id: int) -> str:
    return f"activation:{round_id}"


def job_of(session: Session, row: ActivationRound) -> BackgroundJob | None:
    return session.get(BackgroundJob, row.job_id) if row.job_id else None


def may_retry(row: ActivationRound, job: BackgroundJob | None) -> bool:
    """A round whose job failed (or was given up after too many interruptions) may be run again."""
    if row.state == RoundState.FAILED:
        return job is None or not job.active
    return row.state == RoundState.RUNNING and (job is None or job.state == "failed")


def retry_round(session: Session, round_id: int, actor_name: str) -> BackgroundJob:
    """Run a failed round's job again (a new job; the cards already activated are skipped)."""
    row = session.get(ActivationRound, int(round_id))
    if row is None:
        raise RoundNotFound(f"没有编号为 {round_id} 的统一启用", f"There is no activation round {round_id}")
    if not may_retry(row, job_of(session, row)):
        raise ActivationError("该批次的统一启用没有失败，无需重新执行",
                              "This activation has not failed: there is nothing to run again",
                              code="activation_not_failed")
    job = enqueue(session, JOB_KIND, {"round_id": row.id, "chunk": CHUNK}, actor_name,
                  subject=subject(row.id))
    row.state, row.job_id, row.finished_at = RoundState.RUNNING, job.id, None
    session.flush()
    return job


# -- activating cards 启用卡片 (one chunk, set-based) ---------------------------------------------

def _not_activated():
    return ~exists().where(CardActivation.card_id == Card.id)


def _lock(query, session: Session):
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(of=Card)
    return query  # SQLite: the transaction took the write lock at its start


def _activate(session: Session, rows, *, round_id: int, batch_id: int, actor: str,
              office: str | None, late: bool, now: datetime) -> tuple[int, int]:
    """Switch on ``rows`` — (card id, ID number, card number) of locked cards that are
    NOT_ACTIVATED and have no activation — in a few statements; (cards, cents moved)."""
    if not rows:
        return 0, 0
    moved = medical_insurance(session).switch_to_cards({ssn: number for _, ssn, number in rows})
    cents = {card_id: int(moved.get(str(ssn).upper(), 0) or 0) for card_id, ssn, _ in rows}
    ids = [card_id for card_id, _, _ in rows]
    insert_ignoring(session, CardActivation.__table__,
                    [{"card_id": c, "round_id": round_id, "activated_at": now,
                      "moved_cents": cents[c], "late": late} for c in ids], conflict=["card_id"])
    done = session.execute(
        update(Card).where(Card.id.in_(ids), Card.status == CardStatus.NOT_ACTIVATED)
        .values(status=CardStatus.ACTIVE, activated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if done != len(ids):  # cannot happen: the rows are locked
        raise RuntimeError(f"{len(ids) - done} cards changed while they were being activated")
    session.execute(insert(CardEvent).from_select(
        ["card_id", "kind", "at", "by", "office", "detail"],
        select(CardActivation.card_id, literal(EventKind.ACTIVATED.value, String()),
               literal(now, UtcDateTime()), literal(actor, String()), literal(office, String()),
               _detail(session, round_id, batch_id))
        .where(CardActivation.card_id.in_(ids)).order_by(CardActivation.card_id)))
    return len(ids), sum(cents.values())


def _detail(session: Session, round_id: int, batch_id: int):
    """The event's ``detail`` built in SQL from the activation row: {"round", "batch",
    "moved_cents", "late"} (a JSON object on both databases)."""
    pairs = ("round", literal(round_id, Integer()), "batch", literal(batch_id, Integer()),
             "moved_cents", CardActivation.moved_cents)
    if session.get_bind().dialect.name == "postgresql":
        return func.json_build_object(*pairs, "late", CardActivation.late)
    return func.json_object(*pairs, "late", func.json(case((CardActivation.late, "true"), else_="false")))


def _candidates(batch_id: int):
    """The batch's cards that left the centre and are still locked, not yet activated."""
    return (select(Card.id, Card.ssn, Card.card_number)
            .join(CardCustody, CardCustody.card_id == Card.id)
            .where(CardCustody.batch_id == batch_id, CardCustody.state.in_(_LEFT),
                   Card.status == CardStatus.NOT_ACTIVATED, _not_activated()))


def remaining(session: Session, batch_id: int) -> int:
    sub = _candidates(batch_id).subquery()
    return int(session.scalar(select(func.count()).select_from(sub)) or 0)


def waiting_now(session: Session, batch_id: int) -> int:
    """The batch's cards not picked up yet, still locked (the old medical card goes on)."""
    return int(session.scalar(
        select(func.count()).select_from(CardCustody).join(Card, Card.id == CardCustody.card_id)
        .where(CardCustody.batch_id == batch_id, CardCustody.state.in_(_WAITING),
               Card.status == CardStatus.NOT_ACTIVATED)) or 0)


# -- the job 统一启用作业 ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Round:
    id: int
    batch_id: int
    actor: str
    office: str | None


def _load(session: Session, round_id: int) -> _Round:
    row = session.get(ActivationRound, round_id)
    if row is None:
        raise RoundNotFound(f"没有编号为 {round_id} 的统一启用", f"There is no activation round {round_id}")
    return _Round(row.id, row.batch_id, row.created_by, row.office)


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
            rows = s.execute(_lock(_candidates(r.batch_id)
                                   .where(Card.id > after, CardCustody.card_id > after)
                                   .order_by(Card.id).limit(size), s)).all()
            n, _cents = _activate(s, rows, round_id=r.id, batch_id=r.batch_id, actor=r.actor,
                                  office=r.office, late=False, now=now)
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


# -- cards picked up after the round 领卡后启用 (the scheduler's round) ---------------------------

def _late_cards(batch_id: int, mark: int):
    """Cards of the batch moved out of the centre by a custody event after ``mark``, still
    locked and not activated."""
    moved_out = (select(CustodyEvent.card_id)
                 .where(CustodyEvent.id > mark, CustodyEvent.to_state.in_(_LEFT)))
    return _candidates(batch_id).where(Card.id.in_(moved_out))


def late_round(session_factory: Callable[[], Session], now: datetime | None = None) -> int:
    """The scheduler's round: switch on the cards of done rounds picked up since (late). One
    query when nothing happened; idempotent (two schedulers at once activate each card once).
    Returns the cards activated."""
    now = now or utcnow()
    with session_factory() as s:
        newest = select(func.coalesce(func.max(CustodyEvent.id), 0)).scalar_subquery()
        rounds = s.execute(select(ActivationRound.id, ActivationRound.batch_id,
                                  ActivationRound.late_mark, ActivationRound.created_by,
                                  ActivationRound.office)
                           .where(ActivationRound.state == RoundState.DONE,
                                  ActivationRound.late_mark < newest)
                           .order_by(ActivationRound.id)).all()
        new_mark = _event_mark(s, now) if rounds else 0
        s.rollback()
    activated = 0
    for round_id, batch_id, mark, actor, office in rounds:
        activated += _late_for(session_factory, _Round(round_id, batch_id, actor, office), mark,
                               new_mark)
    return activated


def _late_for(session_factory, r: _Round, mark: int, new_mark: int) -> int:
    """The round's cards picked up after ``mark``; the mark moves on to ``new_mark`` (the newest
    event older than the lag) once they are done."""
    with session_factory() as s:  # read first: no write lock while there is nothing to do
        pending = s.execute(_late_cards(r.batch_id, mark).limit(1)).first()
        s.rollback()
    if pending is None and new_mark <= mark:
        return 0
    activated = 0
    while True:
        with immediate_transactions(), session_factory() as s, s.begin():
            rows = s.execute(_lock(_late_cards(r.batch_id, mark).order_by(Card.id).limit(CHUNK), s)).all()
            n, _ = _activate(s, rows, round_id=r.id, batch_id=r.batch_id, actor=r.actor,
                             office=r.office, late=True, now=utcnow())
            activated += n
            if len(rows) < CHUNK and new_mark > mark:
                s.execute(update(ActivationRound).where(ActivationRound.id == r.id,
                                                        ActivationRound.late_mark < new_mark)
                          .values(late_mark=new_mark))
        if len(rows) < CHUNK:
            break
    if activated:
        log.info("activation round %s: %d cards picked up since activated", r.id, activated)
    return activated


def activate_if_due(session: Session, card_ids, *, now: datetime | None = None) -> int:
    """Switch on now, in the caller's transaction, those of ``card_ids`` that belong to a done
    round, have left the centre and are still locked — for a change the custody events do not
    show: a temporary loss reported before the round and lifted after it (解挂 gives the card
    back its status before the loss: 未启用). Idempotent; the cards activated (late)."""
    ids = sorted({int(c) for c in card_ids})
    if not ids:
        return 0
    query = (_lock(select(Card.id, Card.ssn, Card.card_number, ActivationRound.id, ActivationRound.batch_id,
                          ActivationRound.created_by, ActivationRound.office)
                   .join(CardCustody, CardCustody.card_id == Card.id)
                   .join(ActivationRound, ActivationRound.batch_id == CardCustody.batch_id)
                   .where(Card.id.in_(ids), CardCustody.state.in_(_LEFT),
                          Card.status == CardStatus.NOT_ACTIVATED, _not_activated(),
                          ActivationRound.state == RoundState.DONE).order_by(Card.id), session))
    rounds: dict[tuple, list] = {}
    for card_id, ssn, number, round_id, batch_id, actor, office in session.execute(query):
        rounds.setdefault((round_id, batch_id, actor, office), []).append((card_id, ssn, number))
    now = now or utcnow()
    activated = 0
    for (round_id, batch_id, actor, office), rows in rounds.items():
        activated += _activate(session, rows, round_id=round_id, batch_id=batch_id, actor=actor,
                               office=office, late=True, now=now)[0]
    return activated


ROUND_HOOKS.append(late_round)


# -- figures and the announcement 启用公告 ----------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    activated: int      # by the round's job
    late: int           # picked up afterwards, activated then
    waiting: int        # not picked up yet, still locked (now)
    moved_cents: int    # balance moved to the cards, all of them

    @property
    def moved_yuan(self) -> str:
        return yuan(self.moved_cents)


def yuan(cents: int) -> str:
    """12345678 -> "123,456.78"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}.{part:02d}"


def figures(session: Session, row: ActivationRound) -> Figures:
    late, cents = session.execute(
        select(func.count().filter(CardActivation.late.is_(True)),
               func.coalesce(func.sum(CardActivation.moved_cents), 0))
        .where(CardActivation.round_id == row.id)).one()
    if row.state == RoundState.DONE:
        activated = row.activated
    else:  # while the job runs
        activated = int(session.scalar(select(func.count()).select_from(CardActivation).where(
            CardActivation.round_id == row.id, CardActivation.late.is_(False))) or 0)
    return Figures(int(activated), int(late or 0), waiting_now(session, row.batch_id), int(cents or 0))


TEMPLATES = Path(__file__).resolve().parent / "templates"


def announcement_html(session: Session, round_id: int, *, css_href: str | None = None) -> str:
    """启用公告: the printable A4 announcement of a round (the document kit)."""
    from app.documents import Templates
    from app.procedures.batch import city as city_config
    row = session.get(ActivationRound, int(round_id))
    if row is None:
        raise RoundNotFound(f"没有编号为 {round_id} 的统一启用", f"There is no activation round {round_id}")
    batch = session.get(Batch, row.batch_id)
    city = city_config.current(session)
    started = to_local_date(local(row.created_at))
    data = {"city": city.name, "bureau": f"{city.name}人力资源和社会保障局",
            "centre": f"{city.name}社会保障卡管理服务中心", "batch": batch, "round": row,
            "activated_on": started, "done": row.state == RoundState.DONE,
            "figures": figures(session, row)}
    return Templates(TEMPLATES).render("activation_announcement", css_href=css_href,
                                       subject=batch.name, d=data)


__all__ = ["ACTIVATABLE", "CHUNK", "JOB_KIND", "LATE_LAG", "LEFT", "WAITING", "ActivationError",
           "AlreadyActivated", "BadAnnouncementDate", "BatchNotClosed", "Figures", "RoundNotFound",
           "activate_if_due", "activate_round", "announcement_html", "check_announcement", "figures", "job_of",
           "late_round", "may_retry", "remaining", "retry_round", "round_of", "start_round",
           "subject", "waiting_now", "yuan"]
