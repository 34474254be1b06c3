"""The employer pickup's and the correction's task forms."""
from __future__ import annotations

from wtforms.validators import Length, Optional

from forms.base import TaskForm
from forms.batch.tasks import card_numbers
from forms.choices import SEXES
from forms.fields import CheckboxField, RadioField, StringField, TextAreaField, make_choices
from forms.i18n import T
from forms.registry import register
from forms.validators import Required, Rule, check_citizen_id, check_name


@register
class AgentForm(TaskForm):
    """核验领卡人: the introduction letter 领取社会保障卡单位介绍信 names the agent; the agent shows
    their ID card; both must be the agent of the employer's current voucher."""

    form_key = "distribution.agent"
    title = T("核验领卡人", "Check the agent")

    agent_name = StringField(T("介绍信上的领卡人姓名", "Agent's name on the letter"),
                             [Required(), Rule(check_name)])
    agent_id_number = StringField(T("介绍信上的领卡人身份证号码", "Agent's ID number on the letter"),
                                  [Required(), Rule(check_citizen_id)])
    shown_id_number = StringField(T("领卡人出示的身份证号码（刷卡或录入）", "ID number on the ID card shown"),
                                  [Required(), Rule(check_citizen_id)])
    seal_checked = CheckboxField(T("已核验单位公章", "The employer's seal was checked"),
                                 [Required(message=T("请核验单位公章后勾选", "Check the employer's seal, then tick"))])

    def cross_validate(self):
        if self.field_ok("agent_id_number") and self.field_ok("shown_id_number") \
                and self.agent_id_number.data != self.shown_id_number.data:
            yield "shown_id_number", T("出示的身份证与介绍信上的领卡人不是同一人",
                                       "The ID card shown is not the agent's on the letter")


@register
class CountForm(TaskForm):
    form_key = "distribution.count"
    title = T("当面清点卡片", "Count the cards together")

    scanned = TextAreaField(T("清点的卡号（扫描或录入，每行一个）", "Card numbers counted (one per line)"),
                            [Required(), Rule(lambda v: "\n".join(card_numbers(v)))])


@register
class SignedForm(TaskForm):
    form_key = "distribution.signed"
    title = T("交接单签字", "Sign the handover sheet")

    signed = CheckboxField(T("领卡人和经办人已在交接单（一式两联）上签字，单位已盖章",
                             "The agent and the clerk signed both copies; the employer stamped them"),
                           [Required(message=T("请双方签字后勾选", "Both sign first, then tick"))])


@register
class RosterBackForm(TaskForm):
    form_key = "distribution.roster_back"
    title = T("发放花名册交回", "The signed roster is back")

    confirm = CheckboxField(T("已在发放登记页面逐人登记（签字领取、未发出、信息错误）并上传扫描件",
                              "Every line is recorded on the roster page and the scan uploaded"),
                            [Required(message=T("请先逐人登记后勾选", "Record every line first, then tick"))])


@register
class ReturnDoneForm(TaskForm):
    form_key = "distribution.return_done"
    title = T("退卡回收", "Cards returned")

    confirm = CheckboxField(T("已在退卡页面逐张登记，双方清点无误并在退卡回收单上签字盖章",
                              "Every returned card is recorded, counted by both and the slip signed"),
                            [Required(message=T("请先登记退回的卡后勾选", "Record the returned cards first, then tick"))])


@register
class FollowupForm(TaskForm):
    form_key = "distribution.followup"
    title = T("逾期督办", "Overdue: follow up")

    note = TextAreaField(T("督办情况", "What was done"), [Required(), Length(max=500)])


DOCUMENTS = (("id_card", T("居民身份证原件", "Resident ID card (original)")),
             ("household_register", T("户口簿原件", "Household register (original)")))


@register
class CorrectionForm(TaskForm):
    """信息更正: the person came with the ID card or the household register (within a week)."""

    form_key = "distribution.correction"
    title = T("信息更正", "Correct the data")

    document = RadioField(T("本人出示的证件", "Document shown"), [Required(choose=True)],
                          choices=make_choices(DOCUMENTS))
    name = StringField(T("正确的姓名", "Correct name"), [Optional(), Rule(check_name)],
                       description=T("无误的项目留空", "Leave empty what was right"))
    sex = RadioField(T("正确的性别", "Correct sex"), [Optional()], choices=make_choices(SEXES))
    id_number = StringField(T("正确的身份证号码", "Correct ID number"), [Optional(), Rule(check_citizen_id)])
    photo = CheckboxField(T("照片有误，已重新采集", "The photo was wrong and was taken again"))
    note = StringField(T("备注", "Remarks"), [Optional(), Length(max=200)])

    def cross_validate(self):
        if not any((self.name.data, self.sex.data, self.id_number.data, self.photo.data)):
            yield None, T("请至少填写一项更正的信息", "Give at least one corrected item")
