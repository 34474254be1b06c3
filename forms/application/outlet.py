"""Forms of the outlet procedure 代办网点 (``processes/outlet_application.bpmn``, S §1.3-2).

    produce_card        制卡窗口：取半成品卡放入读卡器
    send_to_outlet      制卡窗口：将制好的卡交回代办网点
    receive_at_outlet   代办网点：接收卡片
    pickup              代办网点：申请人本人或代领人领卡
    overdue_review      管理人员：超过15个工作日时限的督办

The acceptance and correction tasks use ``application`` and ``correct_data``.
"""
from __future__ import annotations

import re
from typing import Iterable

from wtforms.validators import Length, Optional, ValidationError

from forms.base import TaskForm
from forms.choices import ID_TYPES, RESIDENT_ID
from forms.fields import (PLEASE_CHOOSE, CheckboxField, FieldGroup, FieldGroups, GroupedFields,
                          RadioField, SelectField, StringField, TextAreaField, make_choices)
from forms.i18n import T
from forms.registry import register
from forms.validators import Required, Rule, check_id_number, check_name

MSG_BANK_CARD = T("银行卡号应为16-19位数字", "A bank card number has 16-19 digits")


def check_bank_card_number(value: object) -> str:
    digits = re.sub(r"[\s-]", "", str(value))
    if not re.fullmatch(r"\d{16,19}", digits):
        raise ValidationError(MSG_BANK_CARD)
    return digits


@register
class ProduceCardForm(TaskForm):
    """The window clerk takes a blank card 半成品卡 from stock and puts it in the reader."""

    form_key = "application.produce_card"
    legacy_keys = ("produce_card",)
    title = T("制卡：放入半成品卡", "Produce the card: insert a blank card")

    bank_card_number = StringField(
        T("半成品卡银行卡号", "Bank card number of the blank card"),
        [Optional(), Rule(check_bank_card_number)],
        description=T("留空则由系统分配本窗口下一张可用的半成品卡",
                      "Leave empty to use the window's next available blank card"))
    card_inserted = CheckboxField(T("半成品卡已放入读卡器", "The blank card is in the reader"),
                                  [Required(message=T("请先将半成品卡放入读卡器",
                                                      "Put the blank card in the reader first"))])


@register
class SendToOutletForm(TaskForm):
    """The window sends the finished card back to the outlet (制卡后交原代办网点)."""

    form_key = "application.send_to_outlet"
    legacy_keys = ("send_to_outlet",)
    title = T("制好的卡交回代办网点", "Send the card to the outlet")

    card_checked = CheckboxField(T("卡面及芯片信息已核对", "Card face and chip were checked"),
                                 [Required(message=T("发出前请核对卡片", "Check the card before sending it"))])
    handover_sheet = StringField(T("交接单号", "Handover sheet number"), [Optional(), Length(max=30)])
    remarks = TextAreaField(T("备注", "Remarks"), [Optional(), Length(max=200)])


@register
class ReceiveAtOutletForm(TaskForm):
    """The outlet receives the card from the window."""

    form_key = "application.receive_at_outlet"
    legacy_keys = ("receive_at_outlet",)
    title = T("代办网点接收卡片", "Receive the card at the outlet")

    received = CheckboxField(T("卡片已收到，卡面完好、信息与申领一致",
                               "Card received, undamaged, data as applied for"),
                             [Required(message=T("请确认已收到卡片", "Confirm that the card arrived"))])
    remarks = TextAreaField(T("备注", "Remarks"), [Optional(), Length(max=200)])


HOLDER, PROXY = "holder", "proxy"
PICKUP_BY = (
    (HOLDER, T("本人领取", "The applicant in person")),
    (PROXY, T("代领", "A proxy collects it")),
)
PROXY_FIELDS = ("proxy_name", "proxy_id_type", "proxy_id_number", "proxy_documents_checked")
MSG_PROXY = T("他人代领的，须填写{what}", "For a proxy, {what} is required")
MSG_PROXY_DOCS = T("代领须查验持卡人身份证原件及户口簿、代领人身份证原件及户口簿",
                   "A proxy must show the holder's ID original and household register and their "
                   "own ID original and household register")


