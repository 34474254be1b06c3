"""Reading the contribution-system export 统一申报征缴数据 (CSV in UTF-8 with or without BOM, or
XLSX), streamed row by row: a file of 100,000 persons is never a list in memory.

``check_file`` reads the whole file once without writing anything, so that a file that cannot
be read at all (wrong columns, not UTF-8, empty, garbage) is refused before a single row is
imported; ``rows`` then yields ``(line, cells)``; ``parse_row`` turns one row into a record or
says in a clerk's words why it cannot be read.
"""
from __future__ import annotations

import codecs
import csv
import io
import operator
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterator

from app.common.masking import mask_id
from app.engine.jobs import JobFailed
from app.procedures.batch.insurance import INSURANCE_CODES, insurance_label

#: The export's columns, exactly as the contribution system writes them.
COLUMNS = ("参保区域", "单位社保编码", "单位名称", "部门", "二级部门", "姓名", "性别", "身份证号",
           "险种", "参保日期")
REQUIRED = ("参保区域", "单位社保编码", "单位名称", "姓名", "性别", "身份证号", "险种", "参保日期")
SEXES = {"男": "1", "女": "2", "1": "1", "2": "2"}
XLSX_MAGIC = b"PK\x03\x04"


class ImportFileError(JobFailed):
    """The file as a whole cannot be imported: nothing of it is written."""

    def __init__(self, zh: str, en: str):
        super().__init__(zh, en, code="import_file")


class RowError(ValueError):
    def __init__(self, zh: str, en: str):
        super().__init__(zh)
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class Record:
    region: str
    employer_code: str
    employer_name: str
    dept1: str | None
    dept2: str | None
    name: str
    sex: str
    id_number: str
    insurance: str
    insured_on: date

    def key(self) -> tuple:
        return (self.id_number, self.region, self.employer_code, self.insurance, self.insured_on)


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def valid_citizen_id(number: str) -> bool:
    """18 characters, a real birth date, the GB 11643 check digit (written out: stdnum's
    cleaning costs more than the whole row at 100,000 rows). The region code is not looked up:
    stdnum's table lags behind new and renamed divisions."""
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in _CHECK:
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return _CHECK[sum(map(operator.mul, map(int, number[:17]), _WEIGHTS)) % 11] == number[17]


STEP = 1 << 16  # bytes decoded at a time


class InMemory:
    """A file held in memory as a source (uploads being checked, tests)."""

    def __init__(self, content: bytes):
        self.content = content
        self.head = bytes(content[:8])

    def chunks(self) -> Iterator[memoryview]:
        view = memoryview(self.content)
        for i in range(0, len(view), STEP):
            yield view[i:i + STEP]

    def whole(self) -> bytes:
        return self.content


def as_source(content):
    """A source of the file's bytes: ``head`` (its first bytes), ``chunks()`` (the bytes, a
    piece at a time, so that nothing holds the whole file twice) and ``whole()`` (for XLSX,
    a zip archive read by seeking). Plain bytes are wrapped."""
    return content if hasattr(content, "chunks") else InMemory(content)


def is_xlsx(source) -> bool:
    return as_source(source).head[:4] == XLSX_MAGIC


