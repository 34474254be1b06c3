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
