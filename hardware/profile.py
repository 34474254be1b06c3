"""Card profile 卡片规范: the files, tags, lengths and encodings on the social security card.

Everything the platform writes to or reads from the chip is described by the tables below
(from ../shared/docs/card-chip.md). A corrected profile is a change to this one file.

Encodings:
- ``cn``   compressed numeric (BCD), left-aligned, padded with ``F`` nibbles;
- ``an``   ASCII alphanumeric, left-aligned, padded with ``00``;
- ``text`` GBK text (names), left-aligned, padded with ``00``;
- ``b``    raw bytes of exactly the field length.

Files under SSSE written by the platform:
- ``EF05`` card-issuer data and ``EF06`` holder basic data (``FIELDS``): written once, at issue
  (``personalise``);
- ``EF0D`` 参保地信息 insured region (``REGION_FIELDS``): written when the holder moves to another
  region of the city and keeps the card (seed 001 §1.5: 跨区域流动转移时不需换卡，但需要到流入地的
  社保卡经办机构进行卡内数据写入). Two TLV records: tag ``2A`` 参保地行政区划代码 (cn, 3 bytes, 6 digits)
  and tag ``2B`` 迁入日期 (cn, 4 bytes, YYYYMMDD). A card without them is insured where it was
  issued: bytes 0-2 of the card identifier. ``EF0D`` (SFI 13) is this platform's choice: the
  public programs know ``EF05``-``EF08`` under SSSE and say nothing of the insured region, so a
  corrected id is a change here only.
"""
from __future__ import annotations

import datetime as _dt
import re
import secrets
from dataclasses import dataclass

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from .errors import ProfileError

# SSSE 社会保障环境: DDF selected by name, GB2312 "sx1.sh.社会保障" (15 bytes).
SSSE_DF_NAME = "sx1.sh.社会保障".encode("gb2312")
# RID of the ministry: AIDs D1 56 00 00 05 xx name the sub-applications; bytes 3-7 of the
# card identifier repeat it.
SS_RID = bytes.fromhex("D156000005")
# Bank debit application of the partner bank; the bank card number is in tag 5A.
BANK_AID = bytes.fromhex("A000000333010101")
BANK_CARD_TAG = 0x5A
BANK_CARD_SFI = 1

EF05 = 0xEF05  # 发卡机构数据 card-issuer data
EF06 = 0xEF06  # 持卡人基本信息 holder basic data
EF0D = 0xEF0D  # 参保地信息 insured region (after a move between regions; see the docstring)
SFI = {EF05: 5, EF06: 6, EF0D: 13}

ISSUED_PIN = "000000"  # 初始密码 (seed 000 §4.2.1)
PIN_TRIES = 3


@dataclass(frozen=True)
class Field:
    key: str
    ef: int
    tag: int
    length: int
    fmt: str  # cn | an | text | b
    zh: str
    en: str
    kind: str = ""  # extra rule: date | card_number | card_id | ssn | digits


FIELDS: tuple[Field, ...] = (
    Field("card_identifier", EF05, 0x01, 16, "b", "卡识别码", "card identifier", "card_id"),
    Field("card_type", EF05, 0x02, 1, "an", "卡类别", "card type"),
    Field("spec_version", EF05, 0x03, 4, "an", "规范版本", "spec version"),
    Field("init_org", EF05, 0x04, 12, "cn", "初始化机构编号", "initialising organisation", "digits"),
    Field("issue_date", EF05, 0x05, 4, "cn", "发卡日期", "issue date", "date"),
    Field("expiry_date", EF05, 0x06, 4, "cn", "卡有效期", "expiry date", "date"),
    Field("card_number", EF05, 0x07, 9, "an", "卡号", "card number", "card_number"),
    Field("ssn", EF06, 0x08, 18, "an", "社会保障号码", "social security number", "ssn"),
    Field("name", EF06, 0x09, 30, "text", "姓名", "name"),
    Field("sex", EF06, 0x0A, 1, "an", "性别", "sex"),
    Field("ethnicity", EF06, 0x0B, 1, "cn", "民族", "ethnicity", "digits"),
    Field("birthplace", EF06, 0x0C, 3, "cn", "出生地", "birthplace", "digits"),
    Field("birth_date", EF06, 0x0D, 4, "cn", "出生日期", "date of birth", "date"),
)
# The card data of an issue (``encode_card``, ``normalise``): EF05 + EF06.
BY_KEY = {f.key: f for f in FIELDS}
# EF0D, rewritten on a move between regions (``encode_region``); not part of the card data.
REGION_FIELDS: tuple[Field, ...] = (
    Field("insured_region", EF0D, 0x2A, 3, "cn", "参保地行政区划代码", "insured region code", "region"),
    Field("moved_on", EF0D, 0x2B, 4, "cn", "迁入日期", "date moved in", "date"),
)
REGION_BY_KEY = {f.key: f for f in REGION_FIELDS}
BY_TAG = {(f.ef, f.tag): f for f in FIELDS + REGION_FIELDS}
SPEC_VERSIONS = ("1.00", "2.00", "3.00")
SEXES = {"1": "男", "2": "女", "9": "未说明"}  # GB/T 2261.1


