"""Forms of the card pages 卡片页面表单 (validated on the server like task forms): the voice
service line's temporary report, the formal report, lifting, PIN reset, the bank's debit
function, moving between regions and the activation of a round."""
from __future__ import annotations

from wtforms.validators import Length, Optional

from forms.base import TaskForm
from forms.fields import CheckboxField, DateField, RadioField, SelectField, StringField, make_choices
from forms.i18n import T
from forms.lifecycle.tasks import MSG_WHERE, REPLACE_VIA, InPerson
from forms.validators import Required, Rule, check_citizen_id, check_name


def check_last4(value: object) -> str:
    from wtforms.validators import ValidationError
    text = "".join(str(value).split())
    if len(text) != 4 or not text.isdigit():
        raise ValidationError(T("请录入手机号码的后 4 位数字", "Type the last 4 digits of the mobile"))
    return text


class HotlineForm(TaskForm):
    """电话临时挂失: the operator of the voice service line asks the identity questions."""

    title = T("电话临时挂失", "Temporary loss report by phone")

    id_number = StringField(T("持卡人身份证号码（来电人报）", "Holder's ID number (as the caller says)"),
                            [Required(), Rule(check_citizen_id)])
    holder_name = StringField(T("持卡人姓名", "Holder's name"), [Required(), Rule(check_name)])
    birth_date = DateField(T("持卡人出生日期", "Holder's date of birth"), [Required()])
    mobile_last4 = StringField(T("预留手机号码后 4 位", "Last 4 digits of the registered mobile"),
                               [Optional(), Rule(check_last4)],
                               description=T("平台登记了手机号码时必须答对", "Must match when a mobile is on record"))
    caller = StringField(T("来电人（本人或家属姓名）", "Caller (the holder or a relative)"),
                         [Required(), Length(max=30)])


class FormalLossForm(InPerson, TaskForm):
    title = T("正式挂失", "Formal loss report")

    replace_via = RadioField(T("补卡方式", "Replacement"), [Required(choose=True)],
                             choices=make_choices(REPLACE_VIA))
    replace_at = SelectField(T("办理补卡的窗口或网点", "Window or outlet"), [Optional()], choices=[])

    def cross_validate(self):
        if self.replace_via.data in ("instant", "outlet") and not self.replace_at.data:
            yield "replace_at", MSG_WHERE


class LiftForm(InPerson, TaskForm):
    title = T("解除挂失", "Lift the loss")


class PinResetForm(InPerson, TaskForm):
    title = T("柜台重置密码", "Reset the PIN at the counter")


class BankForm(InPerson, TaskForm):
    title = T("激活金融借记功能", "Activate the debit function")

    form_copy_seen = CheckboxField(T("已查验《确认表》打印复件（加盖社保卡业务专用章）",
                                     "The stamped copy of the confirmation form was seen"),
                                   [Required(message=T("须查验《确认表》打印复件", "The confirmation-form copy is needed"))])


class MoveForm(InPerson, TaskForm):
    title = T("跨区域迁移（卡内数据写入）", "Move to another region (rewrite the chip)")

    to_region = SelectField(T("迁入地（参保区域）", "New region"), [Required(choose=True)], choices=[])


class CardSearchForm(TaskForm):
    title = T("查询社会保障卡", "Find a card")

    q = StringField(T("社会保障卡号或持卡人身份证号码", "Card number or the holder's ID number"),
                    [Required(), Length(max=40)])

