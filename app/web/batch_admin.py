"""Administration of the batch family's settings 批量制卡设置 (routes on ``app.web.batch.bp``):
the city's configuration and the embedded police register's extract (a background job)."""
from __future__ import annotations

import json
import re

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.engine import jobs
from app.extensions import csrf
from app.permissions import groups
from app.procedures.batch import city as city_config
from app.procedures.batch.importing import service
from app.procedures.batch.models import BatchUpload
from app.web import t
from app.web.batch import (TOO_LARGE, UPLOAD_LIMIT, audit, bp, db_session,
                           file_response, message, open_upload_request)

# -- the city's configuration 本市配置 ---------------------------------------------------------

CITY_BLANK_ROWS = 3
CITY_MAX_ROWS = 100


def _city_rows(prefix: str, fields: tuple[str, ...]) -> list[dict]:
    """The region or bank rows of the form (``prefix-field-i``), blank and removed ones left out."""
    indices = sorted({int(m.group(1)) for key in request.form
                      if (m := re.fullmatch(rf"{prefix}-\w+-(\d{{1,3}})", key))})[:CITY_MAX_ROWS]
    rows = []
    for i in indices:
        row = {f: (request.form.get(f"{prefix}-{f}-{i}") or "").strip()[:60] for f in fields}
        if request.form.get(f"{prefix}-remove-{i}") or not any(row.values()):
            continue
        rows.append(row)
    return rows


@bp.route("/admin/city", methods=["GET", "POST"])
@groups("administrator")
def city():
    """本市配置: the city's name, insured regions and partner banks (form or JSON file)."""
    session = db_session()
    errors: list = []
    config = city_config.as_dict(city_config.current(session))
    if request.method == "POST":
        if request.form.get("action") == "upload":
            upload = request.files.get("config")
            try:
                data = json.loads((upload.read() if upload else b"").decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError, ValueError):
                data = None
                errors.append(t("请选择 UTF-8 编码的 JSON 配置文件。", "Choose a UTF-8 JSON configuration file."))
        else:
            data = {"city": (request.form.get("city") or "").strip(),
                    "regions": _city_rows("region", ("code", "name")),
                    "banks": _city_rows("bank", ("code", "name", "short_name"))}
        if data is not None:
            try:
                city_config.apply(session, data)
                new = city_config.as_dict(city_config.current(session))
                audit(session, "city", city=new["city"], regions=[r["code"] for r in new["regions"]],
                      banks=[b["code"] for b in new["banks"]])
                session.commit()
            except city_config.CityConfigError as e:
                session.rollback()
                errors.append(message(e))
                if isinstance(data, dict) and request.form.get("action") != "upload":
                    config = data  # show what was typed
            else:
                flash(t("本市配置已保存。", "The city's configuration was saved."))
                return redirect(url_for("batch.city"))
    return render_template("batch/city.html", config=config, errors=errors, blank=CITY_BLANK_ROWS)


@bp.get("/admin/city.json")
@groups("administrator")
def city_json():
    config = city_config.as_dict(city_config.current(db_session()))
    body = json.dumps(config, ensure_ascii=False, indent=1)
    return file_response(body, "application/json; charset=utf-8", "本市配置.json", "city.json")


# -- the embedded police register 公安户籍库（内置）-------------------------------------------------

POLICE_JOB = "batch.police_import"


@bp.route("/admin/police-register", methods=["GET", "POST"])
@groups("administrator")
@csrf.exempt  # checked in the view once the upload's size limit is raised (open_upload_request)
def police_register():
    """公安户籍数据导入: the household-register extract into the embedded register (a job with
    a progress bar; the page lists the last imports with the lines that could not be read)."""
    session = db_session()
    errors: list = []
    if request.method == "POST":
        too_large = open_upload_request()
        upload = request.files.get("file")
        content = b""
        if too_large is not None:
            errors.append(str(too_large))
        elif upload is None or not upload.filename:
            errors.append(t("请选择公安户籍数据文件（CSV）。", "Choose the household-register extract (CSV)."))
        else:
            content = upload.read(UPLOAD_LIMIT + 1)
            if not content:
                errors.append(t("文件为空。", "The file is empty."))
            elif len(content) > UPLOAD_LIMIT:
                errors.append(str(TOO_LARGE))
        if not errors:
            row = BatchUpload(kind="police", name=upload.filename[:200], sha256=service.sha256(content),
                              size=len(content), content=content, created_by=current_user.username)
            session.add(row)
            session.flush()
            jobs.enqueue(session, POLICE_JOB, {"upload_id": row.id}, current_user.username,
                         subject="police_register")
            audit(session, "police_import", upload=row.id, name=row.name, size=row.size)
            session.commit()
            flash(t("已开始导入公安户籍数据。", "The register extract is being imported."))
            return redirect(url_for("batch.police_register"))
    recent = list(session.scalars(select(jobs.BackgroundJob).where(jobs.BackgroundJob.kind == POLICE_JOB)
                                  .order_by(jobs.BackgroundJob.id.desc()).limit(10)))
    refresh = 2 if any(j.active for j in recent) else None
    return render_template("batch/police_register.html", errors=errors, recent=recent, refresh=refresh)
