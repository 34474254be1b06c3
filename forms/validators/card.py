"""The social security card number 社保卡卡号 (9 characters, check character last)."""
from __future__ import annotations

import re

from wtforms.validators import ValidationError

from forms.i18n import T
from forms.validators.generic import compact as _compact
from hardware.profile import card_number_check_char

# ---------------------------------------------------------------- 社保卡卡号

MSG_CARD_FORMAT = T("社保卡卡号应为9位数字或大写字母",
                    "A social security card number has 9 digits or capital letters")
MSG_CARD_CHECK = T("社保卡卡号校验位（最后一位）不正确，请核对卡面上的卡号",
                   "The check character (last character) of the card number is wrong; "
                   "please compare with the number printed on the card")


def check_card_number(value: object) -> str:
    number = _compact(value)
    if not re.fullmatch(r"[0-9A-Z]{9}", number):
        raise ValidationError(MSG_CARD_FORMAT)
    if number[8] != card_number_check_char(number[:8]):
        raise ValidationError(MSG_CARD_CHECK)
    return number
