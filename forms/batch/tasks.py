"""The batch family's task forms but the voucher (``voucher.py``)."""
from __future__ import annotations

import re

from wtforms import IntegerField
from wtforms.validators import Length, Optional, ValidationError

from forms.base import TaskForm
from forms.fields import CheckboxField, RadioField, TextAreaField, make_choices
from forms.i18n import T
from forms.registry import register
from forms.validators import Between, Required, Rule

MAX_CARDS = 5000  # one employer's delivery at most; a bigger pile is counted in parts


@register
class ReleaseForm(TaskForm):
    """The manager reviews the comparison's figures and sends the rosters and confirmation
    forms to the employers, setting the working days they have to return the forms."""

    form_key = "batch.release"
    title = T("审核比对结果并下发单位", "Review the checks and send to the employers")

    return_working_days = IntegerField(
        T("确认表返回时限（工作日）", "Working days to return the confirmation forms"),
        [Required(), Between(3, 60, T("应为 3 至 60 个工作日", "Between 3 and 60 working days"))],
        default=10,
        description=T("自下发之日起算；到期前 2 个工作日短信提醒单位经办人",
                      "Counted from today; the agents get an SMS 2 working days before"))
    confirm = CheckboxField(T("已核对比对结果，下发花名册和确认表", "Checked: send the rosters and forms"),
                            [Required(message=T("请勾选确认", "Tick to confirm"))])


@register
class ProductionForm(TaskForm):
    form_key = "batch.production"
    title = T("送制卡厂制卡", "Send to the card manufacturer")

    decision = RadioField(
        T("本次操作", "Action"),
        [Required()],
        choices=make_choices([
            ("send", T("将已提交申领的单位送制卡厂制卡", "Send the employers that applied to production")),
            ("close", T("结束本批次（所有单位已办结）", "Close the batch (every employer is done)"))]))


@register
class ReturnsForm(TaskForm):
    """The clerk has recorded every returned form in the grid and the employer's summary
    (申领汇总表); the platform reconciles the two when this is completed."""

    form_key = "batch.returns"
    title = T("确认表回收登记与录入", "Record the returned confirmation forms")

    forms_received = IntegerField(T("单位确认收到《确认表》（份）", "Forms the employer received"),
                                  [Required(), Between(0, 1_000_000)])
    forms_returned = IntegerField(T("单位返回《确认表》（份）", "Forms the employer returned"),
                                  [Required(), Between(0, 1_000_000)])
    confirm = CheckboxField(T("已在人员表格中逐人登记，并录入单位申领汇总表",
                              "Every form is recorded in the grid and the summary is entered"),
                            [Required(message=T("请先在人员表格中完成登记并勾选",
                                                "Record the forms in the grid first, then tick"))])

    def cross_validate(self):
        if self.field_ok("forms_received") and self.field_ok("forms_returned") \
                and self.forms_returned.data > self.forms_received.data:
            yield "forms_returned", T("返回份数不能多于收到份数", "More forms returned than received")


@register
class ReviewForm(TaskForm):
    form_key = "batch.review"
    title = T("复核录入", "Review the entries")

    confirm = CheckboxField(T("已在人员表格中逐人复核（通过或退回）并签名", "Every entry reviewed in the grid"),
                            [Required(message=T("请先逐人复核并勾选", "Review every entry first, then tick"))])
    note = TextAreaField(T("复核意见", "Reviewer's note"), [Optional(), Length(max=500)])


def card_numbers(value: object) -> list[str]:
    """Card numbers scanned or typed, one per line (spaces, commas also separate)."""
    items = [x.upper() for x in re.split(r"[\s,，;；]+", str(value or "")) if x]
    if len(items) > MAX_CARDS:
        raise ValidationError(T("一次最多 {n} 张卡", "At most {n} cards at a time").format(n=MAX_CARDS))
    bad = [x for x in items if not re.fullmatch(r"[A-Z0-9]{9}", x)]
    if bad:
        raise ValidationError(T("卡号应为 9 位字母或数字：{x}", "A card number has 9 letters or digits: {x}")
                              .format(x="、".join(bad[:5])))
    return items


@register
class AcceptanceForm(TaskForm):
    """到货验收: the cards of one employer, counted by scanning or typing their numbers."""

    form_key = "batch.acceptance"
    title = T("到货验收", "Delivery acceptance")

    scanned = TextAreaField(T("清点到的卡号（扫描或录入，每行一个）", "Card numbers counted (one per line)"),
                            [Required(), Rule(lambda v: "\n".join(card_numbers(v)))])
    damaged = TextAreaField(T("损坏的卡号（退回重制）", "Damaged cards (sent back to be remade)"),
                            [Optional(), Rule(lambda v: "\n".join(card_numbers(v)))])


@register
class FollowupForm(TaskForm):
    form_key = "batch.followup"
    title = T("确认表逾期未返回：督办", "Confirmation forms overdue: follow up")

    note = TextAreaField(T("督办情况", "What was done"), [Required(), Length(max=500)])
