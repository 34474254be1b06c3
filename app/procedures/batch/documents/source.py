"""What the employer's documents 单位单据 are made of, read from the database: the employer
application 单位申领, its insured region 参保区域, the city's partner banks 合作银行, the eligible
persons in roster order 花名册顺序, their departments 部门, and the latest voucher 申领凭证."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.common.clock import china_today
from app.documents import lookup
from app.procedures.batch import city as city_config
from app.procedures.batch.models import Employer, Person, Voucher, VoucherAgent
from app.procedures.batch.pinyin import roster_key
from app.procedures.batch.states import Eligibility


@dataclass
class EmployerData:
    employer: Employer
    city: city_config.City
    region_name: str
    today: date
    persons: list[Person] = field(default_factory=list)   # eligible, in roster order
    departments: list[str] = field(default_factory=list)  # "dept1" or "dept1 / dept2"
    voucher: Voucher | None = None
    agents: dict[int, VoucherAgent] = field(default_factory=dict)  # slot 1-3 -> agent


def employer(session: Session, employer_id) -> Employer:
    return lookup(session, Employer, employer_id, "单位申领", "employer application",
                  "employer_unknown")


def _roster_order(p: Person):
    # the import numbers the roster (seq, from roster_key); a row not numbered yet follows,
    # in the same pinyin order
    return (p.seq is None, p.seq or 0, p.sort_key or roster_key(p.name), p.id_number)


def eligible_persons(session: Session, employer_id: int) -> list[Person]:
    persons = session.scalars(select(Person).where(
        Person.employer_id == employer_id, Person.eligibility == Eligibility.ELIGIBLE)).all()
    return sorted(persons, key=_roster_order)


def department(p: Person) -> str:
    """At most two levels (seed 001 annex 4, note 2): "分公司 / 财务部"."""
    return " / ".join(d.strip() for d in (p.dept1, p.dept2) if d and d.strip())


def departments(persons: list[Person]) -> list[str]:
    names = {department(p) for p in persons} - {""}
    return sorted(names, key=roster_key)


def latest_voucher(session: Session, code: str) -> tuple[Voucher | None, dict[int, VoucherAgent]]:
    """The voucher version in force: a change of agents is a new, higher version."""
    voucher = session.scalars(select(Voucher).where(Voucher.employer_code == code)
                              .order_by(Voucher.version.desc()).limit(1)).first()
    if voucher is None:
        return None, {}
    agents = session.scalars(select(VoucherAgent).where(VoucherAgent.voucher_id == voucher.id))
    return voucher, {a.slot: a for a in agents}


def load(session: Session, employer_id, *, persons: bool = True,
         voucher: bool = False) -> EmployerData:
    emp = employer(session, employer_id)
    city = city_config.current(session)
    data = EmployerData(employer=emp, city=city, region_name=city.regions.get(emp.region, emp.region),
                        today=china_today())
    if persons:
        data.persons = eligible_persons(session, emp.id)
        data.departments = departments(data.persons)
    if voucher:
        data.voucher, data.agents = latest_voucher(session, emp.code)
    return data
