"""Printed texts 单据文字 that the HTML and the Excel version of a form share (seed 001 annexes 4
and 5, adapted to the configured number of partner banks)."""
from __future__ import annotations

from app.procedures.batch.documents.words import count

ROSTER_TITLE = "用人单位职工社保卡个人信息比对花名册"
SUMMARY_TITLE = "用人单位社保卡申领汇总表"
NOT_RETURNED_TITLE = "《信息确认表》未返回人员汇总表"

FORMS_RECEIVED = "我单位确认收到《信息确认表》共计"
FORMS_RETURNED = "返回《信息确认表》共计"

NOT_RETURNED_NOTE = "说明：请单位将收到《信息确认表》但未返回的人员（即未申领人员）名单填入此表。"


def summary_notes(banks: int) -> list[str]:
    each = (f"并将{count(banks)}个银行申请人数各自分别予以填写" if banks > 1
            else "并将申请人数予以填写")
    return [
        "1、表中申请人数即为返回有效《信息确认表》的数量。",
        "2、用人单位可根据本单位人数和内部机构设置情况，设立两级单位，例如分公司、分厂、分院等，"
        "便于社保卡分发，但最多按两级单位，建议1000人以上的单位可分为两级单位，"
        "《信息确认表》按最小单位分别收集。",
        f"3、请在表格部门名称中填写各分部门详细名称，{each}，"
        "同时《信息确认表》的收集按照填写的情况分部门、分银行予以整理。",
    ]
