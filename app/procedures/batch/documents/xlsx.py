"""Excel of the employer documents that are tables 单据Excel: the roster 花名册 (streamed:
``write_only``, an employer may have thousands of employees), and the summary 申领汇总表 and the
not-returned list 未返回人员汇总表 as sheets to fill in (the summary adds up by formula); the
workbook helpers are the document kit's (app.documents.xlsx)."""
from __future__ import annotations

from openpyxl.utils import get_column_letter

from app.documents.xlsx import TITLE as _TITLE
from app.documents.xlsx import bold as _bold
from app.documents.xlsx import sheet as _sheet
from app.documents.xlsx import to_bytes as _bytes
from app.procedures.batch.documents import texts, words
from app.procedures.batch.documents.html import (
    NOT_RETURNED_ROWS,
    SUMMARY_BLANK_ROWS,
    SUMMARY_MIN_ROWS,
)
from app.procedures.batch.documents.source import EmployerData


def _head(ws, title: str, data: EmployerData, name_label: str = "单位名称"):
    ws.append(_bold(ws, [title], _TITLE))
    ws.append(["参保区域", data.region_name, "单位社保编码", data.employer.code, name_label,
               data.employer.name])
    ws.append([])


def roster(data: EmployerData) -> bytes:
    wb, ws = _sheet("花名册", [8, 14, 22, 8, 14, 24])
    _head(ws, texts.ROSTER_TITLE, data)
    ws.append(_bold(ws, ["序号", "姓名", "身份证号", "性别", "二维码编号"]))
    for i, p in enumerate(data.persons, 1):
        ws.append([i, p.name, p.id_number, words.sex(p.sex), str(p.id)])
    ws.append([f"共计 {len(data.persons)} 人"])
    return _bytes(wb)


def summary(data: EmployerData) -> bytes:
    banks = list(data.city.banks.values())
    wb, ws = _sheet("申领汇总表", [8, 30] + [16] * len(banks) + [10])
    _head(ws, texts.SUMMARY_TITLE, data, "单位名称（盖章）")
    ws.append(_bold(ws, ["序号", "部门名称", *[f"申请人数（{b}）" for b in banks], "小计"]))
    first = 5                                  # the header is row 4
    rows = max(SUMMARY_MIN_ROWS, len(data.departments) + SUMMARY_BLANK_ROWS)
    last_bank = get_column_letter(2 + len(banks))
    for i in range(rows):
        r = first + i
        dept = data.departments[i] if i < len(data.departments) else None
        ws.append([i + 1, dept, *[None] * len(banks), f"=SUM(C{r}:{last_bank}{r})"])
    last = first + rows - 1
    ws.append(_bold(ws, ["合计", ""]) + [f"=SUM({c}{first}:{c}{last})" for c in
                                        (get_column_letter(3 + j) for j in range(len(banks) + 1))])
    ws.append([])
    ws.append([texts.FORMS_RECEIVED, None, None, "份"])
    ws.append([texts.FORMS_RETURNED, None, None, "份"])
    ws.append(["单位经办人：", None, "社保卡中心经办人：", None, "年    月    日"])
    ws.append([])
    ws.append(["说明："])
    for note in texts.summary_notes(len(banks)):
        ws.append([note])
    return _bytes(wb)


def not_returned(data: EmployerData) -> bytes:
    wb, ws = _sheet("未返回人员汇总表", [8, 30, 14, 22, 24])
    _head(ws, texts.NOT_RETURNED_TITLE, data, "单位名称（盖章）")
    ws.append(_bold(ws, ["序号", "部门名称", "姓名", "身份证号", "备注"]))
    for i in range(1, NOT_RETURNED_ROWS + 1):
        ws.append([i])
    ws.append([])
    ws.append([texts.NOT_RETURNED_NOTE])
    ws.append(["单位经办人：", None, None, "年    月    日"])
    return _bytes(wb)


SHEETS = {"roster": roster, "summary": summary, "not_returned": not_returned}