@register
class PickupForm(GroupedFields, TaskForm):
    """领卡: in person with the ID original, or by a proxy with both IDs and household
    registers (Y §3.2.2); the person taking the card signs. The clerk first says who
    collects the card; the proxy's details are a group of their own, shown, required and
    kept only when a proxy collects it (代领)."""

    form_key = "application.pickup"
    legacy_keys = ("pickup",)
    title = T("领取社保卡", "Card pickup")
    field_groups = FieldGroups((
        FieldGroup("proxy", T("代领人信息（仅代领时填写）",
                              "Proxy's details (only when a proxy collects the card)"),
                   PROXY_FIELDS, show_when=("picked_up_by", PROXY)),
    ))

    picked_up_by = RadioField(T("领卡人", "Picked up by"), [Required(choose=True)],
                              choices=make_choices(PICKUP_BY), default="")
    holder_id_checked = CheckboxField(T("已查验持卡人身份证原件", "The holder's original ID was checked"),
                                      [Required(message=T("须查验持卡人身份证原件",
                                                          "Check the holder's original ID"))])
    proxy_name = StringField(T("代领人姓名", "Proxy's name"), [Optional(), Rule(check_name)])
    proxy_id_type = SelectField(T("代领人证件类型", "Proxy's ID document type"), [Optional()],
                                choices=make_choices(ID_TYPES, PLEASE_CHOOSE), default=RESIDENT_ID)
    proxy_id_number = StringField(T("代领人证件号码", "Proxy's ID document number"), [Optional()])
    proxy_documents_checked = CheckboxField(
        T("已查验持卡人及代领人身份证原件和户口簿",
          "The holder's and the proxy's original IDs and household registers were checked"))
    receipt_signed = CheckboxField(T("领卡人已签收", "The person taking the card signed"),
                                   [Required(message=T("须领卡人签收", "The person taking the card must sign"))])
    remarks = TextAreaField(T("备注", "Remarks"), [Optional(), Length(max=200)])

    def validate_proxy_id_number(self, field) -> None:
        if field.data:
            field.data = check_id_number(field.data, self.proxy_id_type.data or RESIDENT_ID)

    def cross_validate(self) -> Iterable[tuple[str, T]]:
        if self.picked_up_by.data != PROXY:
            return
        for name, what in (("proxy_name", T("代领人姓名", "the proxy's name")),
                           ("proxy_id_number", T("代领人证件号码", "the proxy's ID number"))):
            if not self[name].errors and not self[name].data:
                yield name, MSG_PROXY.format(what=what)
        if not self.proxy_documents_checked.data:
            yield "proxy_documents_checked", MSG_PROXY_DOCS

    def cleaned(self) -> dict:
        data = super().cleaned()
        if data["picked_up_by"] != PROXY:
            data.update(proxy_name=None, proxy_id_type=None, proxy_id_number=None,
                        proxy_documents_checked=False)
        return data


URGE_WINDOW, INFORM_APPLICANT, OTHER = "urge_window", "inform_applicant", "other"
OVERDUE_ACTIONS = (
    (URGE_WINDOW, T("督促制卡窗口尽快制卡", "Urge the window to produce the card")),
    (INFORM_APPLICANT, T("已向申请人说明情况", "The applicant was informed")),
    (OTHER, T("其他", "Other")),
)


@register
class OverdueReviewForm(TaskForm):
    """督办: the 15-working-day limit passed before the card reached the outlet."""

    form_key = "application.overdue_review"
    legacy_keys = ("overdue_review",)
    title = T("超期督办", "Overdue: follow up")

    action = RadioField(T("督办措施", "Action taken"), [Required(choose=True)],
                        choices=make_choices(OVERDUE_ACTIONS), default="")
    note = TextAreaField(T("督办说明", "Note"), [Required(), Length(max=500)])
