"""Card manufacturer 制卡厂商 — the centre sends the batch's production file and gets the
delivery file back (seed 001 §5.1: "由社保卡中心统一送制卡厂商制作社保卡").

``CardManufacturer`` is the interface a real connector implements (an SFTP drop, a web
service...); ``EmbeddedCardManufacturer`` "makes" the cards at once in the platform database
(table ``manufacturer_card``): a random card number 卡号 and a bank account 银行卡号 at the bank
the person ticked. Both files are UTF-8 CSV text described in ``docs/manufacturer-files.md``;
this module is the one place that reads and writes them, for both sides.

The adapter knows no procedure family and no kernel table (import-linter): it sees lines of a
file, not persons or cards.
"""
from __future__ import annotations

import abc
import csv
import io
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Iterable, Iterator

from sqlalchemy import CheckConstraint, Integer, String, Text, UniqueConstraint, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from stdnum.cn import ric

from app.common.clock import to_local_date, utcnow
from app.common.errors import BilingualError
from app.database import Base
from app.database import sql_in as _in
from app.engine.db import UtcDateTime
from hardware.profile import is_valid_card_number, new_card_number

log = logging.getLogger(__name__)

# -- the two file formats (docs/manufacturer-files.md) ----------------------------------------

PRODUCTION_HEADER = ("序号", "批次", "单位社保编码", "单位名称", "姓名", "性别", "民族", "身份证号",
                     "出生日期", "参保区域", "银行代码", "照片")
DELIVERY_HEADER = ("序号", "身份证号", "姓名", "卡号", "银行代码", "银行卡号", "制卡日期", "状态", "说明")
DATE_FORMAT = "%Y%m%d"   # 出生日期, 制卡日期: YYYYMMDD as on the card's chip
SEXES = ("1", "2", "9")  # GB/T 2261.1: 男, 女, 未说明
ORDER_NUMBER = re.compile(r"[A-Za-z0-9_-]{1,30}")
BANK_CODE = re.compile(r"[A-Z]{2,10}")  # as in the city configuration's bank list

# 6-digit BINs (发卡行识别码) of the embedded manufacturer's debit accounts. Invented, though
# shaped like the banks' real debit BINs; a bank without its own BIN gets the fallback one
# (a city may configure a local bank the manufacturer has no BIN table entry for).
BINS = {"ICBC": "621226", "CCB": "621700", "BOC": "621661", "ABC": "622848"}
FALLBACK_BIN = "623999"
ACCOUNT_LENGTH = 19


class LineStatus(StrEnum):
    MADE = "made"      # 已制成
    FAILED = "failed"  # 制卡失败


class ManufacturerError(BilingualError):
    """A file that cannot be read as a whole, or an order the manufacturer refuses."""

    kind = "invalid"

    def __init__(self, zh: str, en: str, code: str = "manufacturer_file"):
        super().__init__(zh, en, code=code)


@dataclass(frozen=True)
class ProductionLine:
    """One line of the production file 制卡数据文件: one card to make. Values are text as in
    the file; ``problem`` says why a line of the wrong shape cannot be read (then the other
    fields may be empty)."""

    line: int              # 序号, 1..n in file order
    batch: str             # 批次 (the platform's batch id)
    employer_code: str     # 单位社保编码
    employer_name: str     # 单位名称
    name: str              # 姓名
    sex: str               # 性别 1/2/9
    ethnicity: str         # 民族 (GB 3304, two digits)
    id_number: str         # 身份证号 = 社会保障号码
    birth_date: str        # 出生日期 YYYYMMDD
    region: str            # 参保区域 (6-digit division code)
    bank: str              # 银行代码 (the city's bank code: ICBC...)
    photo: str             # 照片: file name in the photo package, empty when none
    problem: str | None = None

    def row(self) -> list[str]:
        return [str(self.line), self.batch, self.employer_code, self.employer_name, self.name,
                self.sex, self.ethnicity, self.id_number, self.birth_date, self.region,
                self.bank, self.photo]


@dataclass(frozen=True)
class DeliveryLine:
    """One line of the delivery file 制卡结果文件: the card made, or why it failed."""

    line: int
    id_number: str
    name: str
    card_number: str | None
    bank: str
    bank_account: str | None
    made_on: date | None
    status: str            # LineStatus
    note: str = ""         # 说明: the reason of a failed card

    @property
    def made(self) -> bool:
        return self.status == LineStatus.MADE

    def row(self) -> list[str]:
        return [str(self.line), self.id_number, self.name, self.card_number or "", self.bank,
                self.bank_account or "", self.made_on.strftime(DATE_FORMAT) if self.made_on else "",
                self.status, self.note]


