"""The batch family's tables 批次数据表. A batch (制卡批次) and each employer application in it
(单位申领) are cases; the persons are rows (architecture: "work at the size people work at"):
100,000 persons of a batch are 100,000 ``BatchPerson`` rows, not cases or inbox tasks."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.common.clock import utcnow
from app.common.masking import mask_id, mask_phone
from app.database import Base
from app.database import sql_in as _in
from app.engine.db import UtcDateTime
from app.procedures.batch.states import (
    BatchStatus,
    Eligibility,
    EmployerStatus,
    Entry,
    Production,
)


# -- the deployment's city 本市配置 (seed 001 §1.4: six insured regions; §1.2: partner banks)

class CityRegion(Base):
    """参保区域: an insured region of the city, by its administrative division code."""
    __tablename__ = "city_region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)   # 330200 市区
    name: Mapped[str] = mapped_column(String(50))
    sort: Mapped[int] = mapped_column(Integer, default=0)


class PartnerBank(Base):
    """合作银行: a bank whose debit account the card may carry (the person ticks one)."""
    __tablename__ = "partner_bank"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)  # ICBC
    name: Mapped[str] = mapped_column(String(50))                    # 中国工商银行
    short_name: Mapped[str] = mapped_column(String(20))              # 工商银行
    sort: Mapped[int] = mapped_column(Integer, default=0)


class CitySetting(Base):
    """The city's name and other single values of the configuration."""
    __tablename__ = "city_setting"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# -- the batch 制卡批次

