"""A batch's second data collection 二次数据采集名单 (routes on ``app.web.batch.bp``): the
persons not eligible, by reason, as a page and a download, and taking them into a later batch."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, update

from app.cases.access import BATCH_GROUPS, may_view_batch
from app.common.i18n import T
from app.common.ids import parse_id
from app.extensions import db_session
from app.permissions import groups
from app.procedures.batch import reconcile
from app.procedures.batch.models import Batch, Employer, Person
from app.procedures.batch.states import ELIGIBILITY_LABELS, BatchStatus
from app.web import t
from app.web.batch import (
    CREATORS,
    OPEN_FOR_PERSONS,
    PAGE,
    REASONS,
    SEXES,
    audit,
    batch_or_404,
    bp,
    csv_response,
    label_of,
    lang,
    page_arg,
    reason_index,
    reason_of,
    visible_batches,
)

# -- the second data collection 二次数据采集名单 -------------------------------------------------

def _not_eligible_query(batch: Batch, reason):
    q = (select(Person, Employer.name).outerjoin(Employer, Employer.id == Person.employer_id)
         .where(Person.batch_id == batch.id, Person.taken_into.is_(None)))
    q = q.where(Person.eligibility == reason) if reason else q.where(Person.eligibility.in_(REASONS))
    return q.order_by(Person.employer_code, Person.eligibility, Person.id_number)


@bp.get("/batches/<int:batch_id>/second-collection")
@groups(*BATCH_GROUPS)
def second_collection(batch_id):
    session = db_session()
    batch = batch_or_404(batch_id)
    reason = reason_of(request.args.get("reason"))
    page = page_arg()
    rows = session.execute(_not_eligible_query(batch, reason).add_columns(func.count().over())
                           .limit(PAGE).offset((page - 1) * PAGE)).all()
    counts = dict(session.execute(
        select(Person.eligibility, func.count()).where(
            Person.batch_id == batch.id, Person.eligibility.in_(REASONS), Person.taken_into.is_(None))
        .group_by(Person.eligibility)).all())
    targets = session.scalars(select(Batch).where(
        visible_batches(session), Batch.id > batch.id, Batch.status.in_(OPEN_FOR_PERSONS))
        .order_by(Batch.id)).all()
    return render_template("batch/second_collection.html", batch=batch, reason=reason,
                           rows=[(p, name) for p, name, _ in rows], total=rows[0][2] if rows else 0,
                           page=page, pages=PAGE, counts=counts, targets=targets,
                           may_take=current_user.in_group(*CREATORS, "administrator"),
                           note=_mismatch_note)


def _mismatch_note(person: Person, language: str | None = None) -> str:
    """What the register says where it differs (name, sex), or the household's region."""
    language = language or lang()
    detail = person.detail or {}
    registered = detail.get("registered") or {}
    parts = []
    if "name" in registered:
        parts.append(T("公安登记姓名：{}", "registered name: {}").format(registered["name"]))
    if "sex" in registered:
        parts.append(T("公安登记性别：{}", "registered sex: {}").format(SEXES.get(registered["sex"], "")))
    if detail.get("household_region"):
        parts.append(T("户籍区划：{}", "household region: {}").format(detail["household_region"]))
    return ("; " if language == "en" else "；").join(p.text(language) for p in parts)


@bp.get("/batches/<int:batch_id>/second-collection.csv")
@groups(*BATCH_GROUPS)
def second_collection_csv(batch_id):
    batch = batch_or_404(batch_id)
    reason = reason_of(request.args.get("reason"))
    query = _not_eligible_query(batch, reason).execution_options(yield_per=1000)
    language = lang()

    def rows(s):
        yield (["Employer code", "Employer", "Name", "Sex", "ID number", "Department", "Reason", "Note"]
               if language == "en" else ["单位社保编码", "单位名称", "姓名", "性别", "身份证号", "部门", "原因", "说明"])
        for person, employer_name in s.execute(query):
            yield [person.employer_code or "", employer_name or "", person.name,
                   SEXES[person.sex].text(language) if person.sex in SEXES else "", person.id_number_masked,
                   reconcile.dept_label(person.dept1, person.dept2),
                   label_of(ELIGIBILITY_LABELS, person.eligibility).text(language),
                   _mismatch_note(person, language)]
    suffix = f"-{reason_index(reason)}" if reason else ""
    return csv_response(rows, f"{batch.name}-二次数据采集名单.csv",
                        f"batch-{batch.id}-second-collection{suffix}.csv")


@bp.post("/batches/<int:batch_id>/second-collection/take")
@groups(*CREATORS)
def take_into(batch_id):
    """纳入后续批次: mark the chosen persons (or all of a reason) as taken into a later batch."""
    session = db_session()
    batch = batch_or_404(batch_id)
    reason = reason_of(request.form.get("reason"))
    back = url_for("batch.second_collection", batch_id=batch.id,
                   reason=reason_index(reason) or None, page=page_arg())
    if batch.status == BatchStatus.IMPORTING:
        flash(t("本批次正在导入比对，请完成后再操作。", "The batch is being checked: try again once it is done."))
        return redirect(back)
    target = session.get(Batch, parse_id(request.form.get("target")) or 0)
    if target is None or target.id <= batch.id or target.status not in OPEN_FOR_PERSONS \
            or not may_view_batch(session, current_user, target.office):
        flash(t("请选择要纳入的后续批次（尚未下发单位的较新批次）。",
                "Choose the later batch to take them into (a newer batch not yet sent to employers)."))
        return redirect(back)
    condition = [Person.batch_id == batch.id, Person.taken_into.is_(None),
                 Person.eligibility.in_([reason] if reason else REASONS)]
    if request.form.get("scope") != "all":
        ids = [i for i in (parse_id(v) for v in request.form.getlist("person")[:1000]) if i]
        if not ids:
            flash(t("请勾选要纳入后续批次的人员，或选择“本类全部人员”。",
                    "Tick the persons to take into the later batch, or choose all of this reason."))
            return redirect(back)
        condition.append(Person.id.in_(ids))
    elif reason is None:
        flash(t("请先选择一类原因，再将该类全部人员纳入后续批次。",
                "Choose a reason first to take all of its persons."))
        return redirect(back)
    count = session.execute(update(Person).where(*condition).values(taken_into=target.id)
                            .execution_options(synchronize_session=False)).rowcount
    audit(session, "take_into", batch=batch.id, target=target.id, persons=count,
          reason=reason_index(reason))
    session.commit()
    flash(t(f"已将 {count} 人纳入后续批次「{target.name}」。",
            f"{count} person(s) were taken into the later batch “{target.name}”."))
    return redirect(back)
