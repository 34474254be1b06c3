"""Rosters 花名册 and per-employer lists: the eligible persons in roster order, the persons not
eligible with their reason (the second data collection's list 二次数据采集名单)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.common.masking import mask_id
from app.procedures.batch.models import Employer, Person
from app.procedures.batch.states import Eligibility

SEX_LABELS = {"1": "男", "2": "女"}


def employer_of(session: Session, batch_id: int, code: str) -> Employer | None:
    return session.scalars(select(Employer).where(Employer.batch_id == batch_id,
                                                  Employer.code == code)).first()


def roster(session: Session, batch_id: int, employer_code: str) -> list[dict] | None:
    """``batch-roster --json``: [{seq, name, sex, id_number (masked)}] in roster order; None
    when the batch has no such employer."""
    employer = employer_of(session, batch_id, employer_code)
    if employer is None:
        return None
    rows = session.execute(select(Person.seq, Person.name, Person.sex, Person.id_number)
                           .where(Person.employer_id == employer.id,
                                  Person.eligibility == Eligibility.ELIGIBLE)
                           .order_by(Person.seq)).all()
    return [{"seq": r.seq, "name": r.name, "sex": SEX_LABELS.get(r.sex, r.sex),
             "id_number": mask_id(r.id_number)} for r in rows]


def not_eligible(session: Session, batch_id: int, employer_id: int | None = None):
    """Persons not eligible (and not yet taken into a later batch), with their reason."""
    q = (select(Person).where(Person.batch_id == batch_id,
                              Person.eligibility.not_in((Eligibility.ELIGIBLE, Eligibility.PENDING)),
                              Person.taken_into.is_(None))
         .order_by(Person.employer_code, Person.eligibility, Person.id_number))
    if employer_id is not None:
        q = q.where(Person.employer_id == employer_id)
    return session.scalars(q)


def status_counts(session: Session, employer_id: int) -> dict[str, int]:
    return dict(session.execute(select(Person.eligibility, func.count())
                                .where(Person.employer_id == employer_id)
                                .group_by(Person.eligibility)).all())