class Batch(Base):
    __tablename__ = "batch"
    __table_args__ = (CheckConstraint(_in("status", BatchStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    cutoff: Mapped[date] = mapped_column(Date)            # 数据截止日期 (Y §4.4.2)
    regions: Mapped[list] = mapped_column(JSON)           # region codes of the batch
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.IMPORTING)
    office: Mapped[str | None] = mapped_column(String(32))
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    source_name: Mapped[str | None] = mapped_column(String(200))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    counts: Mapped[dict | None] = mapped_column(JSON)     # the figures of the last check
    error_zh: Mapped[str | None] = mapped_column(Text)    # why the import failed
    error_en: Mapped[str | None] = mapped_column(Text)
    return_by: Mapped[date | None] = mapped_column(Date)  # employers return the forms by then
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BatchUpload(Base):
    """A file a clerk uploaded for a batch job (kept in the database so that any worker can
    read it and a restarted job finds it again)."""
    __tablename__ = "batch_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))          # contribution / police
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"), index=True)
    rows: Mapped[int | None] = mapped_column(Integer)      # data rows read (header not counted)
    rejected: Mapped[int | None] = mapped_column(Integer)  # rows refused (RejectedRow)
    imported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ContributionRecord(Base):
    """One row of the contribution-system export 统一申报征缴数据 (one insurance of one person at
    one employer). All regions of the city are kept: rule 3 looks at every region."""
    __tablename__ = "batch_contribution"
    __table_args__ = (
        UniqueConstraint("batch_id", "id_number", "region", "employer_code", "insurance",
                         "insured_on", name="uq_batch_contribution_record"),
        Index("ix_batch_contribution_person", "batch_id", "id_number"),
        Index("ix_batch_contribution_line", "upload_id", "row_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    upload_id: Mapped[int] = mapped_column(ForeignKey("batch_upload.id"))
    row_no: Mapped[int] = mapped_column(Integer)           # line in the file (header = 1)
    region: Mapped[str] = mapped_column(String(6))
    employer_code: Mapped[str] = mapped_column(String(30))
    employer_name: Mapped[str] = mapped_column(String(100))
    dept1: Mapped[str | None] = mapped_column(String(100))
    dept2: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(30))
    sex: Mapped[str] = mapped_column(String(1))            # 1 男, 2 女
    id_number: Mapped[str] = mapped_column(String(18))
    insurance: Mapped[str] = mapped_column(String(10))     # code, app.procedures.batch.insurance
    insured_on: Mapped[date] = mapped_column(Date)


class RejectedRow(Base):
    """A row of the export that could not be read, with its line and reason (downloadable)."""
    __tablename__ = "batch_rejected_row"
    __table_args__ = (UniqueConstraint("upload_id", "row_no", name="uq_batch_rejected_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("batch_upload.id"))
    row_no: Mapped[int] = mapped_column(Integer)
    reason_zh: Mapped[str] = mapped_column(Text)
    reason_en: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)                 # the row as read, ID number masked


class Employer(Base):
    """An employer's application 单位申领 in a batch: its case, its forms' returns and summary."""
    __tablename__ = "batch_employer"
    __table_args__ = (UniqueConstraint("batch_id", "code", name="uq_batch_employer"),
                      CheckConstraint(_in("status", EmployerStatus), name="status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))          # 单位社保编码
    name: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(16), default=EmployerStatus.WAITING)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    eligible: Mapped[int] = mapped_column(Integer, default=0)
    not_eligible: Mapped[int] = mapped_column(Integer, default=0)
    forms_received: Mapped[int | None] = mapped_column(Integer)   # 收到《确认表》共计 (declared)
    forms_returned: Mapped[int | None] = mapped_column(Integer)   # 返回《确认表》共计 (declared)
    declared: Mapped[dict | None] = mapped_column(JSON)  # 申领汇总表 {"dept": {"ICBC": n}}
    differences: Mapped[list | None] = mapped_column(JSON)  # last reconciliation's differences
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # counts as applied
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # data frozen
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Person(Base):
    """A person of a batch: the checks' outcome, the confirmation form, the entry and review,
    the card. Basic data (name, sex, ID number) is frozen once ``submitted_at`` is set."""
    __tablename__ = "batch_person"
    __table_args__ = (
        UniqueConstraint("batch_id", "id_number", name="uq_batch_person"),
        Index("ix_batch_person_roster", "employer_id", "seq"),
        Index("ix_batch_person_status", "batch_id", "eligibility"),
        CheckConstraint(_in("eligibility", Eligibility), name="eligibility"),
        CheckConstraint(_in("entry", Entry), name="entry"),
        CheckConstraint("production IS NULL OR " + _in("production", Production), name="production"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("batch_employer.id"))
    id_number: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(30))
    sex: Mapped[str] = mapped_column(String(1))
    region: Mapped[str | None] = mapped_column(String(6))   # the medical-insurance region
    employer_code: Mapped[str | None] = mapped_column(String(30))
    dept1: Mapped[str | None] = mapped_column(String(100))
    dept2: Mapped[str | None] = mapped_column(String(100))
    eligibility: Mapped[str] = mapped_column(String(24), default=Eligibility.PENDING)
    detail: Mapped[dict | None] = mapped_column(JSON)        # e.g. the register's differing values
    # from the police register (公安户籍信息)
    police_name: Mapped[str | None] = mapped_column(String(30))
    police_sex: Mapped[str | None] = mapped_column(String(1))
    ethnicity: Mapped[str | None] = mapped_column(String(2))
    birth_date: Mapped[date | None] = mapped_column(Date)
    household_address: Mapped[str | None] = mapped_column(String(100))
    household_region: Mapped[str | None] = mapped_column(String(6))
    has_photo: Mapped[bool] = mapped_column(Boolean, default=False)
    # the roster 花名册
    sort_key: Mapped[str | None] = mapped_column(String(200))  # pinyin, surname read as surname
    seq: Mapped[int | None] = mapped_column(Integer)
    # the confirmation form 确认表 and its entry (录入 + 复核)
    entry: Mapped[str] = mapped_column(String(16), default=Entry.OUT)
    bank: Mapped[str | None] = mapped_column(String(10))     # PartnerBank.code ticked
    mobile: Mapped[str | None] = mapped_column(String(11))
    landline: Mapped[str | None] = mapped_column(String(25))
    address: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(6))
    entered_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    review_note: Mapped[str | None] = mapped_column(Text)    # why it was sent back
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # frozen (N §4.3)
    # the card
    production: Mapped[str | None] = mapped_column(String(10))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"))
    # second data collection 二次数据采集: taken into a later batch
    taken_into: Mapped[int | None] = mapped_column(ForeignKey("batch.id"))

    @property
    def id_number_masked(self) -> str:
        return mask_id(self.id_number)

    @property
    def mobile_masked(self) -> str:
        return mask_phone(self.mobile) if self.mobile else ""

    @property
    def frozen(self) -> bool:
        return self.submitted_at is not None


class PersonEvent(Base):
    """What happened to a person's row after the checks (entry, review, freeze, card), who and
    when: the person's history."""
    __tablename__ = "batch_person_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("batch_person.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    by: Mapped[str] = mapped_column(String(64))
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)


# -- the employer's authorisation voucher 申领凭证 (seed 001 §4.1, annex 1)

class Voucher(Base):
    """One version of an employer's voucher; a change of agents is a new version."""
    __tablename__ = "batch_voucher"
    __table_args__ = (UniqueConstraint("employer_code", "version", name="uq_batch_voucher"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_code: Mapped[str] = mapped_column(String(30), index=True)
    version: Mapped[int] = mapped_column(Integer)
    employer_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(25))
    address: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(6))
    filled_by: Mapped[str | None] = mapped_column(String(30))     # 填表人
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class VoucherAgent(Base):
    """经办人 (one to three per voucher version)."""
    __tablename__ = "batch_voucher_agent"
    __table_args__ = (UniqueConstraint("voucher_id", "slot", name="uq_batch_voucher_agent"),
                      CheckConstraint("slot BETWEEN 1 AND 3", name="slot"))

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("batch_voucher.id"), index=True)
    slot: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(30))
    office_phone: Mapped[str | None] = mapped_column(String(25))
    mobile: Mapped[str] = mapped_column(String(11))
    id_number: Mapped[str] = mapped_column(String(18))

    @property
    def id_number_masked(self) -> str:
        return mask_id(self.id_number)


# -- production at the card manufacturer 制卡厂 (seed 001 §5.1)

class ProductionOrder(Base):
    """A production file sent to the manufacturer and the delivery file it answered with."""
    __tablename__ = "batch_production"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)  # file name stem
    persons: Mapped[int] = mapped_column(Integer)
    remake: Mapped[bool] = mapped_column(Boolean, default=False)  # cards sent back on arrival
    order_file: Mapped[str] = deferred(mapped_column(Text))       # production file out
    delivery_file: Mapped[str | None] = deferred(mapped_column(Text))  # delivery file back
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_by: Mapped[str] = mapped_column(String(64))


class EmployerDocument(Base):
    """A PDF made by a background job (a thousand confirmation forms take minutes to lay out):
    kept with when and for whom it was made; the employer page offers the newest."""
    __tablename__ = "batch_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("batch_employer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))           # roster, confirmation, ...
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    size: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
