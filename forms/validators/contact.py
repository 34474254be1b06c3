"""Contact details 联系方式: mobile and landline numbers, post codes."""
from __future__ import annotations

import re

from wtforms.validators import ValidationError

from forms.i18n import T
from forms.validators.generic import compact as _compact

# ---------------------------------------------------------------- phones, post code

MSG_MOBILE = T("手机号码应为11位数字并以13-19开头，例如13800138000",
               "A mobile number has 11 digits starting with 13-19, e.g. 13800138000")
MSG_LANDLINE = T("固定电话应为“区号-号码”，可加分机号，例如0595-88888888或0595-88888888-123",
                 "A landline number is area code + number, optionally an extension, "
                 "e.g. 0595-88888888 or 0595-88888888-123")
MSG_POSTCODE = T("邮政编码应为6位数字", "A post code has 6 digits")

# 010 and 02x are 3-digit area codes, all others 4 digits; local numbers have 7-8 digits
_LANDLINE = re.compile(r"(?P<area>010|02\d|0[3-9]\d\d)(?P<number>[2-9]\d{6,7})")
_EXTENSION = re.compile(r"(?P<main>[\d-]+?)(?:(?:转|EXT\.?|X|#|,)(?P<ext>\d{1,6}))?")


def check_mobile(value: object) -> str:
    """手机号码: accepts +86/0086/86 prefixes, spaces and dashes; returns 11 digits."""
    number = re.sub(r"[-()（）]", "", _compact(value))
    for prefix in ("+86", "0086", "86"):
        if number.startswith(prefix) and len(number) == 11 + len(prefix):
            number = number[len(prefix):]
            break
    if not re.fullmatch(r"1[3-9]\d{9}", number):
        raise ValidationError(MSG_MOBILE)
    return number


def check_landline(value: object) -> str:
    """固定电话 with area code, normalised to "0595-88888888" or "0595-88888888-123".
    Accepts (0595)88888888, 0595 8888 8888, 0595-88888888转123, ...ext 123."""
    text = re.sub(r"[()（）]", "", _compact(value))
    match = _EXTENSION.fullmatch(text)
    if not match:
        raise ValidationError(MSG_LANDLINE)
    groups, ext = match["main"].strip("-").split("-"), match["ext"]
    # a trailing dash group after a complete number is an extension: 0595-88888888-123
    if ext is None and len(groups) >= 2 and _LANDLINE.fullmatch("".join(groups[:-1])):
        ext = groups.pop()
    number = _LANDLINE.fullmatch("".join(groups))
    if not number or (ext is not None and not 1 <= len(ext) <= 6):
        raise ValidationError(MSG_LANDLINE)
    result = f"{number['area']}-{number['number']}"
    return f"{result}-{ext}" if ext else result


def check_postcode(value: object) -> str:
    code = _compact(value)
    if not re.fullmatch(r"\d{6}", code):
        raise ValidationError(MSG_POSTCODE)
    return code
