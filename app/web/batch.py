"""Batch pages 制卡批次: the list, a new batch with its contribution export, the batch (import
progress, figures, rejected rows, employers, the second data collection 二次数据采集), one
employer application (documents, voucher, summaries) and the city's configuration 本市配置.
Routes on the same blueprint live by what they show: `batch_second` (the second data collection),
`batch_employer` (one employer), `batch_grid` (the persons grid, the summary form), `batch_admin`
(the city, the police register).

Who: :data:`app.cases.access.BATCH_GROUPS` (the card centre's clerks and reviewers, managers;
administrators) by role, and :func:`app.cases.access.may_view_batch` by the batch's office.
Pages show the states' labels (``app.procedures.batch.states``), never their codes: query
values that pick a state are its position in the states' order, not its code.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from urllib.parse import quote

from flask import (Blueprint, Response, abort, current_app, flash, make_response, redirect,
                   render_template, request, url_for)
from flask_login import current_user
from sqlalchemy import func, or_, select, true
from werkzeug.exceptions import RequestEntityTooLarge

from app.cases.access import BATCH_GROUPS, may_view_batch, offices_of
from app.common.clock import china_today
from app.common.errors import BilingualError
from app.common.i18n import T, get_locale
from app.common.ids import parse_id
from app.engine.jobs import BackgroundJob
from app.extensions import csrf, db_session
from app.permissions import groups
from app.procedures.batch import city as city_config
from app.procedures.batch.importing import reader, service
from app.procedures.batch.models import Batch, BatchUpload, Employer, Person, RejectedRow
from app.procedures.batch.states import (BATCH_LABELS, ELIGIBILITY_LABELS, EMPLOYER_LABELS,
                                         ENTRY_LABELS, RULE_ORDER, BatchStatus, Eligibility)
from app.web import t

bp = Blueprint("batch", __name__)

PAGE = 50
CREATORS = ("manager", "centre_clerk")  # start a batch, import into it, take persons on
UPLOAD_LIMIT = service.MAX_UPLOAD_BYTES
REQUEST_LIMIT = UPLOAD_LIMIT + 1024 * 1024  # the form's other fields and the multipart framing
UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx")
CSV_BOM = "\ufeff"  # Excel opens UTF-8 CSV with it

#: the import job's phases (app.procedures.batch.importing.job) in words
PHASES = {"import": T("导入数据", "Importing the rows"),
          "classify": T("比对险种与区域", "Checking insurance and regions"),
          "police": T("公安户籍比对", "Comparing with the police register"),
          "rosters": T("生成花名册", "Building the rosters"),
          "done": T("已完成", "Done")}
JOB_STATES = {"queued": T("排队等待", "Waiting to start"), "running": T("进行中", "Running"),
              "done": T("已完成", "Done"), "failed": T("失败", "Failed")}
UNKNOWN = T("（未知状态）", "(unknown state)")
SEXES = {"1": T("男", "male"), "2": T("女", "female")}
#: the reasons of the second data collection, in the rules' order (query value: 1-based position)
REASONS = tuple(RULE_ORDER)
#: the batches a person not eligible can be taken into
OPEN_FOR_PERSONS = (BatchStatus.IMPORTING, BatchStatus.CHECKED)


def label_of(table: dict, code) -> T:
    """A state's label (pages never show the code)."""
    return table.get(code, UNKNOWN)


@bp.context_processor
def batch_helpers():
    return {"batch_label": lambda c: label_of(BATCH_LABELS, c),
            "eligibility_label": lambda c: label_of(ELIGIBILITY_LABELS, c),
            "employer_label": lambda c: label_of(EMPLOYER_LABELS, c),
            "entry_label": lambda c: label_of(ENTRY_LABELS, c),
            "phase_label": lambda c: PHASES.get(c or "", T("准备中", "Preparing")),
            "job_state": lambda c: label_of(JOB_STATES, c),
            "sex_label": lambda c: SEXES.get(c or "", c or ""),
            "reason_index": reason_index, "reasons_order": REASONS, "columns": reader.COLUMNS}


def reason_index(code) -> int:
    return REASONS.index(code) + 1 if code in REASONS else 0


def reason_of(value) -> Eligibility | None:
    """The reason a query value names (its position in the rules' order)."""
    n = parse_id(value)
    return REASONS[n - 1] if n and n <= len(REASONS) else None


def lang() -> str:
    return get_locale()


def message(e: BilingualError) -> str:
    return e.message(lang())


