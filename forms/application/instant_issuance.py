"""Forms of the bank-window procedure 立等可取 (``processes/instant_issuance.bpmn``, S annex 2).

    correct_data            比对不成功：与申请人当场核实后更正并重新比对，或当场无法解决而终止
    confirm_old_card_stop   在本省已持卡：确认停用原卡（或申请人不同意，终止）
    card_write_failed       写卡失败：重试（可换一张半成品卡）或放弃
    handover                当场发卡：核验身份、签收

The acceptance task uses ``application`` (``forms.application.ApplicationForm``).
"""
from __future__ import annotations

from typing import Iterable

from wtforms.validators import Length, Optional

from forms.base import TaskForm
from forms.choices import SEXES
from forms.fields import (CheckboxField, DateField, RadioField, SelectField, StringField,
                          TextAreaField, make_choices, PLEASE_CHOOSE)
from forms.i18n import T, get_locale
from forms.registry import register
from forms.validators import NotAfterToday, Required, Rule, check_name

MSG_REASON = T("请填写原因", "Please give the reason")
MSG_CORRECTED_FIELD = T("重新比对前请填写核实后的“{label}”",
                        "Fill in the checked “{label}” before checking again")

# correct_data
CORRECTED, UNSOLVABLE = "corrected", "unsolvable"
CORRECT_DECISIONS = (
    (CORRECTED, T("已与申请人当场核实更正，重新比对", "Checked and corrected with the applicant: check again")),
    (UNSOLVABLE, T("当场无法解决，终止制卡", "Cannot be solved on the spot: stop")),
)
# at an outlet the applicant has gone home by the time the check fails: the clerk calls them
OUTLET = "outlet"  # ``application.channel`` of an outlet application (application.record)
OUTLET_CORRECT_DECISIONS = (
    (CORRECTED, T("已联系申请人核实后更正，重新比对",
                  "Contacted the applicant, checked and corrected the data: check again")),
    (UNSOLVABLE, T("无法联系申请人或无法核实更正，终止制卡",
                   "The applicant cannot be reached or the data cannot be checked: stop")),
)
CHECKED_DOCUMENTS = (
    ("resident_id", T("居民身份证原件", "Original resident ID card")),
    ("household_register", T("户口簿", "Household register booklet")),
    ("police_certificate", T("派出所证明", "Certificate of the police station")),
    ("other", T("其他", "Other")),
)

# confirm_old_card_stop
STOP, REFUSE = "stop", "refuse"
STOP_DECISIONS = (
    (STOP, T("申请人同意停用原卡，继续制卡", "The applicant agrees to stop the existing card: continue")),
    (REFUSE, T("申请人不同意停用原卡，终止申领", "The applicant does not agree: end the application")),
)

# card_write_failed
RETRY, ABANDON = "retry", "abandon"
WRITE_FAILED_DECISIONS = (
    (RETRY, T("重新制卡", "Make the card again")),
    (ABANDON, T("放弃制卡，终止申领", "Give up: end the application")),
)


@register
class CorrectDataForm(TaskForm):
    """比对不成功的，与申请人当场核实，再行比对；当场无法解决的，终止制卡流程 (S annex 2)."""

    form_key = "application.correct_data"
    legacy_keys = ("correct_data",)
    title = T("公安比对不一致：核实更正", "Police check failed: verify and correct")

    decision = RadioField(T("处理结果", "Decision"), [Required(choose=True)],
                          choices=make_choices(CORRECT_DECISIONS), default="")
    name = StringField(T("核实后的姓名", "Checked name"), [Optional(), Rule(check_name)])
    sex = RadioField(T("核实后的性别", "Checked sex"), [Optional()], choices=make_choices(SEXES),
                     default="")
    birth_date = DateField(T("核实后的出生日期", "Checked date of birth"),
                           [Optional(), NotAfterToday()])
    checked_document = SelectField(T("核实所用证件", "Document checked"), [Optional()],
                                   choices=make_choices(CHECKED_DOCUMENTS, PLEASE_CHOOSE),
                                   default="")
    reason = TextAreaField(T("无法解决的原因", "Why it cannot be solved"),
                           [Optional(), Length(max=200)])

    def fit_to_task(self, data: dict) -> None:
        """Shape the form shown for the task from its data: when the police check said no
        correction can make the next check pass (``police.retry`` false: a household
        elsewhere, a number the register does not know ...), only ending is offered, with the
        register's reason as the reason (the clerk may edit it). At an outlet the choices
        say the clerk contacts the applicant (who is not there), not "on the spot"."""
        application = data.get("application") if isinstance(data, dict) else None
        at_outlet = isinstance(application, dict) and application.get("channel") == OUTLET
        decisions = OUTLET_CORRECT_DECISIONS if at_outlet else CORRECT_DECISIONS
        self.decision.choices = make_choices(decisions)
        police = data.get("police") if isinstance(data, dict) else None
        if not isinstance(police, dict) or police.get("match") is not False \
                or police.get("retry") is not False:
            return
        self.decision.choices = make_choices([c for c in decisions if c[0] == UNSOLVABLE])
        self.decision.data = UNSOLVABLE
        for name in ("name", "sex", "birth_date", "checked_document"):
            if name in self:
                del self[name]
        if not self.reason.data:
            en = get_locale() == "en"
            texts = [(r.get("en") if en else None) or r.get("zh") or ""
                     for r in police.get("reasons") or [] if isinstance(r, dict)]
            self.reason.data = ("; " if en else "；").join(t for t in texts if t)[:200] or None

    def cross_validate(self) -> Iterable[tuple[str, T]]:
        if self.decision.data == UNSOLVABLE and not self.reason.errors and not self.reason.data:
            yield "reason", MSG_REASON
        if self.decision.data == CORRECTED:
            for name in ("name", "sex", "birth_date"):
                field = self[name]
                if not field.errors and field.data in (None, ""):
                    yield name, MSG_CORRECTED_FIELD.format(label=field.label.text)


