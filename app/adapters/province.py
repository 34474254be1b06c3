"""Provincial report of returned cards 省级退卡上报 — the centre reports the cards returned with
wrong data to the province (seed 000 §3(三)2: "银川市医保中心负责统一填报《宁夏社会保障卡退卡回收单》
（一式两联），上报自治区人力资源和社会保障厅"), so that the province stops them and a new card
is made after the second data collection.

``ProvincialReport`` is the interface a real connector implements (the provincial card
system's web service, a file drop...); ``EmbeddedProvincialReport`` keeps the reported rows in
the platform database (table ``province_card_report``), in the caller's transaction, one row
per card: reporting a card again (a retried step) changes nothing and answers the report
number it was reported under. ``slip`` lays out the provincial return slip 退卡回收单（省级）
(two copies) from the records, whatever the connector.

The adapter knows no procedure family and no kernel table (import-linter): it sees records
(card number, ID number, name, reason, returned on), not cards or persons.
"""
from __future__ import annotations

import abc
import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Date, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.common.clock import to_local_date, utcnow
from app.common.errors import BilingualError
from app.common.masking import mask_card_number, mask_id
from app.database import Base
from app.engine.db import UtcDateTime

log = logging.getLogger(__name__)

#: the fields of one record (the columns of the provincial return slip)
FIELDS = ("card_number", "id_number", "name", "reason", "returned_on")
SLIP_TITLE = "社会保障卡退卡回收单"    # printed after the province's name: 宁夏社会保障卡退卡回收单
SLIP_COPIES = 2                       # 一式两联
NUMBER_PREFIX = "SJTK"               # 省级退卡: SJTK20261103-000012
MAX_REASON = 200


class ProvincialReportError(BilingualError):
    """Records the province cannot take (a missing field, a bad date), or the province
    refused the report."""

    kind = "invalid"

    def __init__(self, zh: str, en: str, code: str = "province_report"):
        super().__init__(zh, en, code=code)


class ProvincialReport(abc.ABC):
    @abc.abstractmethod
    def report_returned(self, records: list[dict]) -> str:
        """Report cards returned to the centre 上报退卡. ``records`` are dicts with
        ``card_number``, ``id_number``, ``name``, ``reason`` (text, e.g. "信息错误：姓名") and
        ``returned_on`` (a date or ISO text); returns the report number. Reporting a card
        that was reported before changes nothing (a retried step may call it twice)."""


# -- the records -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportRecord:
    """One card of a report, cleaned."""

    card_number: str
    id_number: str
    name: str
    reason: str
    returned_on: date

    @property
    def card_number_masked(self) -> str:
        return mask_card_number(self.card_number)

    @property
    def id_number_masked(self) -> str:
        return mask_id(self.id_number)


def _date(value) -> date | None:
    if isinstance(value, (date, datetime)):
        return to_local_date(value)
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def clean_records(records) -> list[ReportRecord]:
    """The records checked and tidied; ``ProvincialReportError`` names every record that
    cannot be reported (nothing is reported then)."""
    if not isinstance(records, (list, tuple)) or not records:
        raise ProvincialReportError("没有要上报的退卡", "There is no returned card to report",
                                    code="report_empty")
    problems: list[tuple[str, str]] = []
    cleaned: list[ReportRecord] = []
    seen: set[str] = set()
    for i, record in enumerate(records, 1):
        if not isinstance(record, dict):
            problems.append((f"第 {i} 条不是退卡记录", f"Record {i} is not a returned card"))
            continue
        card = str(record.get("card_number") or "").strip().upper()
        id_number = str(record.get("id_number") or "").strip().upper()
        name = " ".join(str(record.get("name") or "").split())
        reason = " ".join(str(record.get("reason") or "").split())
        returned_on = _date(record.get("returned_on"))
        label = f"第 {i} 条（卡号 {mask_card_number(card)}）" if card else f"第 {i} 条"
        label_en = f"Record {i} (card {mask_card_number(card)})" if card else f"Record {i}"
        missing = [(zh, en) for ok, zh, en in (
            (card, "卡号", "card number"), (id_number, "身份证号", "ID number"), (name, "姓名", "name"),
            (reason, "退卡原因", "reason"), (returned_on, "退卡日期", "date returned")) if not ok]
        if missing:
            problems.append((f"{label}缺少{'、'.join(zh for zh, _ in missing)}",
                             f"{label_en}: {', '.join(en for _, en in missing)} missing"))
            continue
        if len(card) > 9 or len(id_number) > 18 or len(name) > 30 or len(reason) > MAX_REASON:
            problems.append((f"{label}的卡号、身份证号、姓名或原因过长",
                             f"{label_en}: the card number, ID number, name or reason is too long"))
            continue
        if card in seen:
            problems.append((f"{label}重复", f"{label_en} appears twice"))
            continue
        seen.add(card)
        cleaned.append(ReportRecord(card, id_number, name, reason, returned_on))
    if problems:
        raise ProvincialReportError("退卡上报有误：" + "；".join(zh for zh, _ in problems),
                                    "The report cannot be made: " + "; ".join(en for _, en in problems))
    return cleaned


