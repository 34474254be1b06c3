"""Identity documents 证件号码: the citizen ID number (GB 11643, with its region, birth date
and check character) and other document numbers."""
from __future__ import annotations

import re
from datetime import date

from stdnum import numdb
from stdnum.cn import ric
from wtforms.validators import ValidationError

from forms.choices import RESIDENT_ID
from forms.i18n import T
from forms.validators.generic import compact as _compact, today

# ---------------------------------------------------------------- 公民身份号码 (GB 11643)

MSG_ID_LENGTH = T("公民身份号码应为18位，当前为{n}位",
                  "A citizen ID number has 18 characters; this one has {n}")
MSG_ID_FORMAT = T("公民身份号码前17位应为数字，最后一位为数字或X",
                  "A citizen ID number is 17 digits followed by a digit or X")
MSG_ID_BIRTH = T("公民身份号码中的出生日期（第7-14位）不是有效日期",
                 "The date of birth in the citizen ID number (characters 7-14) is not a valid date")
MSG_ID_FUTURE = T("公民身份号码中的出生日期{date}晚于今天",
                  "The date of birth {date} in the citizen ID number is in the future")
MSG_ID_CHECKSUM = T("公民身份号码校验位（最后一位）不正确，请逐位核对",
                    "The check character (last character) of the citizen ID number is wrong; "
                    "please check every digit")
MSG_ID_REGION = T("公民身份号码前6位地区代码{code}不存在",
                  "The region code {code} (first 6 digits) of the citizen ID number does not exist")


def region_name(code: str) -> str | None:
    """Name of a 6-digit administrative division code (e.g. "350581" -> "福建省石狮市"),
    None if unknown. Unlike ``stdnum.cn.ric.get_birth_place`` this ignores when a code was in
    use: a number keeps the code it was assigned under, which may postdate the birth year
    (石狮市 350581 exists since 1989, yet people born in 1970 hold such numbers)."""
    info: dict[str, str] = {}
    for _part, props in numdb.get("cn/loc").info(code[:6]):
        info.update(props)
    county = info.get("county")
    if not county:
        return None
    latest = county.split(",")[-1].split("]")[-1]  # "[1989-]石狮市" -> "石狮市"
    return info.get("province", "") + latest


def check_citizen_id(value: object, on: date | None = None) -> str:
    """Validate a 公民身份号码 and return it normalised (upper-case X, no spaces); the birth
    date may not be after ``on`` (default: today)."""
    number = _compact(value)
    if len(number) != 18:
        raise ValidationError(MSG_ID_LENGTH.format(n=len(number)))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(MSG_ID_FORMAT)
    try:
        birth = ric.get_birth_date(number)
    except Exception:  # stdnum raises InvalidComponent for impossible dates
        raise ValidationError(MSG_ID_BIRTH) from None
    if birth > (on or today()):
        raise ValidationError(MSG_ID_FUTURE.format(date=birth.isoformat()))
    if number[17] != ric.calc_check_digit(number):
        raise ValidationError(MSG_ID_CHECKSUM)
    if region_name(number) is None:
        raise ValidationError(MSG_ID_REGION.format(code=number[:6]))
    return number


def id_birth_date(number: str) -> date:
    """出生日期 encoded in a valid citizen ID number."""
    return ric.get_birth_date(number)


def id_sex(number: str) -> str:
    """GB/T 2261.1 sex code from a citizen ID number: the 17th digit is odd for men."""
    return "1" if int(number[16]) % 2 else "2"


MSG_OTHER_ID = T("证件号码应为5-20位字母或数字",
                 "The document number must be 5-20 letters or digits")


def check_other_id(value: object) -> str:
    """Generic check for documents without a checksum (passport, travel permits...)."""
    number = re.sub(r"[-()（）]", "", _compact(value))
    if not re.fullmatch(r"[A-Z0-9]{5,20}", number):
        raise ValidationError(MSG_OTHER_ID)
    return number


def check_id_number(value: object, id_type: str | None, on: date | None = None) -> str:
    """The number of an ID document of type ``id_type`` (see ``choices.ID_TYPES``)."""
    if id_type == RESIDENT_ID:
        return check_citizen_id(value, on=on)
    return check_other_id(value)
