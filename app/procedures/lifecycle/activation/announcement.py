"""The round's figures and its announcement 启用公告 (printable A4, the document kit)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.common.clock import china_time, to_local_date
from app.common.money import yuan
from app.procedures.batch.models import Batch
from app.procedures.lifecycle.activation.cards import waiting_now
from app.procedures.lifecycle.activation.errors import RoundNotFound
from app.procedures.lifecycle.models import ActivationRound, CardActivation
from app.procedures.lifecycle.states import RoundState


@dataclass(frozen=True)
class Figures:
    activated: int      # by the round's job
    late: int           # picked up afterwards, activated then
    waiting: int        # not picked up yet, still locked (now)
    moved_cents: int    # balance moved to the cards, all of them

    @property
    def moved_yuan(self) -> str:
        return yuan(self.moved_cents)


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


TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def announcement_html(session: Session, round_id: int, *, css_href: str | None = None) -> str:
    """启用公告: the printable A4 announcement of a round (the document kit)."""
    from app.documents import Templates
    from app.procedures.batch import city as city_config
    row = session.get(ActivationRound, int(round_id))
    if row is None:
        raise RoundNotFound.of(round_id)
    batch = session.get(Batch, row.batch_id)
    city = city_config.current(session)
    started = to_local_date(china_time(row.created_at))
    data = {"city": city.name, "bureau": f"{city.name}人力资源和社会保障局",
            "centre": f"{city.name}社会保障卡管理服务中心", "batch": batch, "round": row,
            "activated_on": started, "done": row.state == RoundState.DONE,
            "figures": figures(session, row)}
    return Templates(TEMPLATES).render("activation_announcement", css_href=css_href,
                                       subject=batch.name, d=data)
