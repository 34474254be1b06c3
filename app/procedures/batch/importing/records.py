"""Phase 1 of a batch import: the export's rows into ``batch_contribution``, chunk by chunk.

Each chunk commits together with the job's checkpoint (the last line done), so a job resumed
after a crash starts after that line; the unique key of a record makes a repeated row (in the
file, or already imported into the batch) a reported duplicate instead of a second record.
"""
from __future__ import annotations

from sqlalchemy import func, select

from app.common.clock import utcnow
from app.database import insert_ignoring
from app.engine.jobs import JobContext
from app.procedures.batch.importing import reader
from app.procedures.batch.models import BatchUpload, ContributionRecord, RejectedRow

CHUNK = 5000
DUPLICATE = ("与本批次已导入的记录重复（同一人、同一单位、同一险种、同一参保日期），未重复导入",
             "Duplicate of a record already imported into this batch (same person, employer, "
             "insurance and date); not imported twice")


class StoredUpload:
    """An uploaded file read back from the database a megabyte at a time (``substr`` works on
    SQLite blobs and PostgreSQL bytea alike): a 50 MB export is never one object in memory."""

    PIECE = 1 << 20

    def __init__(self, session_factory, upload_id: int):
        self.factory, self.upload_id = session_factory, upload_id
        with session_factory() as s:
            self.size = s.get(BatchUpload, upload_id).size
        self.head = self._piece(1, 8) if self.size else b""

    def _piece(self, start: int, length: int) -> bytes:
        with self.factory() as s:
            return bytes(s.scalar(select(func.substr(BatchUpload.content, start, length))
                                  .where(BatchUpload.id == self.upload_id)) or b"")

    def chunks(self):
        for start in range(1, self.size + 1, self.PIECE):
            yield self._piece(start, self.PIECE)

    def whole(self) -> bytes:
        with self.factory() as s:
            return s.get(BatchUpload, self.upload_id).content


def import_records(ctx: JobContext, batch_id: int, upload_id: int, city_regions: frozenset[str]) -> None:
    content = StoredUpload(ctx.session_factory, upload_id)
    total = reader.check_file(content)  # nothing is written from a file that cannot be read
    done_line = ctx.checkpoint_data.get("line", 1)
    ctx.progress(ctx.checkpoint_data.get("rows", 0), total, "import")
    records, rejected, rows_seen = [], [], ctx.checkpoint_data.get("rows", 0)
    last_line = done_line
    for line, row in reader.rows(content):
        if line <= done_line:
            continue
        rows_seen += 1
        last_line = line
        try:
            rec = reader.parse_row(row, city_regions)
            records.append({"batch_id": batch_id, "upload_id": upload_id, "row_no": line,
                            **rec.__dict__})
        except reader.RowError as e:
            rejected.append({"batch_id": batch_id, "upload_id": upload_id, "row_no": line,
                             "reason_zh": e.zh, "reason_en": e.en, "raw": reader.masked_raw(row)})
        if len(records) + len(rejected) >= CHUNK:
            _write_chunk(ctx, batch_id, upload_id, records, rejected, last_line, rows_seen, total)
            records, rejected = [], []
    _write_chunk(ctx, batch_id, upload_id, records, rejected, last_line, rows_seen, total)
    with ctx.session_factory() as s, s.begin():
        upload = s.get(BatchUpload, upload_id)
        upload.rows = rows_seen
        upload.rejected = s.scalar(select(func.count()).select_from(RejectedRow)
                                   .where(RejectedRow.upload_id == upload_id))
        upload.imported_at = utcnow()


def _write_chunk(ctx, batch_id, upload_id, records, rejected, last_line, rows_seen, total) -> None:
    with ctx.session_factory() as s, s.begin():
        if records:
            # no RETURNING (SQLite would then insert row by row); the lines
            # of this file now in the table were written by this chunk or by an earlier run of
            # it; any other line of the chunk duplicated a record already there
            insert_ignoring(s, ContributionRecord.__table__, records,
                            ["batch_id", "id_number", "region", "employer_code", "insurance",
                             "insured_on"])
            kept = set(s.scalars(select(ContributionRecord.row_no).where(
                ContributionRecord.upload_id == upload_id,
                ContributionRecord.row_no.between(records[0]["row_no"], records[-1]["row_no"]))))
            for r in records:
                if r["row_no"] not in kept:
                    rejected.append({"batch_id": batch_id, "upload_id": upload_id,
                                     "row_no": r["row_no"], "reason_zh": DUPLICATE[0],
                                     "reason_en": DUPLICATE[1], "raw": _raw_of(r)})
        if rejected:
            insert_ignoring(s, RejectedRow.__table__, rejected, ["upload_id", "row_no"])
        ctx.checkpoint(s, line=last_line, rows=rows_seen)
    ctx.progress(rows_seen, total, "import")


def _raw_of(r: dict) -> str:
    from app.common.masking import mask_id
    from app.procedures.batch.insurance import insurance_label
    return ",".join(str(x or "") for x in (
        r["region"], r["employer_code"], r["employer_name"], r["dept1"], r["dept2"], r["name"],
        {"1": "男", "2": "女"}[r["sex"]], mask_id(r["id_number"]), insurance_label(r["insurance"]),
        r["insured_on"].isoformat()))
