"""States of the batch family 批次状态, with the clerk's words for each (stored as plain strings
with CHECK constraints; the labels are what pages show)."""
from __future__ import annotations

from enum import StrEnum

from app.common.i18n import T


class Eligibility(StrEnum):
    """Where a person of a batch stands after the checks, in the order they are applied
    (seed 001 §2.2, §3.1-3.2; seed 000 §4.4). Each person is counted under the first rule
    that applies."""

    PENDING = "pending"                              # 待比对
    EXCLUDED_AFTER_CUTOFF = "excluded_after_cutoff"  # 截止日后参保
    EXCLUDED_INSURANCE = "excluded_insurance"        # 未参加职工基本医疗保险
    HELD_DUPLICATE_REGION = "held_duplicate_region"  # 多区域重复参保，暂缓
    NOT_IN_REGISTER = "not_in_register"              # 公安户籍库无此人
    NOT_LOCAL_HOUSEHOLD = "not_local_household"      # 非本市户籍
    NO_SECOND_GEN_ID = "no_second_gen_id"            # 未领二代身份证
    POLICE_MISMATCH = "police_mismatch"              # 姓名或性别与公安不一致
    ELIGIBLE = "eligible"                            # 可制卡


#: The order of the rules; the JSON keys of ``batch-import --json`` are these values.
RULE_ORDER = (Eligibility.EXCLUDED_AFTER_CUTOFF, Eligibility.EXCLUDED_INSURANCE,
              Eligibility.HELD_DUPLICATE_REGION, Eligibility.NOT_IN_REGISTER,
              Eligibility.NOT_LOCAL_HOUSEHOLD, Eligibility.NO_SECOND_GEN_ID,
              Eligibility.POLICE_MISMATCH)

ELIGIBILITY_LABELS = {
    Eligibility.PENDING: T("待比对", "Not yet compared"),
    Eligibility.EXCLUDED_AFTER_CUTOFF: T("数据截止日后参保，本批不制卡",
                                         "Insured after the batch's cut-off date"),
    Eligibility.EXCLUDED_INSURANCE: T("未参加职工基本医疗保险（仅住院医疗或大病医疗等），暂不发卡",
                                      "Not in the employees' basic medical insurance (inpatient or "
                                      "serious-illness cover only)"),
    Eligibility.HELD_DUPLICATE_REGION: T("在两个及以上参保区域重复参加职工医保，处理重复参保后再制卡",
                                         "Insured for basic medical insurance in two or more regions: "
                                         "no card until the duplicate is resolved"),
    Eligibility.NOT_IN_REGISTER: T("公安户籍库中无此人，请核对身份证号码",
                                   "Not in the police household register: check the ID number"),
    Eligibility.NOT_LOCAL_HOUSEHOLD: T("非本市户籍，暂不发卡", "Household registered outside the city"),
    Eligibility.NO_SECOND_GEN_ID: T("未领取第二代居民身份证", "Has no second-generation ID card"),
    Eligibility.POLICE_MISMATCH: T("社保登记的姓名或性别与公安户籍不一致",
                                   "Name or sex differs from the police household register"),
    Eligibility.ELIGIBLE: T("可制卡", "Eligible"),
}


class BatchStatus(StrEnum):
    IMPORTING = "importing"        # 数据导入比对中
    CHECKED = "checked"            # 已比对，待下发
    CONFIRMING = "confirming"      # 单位确认申领中
    IN_PRODUCTION = "in_production"  # 制卡中
    DELIVERED = "delivered"        # 已到货
    CLOSED = "closed"              # 已结束
    FAILED = "failed"              # 导入失败


BATCH_LABELS = {
    BatchStatus.IMPORTING: T("数据导入比对中", "Importing and checking"),
    BatchStatus.CHECKED: T("已比对，待下发单位", "Checked, not yet sent to employers"),
    BatchStatus.CONFIRMING: T("单位确认申领中", "Employers confirming"),
    BatchStatus.IN_PRODUCTION: T("制卡中", "In production"),
    BatchStatus.DELIVERED: T("已到货", "Delivered"),
    BatchStatus.CLOSED: T("已结束", "Closed"),
    BatchStatus.FAILED: T("导入失败", "Import failed"),
}


class EmployerStatus(StrEnum):
    """An employer application 单位申领 (seed 001 §4-§5)."""

    WAITING = "waiting"            # 待下发
    CONFIRMING = "confirming"      # 确认表回收中
    ENTERING = "entering"          # 录入中
    REVIEWING = "reviewing"        # 复核中
    SUBMITTED = "submitted"        # 已申领（待制卡）
    IN_PRODUCTION = "in_production"  # 制卡中
    DELIVERED = "delivered"        # 已到货，待验收
    ACCEPTED = "accepted"          # 已验收
    NOTIFIED = "notified"          # 已通知单位领卡


EMPLOYER_LABELS = {
    EmployerStatus.WAITING: T("待下发", "Not yet sent"),
    EmployerStatus.CONFIRMING: T("确认表回收中", "Collecting confirmation forms"),
    EmployerStatus.ENTERING: T("录入中", "Data entry"),
    EmployerStatus.REVIEWING: T("复核中", "Under review"),
    EmployerStatus.SUBMITTED: T("已申领，待制卡", "Applied, awaiting production"),
    EmployerStatus.IN_PRODUCTION: T("制卡中", "In production"),
    EmployerStatus.DELIVERED: T("已到货，待验收", "Delivered, awaiting acceptance"),
    EmployerStatus.ACCEPTED: T("已验收", "Accepted"),
    EmployerStatus.NOTIFIED: T("已通知单位领卡", "Employer notified"),
}


class Entry(StrEnum):
    """A person's confirmation form 确认表 at the centre (seed 001 §4.2)."""

    OUT = "out"                    # 已发出，未返回
    NOT_RETURNED = "not_returned"  # 未返回（单位报未返回）
    ENTERED = "entered"            # 已录入，待复核
    SENT_BACK = "sent_back"        # 复核退回
    ACCEPTED = "accepted"          # 复核通过


ENTRY_LABELS = {
    Entry.OUT: T("确认表未返回", "Form not yet back"),
    Entry.NOT_RETURNED: T("未返回（单位已报）", "Not returned (reported by the employer)"),
    Entry.ENTERED: T("已录入，待复核", "Entered, awaiting review"),
    Entry.SENT_BACK: T("复核退回，待更正", "Sent back by the reviewer"),
    Entry.ACCEPTED: T("复核通过", "Accepted by the reviewer"),
}


class Production(StrEnum):
    """A person's card at the manufacturer and on arrival (到货验收, seed 001 §5.1)."""

    ORDERED = "ordered"      # 已送制卡
    MADE = "made"            # 已制成，待验收
    ACCEPTED = "accepted"    # 到货验收合格
    MISSING = "missing"      # 到货短缺，退回重制
    DAMAGED = "damaged"      # 卡片损坏，退回重制


PRODUCTION_LABELS = {
    Production.ORDERED: T("已送制卡厂", "Sent to the manufacturer"),
    Production.MADE: T("已制成，待验收", "Made, awaiting acceptance"),
    Production.ACCEPTED: T("验收合格", "Accepted"),
    Production.MISSING: T("到货短缺，重制中", "Missing on delivery, being remade"),
    Production.DAMAGED: T("卡片损坏，重制中", "Damaged, being remade"),
}
