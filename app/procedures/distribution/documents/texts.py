"""Printed texts 单据文字 of the distribution documents that the HTML and the Excel version share
(seed 000 §3, seed 001 §5.3-5.4), and the copies of the forms printed in two (一式两联)."""
from __future__ import annotations

HANDOVER = "社会保障卡交接单"
PICKUP_SLIP = "社会保障卡领取单"
ROSTER = "社会保障卡发放花名册"
ROSTER_ALSO = "（社保卡发放清单）"
USAGE_NOTICE = "社会保障卡使用须知"
RETURN_SLIP = "社会保障卡退卡回收单"
RETURN_REGISTER = "社会保障卡退回登记表"
PROVINCE_SLIP = "社会保障卡退卡回收单"      # after the province's short name: 浙江社会保障卡退卡回收单

#: (copy, who keeps it) of the two-copy forms; the provincial slip's first copy goes to the
#: province (its name is put in)
CENTRE_COPY = ("一", "社保卡中心留存")
EMPLOYER_COPY = ("二", "用人单位留存")
HANDOVER_COPIES = (CENTRE_COPY, EMPLOYER_COPY)
RETURN_COPIES = (CENTRE_COPY, EMPLOYER_COPY)


def province_copies(province_full: str) -> tuple[tuple[str, str], tuple[str, str]]:
    return (("一", f"报送{province_full}人力资源和社会保障厅"), ("二", "社保卡中心留存"))


ROSTER_NOTE = ("说明：社会保障卡由持卡人本人签字领取；用人单位应自领卡之日起3个工作日内发放完毕，"
               "将签字的花名册加盖单位公章后交回社保卡中心，单位留复印件备存。未发出的卡和信息错误的卡"
               "请在备注栏注明原因，分别管理，一并退回社保卡中心。")
REGISTER_NOTE = ("说明：单位领卡后6个月内未发放到本人的社会保障卡，应退回社保卡中心并填写本表，"
                 "逐张注明未发出原因。")
