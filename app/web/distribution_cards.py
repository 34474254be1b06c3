"""Where the cards are 卡片去向 (routes on ``app.web.distribution.bp``): a card's place and history,
the search, the counts per employer and per batch."""
from __future__ import annotations

import re

from flask import redirect, render_template, request, url_for
from sqlalchemy import func, select

from app.cards.models import Card
from app.cases.access import BATCH_GROUPS
from app.common.masking import mask_card_number, mask_id
from app.extensions import db_session
from app.permissions import groups
from app.procedures.batch.models import Batch, Employer, Person
from app.procedures.distribution import custody
from app.procedures.distribution.models import (
    CardCustody,
    CardReturn,
    EmployerPickup,
    PickupCard,
    ReturnedCard,
)
from app.web import t
from app.web.batch import batch_or_404, employer_or_404
from app.web.distribution import (
    CUSTODY_ORDER,
    MAX_SEARCH,
    PAGE,
    bp,
    card_or_404,
    display_names,
    from_position,
    in_words,
    page_arg,
    position,
    visible_batch_ids,
)

# -- cards 卡片去向 -------------------------------------------------------------------------------------

CARD_NUMBER = re.compile(r"^[A-Z0-9]{9}$")
ID_DIGITS = re.compile(r"^\d{4,17}[\dX]?$")


def search_cards(session, q: str) -> list:
    """Persons of the batches the user may see matching ``q`` (the card's number, the ID number
    whole or its last digits, the name), each with their card's place (none: not accepted
    yet): rows (Person, CardCustody or None, Card or None, employer name, batch name)."""
    compact = custody.normalise_number(q)
    base = (select(Person, CardCustody, Card, Employer.name, Batch.name)
            .join(Batch, Batch.id == Person.batch_id)
            .outerjoin(CardCustody, CardCustody.person_id == Person.id)
            .outerjoin(Card, Card.id == CardCustody.card_id)
            .outerjoin(Employer, Employer.id == Person.employer_id)
            .where(visible_batch_ids(session)))
    if CARD_NUMBER.match(compact) and (not compact.isdigit() or session.scalar(
            select(Card.id).where(Card.card_number == compact)) is not None):
        where = Card.card_number == compact
    elif ID_DIGITS.match(compact):
        where = Person.id_number == compact if len(compact) == 18 else \
            Person.id_number.like(f"%{compact}")
    else:
        name = re.sub(r"([\\%_])", r"\\\1", " ".join(q.split()))
        where = Person.name.like(f"{name}%", escape="\\")
    return session.execute(base.where(where).order_by(Person.name, Person.id, CardCustody.changed_at)
                           .limit(MAX_SEARCH + 1)).all()


@bp.get("/distribution/cards")
@groups(*BATCH_GROUPS)
def cards():
    """查询卡片: a card number finds the card; an ID number (whole or its last digits) or a name
    finds persons and their cards."""
    session = db_session()
    q = (request.args.get("q") or "").strip()[:40]
    rows, hint = [], None
    if q:
        if len(re.sub(r"\s", "", q)) < 2:
            hint = t("请至少输入 2 个字符：卡号、身份证号（全部或后 4 位以上）或姓名。",
                     "Type at least 2 characters: a card number, an ID number (whole or its last 4+ digits) or a name.")
        elif q.isdigit() and len(q) < 4:
            hint = t("身份证号请至少输入后 4 位。", "Type at least the last 4 digits of an ID number.")
        else:
            rows = search_cards(session, q)
            if len(rows) == 1 and rows[0][1] is not None:
                return redirect(url_for("distribution.card", card_id=rows[0][1].card_id))
    more = len(rows) > MAX_SEARCH
    return render_template("distribution/cards.html", q=q, rows=rows[:MAX_SEARCH], more=more, hint=hint,
                           searched=bool(q) and hint is None)


