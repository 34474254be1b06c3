"""Sign-in and token rules 登录与令牌 (no Flask here: views and CLI both call these)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.common.clock import utcnow
from app.engine.services import Actor

from .models import GROUPS, ApiToken, Group, User


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


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
    return Actor(username=user.username, user_id=user.id, groups=user.group_names,
                 office=user.office,
                 display_name=user.display_name)
