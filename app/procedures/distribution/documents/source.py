"""What the distribution documents 发放单据 are made of, read from the database: an employer
pickup 单位批量领卡 with its cards in roster order (the person, the kernel's card, the line's
outcome), or a return 退卡回收 with its cards in two groups; the employer, the configured city,
its province, the clerk's name and the day of the paper."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.cards.models import Card
from app.common.clock import china_today, to_local_date
from app.common.masking import mask_card_number, mask_id
from app.documents import lookup
from app.procedures.batch import city as city_config
from app.procedures.batch.models import Employer, Person
from app.procedures.distribution.models import (
    CardCustody,
    CardReturn,
    DataCorrection,
    EmployerPickup,
    PickupCard,
    ReturnedCard,
)
from app.procedures.distribution.states import (
    OUTCOME_LABELS,
    RETURN_LABELS,
    Custody,
    Outcome,
    ReturnReason,
)

#: the province of a configured city (the provincial return slip 省社会保障卡退卡回收单 is titled
#: with its short name and goes to its human-resources department): city -> (short, full)
PROVINCES: dict[str, tuple[str, str]] = {
    "宁波": ("浙江", "浙江省"), "杭州": ("浙江", "浙江省"), "温州": ("浙江", "浙江省"),
    "石狮": ("福建", "福建省"), "泉州": ("福建", "福建省"), "厦门": ("福建", "福建省"),
    "福州": ("福建", "福建省"),
    "银川": ("宁夏", "宁夏回族自治区"), "石嘴山": ("宁夏", "宁夏回族自治区"),
    "吴忠": ("宁夏", "宁夏回族自治区"),
}
DEFAULT_PROVINCE = ("省", "省")

#: what a corrected field is called on paper (DataCorrection.corrected's keys)
FIELD_NAMES = {"name": "姓名", "id_number": "身份证号", "sex": "性别", "photo": "照片",
               "ethnicity": "民族", "birth_date": "出生日期"}


def province(city_name: str) -> tuple[str, str]:
    """("浙江", "浙江省") for 宁波市; ("省", "省") for a city not in :data:`PROVINCES`."""
    name = (city_name or "").strip()
    for suffix in ("市", "县", "区"):
        if len(name) > 2 and name.endswith(suffix):
            name = name[:-1]
            break
    return PROVINCES.get(name, DEFAULT_PROVINCE)


@dataclass
class Line:
    """A card on a document: its line number, the person, the card and what became of it."""
    seq: int
    person: Person
    card: Card
    outcome: str | None = None
    reason: str | None = None
    note: str | None = None
    correction: DataCorrection | None = None

    @property
    def id_masked(self) -> str:
        return mask_id(self.person.id_number)

    @property
    def card_number(self) -> str:
        return self.card.card_number

    @property
    def card_masked(self) -> str:
        return mask_card_number(self.card.card_number)

    @property
    def reason_label(self) -> str:
        try:
            return RETURN_LABELS[ReturnReason(self.reason)].zh if self.reason else ""
        except ValueError:
            return self.reason or ""

    @property
    def remark(self) -> str:
        """The roster's 备注 once the signed roster came back: 未发出（调离）, 信息错误：..."""
        if not self.outcome or self.outcome == Outcome.SIGNED:
            return self.note or ""
        label = OUTCOME_LABELS[Outcome(self.outcome)].zh
        if self.outcome == Outcome.NOT_HANDED_OUT and self.reason:
            label = f"{label}（{self.reason_label}）"
        return f"{label}：{self.note}" if self.note else label

    @property
    def corrected_text(self) -> str:
        """What was corrected (姓名：张山→张三), or that the person is still to come."""
        c = self.correction
        if c is None or not c.corrected:
            return ""
        parts = []
        for key, change in c.corrected.items():
            label = FIELD_NAMES.get(key, key)
            if isinstance(change, (list, tuple)) and len(change) == 2 and key != "photo":
                parts.append(f"{label}：{change[0] or ''}→{change[1] or ''}")
            else:
                parts.append(f"{label}已更正")
        return "；".join(parts)


@dataclass
class Common:
    employer: Employer
    city: city_config.City
    region_name: str
    province: tuple[str, str]
    today: date
    day: date                  # the day the paper is about (handover, return)
    clerk: str                 # the centre's clerk, by name

    @property
    def centre(self) -> str:
        return f"{self.city.name}社会保障卡管理服务中心"

    def bank_of(self, line: Line) -> str:
        """The partner bank the person chose (its full name), or the card's bank."""
        code = line.person.bank
        return self.city.bank_names.get(code or "", "") or (line.card.bank or "")