class CsvText:
    """Builds a CSV text line by line (RFC 4180 quoting, CRLF), so a large file is written
    from a streamed query without keeping its rows."""

    def __init__(self, header: Iterable[str]):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        self._writer.writerow(header)
        self.lines = 0

    def add(self, row: list[str]) -> None:
        self._writer.writerow(row)
        self.lines += 1

    def text(self) -> str:
        return self._buffer.getvalue()


def production_writer() -> CsvText:
    return CsvText(PRODUCTION_HEADER)


def write_production(lines: Iterable[ProductionLine]) -> str:
    out = production_writer()
    for line in lines:
        out.add(line.row())
    return out.text()


def write_delivery(lines: Iterable[DeliveryLine]) -> str:
    out = CsvText(DELIVERY_HEADER)
    for line in lines:
        out.add(line.row())
    return out.text()


def _rows(text: str, header: tuple[str, ...], what: tuple[str, str]) -> Iterator[tuple[int, list[str]]]:
    """(序号, cells) of each data row after checking the header and the numbering: a file
    whose lines cannot be told apart is refused as a whole."""
    if not isinstance(text, str) or not text.strip():
        raise ManufacturerError(f"{what[0]}为空", f"The {what[1]} is empty")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))  # tolerate a BOM (Excel)
    try:
        first = next(reader)
    except csv.Error as e:
        raise ManufacturerError(f"{what[0]}不是有效的 CSV：{e}", f"The {what[1]} is not valid CSV: {e}")
    if tuple(c.strip() for c in first) != header:
        raise ManufacturerError(f"{what[0]}的标题行应为：{','.join(header)}",
                                f"The {what[1]}'s header line must be: {','.join(header)}")
    expected = 1
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank line (e.g. at the end)
            number = cells[0].strip()
            if number != str(expected):
                raise ManufacturerError(
                    f"{what[0]}第 {expected} 条数据的序号应为 {expected}，实为“{number[:20]}”",
                    f"Data line {expected} of the {what[1]} must have 序号 {expected}, "
                    f"not '{number[:20]}'")
            yield expected, cells
            expected += 1
    except csv.Error as e:
        raise ManufacturerError(f"{what[0]}第 {expected} 条数据不是有效的 CSV：{e}",
                                f"Data line {expected} of the {what[1]} is not valid CSV: {e}")


def read_production(text: str) -> list[ProductionLine]:
    """The lines of a production file; ``ManufacturerError`` when the file as a whole is
    unreadable (header, numbering). A line with the wrong number of cells comes back with
    ``problem`` set."""
    lines = []
    for number, cells in _rows(text, PRODUCTION_HEADER, ("制卡数据文件", "production file")):
        if len(cells) != len(PRODUCTION_HEADER):
            cells = (cells + [""] * len(PRODUCTION_HEADER))[:len(PRODUCTION_HEADER)]
            problem = f"应有 {len(PRODUCTION_HEADER)} 列"
        else:
            problem = None
        values = [c.strip() for c in cells[1:]]
        lines.append(ProductionLine(number, *values, problem=problem))
    return lines


def read_delivery(text: str) -> list[DeliveryLine]:
    """The lines of a delivery file. A line that does not say clearly that its card was made
    (wrong shape, unknown status, card number or bank account missing or invalid, bad date)
    comes back as failed with the reason in ``note``."""
    return [_delivery_line(number, cells)
            for number, cells in _rows(text, DELIVERY_HEADER, ("制卡结果文件", "delivery file"))]


def _delivery_line(number: int, cells: list[str]) -> DeliveryLine:
    shaped = (cells + [""] * len(DELIVERY_HEADER))[:len(DELIVERY_HEADER)]
    _, id_number, name, card, bank, account, made_on, status, note = (c.strip() for c in shaped)
    card, id_number = card.upper(), id_number.upper()
    failed = lambda reason: DeliveryLine(number, id_number, name, None, bank, None, None,  # noqa: E731
                                         LineStatus.FAILED, note or reason)
    if len(cells) != len(DELIVERY_HEADER):
        return failed(f"结果行应有 {len(DELIVERY_HEADER)} 列")
    if status == LineStatus.FAILED:
        return failed("制卡失败")
    if status != LineStatus.MADE:
        return failed(f"状态“{status[:10]}”无效")
    if not is_valid_card_number(card):
        return failed("卡号无效")
    if not is_valid_bank_account(account):
        return failed("银行卡号无效")
    try:
        day = datetime.strptime(made_on, DATE_FORMAT).date()
    except ValueError:
        return failed("制卡日期无效")
    return DeliveryLine(number, id_number, name, card, bank, account, day, LineStatus.MADE, note)


