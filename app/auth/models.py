"""Users, groups (= roles = BPMN lanes) and API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.common.clock import utcnow
from app.database import Base

# Demo roles of the platform; each is a group, and a BPMN lane of that name sends tasks to it.
GROUPS = {
    "window_clerk": ("银行制卡窗口经办", "Bank window clerk"),
    "outlet_clerk": ("代办网点经办", "Outlet clerk"),
    "centre_clerk": ("社保卡中心经办", "Card centre clerk"),
    "reviewer": ("复核人", "Reviewer"),
    "manager": ("管理人员", "Manager"),
    "process_analyst": ("流程分析员", "Process analyst"),
    "administrator": ("系统管理员", "Administrator"),
}

user_group = Table(
    "user_group", Base.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("group.id", ondelete="CASCADE"), primary_key=True),
)



class Group(Base):
    __tablename__ = "group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    label_zh: Mapped[str] = mapped_column(String(64), default="")
    label_en: Mapped[str] = mapped_column(String(64), default="")


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    organisation: Mapped[str] = mapped_column(String(128), default="")  # its name, for pages
    # the office the user works at (ServicePoint.code: a window, an outlet, a card centre);
    # the data they see belongs to it (app.cases.access)
    office: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    groups: Mapped[list[Group]] = relationship(secondary=user_group, lazy="selectin")

    # flask-login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def group_names(self) -> frozenset[str]:
        return frozenset(g.name for g in self.groups)

    def in_group(self, *names: str) -> bool:
        return bool(self.group_names & set(names))


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored (shown once when created)."""
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="")
    user: Mapped[User] = relationship(lazy="joined")

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def new_secret() -> str:
        return "sst_" + secrets.token_urlsafe(32)
