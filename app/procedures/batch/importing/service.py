"""Starting a batch 新建制卡批次 and its imports (pages, the command line, tests)."""
from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.common.errors import BilingualError
from app.engine import jobs
from app.procedures.batch.city import current
from app.procedures.batch.importing.job import summary
from app.procedures.batch.models import Batch, BatchUpload
from app.procedures.batch.states import BatchStatus

MAX_UPLOAD_BYTES = 64 * 1024 * 1024


class BatchError(BilingualError):
    kind = "invalid"

    def __init__(self, zh: str, en: str, kind: str | None = None):
        super().__init__(zh, en, code="batch", kind=kind)


def create_batch(session: Session, name: str, cutoff: date, regions: list[str], created_by: str,
                 office: str | None = None) -> Batch:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise BatchError("请填写批次名称（不超过 100 字）", "Give the batch a name (at most 100 characters)")
    if not isinstance(cutoff, date):
        raise BatchError("请填写数据截止日期", "Give the data cut-off date")
    city = current(session)
    regions = [r.strip() for r in regions if r and r.strip()]
    unknown = [r for r in regions if r not in city.regions]
    if not regions:
        raise BatchError("请至少选择一个参保区域", "Choose at least one insured region")
    if unknown:
        raise BatchError(f"参保区域 {'、'.join(unknown)} 不是本市（{city.name}）的参保区域",
                         f"Region(s) {', '.join(unknown)} are not regions of {city.name}")
    batch = Batch(name=name, cutoff=cutoff, regions=list(dict.fromkeys(regions)),
                  created_by=created_by, office=office, status=BatchStatus.IMPORTING)
    session.add(batch)
    session.flush()
    return batch


def store_upload(session: Session, batch: Batch, file_name: str, content: bytes,
                 created_by: str) -> BatchUpload:
    """Keep the file in the database (any worker reads it; a restarted job finds it)."""
    if not content:
        raise BatchError("文件为空", "The file is empty")
    if len(content) > MAX_UPLOAD_BYTES:
        raise BatchError("文件超过 64 MB，请按参保区域分开导出后分别导入",
                         "The file is larger than 64 MB: export it per region and import each")
    digest = sha256(content)
    upload = BatchUpload(kind="contribution", batch_id=batch.id, name=(file_name or "")[:200],
                         sha256=digest, size=len(content), content=content, created_by=created_by)
    session.add(upload)
    session.flush()
    return upload


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def already_imported(session: Session, batch: Batch, content: bytes) -> BatchUpload | None:
    """The same file imported into this batch before (a re-import changes nothing)."""
    digest = sha256(content)
    return session.scalars(select(BatchUpload).where(
        BatchUpload.batch_id == batch.id, BatchUpload.sha256 == digest,
        BatchUpload.imported_at.is_not(None))).first()


def enqueue_import(session: Session, batch: Batch, upload: BatchUpload, created_by: str) -> jobs.BackgroundJob:
    if batch.status not in (BatchStatus.IMPORTING, BatchStatus.CHECKED, BatchStatus.FAILED):
        raise BatchError("本批次已下发单位确认，不能再导入数据", "The batch has gone to the employers: "
                         "no more data can be imported", kind="conflict")
    batch.status = BatchStatus.IMPORTING
    return jobs.enqueue(session, "batch.import", {"batch_id": batch.id, "upload_id": upload.id},
                        created_by, subject=f"batch:{batch.id}")


def import_job(session: Session, batch_id: int) -> jobs.BackgroundJob | None:
    """The batch's latest import job (its progress bar)."""
    return session.scalars(select(jobs.BackgroundJob)
                           .where(jobs.BackgroundJob.subject == f"batch:{batch_id}",
                                  jobs.BackgroundJob.kind == "batch.import")
                           .order_by(jobs.BackgroundJob.id.desc())).first()


def counts(session: Session, batch_id: int) -> dict:
    return summary(session, batch_id)