@dataclass
class PickupData(Common):
    pickup: EmployerPickup | None = None
    lines: list[Line] = field(default_factory=list)      # the pickup's cards, roster order
    outstanding: list[Line] = field(default_factory=list)  # still with the employer

    @property
    def count(self) -> int:
        """The cards handed over: the count both sides confirmed, else the lines."""
        return self.pickup.cards or len(self.lines)


@dataclass
class ReturnData(Common):
    card_return: CardReturn | None = None
    pickup: EmployerPickup | None = None
    not_handed_out: list[Line] = field(default_factory=list)   # 未发出的卡
    wrong_data: list[Line] = field(default_factory=list)       # 信息错误的卡

    @property
    def total(self) -> int:
        return len(self.not_handed_out) + len(self.wrong_data)


def clerk_name(session: Session, username: str | None) -> str:
    """The display name of the user ``username`` (the tables keep user names), else the name as
    kept."""
    if not username:
        return ""
    display = session.scalar(select(User.display_name).where(User.username == username))
    return display or username


def _common(session: Session, employer_id: int, day, clerk: str | None) -> dict:
    employer = session.get(Employer, employer_id)
    city = city_config.current(session)
    today = china_today()
    return {"employer": employer, "city": city,
            "region_name": city.regions.get(employer.region, employer.region),
            "province": province(city.name), "today": today,
            "day": to_local_date(day) if day else today, "clerk": clerk_name(session, clerk)}


def pickup_lines(session: Session, pickup_id: int) -> list[Line]:
    rows = session.execute(
        select(PickupCard, Person, Card)
        .join(Person, Person.id == PickupCard.person_id)
        .join(Card, Card.id == PickupCard.card_id)
        .where(PickupCard.pickup_id == pickup_id)
        .order_by(PickupCard.seq, PickupCard.id)).all()
    return [Line(pc.seq, person, card, pc.outcome, pc.reason, pc.note)
            for pc, person, card in rows]


def outstanding(session: Session, lines: list[Line]) -> list[Line]:
    """The cards of a pickup still with the employer: not signed for, not returned yet, and
    (where the custody is kept) with the employer — those the return register lists."""
    if not lines:
        return []
    ids = [ln.card.id for ln in lines]
    returned = set(session.scalars(select(ReturnedCard.card_id).where(ReturnedCard.card_id.in_(ids))))
    custody = dict(session.execute(select(CardCustody.card_id, CardCustody.state)
                                   .where(CardCustody.card_id.in_(ids))).all())
    return [ln for ln in lines
            if ln.outcome != Outcome.SIGNED and ln.card.id not in returned
            and custody.get(ln.card.id, Custody.WITH_EMPLOYER) == Custody.WITH_EMPLOYER]


def load_pickup(session: Session, pickup_id, *, with_outstanding: bool = False) -> PickupData:
    pickup = lookup(session, EmployerPickup, pickup_id, "单位领卡", "employer pickup",
                    "pickup_unknown")
    day = pickup.handed_over_at or pickup.counted_at or pickup.created_at
    data = PickupData(**_common(session, pickup.employer_id, day,
                                pickup.handed_over_by or pickup.created_by), pickup=pickup)
    data.lines = pickup_lines(session, pickup.id)
    if with_outstanding:
        data.outstanding = outstanding(session, data.lines)
    return data


def load_return(session: Session, return_id) -> ReturnData:
    card_return = lookup(session, CardReturn, return_id, "退卡回收", "card return",
                         "return_unknown")
    pickup = session.get(EmployerPickup, card_return.pickup_id) if card_return.pickup_id else None
    data = ReturnData(**_common(session, card_return.employer_id, card_return.received_at,
                                card_return.received_by),
                      card_return=card_return, pickup=pickup)
    rows = session.execute(
        select(ReturnedCard, Person, Card, PickupCard.seq, DataCorrection)
        .join(Person, Person.id == ReturnedCard.person_id)
        .join(Card, Card.id == ReturnedCard.card_id)
        .outerjoin(PickupCard, and_(PickupCard.card_id == ReturnedCard.card_id,
                                    PickupCard.pickup_id == card_return.pickup_id))
        .outerjoin(DataCorrection, and_(DataCorrection.card_id == ReturnedCard.card_id,
                                        DataCorrection.return_id == ReturnedCard.return_id))
        .where(ReturnedCard.return_id == card_return.id)).all()
    # the roster's order (the line on the pickup's roster), then the person's
    rows = sorted(rows, key=lambda r: (r[3] is None, r[3] or 0, r[1].seq or 0, r[1].id))
    for rc, person, card, _seq, correction in rows:
        group = data.wrong_data if rc.reason == ReturnReason.WRONG_DATA else data.not_handed_out
        group.append(Line(len(group) + 1, person, card, reason=rc.reason, note=rc.note,
                          correction=correction))
    return data