def fields_of(ef: int) -> tuple[Field, ...]:
    return tuple(f for f in FIELDS + REGION_FIELDS if f.ef == ef)


# --- card number 卡号 -------------------------------------------------------------------------

_CARD_NO_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_CARD_NO_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def card_number_check_char(body: str) -> str:
    """Check character of an 8-character card number body (0-9, A-Z with A=10 ... Z=35)."""
    body = body.upper()
    if len(body) != 8 or any(c not in _CARD_NO_CHARS for c in body):
        raise ProfileError({"card_number": (
            f"卡号主体应为 8 位数字或大写字母：{body!r}",
            f"card number body must be 8 digits or capital letters: {body!r}")})
    total = sum(_CARD_NO_CHARS.index(c) * w for c, w in zip(body, _CARD_NO_WEIGHTS))
    c = 11 - total % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def is_valid_card_number(number: str) -> bool:
    number = (number or "").upper()
    try:
        return len(number) == 9 and card_number_check_char(number[:8]) == number[8]
    except ProfileError:
        return False


def new_card_number(rand=secrets.choice) -> str:
    """A random card number with its check character (the number is not derived from the
    person, seed 001 §1.3). Uniqueness is the allocator's job (platform database)."""
    body = "".join(rand(_CARD_NO_CHARS) for _ in range(8))
    return body + card_number_check_char(body)


# --- card identifier 卡识别码 ------------------------------------------------------------------

def make_card_identifier(region_code: str, unique: bytes | None = None) -> bytes:
    """16 bytes: issuing region (6 digits BCD) + D1 56 00 00 05 + 8 card-specific bytes."""
    if not re.fullmatch(r"\d{6}", region_code or ""):
        raise ProfileError({"card_identifier": (
            f"发卡地区行政区划代码应为 6 位数字：{region_code!r}",
            f"issuing region code must be 6 digits: {region_code!r}")})
    unique = secrets.token_bytes(8) if unique is None else unique
    if len(unique) != 8:
        raise ProfileError({"card_identifier": ("卡识别码唯一部分应为 8 字节",
                                                "card-specific part must be 8 bytes")})
    return bytes.fromhex(region_code) + SS_RID + unique


def card_identifier_region(card_id: bytes) -> str:
    return card_id[:3].hex()


# --- encoders -------------------------------------------------------------------------------

def _err(f: Field, zh: str, en: str) -> ProfileError:
    return ProfileError({f.key: (f"{f.zh}：{zh}", f"{f.en}: {en}")})


def _as_text(f: Field, value) -> str:
    if isinstance(value, _dt.date):
        return value.strftime("%Y%m%d")
    if not isinstance(value, str):
        raise _err(f, f"应为文本，收到 {type(value).__name__}", f"must be text, got {type(value).__name__}")
    return value


