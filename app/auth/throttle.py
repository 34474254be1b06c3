"""Sign-in throttling 登录限制 (no Flask here): too many wrong passwords lock a user name, and
too many from one address lock that address, for a while.

The memory is the ``login_attempt`` table, so every web process sees the same counts. The rule
(defaults; ``LOGIN_*`` settings of the app change them): 5 failed sign-ins of a user name within
15 minutes lock that name for 15 minutes, and 20 failed sign-ins from one address within 15
minutes lock that address for 15 minutes. During a lockout even the right password is refused
(and no password is checked). A successful sign-in clears the user name's count; a lockout's
end starts a fresh count. Unknown user names are counted like known ones, so a lockout tells
nobody which names exist. API tokens are not concerned.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.common.clock import utcnow

from .models import LoginAttempt

FAILED, OK, REFUSED = "failed", "ok", "refused"
USER, IP = "user", "ip"


def now() -> datetime:
    """The throttle's clock (tests replace it)."""
    return utcnow()


@dataclass(frozen=True)
class Policy:
    user_failures: int = 5
    ip_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    keep: timedelta = timedelta(days=90)  # attempts are forgotten after this

    @classmethod
    def from_config(cls, config: Mapping) -> Policy:
        default = cls()
        return cls(
            user_failures=int(config.get("LOGIN_MAX_FAILURES", default.user_failures)),
            ip_failures=int(config.get("LOGIN_MAX_FAILURES_PER_IP", default.ip_failures)),
            window=timedelta(seconds=float(config.get("LOGIN_FAILURE_WINDOW", default.window.total_seconds()))),
            lockout=timedelta(seconds=float(config.get("LOGIN_LOCKOUT", default.lockout.total_seconds()))),
        )


@dataclass(frozen=True)
class Lock:
    scope: str  # USER (the user name) or IP (the address)
    until: datetime

    def minutes_left(self, at: datetime) -> int:
        return max(1, math.ceil((self.until - at).total_seconds() / 60))


@dataclass(frozen=True)
class Failure:
    lock: Lock | None  # the lockout this failure started, if it did
    left: int  # failures of the user name left before it is locked


def key(username: str) -> str:
    """The user name as counted: trimmed, lower case (``Window`` and ``window`` count together)."""
    return (username or "").strip().lower()[:64]


def lock_of(session: Session, username: str, ip: str, at: datetime) -> Lock | None:
    """The lockout in force for this user name or this address, if any (the user name's
    first)."""
    until = session.scalar(select(func.max(LoginAttempt.user_locked_until))
                           .where(LoginAttempt.username == key(username), LoginAttempt.user_locked_until > at))
    if until is not None:
        return Lock(USER, until)
    if ip:
        until = session.scalar(select(func.max(LoginAttempt.ip_locked_until))
                               .where(LoginAttempt.ip == ip, LoginAttempt.ip_locked_until > at))
        if until is not None:
            return Lock(IP, until)
    return None


def _failures_since(session: Session, where, reset, at: datetime, policy: Policy) -> int:
    """Failures matching ``where`` in the window, after the last ``reset`` attempt (by id: the
    order the attempts were recorded in, even within one clock tick)."""
    last_reset = session.scalar(select(func.max(LoginAttempt.id)).where(where, reset)) or 0
    return session.scalar(select(func.count()).select_from(LoginAttempt)
                          .where(where, LoginAttempt.outcome == FAILED, LoginAttempt.id > last_reset,
                                 LoginAttempt.at > at - policy.window)) or 0


def record_failure(session: Session, username: str, ip: str, at: datetime, policy: Policy) -> Failure:
    """A wrong user name or password: counted, and the lockout it reaches started."""
    attempt = LoginAttempt(at=at, username=key(username), ip=ip or "", outcome=FAILED)
    session.add(attempt)
    session.flush()
    by_name = LoginAttempt.username == attempt.username
    failures = _failures_since(session, by_name, or_(LoginAttempt.outcome == OK,
                                                    LoginAttempt.user_locked_until.is_not(None)), at, policy)
    lock = None
    if failures >= policy.user_failures:
        attempt.user_locked_until = at + policy.lockout
        lock = Lock(USER, attempt.user_locked_until)
    if ip:
        by_ip = LoginAttempt.ip == ip
        if _failures_since(session, by_ip, LoginAttempt.ip_locked_until.is_not(None), at, policy) >= policy.ip_failures:
            attempt.ip_locked_until = at + policy.lockout
            lock = lock or Lock(IP, attempt.ip_locked_until)
    session.flush()
    return Failure(lock, max(0, policy.user_failures - failures))


def record_refused(session: Session, username: str, ip: str, at: datetime) -> None:
    """An attempt during a lockout (not counted as a failure)."""
    session.add(LoginAttempt(at=at, username=key(username), ip=ip or "", outcome=REFUSED))


def record_success(session: Session, username: str, ip: str, at: datetime, policy: Policy) -> None:
    """A successful sign-in: the user name's count starts again; old attempts are forgotten."""
    session.add(LoginAttempt(at=at, username=key(username), ip=ip or "", outcome=OK))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < at - policy.keep))


def unlock(session: Session, username: str, at: datetime | None = None) -> int:
    """End the user name's lockout now (an administrator's 解锁); the lockouts ended."""
    at = at or now()
    result = session.execute(update(LoginAttempt)
                             .where(LoginAttempt.username == key(username), LoginAttempt.user_locked_until > at)
                             .values(user_locked_until=at).execution_options(synchronize_session="fetch"))
    return result.rowcount or 0
