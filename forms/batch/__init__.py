"""Task forms of the batch family 批量制卡 (``processes/batch/*.bpmn``), keys ``batch.<task>``.

    batch.release       管理人员：审核比对结果，下发单位（确认表返回时限）
    batch.production    管理人员：送制卡厂制卡 / 结束批次
    batch.voucher       中心经办：登记单位申领凭证（经办人至多三名）
    batch.returns       中心经办：确认表回收登记、录入，核对申领汇总表
    batch.review        复核人：复核录入（逐人通过或退回在人员表格中）
    batch.acceptance    中心经办：到货验收（扫描或录入卡号）
    batch.followup      管理人员：确认表逾期未返回的督办

Persons are worked in the employer's grid (a page of the batch family), not in these forms:
a form carries what the diagram branches on and what the clerk signs for.
"""
from forms.batch import tasks, voucher  # noqa: F401  (register the forms)
