"""Phases 2-4 of a batch import: who is in the batch and under which rule (set-based SQL), the
police comparison (the register's bulk call, chunk by chunk), the employers and their rosters.

The rules, in this order; a person is counted under the first that applies (seed 001 §2.2,
§3.1-3.2; seed 000 §4.4):
1. 截止日: only records insured on or before the cut-off count; a person with a 职工基本医疗保险
   record in the batch's regions but none by the cut-off: ``excluded_after_cutoff``;
2. 险种: no 职工基本医疗保险 in the batch's regions: ``excluded_insurance``;
3. 重复参保: 职工基本医疗保险 in two or more regions of the city: ``held_duplicate_region``;
   otherwise the person's region is that of the medical-insurance record;
4. 公安比对: ``not_in_register``, ``not_local_household``, ``no_second_gen_id``,
   ``police_mismatch`` (name or sex);
5. ``eligible``, completed from the register (ethnicity, household address, photo).
"""
from __future__ import annotations

from sqlalchemy import and_, case, delete, func, literal, select, text, update

from app.database import update_rows
from app.engine.jobs import JobContext
from app.procedures.batch.insurance import MEDICAL
from app.procedures.batch.models import Batch, ContributionRecord, Employer, Person
from app.procedures.batch.states import Eligibility
from app.procedures.batch.pinyin import roster_key

POLICE_CHUNK = 2000
KEY_CHUNK = 5000


def classify(ctx: JobContext, batch_id: int) -> int:
    """Rules 1-3 for every person of the batch, in one transaction; the number of persons."""
    with ctx.session_factory() as s, s.begin():
        batch = s.get(Batch, batch_id)
        regions, cutoff = list(batch.regions), batch.cutoff
        # a re-run (a resumed job, another file) starts from the records again; what a clerk
        # decided before (persons taken into a later batch) is kept by ID number
        taken = dict(s.execute(select(Person.id_number, Person.taken_into).where(
            Person.batch_id == batch_id, Person.taken_into.is_not(None))).all())
        s.execute(update(Person).where(Person.batch_id == batch_id).values(employer_id=None))
        s.execute(delete(Employer).where(Employer.batch_id == batch_id))
        s.execute(delete(Person).where(Person.batch_id == batch_id))
        C = ContributionRecord
        in_batch = C.region.in_(regions)
        med = C.insurance == MEDICAL
        by_cutoff = C.insured_on <= cutoff
        agg = (select(
            C.id_number.label("id_number"),
            func.max(case((and_(med, in_batch), 1), else_=0)).label("med_any"),
            func.max(case((and_(med, in_batch, by_cutoff), 1), else_=0)).label("med_cut"),
            func.count(func.distinct(case((and_(med, by_cutoff), C.region)))).label("med_regions"))
            .where(C.batch_id == batch_id).group_by(C.id_number)
            .having(func.max(case((in_batch, 1), else_=0)) == 1).subquery())
        status = case(
            (and_(agg.c.med_any == 1, agg.c.med_cut == 0), literal(Eligibility.EXCLUDED_AFTER_CUTOFF.value)),
            (agg.c.med_cut == 0, literal(Eligibility.EXCLUDED_INSURANCE.value)),
            (agg.c.med_regions >= 2, literal(Eligibility.HELD_DUPLICATE_REGION.value)),
            else_=literal(Eligibility.PENDING.value))
        s.execute(Person.__table__.insert().from_select(
            ["batch_id", "id_number", "name", "sex", "eligibility", "entry", "has_photo"],
            select(literal(batch_id), agg.c.id_number, literal(""), literal("1"), status,
                   literal("out"), literal(False))))
        # whose record the person is: the medical record by the cut-off (the latest), else any
        # record in the batch's regions — name, sex, employer, departments, region
        best = (select(C.region, C.employer_code, C.dept1, C.dept2, C.name, C.sex)
                .where(C.batch_id == Person.batch_id, C.id_number == Person.id_number, in_batch)
                .order_by(case((and_(med, by_cutoff), 0), else_=1), C.insured_on.desc(), C.id)
                .limit(1).correlate(Person))
        cols = ("region", "employer_code", "dept1", "dept2", "name", "sex")
        s.execute(update(Person).where(Person.batch_id == batch_id)
                  .values({getattr(Person, c): best.with_only_columns(getattr(C, c)).scalar_subquery()
                           for c in cols}))
        if taken:
            ids = dict(s.execute(select(Person.id_number, Person.id).where(
                Person.batch_id == batch_id, Person.id_number.in_(list(taken)))).all())
            update_rows(s, Person.__table__, [{"id": ids[n], "taken_into": t}
                                              for n, t in taken.items() if n in ids])
        return s.scalar(select(func.count()).select_from(Person).where(Person.batch_id == batch_id))


def police_outcome(person_name: str, person_sex: str, record, local_prefixes) -> tuple[str, dict | None]:
    """Rule 4 for one person against the register's record (None: not in the register)."""
    if record is None:
        return Eligibility.NOT_IN_REGISTER, None
    if (record.household_region or "")[:4] not in local_prefixes:
        return Eligibility.NOT_LOCAL_HOUSEHOLD, {"household_region": record.household_region}
    if not record.has_second_gen_id:
        return Eligibility.NO_SECOND_GEN_ID, None
    differs = {}
    if "".join(record.name.split()) != person_name:
        differs["name"] = record.name
    if record.sex != person_sex:
        differs["sex"] = record.sex
    if differs:
        return Eligibility.POLICE_MISMATCH, {"registered": differs}
    return Eligibility.ELIGIBLE, None


