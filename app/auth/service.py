"""Sign-in and token rules 登录与令牌 (no Flask here: views and CLI both call these)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, object_session

from app.cases.access import offices_of
from app.common.clock import utcnow
from app.engine.services import Actor

from .models import GROUPS, ApiToken, Group, User, UserSession

#: a password chosen on the password page is at least this long
MIN_PASSWORD_LENGTH = 8


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user of this name and password, or None. Every answer costs one password-hash
    check, whether the user exists, is deactivated or not: all answers take the same time."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        User.check_no_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def change_password(session: Session, user: User, new_password: str,
                    keep_session: str | None = None) -> int:
    """Set ``user``'s password and end their other sign-in sessions (all but ``keep_session``,
    the id of the session record that changed it); the number of sessions ended."""
    user.set_password(new_password)
    return revoke_sessions(session, user.id, except_id=keep_session)


def deactivate_user(session: Session, user: User) -> int:
    """Deactivate ``user`` 停用账号: their sessions end at once and their API tokens stop
    working (a token's user must be active); the number of sessions ended."""
    user.active = False
    return revoke_sessions(session, user.id)


# -- sign-in sessions of the pages (app.auth.sessions puts them in the browser's cookie) ------

def create_session(session: Session, user: User, user_agent: str = "", ip: str = "",
                   now: datetime | None = None) -> tuple[UserSession, str]:
    """A new server-side sign-in session; its secret (for the cookie) is returned once and
    only its hash is stored."""
    now = now or utcnow()
    secret = UserSession.new_secret()
    record = UserSession(id=UserSession.hash(secret), user_id=user.id, created_at=now,
                         last_seen_at=now, user_agent=(user_agent or "")[:256], ip=(ip or "")[:45])
    session.add(record)
    session.flush()
    return record, secret


def live_session(session: Session, secret: str, now: datetime | None = None,
                 idle: timedelta | None = None) -> UserSession | None:
    """The session record of a cookie's secret while it may be used: not revoked, its user
    active and, with ``idle``, seen within that time (reading only: an idle record stays idle)."""
    if not secret:
        return None
    record = session.get(UserSession, UserSession.hash(secret))
    if record is None or record.revoked_at is not None:
        return None
    if idle is not None and record.last_seen_at < (now or utcnow()) - idle:
        return None
    user = session.get(User, record.user_id)
    if user is None or not user.active:
        return None
    return record


def revoke_session(session: Session, secret: str, now: datetime | None = None) -> bool:
    """End the session of a cookie's secret (sign-out)."""
    record = session.get(UserSession, UserSession.hash(secret)) if secret else None
    if record is None or record.revoked_at is not None:
        return False
    record.revoked_at = now or utcnow()
    return True


def revoke_sessions(session: Session, user_id: int, except_id: str | None = None,
                    now: datetime | None = None) -> int:
    """End every live session of a user but ``except_id`` (a session record's id)."""
    query = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if except_id is not None:
        query = query.where(UserSession.id != except_id)
    result = session.execute(query.values(revoked_at=now or utcnow())
                             .execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


def prune_sessions(session: Session, before: datetime) -> None:
    """Forget the sessions that ended, or were last seen, before ``before``."""
    session.execute(delete(UserSession).where(or_(UserSession.revoked_at < before,
                                                  UserSession.last_seen_at < before)))


def ensure_groups(session: Session) -> dict[str, Group]:
    existing = {g.name: g for g in session.scalars(select(Group))}
    for name, (zh, en) in GROUPS.items():
        if name not in existing:
            existing[name] = Group(name=name, label_zh=zh, label_en=en)
            session.add(existing[name])
    session.flush()
    return existing


def create_user(session: Session, username: str, password: str, groups: list[str],
                display_name: str = "", organisation: str = "",
                office: str | None = None) -> User:
    all_groups = ensure_groups(session)
    unknown = set(groups) - set(all_groups)
    if unknown:
        raise ValueError(f"unknown groups: {sorted(unknown)}")
    user = User(username=username, display_name=display_name or username,
                organisation=organisation, office=office)
    user.set_password(password)
    user.groups = [all_groups[g] for g in groups]
    session.add(user)
    session.flush()
    return user


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token; the secret is returned once and only its hash is stored."""
    secret = ApiToken.new_secret()
    token = ApiToken(user_id=user.id, name=name or "api", token_hash=ApiToken.hash(secret), prefix=secret[:10])
    session.add(token)
    session.flush()
    return token, secret


def user_for_token(session: Session, secret: str) -> User | None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    token.last_used_at = utcnow()
    return token.user


def revoke_token(session: Session, user: User, token_id: int) -> bool:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True


def actor_of(user: User) -> Actor:
    """The engine's view of a signed-in user: groups, office, and the offices they work for."""
    return Actor(username=user.username, user_id=user.id, groups=user.group_names,
                 office=user.office, offices=offices_of(object_session(user), user),
                 display_name=user.display_name)
