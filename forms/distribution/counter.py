"""Pickup at the centre's counter 个人领卡 / 代领 (seed 000 §3(二)2): in person with the ID card
original; by proxy with the holder's ID original and household register AND the proxy's own."""
from __future__ import annotations

import re

from wtforms.validators import Optional, ValidationError

from forms.base import TaskForm
from forms.fields import CheckboxField, FieldGroup, FieldGroups, RadioField, StringField, make_choices
from forms.i18n import T
from forms.registry import register
from forms.validators import Required, Rule, check_citizen_id, check_name

IN_PERSON, PROXY = "holder", "proxy"
WHO = ((IN_PERSON, T("本人领取", "The holder in person")), (PROXY, T("他人代领", "A proxy")))
MSG_REQUIRED_FOR_PROXY = T("代领须核验：{what}", "A proxy pickup needs: {what}")


def check_card_or_id(value: object) -> str:
    text = re.sub(r"\s+", "", str(value)).upper()
    if re.fullmatch(r"[A-Z0-9]{9}", text):
        return text
    try:
        return check_citizen_id(text)
    except ValidationError:
        raise ValidationError(T("请录入 9 位社会保障卡号或持卡人的 18 位身份证号码",
                                "Type the 9-character card number or the holder's 18-character ID number"))


@register
class HolderPickupForm(TaskForm):
    form_key = "distribution.holder"
    title = T("个人领卡 / 代领", "Pickup by the holder or a proxy")
    field_groups = FieldGroups((
        FieldGroup("proxy", T("代领人（他人代领时填写）", "Proxy (only when a proxy collects)"),
                   ("proxy_name", "proxy_id_number", "holder_household_seen", "proxy_id_seen",
                    "proxy_household_seen"), show_when=("who", PROXY)),
    ))

    card = StringField(T("社会保障卡号或持卡人身份证号码", "Card number or the holder's ID number"),
                       [Required(), Rule(check_card_or_id)])
    who = RadioField(T("领取方式", "Collected by"), [Required(choose=True)], choices=make_choices(WHO))
    holder_id_seen = CheckboxField(T("已核验持卡人本人身份证原件", "The holder's ID card original was seen"),
                                   [Required(message=T("须核验持卡人身份证原件", "The holder's ID card original is needed"))])
    proxy_name = StringField(T("代领人姓名", "Proxy's name"), [Optional(), Rule(check_name)])
    proxy_id_number = StringField(T("代领人身份证号码", "Proxy's ID number"), [Optional(), Rule(check_citizen_id)])
    holder_household_seen = CheckboxField(T("已核验持卡人户口簿", "The holder's household register was seen"))
    proxy_id_seen = CheckboxField(T("已核验代领人身份证原件", "The proxy's ID card original was seen"))
    proxy_household_seen = CheckboxField(T("已核验代领人户口簿", "The proxy's household register was seen"))

    def cross_validate(self):
        if self.who.data != PROXY:
            return
        missing = [self[f].label.text for f in ("proxy_name", "proxy_id_number", "holder_household_seen",
                                                "proxy_id_seen", "proxy_household_seen") if not self[f].data]
        if missing:
            yield None, MSG_REQUIRED_FOR_PROXY.format(what="、".join(str(m) for m in missing))


@register
class HolderSignedForm(TaskForm):
    form_key = "distribution.holder_signed"
    title = T("领卡签字", "Signature for the card")

    signed = CheckboxField(T("领卡人已在发放花名册上签字", "The person collecting signed the roster"),
                           [Required(message=T("请领卡人签字后勾选", "Have them sign, then tick"))])
