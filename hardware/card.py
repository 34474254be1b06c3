"""Card operations 卡片操作 on a connected social security card.

Reads and writes follow the profile (``profile.py``); writes are preceded by terminal
authentication through a ``SecurityModule``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import apdu, errors, profile
from .reader import CardConnection
from .security import SecurityModule

# Holder/card fields in the order of the common reader interface (iReadCardBas):
# 发卡地区行政区划代码|社会保障号码|卡号|卡识别码|姓名|卡复位信息|规范版本|发卡日期|卡有效期|终端机编号|终端设备号|
STANDARD_ORDER = ("region", "ssn", "card_number", "card_identifier", "name", "atr", "spec_version",
                  "issue_date", "expiry_date", "terminal_id", "device_id")


@dataclass
class CardInfo:
    """What a reader learns from a card: holder, card data and the application's state."""

    fields: dict  # profile key -> value as read (hex for the card identifier)
    bank_card_number: str
    atr: str
    blocked: bool
    # EF0D 参保地信息 as read: insured_region / moved_on (YYYYMMDD); empty if never moved
    insured: dict = field(default_factory=dict)

    @property
    def personalised(self) -> bool:
        return bool(self.fields.get("ssn"))

    def as_dict(self) -> dict:
        d = dict(self.fields)
        d.update(bank_card_number=self.bank_card_number, atr=self.atr,
                 application_state="blocked" if self.blocked else "active",
                 region=d.get("card_identifier", "")[:6])
        # 参保地: where the holder is insured now; a card never moved is insured where issued
        d.update(insured_region=self.insured.get("insured_region") or d["region"],
                 moved_on=self.insured.get("moved_on") or "")
        return d

    def standard_string(self, terminal_id: str = "", device_id: str = "") -> str:
        d = self.as_dict() | {"terminal_id": terminal_id, "device_id": device_id}
        return "".join(f"{d.get(k, '')}|" for k in STANDARD_ORDER)


class SocialSecurityCard:
    def __init__(self, conn: CardConnection):
        self.conn = conn
        self.blocked = False

    # -- selection --
    def select_ssse(self) -> None:
        self.conn.command(apdu.select_df_name(profile.SSSE_DF_NAME))
        self.blocked = self.conn.last_sw == apdu.SW_SELECTED_DEACTIVATED

    def select_ef(self, ef: int) -> None:
        self.conn.command(apdu.select_fid(ef))

    def authenticate(self, sam: SecurityModule, card_identifier: bytes | None = None) -> None:
        """Terminal authentication 终端认证: GET CHALLENGE, then EXTERNAL AUTHENTICATE."""
        challenge = self.conn.command(apdu.get_challenge(8))
        cryptogram = sam.external_auth_cryptogram(challenge, card_identifier)
        self.conn.command(apdu.external_authenticate(cryptogram, sam.key_id))

    # -- records --
    def read_raw(self, ef: int, tag_field: profile.Field, by_sfi: bool = False) -> bytes | None:
        """One TLV record, or None if the card has no such record (blank card)."""
        sfi = profile.SFI[ef] if by_sfi else None
        try:
            return self.conn.command(apdu.read_record(tag_field.tag, tag_field.length + 2, sfi))
        except errors.RecordNotFoundError:
            return None

    def read_records(self, ef: int) -> dict[str, bytes | None]:
        self.select_ef(ef)
        return {f.key: self.read_raw(ef, f) for f in profile.fields_of(ef)}

    def write_record(self, record: bytes) -> None:
        self.conn.command(apdu.update_record(record))

    def bank_card_number(self) -> str:
        """Tag 5A of the partner bank's application (the blank card's bank account)."""
        try:
            self.conn.command(apdu.select_df_name(profile.BANK_AID))
            raw = self.conn.command(apdu.read_record(profile.BANK_CARD_TAG, 0, profile.BANK_CARD_SFI))
        except (errors.FileNotFoundOnCardError, errors.RecordNotFoundError):
            return ""
        return raw[2:].hex().upper().rstrip("F")

    # -- read the whole card --
    def read_all(self) -> dict[int, dict[str, bytes | None]]:
        """Raw TLV records of EF05 and EF06 (None where the card has none)."""
        self.select_ssse()
        return {ef: self.read_records(ef) for ef in (profile.EF05, profile.EF06)}

    def read_region(self) -> dict[str, bytes | None]:
        """Raw records of EF0D 参保地信息 (SSSE selected); all None on a card never moved, or
        one without the file."""
        try:
            return self.read_records(profile.EF0D)
        except errors.FileNotFoundOnCardError:
            return {f.key: None for f in profile.REGION_FIELDS}

    def info(self, records: dict[int, dict[str, bytes | None]], bank: str,
             region: dict[str, bytes | None] | None = None) -> CardInfo:
        """``records``: EF05/EF06 as from ``read_all``; ``region``: EF0D as from ``read_region``."""
        values: dict = {}
        for ef, by_key in records.items():
            for key, raw in by_key.items():
                value = profile.parse_tlv(ef, raw)[1] if raw is not None else ""
                values[key] = value.hex().upper() if isinstance(value, bytes) else value
        insured = {key: profile.parse_tlv(profile.EF0D, raw)[1]
                   for key, raw in (region or {}).items() if raw is not None}
        return CardInfo(values, bank, self.conn.atr.hex().upper(), self.blocked, insured)

    def read(self) -> CardInfo:
        bank = self.bank_card_number()
        records = self.read_all()
        return self.info(records, bank, self.read_region())

    # -- PIN 密码 --
    def verify_pin(self, pin: str) -> None:
        self.select_ssse()
        self.conn.command(apdu.verify_pin(pin))

    def change_pin(self, old: str, new: str) -> None:
        apdu.pin_bcd(new)  # refuse a malformed new PIN before spending a try of the old one
        self.select_ssse()
        self.conn.command(apdu.change_pin(old, new))

    def reset_pin(self, new: str, sam: SecurityModule) -> None:
        """Centre staff reset a blocked or forgotten PIN (needs terminal authentication)."""
        apdu.pin_bcd(new)
        self.select_ssse()
        self.authenticate(sam)
        self.conn.command(apdu.reset_pin(new))

    # -- block 应用锁定 --
    def block_application(self, sam: SecurityModule) -> None:
        """Block the social-security application (card reported lost or replaced)."""
        self.select_ssse()
        if self.blocked:
            return  # already blocked: blocking is idempotent
        self.authenticate(sam)
        self.conn.command(apdu.application_block())
        self.blocked = True