@bp.get("/distribution/cards/<int:card_id>")
@groups(*BATCH_GROUPS)
def card(card_id):
    """One card: where it is, whose it is, every change of its place (who, when, from → to, why)
    and the pickups and returns it went with."""
    session = db_session()
    row, held, person, employer, batch = card_or_404(card_id)
    events = custody.history(session, row.id)
    pickups = {p.id: p for p in session.scalars(select(EmployerPickup).where(
        EmployerPickup.id.in_({e.pickup_id for e in events if e.pickup_id}
                              | set(session.scalars(select(PickupCard.pickup_id).where(PickupCard.card_id == row.id))))))}
    returns_ = {r.id: r for r in session.scalars(select(CardReturn).where(
        CardReturn.id.in_({e.return_id for e in events if e.return_id}
                          | set(session.scalars(select(ReturnedCard.return_id).where(ReturnedCard.card_id == row.id))))))}
    lines = list(session.scalars(select(PickupCard).where(PickupCard.card_id == row.id).order_by(PickupCard.id)))
    returned = list(session.scalars(select(ReturnedCard).where(ReturnedCard.card_id == row.id).order_by(ReturnedCard.id)))
    names = display_names(session, [e.by for e in events])
    return render_template("distribution/card.html", card=row, held=held, person=person, employer=employer,
                           batch=batch, events=events, pickups=pickups, returns=returns_, lines=lines,
                           returned=returned, names=names, card_number=mask_card_number(row.card_number))


def card_list(session, page: int, state, *, employer_id=None, batch_id=None):
    q = (select(CardCustody, Card.card_number, Person.name, Person.id_number, Person.seq, Employer.name,
                func.count().over())
         .join(Card, Card.id == CardCustody.card_id)
         .join(Person, Person.id == CardCustody.person_id)
         .outerjoin(Employer, Employer.id == CardCustody.employer_id))
    if employer_id is not None:
        q = q.where(CardCustody.employer_id == employer_id)
    if batch_id is not None:
        q = q.where(CardCustody.batch_id == batch_id)
    if state is not None:
        q = q.where(CardCustody.state == state.value)
    order = (Person.seq.asc().nulls_last(), Person.id) if employer_id is not None else \
        (Employer.name, Person.seq.asc().nulls_last(), Person.id)
    rows = session.execute(q.order_by(*order).limit(PAGE).offset((page - 1) * PAGE)).all()
    items = [{"held": held, "card_number": mask_card_number(number), "name": name, "id_number": mask_id(idn),
              "seq": seq, "employer": employer_name}
             for held, number, name, idn, seq, employer_name, _ in rows]
    return items, (rows[0][-1] if rows else 0)


def render_card_list(title, page_endpoint, args: dict, counts: dict, *, employer=None, batch=None,
                     employer_id=None, batch_id=None):
    session = db_session()
    state = from_position(CUSTODY_ORDER, request.args.get("state"))
    page = page_arg()
    items, total = card_list(session, page, state, employer_id=employer_id, batch_id=batch_id)
    return render_template("distribution/card_list.html", title=title, endpoint=page_endpoint, args=args,
                           counts=counts, words=in_words(counts), items=items, total=total, page=page,
                           pages=PAGE, state=state, state_index=position(CUSTODY_ORDER, state),
                           employer=employer, batch=batch, show_employer=employer is None)


@bp.get("/distribution/employers/<int:employer_id>/cards")
@groups(*BATCH_GROUPS)
def employer_cards(employer_id):
    """卡片去向（单位）: the employer's cards per place, in words, and the list by place."""
    session = db_session()
    employer, batch = employer_or_404(employer_id)
    counts = custody.counts(session, employer_id=employer.id)
    return render_card_list(employer.name, "distribution.employer_cards", {"employer_id": employer.id}, counts,
                            employer=employer, batch=batch, employer_id=employer.id)


@bp.get("/distribution/batches/<int:batch_id>/cards")
@groups(*BATCH_GROUPS)
def batch_cards(batch_id):
    """卡片去向（批次）: the batch's cards per place, in words, and the list by place."""
    session = db_session()
    batch = batch_or_404(batch_id)
    counts = custody.counts(session, batch_id=batch.id)
    return render_card_list(batch.name, "distribution.batch_cards", {"batch_id": batch.id}, counts,
                            batch=batch, batch_id=batch.id)
