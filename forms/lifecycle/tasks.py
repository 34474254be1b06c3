"""Task forms of processes/lifecycle/: confirming a temporary loss report in person, and a
chip rewrite that did not succeed."""
from __future__ import annotations

from wtforms.validators import Length, Optional

from forms.base import TaskForm
from forms.fields import CheckboxField, RadioField, StringField, TextAreaField, make_choices
from forms.i18n import T
from forms.registry import register
from forms.validators import Required, Rule, check_citizen_id

DECISIONS = (("formal", T("正式挂失（停用原卡，办理补卡）", "Formal report (stop the card, replace it)")),
             ("lift", T("解除挂失（卡已找回）", "Lift the loss (the card was found)")))
REPLACE_VIA = (("instant", T("到合作银行制发卡窗口立等可取", "At a partner-bank window while waiting")),
               ("outlet", T("由代办网点受理（15个工作日内通知领卡）", "Through an outlet (notified within 15 working days)")),
               ("later", T("暂不补卡（持卡人以后到窗口申请）", "Not now (the holder applies later at a window)")))
MSG_ID_SEEN = T("须核验持卡人本人身份证原件", "The holder's ID card original must be seen")
MSG_WHERE = T("立等可取或网点受理须填写办理补卡的窗口或网点编号",
              "Give the window or outlet for the replacement")


class InPerson:
    """The holder in person with the ID card original (挂失、解挂、重置密码…)."""

    shown_id_number = StringField(T("持卡人出示的身份证号码（刷证或录入）", "ID number on the ID card shown"),
                                  [Required(), Rule(check_citizen_id)])
    id_seen = CheckboxField(T("已核验持卡人本人身份证原件", "The holder's ID card original was seen"),
                            [Required(message=MSG_ID_SEEN)])


@register
class ConfirmLossForm(InPerson, TaskForm):
    form_key = "lifecycle.confirm_loss"
    title = T("持证确认：正式挂失或解挂", "In person: formal report or lift")

    decision = RadioField(T("办理事项", "What the holder asks for"), [Required(choose=True)],
                          choices=make_choices(DECISIONS))
    replace_via = RadioField(T("补卡方式（正式挂失时）", "Replacement (formal report)"), [Optional()],
                             choices=make_choices(REPLACE_VIA))
    replace_at = StringField(T("办理补卡的窗口或网点编号", "Window or outlet code for the replacement"),
                             [Optional(), Length(max=32)])

    def cross_validate(self):
        if self.decision.data == "formal" and self.replace_via.data in ("instant", "outlet") \
                and not self.replace_at.data:
            yield "replace_at", MSG_WHERE


@register
class RewriteFailedForm(TaskForm):
    form_key = "lifecycle.rewrite_failed"
    title = T("写卡未成功处理", "The card was not rewritten")

    decision = RadioField(T("处理方式", "What to do"), [Required(choose=True)], choices=make_choices((
        ("retry", T("重新写卡（请将卡放回读卡器）", "Write again (put the card back in the reader)")),
        ("give_up", T("放弃迁移，参保地不变", "Give up: the region stays")))))
    note = TextAreaField(T("说明", "Note"), [Optional(), Length(max=200)])