# -- the printable slip ----------------------------------------------------------------------

@dataclass(frozen=True)
class ProvincialSlip:
    """The provincial return slip 退卡回收单（省级）, one of ``copies`` copies: title, number,
    date and the cards (a page or a PDF lays it out)."""

    title: str
    number: str
    reported_on: date
    records: list[ReportRecord] = field(default_factory=list)
    copies: int = SLIP_COPIES

    @property
    def count(self) -> int:
        return len(self.records)


def slip(number: str, records, reported_on: date, province: str = "") -> ProvincialSlip:
    """The slip of a report: ``province`` is printed before the title (宁夏 → 宁夏社会保障卡退卡回收单)."""
    rows = [r if isinstance(r, ReportRecord) else clean_records([r])[0] for r in records]
    return ProvincialSlip(f"{province}{SLIP_TITLE}", number, to_local_date(reported_on), rows)


# -- the embedded default --------------------------------------------------------------------

class ProvinceCardReport(Base):
    """A card the embedded provincial report received (one row per card, ever)."""
    __tablename__ = "province_card_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_number: Mapped[str] = mapped_column(String(40), index=True)
    card_number: Mapped[str] = mapped_column(String(9), unique=True)
    id_number: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(String(MAX_REASON))
    returned_on: Mapped[date] = mapped_column(Date)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def record(self) -> ReportRecord:
        return ReportRecord(self.card_number, self.id_number, self.name, self.reason,
                            self.returned_on)

    def __repr__(self) -> str:
        return f"<ProvinceCardReport {self.report_number} {mask_card_number(self.card_number)}>"


class EmbeddedProvincialReport(ProvincialReport):
    """Takes every report at once, in the caller's transaction (a rolled-back step reported
    nothing). The report number is ``SJTK<date>-<first row id>``: unique without a counter
    two clerks could race for."""

    def __init__(self, session: Session):
        self.session = session

    def report_returned(self, records: list[dict]) -> str:
        cleaned = clean_records(records)
        before = dict(self.session.execute(
            select(ProvinceCardReport.card_number, ProvinceCardReport.report_number)
            .where(ProvinceCardReport.card_number.in_([r.card_number for r in cleaned]))).all())
        new = [r for r in cleaned if r.card_number not in before]
        if not new:  # all reported before: the number they were reported under
            return before[cleaned[0].card_number]
        now = utcnow()
        rows = [ProvinceCardReport(report_number="", card_number=r.card_number,
                                   id_number=r.id_number, name=r.name, reason=r.reason,
                                   returned_on=r.returned_on, reported_at=now) for r in new]
        self.session.add_all(rows)
        self.session.flush()
        number = f"{NUMBER_PREFIX}{to_local_date(now):%Y%m%d}-{min(r.id for r in rows):06d}"
        for row in rows:
            row.report_number = number
        self.session.flush()
        log.info("provincial report %s: %d cards (%d reported before)", number, len(new),
                 len(cleaned) - len(new))
        return number

    # -- reading back (the centre's pages and the slip)

    def records(self, report_number: str) -> list[ReportRecord]:
        return [row.record() for row in self.session.scalars(
            select(ProvinceCardReport).where(ProvinceCardReport.report_number == report_number)
            .order_by(ProvinceCardReport.id))]

    def report_of(self, card_number: str) -> str | None:
        """The report number a card was reported under, or None."""
        return self.session.scalar(select(ProvinceCardReport.report_number).where(
            ProvinceCardReport.card_number == str(card_number or "").strip().upper()))

    def slip(self, report_number: str, province: str = "") -> ProvincialSlip | None:
        rows = list(self.session.scalars(
            select(ProvinceCardReport).where(ProvinceCardReport.report_number == report_number)
            .order_by(ProvinceCardReport.id)))
        if not rows:
            return None
        return slip(report_number, [r.record() for r in rows], rows[0].reported_at, province)


__all__ = [
    "EmbeddedProvincialReport", "FIELDS", "ProvinceCardReport", "ProvincialReport",
    "ProvincialReportError", "ProvincialSlip", "ReportRecord", "SLIP_COPIES", "SLIP_TITLE",
    "clean_records", "slip",
]
