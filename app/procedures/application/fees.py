"""The card fee 工本费 of a replacement (补卡) or exchange (换卡): "制发卡服务机构负责社保卡制卡申请、
工本费收取" (seed 002 §1 (一)). A first card costs the applicant nothing; a replacement or exchange
pays the fee when the application is accepted, and gets a receipt 工本费收据 (printed from the
case page: ``documents.fee_receipt``).

The amount is set in one place: :data:`DEFAULT_FEE_CENTS` (20.00 yuan), overridden by the
environment variable ``SSCARD_CARD_FEE_YUAN`` (yuan with up to two decimals, e.g. ``25`` or
``12.50``), read when a fee is recorded; the amount recorded on an application never changes
afterwards. Amounts are kept in fen (分, integer cents).
"""
from __future__ import annotations

import logging
import os
from datetime import datetime
from decimal import Decimal, InvalidOperation

from app.common.clock import CHINA_TZ
from app.common.money import yuan

log = logging.getLogger(__name__)

FEE_ENV = "SSCARD_CARD_FEE_YUAN"
DEFAULT_FEE_CENTS = 2000  # 20.00 元
MAX_FEE_CENTS = 100_000   # 1,000 元: anything above is a typo in the setting


def fee_cents() -> int:
    """The fee of a replacement or exchange now, in fen: ``$SSCARD_CARD_FEE_YUAN`` if it is a
    valid amount (0 to 1,000 yuan, at most two decimals), else :data:`DEFAULT_FEE_CENTS`."""
    raw = os.environ.get(FEE_ENV, "").strip()
    if not raw:
        return DEFAULT_FEE_CENTS
    try:
        amount = Decimal(raw)
        cents = amount * 100
        if not amount.is_finite() or cents != cents.to_integral_value() or not 0 <= cents <= MAX_FEE_CENTS:
            raise InvalidOperation(raw)
    except (InvalidOperation, ValueError):
        log.warning("%s=%r is not an amount in yuan (0-1000, two decimals at most): using %s",
                    FEE_ENV, raw, yuan(DEFAULT_FEE_CENTS))
        return DEFAULT_FEE_CENTS
    return int(cents)



_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_SECTIONS = ("", "万", "亿")


def _four(n: int) -> str:
    """0 < n < 10000 in capital numerals (零 for gaps inside)."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        digit = n // 10 ** pos % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + _UNITS[pos]
    return out


def yuan_capital(cents: int | None) -> str:
    """The amount as a receipt writes it out 大写金额: 2000 -> "贰拾元整", 1250 -> "壹拾贰元伍角",
    5 -> "伍分", 0 -> "零元整"."""
    cents = int(cents or 0)
    whole, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    text = ""
    if whole:
        sections, n = [], whole
        while n:
            sections.append(n % 10000)
            n //= 10000
        parts = []
        for i in range(len(sections) - 1, -1, -1):
            part = sections[i]
            if part:
                if parts and part < 1000:
                    parts.append("零")
                parts.append(_four(part) + _SECTIONS[i])
        text = "".join(parts) + "元"
    if not jiao and not fen:
        return (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    return text


def local_day(moment: datetime):
    return moment.astimezone(CHINA_TZ).date()
