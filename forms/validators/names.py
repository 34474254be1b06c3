"""Names 姓名 as they go on the chip: GBK, at most 30 bytes (EF06 tag 09), the middle dot of
minority and foreign names."""
from __future__ import annotations

import re

from wtforms.validators import ValidationError

from forms.i18n import T

NAME_MAX_BYTES = 30  # EF06 tag 09: 30 bytes GBK

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
