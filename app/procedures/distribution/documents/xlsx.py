"""Excel of the distribution documents that are tables 发放单据Excel: the distribution roster
发放花名册 (a line per card, the signature column left empty) and the return register 退回登记表,
streamed with the document kit's helpers (app.documents.xlsx)."""
from __future__ import annotations

from app.documents.words import date_zh
from app.documents.xlsx import TITLE, bold, sheet, to_bytes
from app.procedures.distribution.documents import texts
from app.procedures.distribution.documents.source import PickupData


def _head(ws, title: str, d: PickupData):
    ws.append(bold(ws, [title], TITLE))
    ws.append(["参保区域", d.region_name, "单位社保编码", d.employer.code, "单位名称（盖章）",
               d.employer.name])
    ws.append(["交接单号", d.pickup.number, "领卡日期", date_zh(d.day)])


def distribution_roster(d: PickupData) -> bytes:
    wb, ws = sheet("发放花名册", [8, 14, 22, 14, 18, 30])
    _head(ws, f"{d.city.name}{texts.ROSTER}{texts.ROSTER_ALSO}", d)
    ws.append(bold(ws, ["序号", "姓名", "身份证号", "社保卡号", "本人签字", "备注"]))
    for ln in d.lines:
        ws.append([ln.seq, ln.person.name, ln.person.id_number, ln.card_masked, None, ln.remark or None])
    ws.append([f"共计 {len(d.lines)} 人"])
    ws.append([])
    ws.append(["单位经办人：", None, "发放完成日期：", None, "单位盖章："])
    ws.append([texts.ROSTER_NOTE])
    return to_bytes(wb)


def return_register(d: PickupData) -> bytes:
    wb, ws = sheet("退回登记表", [8, 14, 22, 14, 18, 30])
    _head(ws, f"{d.city.name}{texts.RETURN_REGISTER}", d)
    ws.append(bold(ws, ["序号", "姓名", "身份证号", "社会保障卡号", "未发出原因", "备注"]))
    for i, ln in enumerate(d.outstanding, 1):
        ws.append([i, ln.person.name, ln.id_masked, ln.card_masked, ln.reason_label or None,
                   ln.note])
    ws.append([f"共计退回 {len(d.outstanding)} 张"])
    ws.append([])
    ws.append(["单位经办人签字：", None, "社保卡中心经办人签字：", None, "单位盖章："])
    ws.append([texts.REGISTER_NOTE])
    return to_bytes(wb)


SHEETS = {"distribution_roster": distribution_roster, "return_register": return_register}