def _check_rules(f: Field, text: str) -> str:
    if f.kind == "date":
        text = text.replace("-", "")
        try:
            if not (len(text) == 8 and text.isdigit()):
                raise ValueError(text)
            _dt.datetime.strptime(text, "%Y%m%d")
        except ValueError:
            raise _err(f, f"不是有效日期（YYYYMMDD）：{text!r}", f"not a valid date (YYYYMMDD): {text!r}")
    elif f.kind == "region" and not re.fullmatch(r"\d{6}", text):
        raise _err(f, f"应为 6 位数字：{text!r}", f"must be 6 digits: {text!r}")
    elif f.kind == "digits" and not text.isdigit():
        raise _err(f, f"只能包含数字：{text!r}", f"digits only: {text!r}")
    elif f.kind == "card_number":
        text = text.upper()
        if not is_valid_card_number(text):
            raise _err(f, f"卡号 {text!r} 格式或校验位错误", f"{text!r} has a wrong format or check character")
    elif f.kind == "ssn":
        text = text.upper()
        try:
            _check_citizen_id(text)
        except (ValidationError, ValueError):
            raise _err(f, f"公民身份号码 {mask(text)} 无效（长度、出生日期、地区或校验位错误）",
                       f"citizen ID {mask(text)} is invalid (length, birth date, region or check digit)")
    elif f.key == "sex" and text not in SEXES:
        raise _err(f, f"应为 1（男）、2（女）或 9：{text!r}", f"must be 1 (male), 2 (female) or 9: {text!r}")
    elif f.key == "spec_version" and text not in SPEC_VERSIONS:
        raise _err(f, f"应为 {'/'.join(SPEC_VERSIONS)}：{text!r}", f"must be one of {SPEC_VERSIONS}: {text!r}")
    return text


def _check_citizen_id(number: str) -> None:
    """GB 11643 structure, birth date and check character.

    Not ``ric.validate``: it also insists the region code existed in the birth year, which
    refuses real people whose county was renamed or created later (e.g. 350581 石狮市, 1987).
    """
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValueError(number)
    ric.get_birth_date(number)
    if ric.calc_check_digit(number) != number[-1]:
        raise ValueError(number)


def encode_value(f: Field, value) -> bytes:
    """The field's value bytes, padded to the field length; ProfileError if it does not fit."""
    if f.fmt == "b":
        if not isinstance(value, (bytes, bytearray)):
            try:
                value = bytes.fromhex(value)
            except (TypeError, ValueError):
                raise _err(f, "应为十六进制字节", "must be hexadecimal bytes")
        if len(value) != f.length:
            raise _err(f, f"应为 {f.length} 字节，实为 {len(value)} 字节",
                       f"must be {f.length} bytes, got {len(value)}")
        if f.kind == "card_id" and value[3:8] != SS_RID:
            raise _err(f, "第 4-8 字节应为 D156000005", "bytes 4-8 must be D156000005")
        return bytes(value)
    text = _check_rules(f, _as_text(f, value))
    if f.fmt == "cn":
        if not text.isdigit():
            raise _err(f, f"只能包含数字：{text!r}", f"digits only: {text!r}")
        if len(text) > 2 * f.length:
            raise _err(f, f"最多 {2 * f.length} 位数字，实为 {len(text)} 位",
                       f"at most {2 * f.length} digits, got {len(text)}")
        return bytes.fromhex(text.ljust(2 * f.length, "F"))
    if f.fmt == "an":
        if not text or not all(0x20 < ord(c) < 0x7F for c in text):
            raise _err(f, f"只能包含字母、数字或符号（ASCII）：{text!r}", f"printable ASCII only: {text!r}")
        raw = text.encode("ascii")
    else:  # text
        text = text.strip()
        if not text:
            raise _err(f, "不能为空", "must not be empty")
        bad = [c for c in text if not _gbk_ok(c)]
        if bad:
            raise _err(f, f"含 GBK 无法编码的生僻字“{''.join(bad)}”，请按公安部门规定的替代字填写",
                       f"contains characters GBK cannot encode: {''.join(bad)!r}")
        raw = text.encode("gbk")
    if len(raw) > f.length:
        raise _err(f, f"最长 {f.length} 字节，实为 {len(raw)} 字节", f"at most {f.length} bytes, got {len(raw)}")
    return raw.ljust(f.length, b"\x00")


def _gbk_ok(ch: str) -> bool:
    try:
        ch.encode("gbk")
        return True
    except UnicodeEncodeError:
        return False