# -- bank accounts 银行卡号 ---------------------------------------------------------------------

def luhn_check_digit(body: str) -> str:
    """The Luhn (mod 10) check digit bank card numbers end with (ISO/IEC 7812)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # every second digit from the right of the body is doubled
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def is_valid_bank_account(number: str | None) -> bool:
    number = number or ""
    return (len(number) == ACCOUNT_LENGTH and number.isdigit()
            and luhn_check_digit(number[:-1]) == number[-1])


def bin_of(bank: str) -> str:
    return BINS.get(bank, FALLBACK_BIN)


def new_bank_account(bank: str, rand=secrets.randbelow) -> str:
    """19 digits: the bank's BIN, 12 random digits, the Luhn check digit."""
    digits = ACCOUNT_LENGTH - 7
    body = bin_of(bank) + f"{rand(10 ** digits):0{digits}d}"
    return body + luhn_check_digit(body)


# -- the interface -----------------------------------------------------------------------------

class CardManufacturer(abc.ABC):
    @abc.abstractmethod
    def submit(self, order_number: str, production_file: str) -> None:
        """Send the production file of an order 送制卡. Submitting the same order again
        (same number, same lines) changes nothing: a retried step may call it twice."""

    @abc.abstractmethod
    def delivery(self, order_number: str) -> str | None:
        """The delivery file of the order 制卡结果, or None while it is not ready."""


# -- the embedded default ----------------------------------------------------------------------

