"""Police household register 公安户籍 — check an applicant's basic data (S annex 2: "通过合作银行与
公安部门联网核查系统，对申请人基本信息进行比对").

``PoliceRegister`` is the interface a real connector implements; ``EmbeddedPoliceRegister``
answers from the demo table ``police_register_person``. A mismatch is a normal answer
(``VerifyResult(match=False, reasons=[...])``), not an exception: the diagram decides what
happens next. An unreachable register raises ``PoliceUnavailable``.
"""
from __future__ import annotations

from app.common.errors import BilingualError
import abc
import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Boolean, Date, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from app.database import Base
from app.common.masking import mask_id

log = logging.getLogger(__name__)

# Households registered here count as local (石狮市 and the rest of 泉州市).
LOCAL_REGION_PREFIXES = ("3505",)

# (code, zh, en) of every reason the register may give; codes are stable for the diagram.
REASONS = {
    "unknown_person": ("公安户籍库中无此公民身份号码，请核对证件号码；仍无法比对的，请申请人到户籍所在地派出所核实",
                       "The citizen ID number is not in the police household register; check the "
                       "number, or the applicant has it checked at the police station of the household"),
    "name_differs": ("姓名与公安户籍登记不一致",
                     "The name differs from the police household register"),
    "sex_differs": ("性别与公安户籍登记不一致",
                    "The sex differs from the police household register"),
    "birth_date_differs": ("出生日期与公安户籍登记不一致",
                           "The date of birth differs from the police household register"),
    "not_local_household": ("非本地户籍，本地户籍库无法比对；请持户口簿核实或到户籍所在地办理",
                            "Not a local household: the local register cannot confirm the data; "
                            "check the household register booklet or apply where the household is registered"),
    "no_second_gen_id": ("未办理第二代居民身份证", "Has no second-generation resident ID card"),
    "not_resident_id": ("非居民身份证，无法与公安户籍联网比对",
                        "Not a resident ID card: the police register cannot be checked online"),
}


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str

    @classmethod
    def of(cls, code: str) -> "Reason":
        zh, en = REASONS[code]
        return cls(code, zh, en)

    def as_dict(self) -> dict:
        return {"code": self.code, "zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class VerifyResult:
    match: bool
    reasons: list[Reason] = field(default_factory=list)
    ethnicity: str | None = None          # from the register when matched
    household_address: str | None = None
    # the register's own values of the fields that differ ({"name": "张玮"}), where the register
    # tells them (a real 联网核查 may answer 一致/不一致 only: then empty)
    registered: dict = field(default_factory=dict)

    @property
    def reason_pairs(self) -> list[tuple[str, str]]:
        return [(r.zh, r.en) for r in self.reasons]

    def as_dict(self) -> dict:
        return {"match": self.match, "reasons": [r.as_dict() for r in self.reasons]}


class PoliceUnavailable(BilingualError):
    """The register could not be reached (retry later)."""

    code = "police_unavailable"
    message_zh = "公安户籍库暂时无法访问，请稍后重试"
    message_en = "The police household register cannot be reached; try again later"


@dataclass(frozen=True)
class RegisterRecord:
    """What the register holds of one citizen (公安户籍信息), as a bulk comparison returns it."""

    id_number: str
    name: str
    sex: str
    ethnicity: str | None
    birth_date: date | None
    household_address: str | None
    household_region: str | None
    has_second_gen_id: bool
    has_photo: bool


class PoliceRegister(abc.ABC):
    @abc.abstractmethod
    def verify(self, id_number: str, name: str, sex: str, birth_date: date) -> VerifyResult:
        """Compare the applicant's data with the register."""

    @abc.abstractmethod
    def compare_bulk(self, id_numbers: list[str]) -> dict[str, RegisterRecord]:
        """批量比对: the register's records of many citizens in one request (a real networked
        comparison is batched too); numbers not in the register are absent from the answer."""


class PoliceRegisterPerson(Base):
    """Demo copy of the police household register (one row per citizen ID number)."""
    __tablename__ = "police_register_person"

    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    ethnicity: Mapped[str] = mapped_column(String(2), default="01")
    household_address: Mapped[str | None] = mapped_column(String(100))
    household_region: Mapped[str] = mapped_column(String(6), default="350581")  # 户籍所在地
    has_second_gen_id: Mapped[bool] = mapped_column(Boolean, default=True)
    photo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))  # 身份证照片 (JPEG)

    def __repr__(self) -> str:
        return f"<PoliceRegisterPerson {mask_id(self.id_number)}>"


class EmbeddedPoliceRegister(PoliceRegister):
    """Answers from ``police_register_person`` in the platform database."""

    def __init__(self, session: Session):
        self.session = session

    def compare_bulk(self, id_numbers: list[str]) -> dict[str, RegisterRecord]:
        P = PoliceRegisterPerson
        rows = self.session.execute(
            select(P.id_number, P.name, P.sex, P.ethnicity, P.birth_date, P.household_address,
                   P.household_region, P.has_second_gen_id, P.photo.is_not(None))
            .where(P.id_number.in_(id_numbers))).all()
        return {r[0]: RegisterRecord(*r[:8], has_photo=bool(r[8])) for r in rows}

    def verify(self, id_number: str, name: str, sex: str, birth_date: date) -> VerifyResult:
        number = (id_number or "").strip().upper()
        person = self.session.scalars(
            select(PoliceRegisterPerson).where(PoliceRegisterPerson.id_number == number)).first()
        if person is None:
            return VerifyResult(False, [Reason.of("unknown_person")])
        if not (person.household_region or "").startswith(LOCAL_REGION_PREFIXES):
            return VerifyResult(False, [Reason.of("not_local_household")])
        reasons = []
        if _norm(person.name) != _norm(name):
            reasons.append(Reason.of("name_differs"))
        if person.sex != str(sex):
            reasons.append(Reason.of("sex_differs"))
        if person.birth_date != birth_date:
            reasons.append(Reason.of("birth_date_differs"))
        if not person.has_second_gen_id:
            reasons.append(Reason.of("no_second_gen_id"))
        log.info("police check %s: %s", mask_id(number), "match" if not reasons else
                 ",".join(r.code for r in reasons))
        if reasons:
            values = {"name": person.name, "sex": person.sex, "birth_date": person.birth_date.isoformat()}
            differing = {"name_differs": "name", "sex_differs": "sex", "birth_date_differs": "birth_date"}
            return VerifyResult(False, reasons, registered={
                differing[r.code]: values[differing[r.code]] for r in reasons if r.code in differing})
        return VerifyResult(True, [], person.ethnicity, person.household_address)


def _norm(name: str | None) -> str:
    return "".join(str(name or "").split())