def page_arg(name: str = "page") -> int:
    n = parse_id(request.args.get(name) or request.form.get(name))
    return min(n, 100_000) if n else 1


def not_found(text: T):
    """A 404 page that says what was not found."""
    abort(make_response(render_template("error.html", code=404, message=text), 404))


def batch_or_404(batch_id: int) -> Batch:
    session = db_session()
    batch = session.get(Batch, batch_id)
    if batch is None:
        not_found(T(f"没有编号为 {batch_id} 的制卡批次。", f"There is no batch number {batch_id}."))
    if not may_view_batch(session, current_user, batch.office):
        abort(403)
    return batch


def employer_or_404(employer_id: int) -> tuple[Employer, Batch]:
    session = db_session()
    employer = session.get(Employer, employer_id)
    if employer is None:
        not_found(T(f"没有编号为 {employer_id} 的单位申领。",
                    f"There is no employer application number {employer_id}."))
    batch = session.get(Batch, employer.batch_id)
    if not may_view_batch(session, current_user, batch.office):
        abort(403)
    return employer, batch


def visible_batches(session):
    """SQL condition on ``Batch``: the batches of the user's offices (the list)."""
    offices = offices_of(session, current_user)
    if offices is None:
        return true()
    return or_(Batch.office.is_(None), Batch.office.in_(sorted(offices)))




def audit(session, what: str, **detail) -> None:
    """One audit record 审计记录 of a batch page (``detail["what"]``: create, import, take_into,
    entry, review, declared, document, city), in the page's transaction."""
    from app.engine import audit as engine_audit
    from app.engine.services import Actor
    engine_audit.record(session, "family", Actor(current_user.username, current_user.id),
                        family="batch", what=what, **detail)


def file_response(body, mimetype: str, name: str, ascii_name: str, inline: bool = False) -> Response:
    """A download with its Chinese file name (RFC 5987 ``filename*``) and an ASCII fallback;
    never cached (personal data on a shared PC)."""
    name = re.sub(r'[\\/:*?"<>|\r\n]+', "_", name)
    disposition = (f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; "
                   f"filename*=UTF-8''{quote(name, safe='')}")
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = disposition
    response.headers["Cache-Control"] = "private, no-store"
    return response


def csv_response(make_rows, name: str, ascii_name: str) -> Response:
    """CSV in UTF-8 with BOM, streamed: ``make_rows(session)`` yields lists, header first. It
    reads through a session of its own (the request's is gone once the view has returned)."""
    factory = current_app.extensions["sscard"].session_factory

    def generate():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        out.write(CSV_BOM)
        with factory() as session:
            for n, row in enumerate(make_rows(session), 1):
                writer.writerow(row)
                if n % 1000 == 0:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
        yield out.getvalue()
    return file_response(generate(), "text/csv; charset=utf-8", name, ascii_name)


# -- the upload of an export 上传缴费数据文件 --------------------------------------------------

TOO_LARGE = T("文件超过 64 MB，请按参保区域分开导出后分别导入。",
              "The file is larger than 64 MB: export it per region and import each file.")


def open_upload_request() -> T | None:
    """Raise this request's size limit to the export's and check its CSRF token (the upload
    views are exempt from the app-wide check, which would read the body under the app's
    4 MB limit first). A message when the request is too large."""
    request.max_content_length = REQUEST_LIMIT
    if request.content_length is not None and request.content_length > REQUEST_LIMIT:
        return TOO_LARGE
    try:
        csrf.protect()
    except RequestEntityTooLarge:
        return TOO_LARGE
    return None


