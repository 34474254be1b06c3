"""1. The production file 送制卡厂商制作: the submitted persons of a batch into an order."""

from __future__ import annotations

from typing import Iterator

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.adapters.manufacturer import (
    CardManufacturer,
    ProductionLine,
    production_writer,
)
from app.procedures.batch.models import (
    Batch,
    Employer,
    Person,
    ProductionOrder,
)
from app.procedures.batch.production.common import (
    CHUNK,
    ProductionError,
    _chunks,
    _expire,
    _history_from_query,
    manufacturer_for,
)
from app.procedures.batch.states import Eligibility, EmployerStatus, Entry, Production

# -- 1. the production file 送制卡厂商制作 ----------------------------------------------------------

def to_order(batch_id: int, employer_ids: list[int] | None = None) -> list:
    """Who goes into the next order of a batch: submitted (data frozen), accepted by the
    reviewer, eligible, not yet ordered."""
    where = [Person.batch_id == batch_id, Person.submitted_at.is_not(None),
             Person.entry == Entry.ACCEPTED, Person.eligibility == Eligibility.ELIGIBLE,
             Person.production.is_(None)]
    if employer_ids is not None:
        where.append(Person.employer_id.in_(list(employer_ids)))
    return where


def send_to_manufacturer(session: Session, batch_id: int, actor_name: str,
                         employer_ids: list[int] | None = None,
                         manufacturer: CardManufacturer | None = None) -> ProductionOrder | None:
    """送制卡厂商制作: one order with every person of the batch (or of these employers) ready
    for production; None when nobody is. The persons become ``ordered``, their employers
    ``in_production``; the production file is stored on the order, then sent."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise ProductionError(f"制卡批次 {batch_id} 不存在", f"Batch {batch_id} does not exist",
                              code="batch_not_found", kind="not_found")
    if employer_ids is not None and not employer_ids:
        return None
    where = to_order(batch_id, employer_ids)
    order = _write_order(session, batch_id, [where], actor_name, remake=False)
    if order is None:
        return None
    _history_from_query(session, where, actor_name,
                        f"已送制卡厂制作（订单 {order.number}）",
                        f"Sent to the card manufacturer (order {order.number})")
    _employers_in_production(session, [where])
    marked = session.execute(update(Person).where(*where).values(production=Production.ORDERED)
                             .execution_options(synchronize_session=False)).rowcount
    if marked != order.persons:  # someone was submitted or ordered meanwhile: start again
        raise ProductionError("制卡人员在生成制卡数据期间发生变化，请重新送制",
                              "The persons to order changed while the file was written; send again",
                              code="order_changed")
    _submit(session, order, manufacturer)
    return order


def _write_order(session: Session, batch_id: int, wheres: list[list], actor_name: str,
                 remake: bool) -> ProductionOrder | None:
    """The production file of the persons matching any of ``wheres``, streamed from the
    database into the order's text (rows are read ``CHUNK`` at a time, never all at once)."""
    out = production_writer()
    for row in _order_rows(session, wheres):
        out.add(_production_line(out.lines + 1, batch_id, row).row())
    if not out.lines:
        return None
    order = ProductionOrder(batch_id=batch_id, number=_next_number(session, batch_id),
                            persons=out.lines, remake=remake, order_file=out.text(),
                            sent_by=actor_name)
    session.add(order)
    session.flush()
    return order


def _order_rows(session: Session, wheres: list[list]) -> Iterator:
    columns = (Person.id_number, Person.name, Person.sex, Person.ethnicity, Person.birth_date,
               Person.region, Person.bank, Person.has_photo,
               func.coalesce(Employer.code, Person.employer_code).label("employer_code"),
               Employer.name.label("employer_name"))
    for where in wheres:
        query = (select(*columns).outerjoin(Employer, Employer.id == Person.employer_id)
                 .where(*where).order_by(Person.employer_id, Person.seq, Person.id)
                 .execution_options(yield_per=CHUNK))
        yield from session.execute(query)


def _production_line(number: int, batch_id: int, row) -> ProductionLine:
    return ProductionLine(
        line=number, batch=str(batch_id), employer_code=row.employer_code or "",
        employer_name=row.employer_name or "", name=row.name, sex=row.sex,
        ethnicity=row.ethnicity.zfill(2) if row.ethnicity else "",
        id_number=row.id_number, birth_date=row.birth_date.strftime("%Y%m%d") if row.birth_date else "",
        region=row.region or "", bank=row.bank or "",
        # photos travel in the order's photo package, one JPEG per ID number
        photo=f"{row.id_number}.jpg" if row.has_photo else "")


def _next_number(session: Session, batch_id: int) -> str:
    """ZK<batch>-<n>, n counting the batch's orders (remakes included)."""
    n = session.scalar(select(func.count()).select_from(ProductionOrder)
                       .where(ProductionOrder.batch_id == batch_id)) + 1
    while session.scalar(select(ProductionOrder.id)
                         .where(ProductionOrder.number == f"ZK{batch_id}-{n}")) is not None:
        n += 1
    return f"ZK{batch_id}-{n}"


def _employers_in_production(session: Session, wheres: list[list]) -> None:
    for where in wheres:
        session.execute(update(Employer)
                        .where(Employer.id.in_(select(Person.employer_id).where(*where)))
                        .values(status=EmployerStatus.IN_PRODUCTION)
                        .execution_options(synchronize_session=False))
    _expire(session, Employer)


def _submit(session: Session, order: ProductionOrder, manufacturer: CardManufacturer | None) -> None:
    """The file goes out last: a database error above comes before anything leaves (the
    manufacturer treats a second submit of the same order as the same order)."""
    session.flush()
    _expire(session, Person)
    manufacturer_for(session, manufacturer).submit(order.number, order.order_file)


def _remake(session: Session, batch_id: int, person_ids: list[int], actor_name: str,
            manufacturer: CardManufacturer | None) -> ProductionOrder | None:
    """重制: a remake order for these persons (their production state stays: ordered, missing
    or damaged, until the new card arrives)."""
    if not person_ids:
        return None
    wheres = [[Person.id.in_(chunk)] for chunk in _chunks(sorted(set(person_ids)))]
    order = _write_order(session, batch_id, wheres, actor_name, remake=True)
    if order is None:
        return None
    _employers_in_production(session, wheres)
    _submit(session, order, manufacturer)
    return order