def _csv_lines(source) -> Iterator[str]:
    """Decode incrementally: a decoding error names its line."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    line_no, pending, first = 1, "", True
    try:
        for chunk in as_source(source).chunks():
            view = memoryview(chunk)
            if first and bytes(view[:3]) == codecs.BOM_UTF8:
                view = view[3:]
            first = False
            for i in range(0, len(view), STEP):
                pending += decoder.decode(view[i:i + STEP])
                *lines, pending = pending.split("\n")
                for line in lines:
                    yield line + "\n"
                    line_no += 1
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportFileError(
            f"文件第 {line_no} 行不是 UTF-8 编码的文字（可能是 GBK 编码的 CSV 或不是 CSV 文件）。"
            "请在 Excel 中“另存为 CSV UTF-8”，或直接上传 .xlsx 文件",
            f"Line {line_no} of the file is not UTF-8 text (perhaps a GBK-encoded CSV, or not a "
            "CSV file). Save it as \"CSV UTF-8\" or upload the .xlsx file") from None
    if pending:
        yield pending


def _csv_rows(source) -> Iterator[list[str]]:
    try:
        for cells in csv.reader(_csv_lines(source), strict=True):
            if "\x00" in "".join(cells):
                raise ImportFileError("文件含有二进制内容，不是 CSV 文本文件",
                                      "The file contains binary data: it is not a CSV text file")
            yield cells
    except csv.Error as e:
        raise ImportFileError(f"CSV 格式错误：{e}", f"The CSV file is malformed: {e}") from None


def _xlsx_rows(source) -> Iterator[list[str]]:
    from openpyxl import load_workbook
    try:
        book = load_workbook(io.BytesIO(as_source(source).whole()), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as e:
        raise ImportFileError(f"无法读取 Excel 文件（{type(e).__name__}），请确认是 .xlsx 格式",
                              "The Excel file cannot be read; check it is an .xlsx file") from None
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        book.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # an ID number typed as a number has lost its last digits: keep what it is, the row
        # check will refuse it; a whole float (a region code) reads as an integer
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _raw_rows(source) -> Iterator[list[str]]:
    source = as_source(source)
    return _xlsx_rows(source) if is_xlsx(source) else _csv_rows(source)


def _header_map(header: list[str]) -> dict[str, int]:
    names = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise ImportFileError(
            f"表头缺少列：{'、'.join(missing)}。应为：{','.join(COLUMNS)}",
            f"The header lacks the columns {', '.join(missing)}; expected: {','.join(COLUMNS)}")
    return {c: names.index(c) for c in COLUMNS}


def rows(source) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line, {column: text})`` for every data row; line 1 is the header. Blank lines skipped."""
    it = _raw_rows(source)
    header = next(it, None)
    if header is None or not any(h.strip() for h in header):
        raise ImportFileError("文件为空", "The file is empty")
    cols = _header_map(header)
    for line, cells in enumerate(it, start=2):
        if not any(c.strip() for c in cells):
            continue
        yield line, {c: (cells[i].strip() if i < len(cells) else "") for c, i in cols.items()}


def check_file(source) -> int:
    """Read the whole file once (nothing written): it decodes, parses and has the columns.
    The number of data rows. Raises ``ImportFileError`` for a file that cannot be imported."""
    source = as_source(source)
    if not source.head:
        raise ImportFileError("文件为空", "The file is empty")
    it = _raw_rows(source)
    header = next(it, None)
    if header is None or not any(h.strip() for h in header):
        raise ImportFileError("文件为空", "The file is empty")
    _header_map(header)
    count = sum(1 for cells in it if any(c.strip() for c in cells))
    if count == 0:
        raise ImportFileError("文件中只有表头，没有数据行", "The file has a header but no data rows")
    return count


def parse_row(row: dict[str, str], city_regions: frozenset[str]) -> Record:
    """One row as a record, or ``RowError`` saying why it cannot be read."""
    region = row["参保区域"]
    if region not in city_regions:
        raise RowError(f"参保区域“{region}”不是本市的参保区域代码",
                       f"Insured region '{region}' is not a region of the city")
    code, employer = row["单位社保编码"], row["单位名称"]
    if not code:
        raise RowError("缺少单位社保编码", "The employer's social insurance code is missing")
    if not employer:
        raise RowError("缺少单位名称", "The employer's name is missing")
    name = re.sub(r"\s+", "", row["姓名"])
    if not name:
        raise RowError("缺少姓名", "The name is missing")
    if len(name) > 30:
        raise RowError("姓名超过 30 个字", "The name is longer than 30 characters")
    sex = SEXES.get(row["性别"])
    if sex is None:
        raise RowError(f"性别“{row['性别']}”无法识别，应为“男”或“女”",
                       f"Sex '{row['性别']}' is not 男 or 女")
    id_number = row["身份证号"].upper()
    if not valid_citizen_id(id_number):
        raise RowError(f"身份证号 {mask_id(id_number)} 无效（位数或校验位不对）",
                       f"ID number {mask_id(id_number)} is invalid (length or check digit)")
    insurance = INSURANCE_CODES.get(row["险种"])
    if insurance is None:
        raise RowError(f"险种“{row['险种']}”不是可识别的险种", f"Unknown insurance '{row['险种']}'")
    try:
        insured_on = date.fromisoformat(row["参保日期"])
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["参保日期"]):
            raise ValueError
    except ValueError:
        raise RowError(f"参保日期“{row['参保日期']}”不是 YYYY-MM-DD 格式的日期",
                       f"Insured date '{row['参保日期']}' is not a YYYY-MM-DD date") from None
    return Record(region, code[:30], employer[:100], row["部门"][:100] or None,
                  row["二级部门"][:100] or None, name, sex, id_number, insurance, insured_on)


def masked_raw(row: dict[str, str]) -> str:
    """The row as it was, for the rejected-rows report, with the ID number masked."""
    cells = dict(row, 身份证号=mask_id(row.get("身份证号", "")))
    return ",".join(cells.get(c, "") for c in COLUMNS)


__all__ = ["COLUMNS", "ImportFileError", "Record", "RowError", "check_file", "insurance_label",
           "masked_raw", "parse_row", "rows"]