def read_upload(errors: list) -> tuple[str, bytes] | None:
    """The uploaded file's name and content, or None after saying why not."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        errors.append(t("请选择要导入的缴费数据文件（CSV 或 Excel .xlsx）。",
                        "Choose the contribution export to import (CSV or Excel .xlsx)."))
        return None
    name = upload.filename[:200]
    if name.lower().endswith(".xls"):
        errors.append(t("旧版 Excel（.xls）文件无法读取，请另存为 .xlsx 或“CSV UTF-8”后上传。",
                        "Old Excel files (.xls) cannot be read: save it as .xlsx or \"CSV UTF-8\"."))
        return None
    if not name.lower().endswith(UPLOAD_SUFFIXES):
        errors.append(t("请上传 CSV（UTF-8）或 Excel（.xlsx）文件。", "Upload a CSV (UTF-8) or Excel (.xlsx) file."))
        return None
    try:
        content = upload.read(UPLOAD_LIMIT + 1)
    except RequestEntityTooLarge:
        errors.append(str(TOO_LARGE))
        return None
    if len(content) > UPLOAD_LIMIT:
        errors.append(str(TOO_LARGE))
        return None
    if not content:
        errors.append(t("文件为空。", "The file is empty."))
        return None
    try:
        reader.check_file(content)  # a file that cannot be read at all: nothing is written
    except reader.ImportFileError as e:
        errors.append(message(e))
        return None
    return name, content


def parse_cutoff(text: str, errors: list) -> date | None:
    text = (text or "").strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        errors.append(t("请填写数据截止日期，格式为 YYYY-MM-DD（例如 2011-08-31）。",
                        "Give the data cut-off date as YYYY-MM-DD (e.g. 2011-08-31)."))
        return None
    if day.year < 1990 or day > china_today():
        errors.append(t("数据截止日期不能晚于今天，也不能早于 1990 年。",
                        "The cut-off date cannot be after today or before 1990."))
        return None
    return day


# -- the list and a new batch ----------------------------------------------------------------

@bp.get("/batches")
@groups(*BATCH_GROUPS)
def index():
    """制卡批次: newest first, with the import job's progress."""
    session = db_session()
    q = select(Batch).where(visible_batches(session)).order_by(Batch.id.desc())
    before = parse_id(request.args.get("before"))
    if before:
        q = q.where(Batch.id < before)
    batches = session.scalars(q.limit(PAGE + 1)).all()
    more = batches[PAGE - 1].id if len(batches) > PAGE else None
    batches = batches[:PAGE]
    jobs = {}
    if batches:
        for job in session.scalars(select(BackgroundJob).where(
                BackgroundJob.kind == "batch.import",
                BackgroundJob.subject.in_([f"batch:{b.id}" for b in batches])).order_by(BackgroundJob.id)):
            jobs[job.subject] = job  # the latest one wins
    city = city_config.current(session)
    return render_template("batch/index.html", batches=batches, jobs=jobs, city=city, more=more,
                           may_create=current_user.in_group(*CREATORS, "administrator"))


@bp.route("/batches/new", methods=["GET", "POST"])
@groups(*CREATORS)
@csrf.exempt  # checked in the view once the upload's size limit is raised (open_upload_request)
def new():
    """新建制卡批次: name, cut-off date, regions and the export, in one transaction."""
    session = db_session()
    city = city_config.current(session)
    values = {"name": "", "cutoff": "", "regions": []}
    errors: list = []
    if request.method == "POST":
        too_large = open_upload_request()
        if too_large is not None:
            return render_template("batch/new.html", city=city, values=values,
                                   errors=[str(too_large)]), 413
        values = {"name": (request.form.get("name") or "").strip()[:100],
                  "cutoff": (request.form.get("cutoff") or "").strip()[:10],
                  "regions": [r for r in request.form.getlist("regions") if r in city.regions]}
        if not values["name"]:
            errors.append(t("请填写批次名称。", "Give the batch a name."))
        cutoff = parse_cutoff(values["cutoff"], errors)
        if not values["regions"]:
            errors.append(t("请至少选择一个参保区域。", "Choose at least one insured region."))
        upload = read_upload(errors) if not errors else None
        if not errors and upload is not None:
            try:
                batch = service.create_batch(session, values["name"], cutoff, values["regions"],
                                             current_user.username, office=current_user.office)
                stored = service.store_upload(session, batch, upload[0], upload[1], current_user.username)
                service.enqueue_import(session, batch, stored, current_user.username)
                audit(session, "create", batch=batch.id, name=batch.name, file=stored.name,
                      size=stored.size, regions=batch.regions, cutoff=batch.cutoff.isoformat())
                session.commit()
            except BilingualError as e:
                session.rollback()
                errors.append(message(e))
            else:
                flash(t(f"已新建制卡批次「{batch.name}」，正在导入比对。",
                        f"Batch “{batch.name}” was created; the import has started."))
                return redirect(url_for("batch.show", batch_id=batch.id))
        session.rollback()
    return render_template("batch/new.html", city=city, values=values, errors=errors)


# -- the batch -------------------------------------------------------------------------------

REFRESH_SECONDS = 2


