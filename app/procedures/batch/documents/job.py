"""PDFs as background jobs 单据生成作业 (``batch.document``): laying out a thousand confirmation
forms takes minutes, longer than a page may wait. The job renders the PDF and keeps it
(``EmployerDocument``); the employer page shows the job's progress and then offers it."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import jobs
from app.engine.jobs import JobContext
from app.procedures.batch.models import EmployerDocument

KIND = "batch.document"


def subject(employer_id: int, kind: str) -> str:
    return f"employer:{employer_id}:{kind}"


@jobs.handler(KIND)
def make_pdf(ctx: JobContext) -> dict:
    from app.procedures.batch.documents import render_pdf
    employer_id, kind = int(ctx.params["employer_id"]), ctx.params["kind"]
    ctx.progress(0, 1, "render")
    with ctx.session_factory() as s:
        body = render_pdf(s, kind, employer_id)
    with ctx.session_factory() as s, s.begin():
        doc = EmployerDocument(employer_id=employer_id, kind=kind, content=body, size=len(body),
                               created_by=ctx.params.get("by", "system"))
        s.add(doc)
        s.flush()
        return {"document": doc.id, "size": len(body)}


def request_pdf(session: Session, employer_id: int, kind: str, by: str) -> jobs.BackgroundJob:
    """Queue the PDF (the one already queued or running when there is one)."""
    running = pdf_job(session, employer_id, kind)
    if running is not None and running.active:
        return running
    return jobs.enqueue(session, KIND, {"employer_id": employer_id, "kind": kind, "by": by}, by,
                        subject=subject(employer_id, kind))


def pdf_job(session: Session, employer_id: int, kind: str) -> jobs.BackgroundJob | None:
    return session.scalars(select(jobs.BackgroundJob).where(
        jobs.BackgroundJob.subject == subject(employer_id, kind))
        .order_by(jobs.BackgroundJob.id.desc())).first()


def latest_pdf(session: Session, employer_id: int, kind: str) -> EmployerDocument | None:
    return session.scalars(select(EmployerDocument).where(
        EmployerDocument.employer_id == employer_id, EmployerDocument.kind == kind)
        .order_by(EmployerDocument.id.desc())).first()