def decode_value(f: Field, raw: bytes):
    """Inverse of encode_value: card bytes to the platform's value (str, or bytes for ``b``)."""
    if len(raw) != f.length:
        raise _err(f, f"卡上数据长度 {len(raw)} 与规范 {f.length} 不符",
                   f"length on card {len(raw)} differs from the profile's {f.length}")
    if f.fmt == "b":
        return bytes(raw)
    if f.fmt == "cn":
        digits = raw.hex().upper().rstrip("F")
        if not digits.isdigit() and digits:
            raise _err(f, f"BCD 数据无效：{raw.hex()}", f"invalid BCD data: {raw.hex()}")
        return digits
    raw = raw.rstrip(b"\x00")
    try:
        return raw.decode("ascii" if f.fmt == "an" else "gbk")
    except UnicodeDecodeError:
        raise _err(f, f"无法解码：{raw.hex()}", f"cannot decode: {raw.hex()}")


def tlv(f: Field, value) -> bytes:
    """One record as written with UPDATE RECORD: tag, length, padded value."""
    return bytes([f.tag, f.length]) + encode_value(f, value)


def parse_tlv(ef: int, record: bytes) -> tuple[Field, object]:
    if len(record) < 2:
        raise ProfileError({"record": ("记录过短", "record too short")})
    f = BY_TAG.get((ef, record[0]))
    if f is None:
        raise ProfileError({"record": (f"未知标签 {record[0]:02X}", f"unknown tag {record[0]:02X}")})
    if record[1] != len(record) - 2:
        raise _err(f, "记录长度字节与数据不符", "record length byte does not match the data")
    return f, decode_value(f, record[2:])


def encode_card(data: dict) -> dict[int, list[tuple[Field, bytes]]]:
    """Validate and encode every profile field of ``data``: {ef: [(field, tlv), ...]}.

    All problems are reported at once; missing fields count as problems (a card is written
    whole or not at all).
    """
    errors: dict[str, tuple[str, str]] = {}
    out: dict[int, list[tuple[Field, bytes]]] = {EF05: [], EF06: []}
    for f in FIELDS:
        if data.get(f.key) in (None, ""):
            errors[f.key] = (f"{f.zh}：必须填写", f"{f.en}: required")
            continue
        try:
            out[f.ef].append((f, tlv(f, data[f.key])))
        except ProfileError as e:
            errors.update(e.errors)
    if not errors:
        _check_consistency(data, errors)
    if errors:
        raise ProfileError(errors)
    return out


def _check_consistency(data: dict, errors: dict) -> None:
    """Holder data must agree with the ID number, and the card must expire after issue."""
    ssn = data["ssn"].upper()
    birth = ric.get_birth_date(ssn).strftime("%Y%m%d")
    if str(data["birth_date"]).replace("-", "") != birth:
        errors["birth_date"] = ("出生日期：与社会保障号码中的出生日期不一致",
                                "date of birth: differs from the one in the ID number")
    if str(data["expiry_date"]).replace("-", "") <= str(data["issue_date"]).replace("-", ""):
        errors["expiry_date"] = ("卡有效期：应晚于发卡日期", "expiry date: must be after the issue date")


def encode_region(region_code, moved_on) -> list[tuple[Field, bytes]]:
    """The two EF0D records of an insured region: [(field, tlv), ...] in tag order.

    ``region_code`` 6 digits, ``moved_on`` a date (``datetime.date``, ``YYYY-MM-DD`` or
    ``YYYYMMDD``); ProfileError listing every problem otherwise."""
    errors: dict[str, tuple[str, str]] = {}
    out = []
    for f, value in zip(REGION_FIELDS, (region_code, moved_on)):
        if value in (None, ""):
            errors[f.key] = (f"{f.zh}：必须填写", f"{f.en}: required")
            continue
        try:
            out.append((f, tlv(f, value)))
        except ProfileError as e:
            errors.update(e.errors)
    if errors:
        raise ProfileError(errors)
    return out


def normalise(data: dict) -> dict:
    """The values as they read back from a card (dates as YYYYMMDD, upper case, hex id)."""
    out = {}
    for f in FIELDS:
        raw = encode_value(f, data[f.key])
        value = decode_value(f, raw)
        out[f.key] = value.hex().upper() if isinstance(value, bytes) else value
    return out


def mask(id_number: str) -> str:
    """Mask an ID number for lists and logs: first 6 and last 4 characters kept."""
    s = str(id_number or "")
    return s[:6] + "*" * max(len(s) - 10, 0) + s[-4:] if len(s) > 10 else "*" * len(s)
