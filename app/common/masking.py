"""Masking personal numbers (脱敏) for lists, logs and API answers: one rule per kind.

    mask_id("350581199003071311")   -> "350581********1311"  (first 6, last 4)
    mask_phone("13812345678")       -> "138****5678"         (first 3, last 4)
    mask_card_number("B7K334774")   -> "B7K****74"           (social security card number)
    mask_bank_card("6212261408000000055") -> "621226*********0055"  (first 6, last 4)
"""
from __future__ import annotations


def _keep(value, head: int, tail: int) -> str:
    s = str(value or "")
    if len(s) <= head + tail:
        return "*" * len(s)
    return s[:head] + "*" * (len(s) - head - tail) + s[-tail:]


def mask_id(id_number) -> str:
    return _keep(id_number, 6, 4)


def mask_phone(phone) -> str:
    s = str(phone or "")
    return _keep(s, 3, 4) if len(s) >= 8 else "*" * len(s)


def mask_card_number(number) -> str:
    return _keep(number, 3, 2)


def mask_bank_card(number) -> str:
    return _keep(number, 6, 4)


# -- data of any shape (API answers: task data, audit details, summaries) ------------------------

# by key name (lower case); a key ending in one of the suffixes counts too (guardian_id_number,
# contact_mobile, old_card_number, applicant_photo ...)
ID_KEYS = frozenset({"id_number", "ssn", "id_no", "id_card", "id_card_number", "identity_number",
                     "social_security_number", "passport_number", "permit_number"})
ID_SUFFIXES = ("_id_number", "_ssn", "_id_no", "_id_card", "_identity_number", "_passport_number")
PHONE_KEYS = frozenset({"mobile", "landline", "phone", "telephone", "tel", "phone_number",
                        "mobile_number"})
PHONE_SUFFIXES = ("_mobile", "_landline", "_phone", "_telephone", "_tel", "_phone_number")
BANK_CARD_KEYS = frozenset({"bank_card", "bank_card_number", "bank_account", "bank_account_number"})
BANK_CARD_SUFFIXES = ("_bank_card", "_bank_card_number", "_bank_account", "_bank_account_number")
CARD_KEYS = frozenset({"card_number", "social_security_card_number"})
CARD_SUFFIXES = ("_card_number",)
PHOTO_KEYS = frozenset({"photo", "picture", "portrait", "signature_image", "photo_base64", "image"})
PHOTO_SUFFIXES = ("_photo", "_picture", "_portrait", "_image")

_DATA_URL = "data:"
_MAX_DEPTH = 50  # deeper than any answer: what is below is dropped, not walked


def _kind(key: str) -> str | None:
    k = key.lower()
    for kind, names, suffixes in (("bank", BANK_CARD_KEYS, BANK_CARD_SUFFIXES),
                                  ("id", ID_KEYS, ID_SUFFIXES),
                                  ("phone", PHONE_KEYS, PHONE_SUFFIXES),
                                  ("card", CARD_KEYS, CARD_SUFFIXES),
                                  ("photo", PHOTO_KEYS, PHOTO_SUFFIXES)):
        if k in names or k.endswith(suffixes):
            return kind
    return None


def _is_blob(value) -> bool:
    """Binary data, or text carrying it (a base64 data URL)."""
    return isinstance(value, (bytes, bytearray, memoryview)) or (
        isinstance(value, str) and value[:5].lower() == _DATA_URL and ";base64," in value[:100])


_MASKERS = {"id": mask_id, "phone": mask_phone, "card": mask_card_number, "bank": mask_bank_card}


def _mask_under(kind: str, value, depth: int):
    """The value of a key of ``kind``: its text masked (each one of a list), an object inside
    masked by its own keys."""
    if depth > _MAX_DEPTH:
        return None
    if kind == "photo" or _is_blob(value):
        return bool(value)  # there is one (or not): the picture itself stays out
    if isinstance(value, dict):
        return mask_data(value, depth + 1)
    if isinstance(value, (list, tuple)):
        return [_mask_under(kind, v, depth + 1) for v in value]
    if value is None or value == "" or isinstance(value, (bool, float)):
        return value
    return _MASKERS[kind](value)


def mask_data(obj, _depth: int = 0):
    """A copy of ``obj`` (dicts, lists, scalars) with personal data masked by key name:
    ID numbers (``id_number``, ``guardian_id_number``, ``ssn``...) as :func:`mask_id`, phones
    (``mobile``, ``landline``, ``phone``...) as :func:`mask_phone`, card numbers as
    :func:`mask_card_number` / :func:`mask_bank_card`, photos (``photo``...) as ``True`` (there
    is one) or ``False``; binary data and base64 data URLs under any key as ``True``.

        mask_data({"id_number": "350581199003071311", "photo": "data:image/jpeg;base64,/9j/"})
        -> {"id_number": "350581********1311", "photo": True}
    """
    if _depth > _MAX_DEPTH:
        return None
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            kind = _kind(key) if isinstance(key, str) else None
            out[key] = _mask_under(kind, value, _depth + 1) if kind else mask_data(value, _depth + 1)
        return out
    if isinstance(obj, (list, tuple)):
        return [mask_data(v, _depth + 1) for v in obj]
    if _is_blob(obj):
        return True
    return obj