@bp.get("/batches/<int:batch_id>")
@groups(*BATCH_GROUPS)
def show(batch_id):
    session = db_session()
    batch = batch_or_404(batch_id)
    job = service.import_job(session, batch.id)
    running = job is not None and job.active
    uploads = session.execute(select(
        BatchUpload.name, BatchUpload.rows, BatchUpload.rejected, BatchUpload.imported_at,
        BatchUpload.created_at, BatchUpload.created_by).where(BatchUpload.batch_id == batch.id)
        .order_by(BatchUpload.id)).all()
    page = page_arg()
    employers = session.execute(
        select(Employer, func.count().over()).where(Employer.batch_id == batch.id)
        .order_by(Employer.code).limit(PAGE).offset((page - 1) * PAGE)).all()
    reasons = dict(session.execute(
        select(Person.eligibility, func.count()).where(
            Person.batch_id == batch.id, Person.eligibility.in_(REASONS), Person.taken_into.is_(None))
        .group_by(Person.eligibility)).all())
    taken = session.scalar(select(func.count()).select_from(Person).where(
        Person.batch_id == batch.id, Person.taken_into.is_not(None)))
    city = city_config.current(session)
    return render_template(
        "batch/show.html", batch=batch, job=job, running=running, uploads=uploads, city=city,
        counts=batch.counts or {}, employers=[e for e, _ in employers],
        employer_total=employers[0][1] if employers else 0, page=page, pages=PAGE,
        reasons=reasons, taken=taken,
        refresh=REFRESH_SECONDS if running and request.args.get("refresh") != "off" else None,
        may_import=current_user.in_group(*CREATORS, "administrator")
        and batch.status in (BatchStatus.IMPORTING, BatchStatus.CHECKED, BatchStatus.FAILED))


@bp.post("/batches/<int:batch_id>/import")
@groups(*CREATORS)
@csrf.exempt  # checked in the view once the upload's size limit is raised (open_upload_request)
def import_file(batch_id):
    """导入另一个文件: the same file again changes nothing."""
    session = db_session()
    batch = batch_or_404(batch_id)
    back = url_for("batch.show", batch_id=batch.id)
    too_large = open_upload_request()
    if too_large is not None:
        flash(str(too_large))
        return redirect(back)
    job = service.import_job(session, batch.id)
    if job is not None and job.active:
        flash(t("本批次正在导入比对，请等完成后再导入其他文件。",
                "The batch is being imported and checked: import another file once it is done."))
        return redirect(back)
    errors: list = []
    upload = read_upload(errors)
    if upload is None:
        for e in errors:
            flash(e)
        return redirect(back)
    if service.already_imported(session, batch, upload[1]) is not None:
        flash(t("该文件已导入本批次，未作更改。", "This file was already imported into the batch; nothing changed."))
        return redirect(back)
    try:
        stored = service.store_upload(session, batch, upload[0], upload[1], current_user.username)
        service.enqueue_import(session, batch, stored, current_user.username)
        audit(session, "import", batch=batch.id, file=stored.name, size=stored.size)
        session.commit()
    except BilingualError as e:
        session.rollback()
        flash(message(e))
        return redirect(back)
    flash(t(f"文件“{stored.name}”已开始导入，导入后将重新比对整个批次。",
            f"The import of “{stored.name}” has started; the whole batch is checked again afterwards."))
    return redirect(back)


@bp.get("/batches/<int:batch_id>/rejected.csv")
@groups(*BATCH_GROUPS)
def rejected_csv(batch_id):
    """无法导入的行: file, line, reason and the row as read (its ID number masked)."""
    batch = batch_or_404(batch_id)
    en = lang() == "en"
    batch_id, batch_name = batch.id, batch.name

    def rows(s):
        files = dict(s.execute(select(BatchUpload.id, BatchUpload.name)
                               .where(BatchUpload.batch_id == batch_id)).all())
        yield (["File", "Line", "Reason"] if en else ["文件", "行号", "原因"]) + list(reader.COLUMNS)
        for upload_id, row_no, zh, english, raw in s.execute(
                select(RejectedRow.upload_id, RejectedRow.row_no, RejectedRow.reason_zh,
                       RejectedRow.reason_en, RejectedRow.raw)
                .where(RejectedRow.batch_id == batch_id)
                .order_by(RejectedRow.upload_id, RejectedRow.row_no)
                .execution_options(yield_per=1000)):
            cells = raw.split(",")
            yield [files.get(upload_id, ""), row_no, english if en else zh] + \
                (cells if len(cells) == len(reader.COLUMNS) else [raw])
    return csv_response(rows, f"{batch_name}-无法导入的行.csv", f"batch-{batch_id}-rejected.csv")


# routes on bp, by what they show: the second data collection, one employer (documents, the
# agent check), the persons grid and the summary form, the city and the police register
from app.web import batch_admin, batch_employer, batch_grid, batch_second  # noqa: E402,F401