@register
class ConfirmOldCardStopForm(TaskForm):
    """在本省已制卡的，按照相关规定办理卡的停用手续后，继续制卡流程 (S annex 2)."""

    form_key = "application.confirm_old_card_stop"
    legacy_keys = ("confirm_old_card_stop",)
    title = T("在本省已持卡：停用原卡", "Already holds a card in the province: stop it")

    decision = RadioField(T("处理结果", "Decision"), [Required(choose=True)],
                          choices=make_choices(STOP_DECISIONS), default="")
    applicant_signed = CheckboxField(T("申请人已在申领表“本人同意停用该社保卡”处签字",
                                       "The applicant signed “I agree to stop the existing card” "
                                       "on the form"))
    old_card_returned = CheckboxField(T("原卡已收回", "The existing card was handed in"))
    reason = TextAreaField(T("不同意的原因", "Reason for refusing"), [Optional(), Length(max=200)])

    def cross_validate(self) -> Iterable[tuple[str, T]]:
        if self.decision.data == STOP and not self.applicant_signed.data:
            yield "applicant_signed", T("停用原卡须申请人签字同意",
                                        "Stopping the existing card needs the applicant's signed consent")


@register
class CardWriteFailedForm(TaskForm):
    """The card station could not make the card: try again or give up (with a reason)."""

    form_key = "application.card_write_failed"
    legacy_keys = ("card_write_failed",)
    title = T("制卡失败：重试或放弃", "Card production failed: retry or give up")

    decision = RadioField(T("处理方式", "Decision"), [Required(choose=True)],
                          choices=make_choices(WRITE_FAILED_DECISIONS), default="")
    blank_card_spoiled = CheckboxField(
        T("原半成品卡已损坏，作报废处理并换一张", "The blank card is spoiled: write it off and use another"),
        description=T("卡面已打印或芯片已部分写入时勾选",
                      "Tick when the face was printed or the chip partly written"))
    reason = TextAreaField(T("原因", "Reason"), [Optional(), Length(max=200)])

    def cross_validate(self) -> Iterable[tuple[str, T]]:
        if self.decision.data == ABANDON and not self.reason.errors and not self.reason.data:
            yield "reason", MSG_REASON


@register
class HandoverForm(TaskForm):
    """社保卡制发服务窗口工作人员当场发给申请人 (S annex 2)."""

    form_key = "application.handover"
    legacy_keys = ("handover",)
    title = T("当场发卡", "Hand the card over")

    identity_checked = CheckboxField(T("已核验申请人有效身份证件原件", "The applicant's original ID was checked"),
                                     [Required(message=T("发卡前须核验申请人身份证件",
                                                         "Check the applicant's ID before handing over"))])
    card_checked = CheckboxField(T("已与申请人核对卡面信息", "The card face was checked with the applicant"),
                                 [Required(message=T("请与申请人核对卡面信息",
                                                     "Check the card face with the applicant"))])
    receipt_signed = CheckboxField(T("申请人已签收", "The applicant signed the receipt"),
                                   [Required(message=T("须申请人签收", "The applicant must sign the receipt"))])
    pin_notice_given = CheckboxField(T("已告知初始密码及修改方式", "Told the initial PIN and how to change it"))
    remarks = TextAreaField(T("备注", "Remarks"), [Optional(), Length(max=200)])