class ManufacturerCard(Base):
    """A card the embedded manufacturer made (or failed to make): one line of an order."""
    __tablename__ = "manufacturer_card"
    __table_args__ = (UniqueConstraint("order_number", "line", name="uq_manufacturer_card_line"),
                      CheckConstraint(_in("status", LineStatus), name="status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(30))
    line: Mapped[int] = mapped_column(Integer)
    id_number: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(30))
    bank: Mapped[str] = mapped_column(String(10))
    card_number: Mapped[str | None] = mapped_column(String(9), unique=True)
    bank_account: Mapped[str | None] = mapped_column(String(19), unique=True)
    status: Mapped[str] = mapped_column(String(6))
    note: Mapped[str | None] = mapped_column(Text)  # why it failed
    made_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ManufacturerCard {self.order_number}/{self.line} {self.status}>"


CHUNK = 1000   # lines drawn and inserted together (keeps IN lists and memory small)
TRIES = 20     # fresh draws for numbers already taken, before giving up


def line_problem(line: ProductionLine) -> str | None:
    """Why the embedded manufacturer cannot make this line's card, or None (Chinese: the
    reason goes into the delivery file's 说明 column)."""
    if line.problem:
        return line.problem
    if not line.name:
        return "姓名为空"
    if not _valid_citizen_id(line.id_number):
        return "身份证号无效"
    if line.sex not in SEXES:
        return "性别代码无效"
    try:
        datetime.strptime(line.birth_date, DATE_FORMAT)
    except ValueError:
        return "出生日期无效"
    if not BANK_CODE.fullmatch(line.bank):
        return f"银行代码“{line.bank[:10]}”无效"
    return None


def _valid_citizen_id(number: str) -> bool:
    return bool(re.fullmatch(r"\d{17}[\dX]", number)) and ric.calc_check_digit(number) == number[-1]


class EmbeddedCardManufacturer(CardManufacturer):
    """Makes every card at once, in the caller's transaction (nothing leaves the database, so
    a rolled-back step made no cards). Never fails a valid line."""

    def __init__(self, session: Session):
        self.session = session

    def submit(self, order_number: str, production_file: str) -> None:
        _check_order_number(order_number)
        lines = read_production(production_file)
        if not lines:
            raise ManufacturerError("制卡数据文件没有数据行", "The production file has no data lines")
        new = self._new_lines(order_number, lines)
        for start in range(0, len(new), CHUNK):
            self._make(order_number, new[start:start + CHUNK])
        log.info("manufacturer order %s: %d lines, %d new", order_number, len(lines), len(new))

    def delivery(self, order_number: str) -> str | None:
        t = ManufacturerCard
        rows = self.session.execute(
            select(t.line, t.id_number, t.name, t.card_number, t.bank, t.bank_account, t.status,
                   t.note, t.made_at)
            .where(t.order_number == order_number).order_by(t.line)
            .execution_options(yield_per=CHUNK))
        out = CsvText(DELIVERY_HEADER)
        for row in rows:
            out.add(_delivered(row).row())
        return out.text() if out.lines else None

    # -- making

    def _new_lines(self, order_number: str, lines: list[ProductionLine]) -> list[ProductionLine]:
        """The lines not made yet; a line made before for another person means the order
        number was reused for different content: refused."""
        made = dict(self.session.execute(
            select(ManufacturerCard.line, ManufacturerCard.id_number)
            .where(ManufacturerCard.order_number == order_number)).all())
        clash = [line.line for line in lines
                 if line.line in made and made[line.line] != line.id_number[:18]]
        if clash:
            raise ManufacturerError(
                f"订单 {order_number} 已提交过内容不同的制卡数据（序号 {clash[0]}）",
                f"Order {order_number} was submitted before with different lines (序号 {clash[0]})",
                code="order_conflict")
        return [line for line in lines if line.line not in made]

    def _make(self, order_number: str, lines: list[ProductionLine]) -> None:
        problems = {line.line: line_problem(line) for line in lines}
        good = [line for line in lines if problems[line.line] is None]
        cards = self._free(ManufacturerCard.card_number, len(good), lambda i: new_card_number())
        accounts = self._free(ManufacturerCard.bank_account, len(good),
                              lambda i: new_bank_account(good[i].bank))
        drawn = {line.line: (cards[i], accounts[i]) for i, line in enumerate(good)}
        now = utcnow()
        self.session.execute(insert(ManufacturerCard), [
            {"order_number": order_number, "line": line.line, "id_number": line.id_number[:18],
             "name": line.name[:30], "bank": line.bank[:10],
             "card_number": drawn.get(line.line, (None, None))[0],
             "bank_account": drawn.get(line.line, (None, None))[1],
             "status": LineStatus.FAILED if problems[line.line] else LineStatus.MADE,
             "note": problems[line.line], "made_at": now}
            for line in lines])

    def _free(self, column, count: int, draw) -> list[str]:
        """``count`` numbers drawn by ``draw(i)``, unique among themselves and in the table
        (one query per round; collisions are rare, so one or two rounds)."""
        numbers: list[str | None] = [None] * count
        seen: set[str] = set()
        for _ in range(TRIES):
            todo = [i for i, n in enumerate(numbers) if n is None]
            if not todo:
                return numbers
            fresh: dict[int, str] = {}
            for i in todo:
                number = draw(i)
                if number not in seen:
                    fresh[i] = number
                    seen.add(number)
            taken = set(self.session.scalars(select(column).where(column.in_(list(fresh.values())))))
            for i, number in fresh.items():
                if number in taken:
                    seen.discard(number)  # someone else's: draw this one again
                else:
                    numbers[i] = number
        raise RuntimeError(f"no free {column.key} after {TRIES} draws")


def _check_order_number(order_number: str) -> None:
    if not ORDER_NUMBER.fullmatch(order_number or ""):
        raise ManufacturerError(f"订单号“{str(order_number)[:40]}”无效（1-30 位字母、数字、- 或 _）",
                                f"Invalid order number '{str(order_number)[:40]}' "
                                f"(1-30 letters, digits, - or _)", code="order_number")


def _delivered(card) -> DeliveryLine:
    """The delivery line of a ``manufacturer_card`` row."""
    made = card.status == LineStatus.MADE
    return DeliveryLine(card.line, card.id_number, card.name, card.card_number, card.bank,
                        card.bank_account, to_local_date(card.made_at) if made else None,
                        card.status, card.note or "")


__all__ = [
    "BINS", "CardManufacturer", "DELIVERY_HEADER", "DeliveryLine", "EmbeddedCardManufacturer",
    "FALLBACK_BIN", "LineStatus", "ManufacturerCard", "ManufacturerError", "PRODUCTION_HEADER",
    "ProductionLine", "bin_of", "is_valid_bank_account", "line_problem", "luhn_check_digit",
    "new_bank_account", "production_writer", "read_delivery", "read_production",
    "write_delivery", "write_production",
]
