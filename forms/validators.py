"""Server-side rules for the application form 申领表校验规则.

Each rule is a plain function ``check_xxx(value) -> normalised value`` that raises
``wtforms.validators.ValidationError`` with a bilingual message (``T``) a clerk understands;
``Rule(check_xxx)`` turns it into a WTForms field validator. Rules that involve several fields
(ID validity, guardian, existing card) return a list of ``(field_name, message)`` pairs.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from stdnum import numdb
from stdnum.cn import ric
from wtforms.validators import StopValidation, ValidationError

from forms.choices import NO, RESIDENT_ID
from forms.i18n import T
from hardware.profile import card_number_check_char
# re-exported: the photo rules live in forms.photo
from forms.photo import MAX_PHOTO_BYTES, Photo, PhotoInfo, check_photo, load_photo  # noqa: F401

GUARDIAN_AGE = 16  # 16周岁以下的申请人 need a guardian
NAME_MAX_BYTES = 30  # EF06 tag 09: 30 bytes GBK
from app.common.clock import CHINA_TZ  # noqa: E402,F401  (forms may use app.common)
from app.common.clock import china_today as today  # noqa: E402


def _compact(value: object) -> str:
    """Full-width to half-width (IME input), drop spaces, upper-case."""
    text = unicodedata.normalize("NFKC", str(value))
    return re.sub(r"\s+", "", text).upper()


# ---------------------------------------------------------------- generic field validators

MSG_REQUIRED = T("请填写“{label}”", "Please fill in “{label}”")
MSG_CHOOSE = T("请选择“{label}”", "Please choose “{label}”")
MSG_NOT_FUTURE = T("“{label}”不能晚于今天", "“{label}” cannot be later than today")


def _is_empty(data: object) -> bool:
    if isinstance(data, str):
        return not data.strip()
    return data is None or data is False or (hasattr(data, "filename") and not data)


class Required:
    """Like WTForms' DataRequired, but names the field in its message and keeps a
    conversion error (e.g. a mistyped date) instead of replacing it with "required"."""

    field_flags = {"required": True}

    def __init__(self, message: T | None = None, choose: bool = False):
        self.message = message
        self.choose = choose

    def __call__(self, form, field) -> None:
        if field.process_errors:
            raise StopValidation()  # the conversion error already says what is wrong
        if _is_empty(field.data):
            template = MSG_CHOOSE if self.choose else MSG_REQUIRED
            raise StopValidation(self.message or template.format(label=field.label.text))


class Rule:
    """Field validator from a check function; empty values are left to Required/Optional.
    The normalised value replaces ``field.data``."""

    def __init__(self, check, **kwargs):
        self.check = check
        self.kwargs = kwargs

    def __call__(self, form, field) -> None:
        if not _is_empty(field.data):
            field.data = self.check(field.data, **self.kwargs)


class NotAfterToday:
    """Dates such as the birth date or the application date cannot lie in the future."""

    def __call__(self, form, field) -> None:
        if isinstance(field.data, date) and field.data > today():
            raise ValidationError(MSG_NOT_FUTURE.format(label=field.label.text))


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


# ---------------------------------------------------------------- 姓名 (GBK, 30 bytes)

MIDDLE_DOT = "\u00b7"  # · GBK A1A4, the separator in minority and foreign names
_DOT_VARIANTS = "\u2022\u2027\u30fb\uff65\u2219\u22c5\u0387\uff0e"  # •‧・･∙⋅·．
_NAME_PUNCT = set(MIDDLE_DOT + " -'.〇")
# full-width Latin letters (Ａ-Ｚ, ａ-ｚ) typed with a Chinese IME -> ASCII
_FULLWIDTH_LETTERS = {c: c - 0xFEE0 for c in [*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}

MSG_NAME_GBK = T(
    "姓名中的“{ch}”（U+{cp:04X}）不在GBK字符集内，社保卡芯片无法存储；"
    "请按户籍登记核对，或按规定使用替代字并在备注中说明",
    "The character “{ch}” (U+{cp:04X}) in the name is not in the GBK character set and "
    "cannot be stored on the card chip; check it against the household register or use the "
    "prescribed substitute character and explain it in the remarks",
)
MSG_NAME_CHAR = T("姓名中不能含有“{ch}”", "The name cannot contain “{ch}”")
MSG_NAME_DOT = T("间隔号“·”只能用在名字的两部分之间",
                 "The middle dot “·” can only stand between two parts of the name")
MSG_NAME_LONG = T(
    "姓名过长：GBK编码为{n}字节，最多{max}字节（15个汉字）",
    "The name is too long: {n} bytes in GBK, at most {max} bytes (15 Chinese characters)",
)


def check_name(value: object, max_bytes: int = NAME_MAX_BYTES) -> str:
    """姓名: every character must exist in GBK (the chip's encoding), 1-30 bytes; the
    middle-dot variants typed by various IMEs become "·"."""
    name = " ".join(str(value).translate(_FULLWIDTH_LETTERS).split())
    name = re.sub(f"[{_DOT_VARIANTS}]", MIDDLE_DOT, name)
    name = re.sub(r"(?<=[^\x00-\x7f])\.(?=[^\x00-\x7f])", MIDDLE_DOT, name)  # 阿依古丽.买买提
    name = re.sub(r"\s*·\s*", MIDDLE_DOT, name)
    for ch in name:
        try:
            ch.encode("gbk")
        except UnicodeEncodeError:
            raise ValidationError(MSG_NAME_GBK.format(ch=ch, cp=ord(ch))) from None
    for ch in name:
        if not (ch.isalpha() or ch in _NAME_PUNCT):
            raise ValidationError(MSG_NAME_CHAR.format(ch=ch))
    if name.startswith(MIDDLE_DOT) or name.endswith(MIDDLE_DOT) or MIDDLE_DOT * 2 in name:
        raise ValidationError(MSG_NAME_DOT)
    size = len(name.encode("gbk"))
    if size > max_bytes:
        raise ValidationError(MSG_NAME_LONG.format(n=size, max=max_bytes))
    return name


# ---------------------------------------------------------------- age, dates

def age_on(birth: date, on: date) -> int:
    """Age in whole years (周岁) on ``on``; the birthday itself counts as reached. Someone
    born on 29 February turns a year older on 1 March in common years."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def needs_guardian(birth: date, on: date) -> bool:
    """Applicants under 16 on the application date must name a guardian 监护人."""
    return age_on(birth, on) < GUARDIAN_AGE


# ---------------------------------------------------------------- cross-field rules

MSG_VALID_FROM_REQUIRED = T("请填写证件有效期的起始日期",
                            "Please fill in the date the ID document is valid from")
MSG_VALID_FROM_LATE = T("证件有效期起始日期{start}晚于申领日期{on}",
                        "The ID document is only valid from {start}, after the application "
                        "date {on}")
MSG_VALID_TO_REQUIRED = T("请填写证件有效期的截止日期，或勾选“长期”",
                          "Please fill in the date the ID document is valid to, or tick "
                          "“long-term”")
MSG_VALID_BOTH = T("已勾选“长期”，不应再填写截止日期",
                   "“Long-term” is ticked, so leave the end date empty")
MSG_VALID_ORDER = T("证件有效期截止日期须晚于起始日期",
                    "The end of the ID document's validity must be after its start")
MSG_EXPIRED = T("证件已过期（有效期至{end}），请持有效证件申领",
                "The ID document expired on {end}; a valid ID document is needed")


def id_validity_errors(start: date | None, end: date | None, long_term: bool, on: date,
                       required: bool = True) -> list[tuple[str, T]]:
    """证件有效期: start and (end or 长期); end after start; valid on the application date
    ``on`` (the end date itself still counts as valid). Keys: id_valid_from/id_valid_to."""
    errors: list[tuple[str, T]] = []
    if not (required or start or end or long_term):
        return errors  # e.g. a child applying with the household register 户口簿
    if start is None:
        errors.append(("id_valid_from", MSG_VALID_FROM_REQUIRED))
    elif start > on:
        errors.append(("id_valid_from", MSG_VALID_FROM_LATE.format(
            start=start.isoformat(), on=on.isoformat())))
    if long_term and end is not None:
        errors.append(("id_valid_to", MSG_VALID_BOTH))
    elif end is None and not long_term:
        errors.append(("id_valid_to", MSG_VALID_TO_REQUIRED))
    elif end is not None and start is not None and end <= start:
        errors.append(("id_valid_to", MSG_VALID_ORDER))
    elif end is not None and end < on:
        errors.append(("id_valid_to", MSG_EXPIRED.format(end=end.isoformat())))
    return errors


MSG_GUARDIAN_REQUIRED = T("申请人未满16周岁，须填写{what}",
                          "The applicant is under 16, so {what} is required")
GUARDIAN_WHAT = {
    "guardian_name": T("监护人姓名", "the guardian's name"),
    "guardian_id_type": T("监护人证件类型", "the guardian's ID document type"),
    "guardian_id_number": T("监护人证件号码", "the guardian's ID document number"),
}
MSG_GUARDIAN_IS_APPLICANT = T("监护人不能是申请人本人",
                              "The guardian cannot be the applicant")


def guardian_errors(name: str | None, id_type: str | None, id_number: str | None,
                    applicant_id_number: str | None) -> list[tuple[str, T]]:
    """For applicants under 16: 监护人姓名, 证件类型 and 证件号码 required; not the applicant."""
    errors = [
        (key, MSG_GUARDIAN_REQUIRED.format(what=what))
        for key, what, value in zip(GUARDIAN_WHAT, GUARDIAN_WHAT.values(),
                                    (name, id_type, id_number))
        if not value
    ]
    if id_number and applicant_id_number and id_number == applicant_id_number:
        errors.append(("guardian_id_number", MSG_GUARDIAN_IS_APPLICANT))
    return errors


MSG_OLD_CITY = T("已在福建省持有社保卡的，请选择持卡所在市",
                 "Already holds a card in Fujian: please choose the city that issued it")
MSG_OLD_NUMBER = T("已在福建省持有社保卡的，请填写原社保卡卡号",
                   "Already holds a card in Fujian: please enter the existing card's number")
MSG_OLD_CONSENT = T("在福建省已持卡的，须勾选“本人同意停用该社保卡”后才能申领新卡",
                    "The existing card must be stopped before a new one is made: the applicant "
                    "has to agree to stop it")


def old_card_errors(first_card: str | None, city: str | None, number: str | None,
                    consent: bool) -> list[tuple[str, T]]:
    """在福建省是否首次申领社保卡 = 否: city, existing card number and consent required."""
    if first_card != NO:
        return []
    checks = (("old_card_city", city, MSG_OLD_CITY),
              ("old_card_number", number, MSG_OLD_NUMBER),
              ("consent_stop_old_card", consent, MSG_OLD_CONSENT))
    return [(key, message) for key, value, message in checks if not value]
