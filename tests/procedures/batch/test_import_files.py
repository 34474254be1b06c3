"""Bad export files: a clear error and nothing written (wrong columns, not UTF-8, empty, header
only, 10 MB of garbage, a broken XLSX); XLSX and CSV with a BOM import alike; the same file
imported into the same batch again changes nothing; the register extract is upserted."""
from __future__ import annotations

import io
import os
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.adapters.police import PoliceRegisterPerson
from app.engine import jobs
from app.procedures.batch.importing import service
from app.procedures.batch.importing.police_extract import load_extract
from app.procedures.batch.importing.reader import ImportFileError
from app.procedures.batch.models import Batch, ContributionRecord, Person, RejectedRow
from tests.procedures.batch.conftest import HEADER, POLICE_HEADER, csv_bytes, id_number
from tests.procedures.batch.test_eligibility import ROWS, register_rows


def start(factory, content: bytes):
    with factory() as s, s.begin():
        batch = service.create_batch(s, "批次", date(2011, 8, 31), ["330200", "330282"], "t")
        upload = service.store_upload(s, batch, "f", content, "t")
        job = service.enqueue_import(s, batch, upload, "t")
        ids = batch.id, job.id
    return ids, jobs.run_now(factory, ids[1])


def nothing_written(factory, batch_id):
    with factory() as s:
        for table in (ContributionRecord, RejectedRow, Person):
            assert s.scalar(select(func.count()).select_from(table)) == 0
        return s.get(Batch, batch_id), s.scalars(select(jobs.BackgroundJob)).one()


def xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for r in rows:
        sheet.append(list(r))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("content, words", [
    (b"", "文件为空"),
    (csv_bytes("姓名,身份证号", [("张三", "1")]), "表头缺少列"),
    (HEADER.encode() + b"\n", "只有表头"),
    (HEADER.encode("gbk") + b"\n" + "330200,E1,宁波,,,张三".encode("gbk"), "UTF-8"),
    (b"PK\x03\x04" + os.urandom(2000), "Excel"),
    (os.urandom(10 * 1024 * 1024), "UTF-8"),
])
def test_a_file_that_cannot_be_read_writes_nothing(factory, content, words):
    if not content:
        with factory() as s, s.begin(), pytest.raises(service.BatchError, match=words):
            batch = service.create_batch(s, "批次", date(2011, 8, 31), ["330200"], "t")
            service.store_upload(s, batch, "f", content, "t")
        return
    (batch_id, _), state = start(factory, content)
    assert state == "failed"
    batch, job = nothing_written(factory, batch_id)
    assert words in job.error_zh and batch.status == "failed" and words in batch.error_zh


def test_xlsx_imports_like_csv(factory):
    load_extract(factory, csv_bytes(POLICE_HEADER, register_rows()))
    (csv_batch, csv_job), _ = start(factory, csv_bytes(HEADER, ROWS, bom=True))
    (x_batch, x_job), state = start(factory, xlsx(ROWS))
    assert state == "done"
    with factory() as s:
        a, b = (dict(s.get(jobs.BackgroundJob, j).result) for j in (csv_job, x_job))
    a.pop("batch"), b.pop("batch")
    assert a == b and a["persons"] == 15


def test_an_id_number_typed_as_a_number_in_excel_is_refused(factory):
    row = list(ROWS[0])
    row[7] = 330203198001010001.0  # Excel kept 15 significant digits
    (batch_id, _), state = start(factory, xlsx([row]))
    with factory() as s:
        [rejected] = s.scalars(select(RejectedRow)).all()
        assert "身份证号" in rejected.reason_zh and rejected.row_no == 2


def test_the_same_file_again_is_recognised(factory):
    content = csv_bytes(HEADER, ROWS)
    (batch_id, _), _ = start(factory, content)
    with factory() as s:
        batch = s.get(Batch, batch_id)
        assert service.already_imported(s, batch, content) is not None
        assert service.already_imported(s, batch, content + b"\n") is None


def test_register_extract_is_upserted_and_bad_rows_listed(factory):
    rows = register_rows()
    result = load_extract(factory, csv_bytes(POLICE_HEADER, rows + [
        ("330203198001019990", "坏号", "男", "汉族", "1980-01-01", "", "330203", "是"),
        (rows[0][0], "改名", "男", "回族", "1980-01-01", "", "330203", "也许")]))
    assert result.loaded == len(rows) and [line for line, _ in result.rejected] == [len(rows) + 2, len(rows) + 3]
    changed = list(rows[0])
    changed[1], changed[3] = "新名", "03"
    load_extract(factory, csv_bytes(POLICE_HEADER, [tuple(changed)]))
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(PoliceRegisterPerson)) == len(rows)
        person = s.get(PoliceRegisterPerson, rows[0][0])
        assert (person.name, person.ethnicity) == ("新名", "03")


def test_register_extract_with_wrong_columns(factory):
    with pytest.raises(ImportFileError, match="表头缺少列"):
        load_extract(factory, b"a,b\n1,2\n")


def test_id_in_test_data_is_valid():
    assert id_number("33020319800101000")[-1] == "1"


def test_persons_taken_into_a_later_batch_stay_so_when_another_file_comes(factory):
    from sqlalchemy import update

    from tests.procedures.batch.test_eligibility import BAD_ROWS, P
    load_extract(factory, csv_bytes(POLICE_HEADER, register_rows()))
    (first, _), _ = start(factory, csv_bytes(HEADER, ROWS))
    (later, _), _ = start(factory, csv_bytes(HEADER, ROWS[:2]))
    with factory() as s, s.begin():
        s.execute(update(Person).where(Person.batch_id == first, Person.id_number == P["after"][0])
                  .values(taken_into=later))
        batch = s.get(Batch, first)
        upload = service.store_upload(s, batch, "more.csv", csv_bytes(HEADER, ROWS + BAD_ROWS[:1]), "t")
        job_id = service.enqueue_import(s, batch, upload, "t").id
    assert jobs.run_now(factory, job_id) == "done"
    with factory() as s:
        person = s.scalars(select(Person).where(Person.batch_id == first,
                                                Person.id_number == P["after"][0])).one()
        assert person.taken_into == later and person.eligibility == "excluded_after_cutoff"