def compare_with_police(ctx: JobContext, batch_id: int, total: int) -> None:
    """Rule 4: the persons still pending, in chunks, through the register's bulk call. Each
    chunk commits with its checkpoint; a resumed job takes the persons still pending."""
    with ctx.session_factory() as s:
        regions = s.get(Batch, batch_id).regions
    local = frozenset(r[:4] for r in regions)
    done = ctx.checkpoint_data.get("compared", 0)
    while True:
        with ctx.session_factory() as s, s.begin():
            chunk = s.execute(
                select(Person.id, Person.id_number, Person.name, Person.sex)
                .where(Person.batch_id == batch_id, Person.eligibility == Eligibility.PENDING)
                .order_by(Person.id).limit(POLICE_CHUNK)).all()
            if not chunk:
                break
            found = police_adapter_for(s).compare_bulk([p.id_number for p in chunk])
            changes = []
            for p in chunk:
                rec = found.get(p.id_number)
                status, detail = police_outcome(p.name, p.sex, rec, local)
                change = {"id": p.id, "eligibility": status.value, "detail": detail}
                if rec is not None:
                    change.update(police_name=rec.name, police_sex=rec.sex, ethnicity=rec.ethnicity,
                                  birth_date=rec.birth_date, household_address=rec.household_address,
                                  household_region=rec.household_region, has_photo=rec.has_photo)
                else:
                    change.update(police_name=None, police_sex=None, ethnicity=None, birth_date=None,
                                  household_address=None, household_region=None, has_photo=False)
                changes.append(change)
            update_rows(s, Person.__table__, changes)
            done += len(chunk)
            ctx.checkpoint(s, compared=done)
        ctx.progress(done, total, "police")


def police_adapter_for(session):
    from app.adapters import police
    return police(session)


def build_rosters(ctx: JobContext, batch_id: int) -> None:
    """Employers of the batch, each person's employer, and the rosters: eligible persons in
    the pinyin order of their names (surnames read as surnames), numbered per employer."""
    with ctx.session_factory() as s, s.begin():
        C = ContributionRecord
        s.execute(update(Person).where(Person.batch_id == batch_id).values(employer_id=None))
        s.execute(delete(Employer).where(Employer.batch_id == batch_id))
        names = (select(C.employer_code, func.max(C.employer_name).label("name"),
                        func.min(C.region).label("region"))
                 .where(C.batch_id == batch_id).group_by(C.employer_code).subquery())
        counts = (select(Person.employer_code,
                         func.sum(case((Person.eligibility == Eligibility.ELIGIBLE, 1), else_=0)).label("ok"),
                         func.sum(case((Person.eligibility != Eligibility.ELIGIBLE, 1), else_=0)).label("not_ok"))
                  .where(Person.batch_id == batch_id).group_by(Person.employer_code).subquery())
        s.execute(Employer.__table__.insert().from_select(
            ["batch_id", "code", "name", "region", "status", "eligible", "not_eligible"],
            select(literal(batch_id), counts.c.employer_code, names.c.name, names.c.region,
                   literal("waiting"), counts.c.ok, counts.c.not_ok)
            .join(names, names.c.employer_code == counts.c.employer_code)))
        s.execute(update(Person).where(Person.batch_id == batch_id).values(
            employer_id=select(Employer.id).where(Employer.batch_id == batch_id,
                                                  Employer.code == Person.employer_code)
            .correlate(Person).scalar_subquery()))
    # sort keys, chunk by chunk (pinyin is Python work)
    last = 0
    while True:
        with ctx.session_factory() as s, s.begin():
            chunk = s.execute(select(Person.id, Person.name)
                              .where(Person.batch_id == batch_id, Person.id > last,
                                     Person.eligibility == Eligibility.ELIGIBLE)
                              .order_by(Person.id).limit(KEY_CHUNK)).all()
            if not chunk:
                break
            update_rows(s, Person.__table__, [{"id": p.id, "sort_key": roster_key(p.name)} for p in chunk])
            last = chunk[-1].id
    with ctx.session_factory() as s, s.begin():
        collate = ' COLLATE "C"' if s.get_bind().dialect.name == "postgresql" else ""
        s.execute(text(
            "UPDATE batch_person SET seq = r.rn FROM (SELECT id, ROW_NUMBER() OVER ("
            f"PARTITION BY employer_id ORDER BY sort_key{collate}, id_number) AS rn "
            "FROM batch_person WHERE batch_id = :b AND eligibility = 'eligible') AS r "
            "WHERE batch_person.id = r.id"), {"b": batch_id})


def counts(session, batch_id: int) -> dict:
    """The figures of ``batch-import --json`` (without ``rows``/``rejected_rows``)."""
    by_status = dict(session.execute(
        select(Person.eligibility, func.count()).where(Person.batch_id == batch_id)
        .group_by(Person.eligibility)).all())
    result = {"persons": sum(by_status.values()), "eligible": by_status.get("eligible", 0)}
    for status in ("held_duplicate_region", "excluded_insurance", "excluded_after_cutoff",
                   "not_in_register", "not_local_household", "no_second_gen_id", "police_mismatch"):
        result[status] = by_status.get(status, 0)
    result["employers"] = session.scalar(select(func.count()).select_from(Employer).where(
        Employer.batch_id == batch_id, Employer.eligible > 0))
    return result
