"""Users, groups (= roles = BPMN lanes), API tokens, sign-in sessions and sign-in attempts."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.common.clock import utcnow
from app.database import Base
from app.engine.db import UtcDateTime

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

    @staticmethod
    def check_no_password(password: str) -> bool:
        """The same work as :meth:`check_password` for a user who does not exist (or is
        deactivated): a dummy hash is verified, so an unknown user name is not answered faster
        than a known one (no timing oracle of user names). Always False."""
        check_password_hash(_dummy_hash(), password)
        return False

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


_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    """A hash of a random password made with the method real passwords get (werkzeug's
    default), once per process."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH


class UserSession(Base):
    """A sign-in session 登录会话 of the pages, kept on the server so it can be ended there.

    The browser's (signed) Flask session holds a random secret; only its SHA-256 is stored, as
    ``id``. A session is live while ``revoked_at`` is empty, the user is active and it was seen
    within the idle timeout: sign-out, deactivation and a password change set ``revoked_at``, so
    a copied or replayed cookie stops working at once. ``last_seen_at`` is written at most every
    few minutes, not on every request.
    """
    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie's secret
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    user_agent: Mapped[str] = mapped_column(String(256), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")

    @staticmethod
    def hash(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @staticmethod
    def new_secret() -> str:
        return secrets.token_urlsafe(32)


class LoginAttempt(Base):
    """One sign-in attempt on the login page 登录尝试 (the lockout's memory, in the database so
    every web process sees it; also a record of who tried what from where).

    ``username`` is the name as typed (trimmed, lower case), whether or not such a user exists:
    unknown names are throttled like known ones, so a lockout tells nothing about who exists.
    ``outcome``: ``ok``, ``failed`` (wrong name or password) or ``refused`` (tried during a
    lockout; not counted as a failure). The failure that reaches the limit carries the end of
    the lockout it starts: ``user_locked_until`` for the user name, ``ip_locked_until`` for the
    address. Failures before a lockout or a successful sign-in no longer count.
    """
    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(45), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    user_locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ip_locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
