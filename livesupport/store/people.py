"""Organisations, users and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from livesupport.domain.people import Person, Role
from livesupport.store.models import ApiToken, Organisation, User


def person_of(user: User) -> Person:
    return Person(id=user.id, name=user.name, role=Role(user.role), org_id=user.org_id, tier=user.tier)


async def org_by_name(session: AsyncSession, name: str) -> Organisation | None:
    return (await session.execute(select(Organisation).where(Organisation.name == name))).scalar_one_or_none()


async def get_or_create_org(
    session: AsyncSession, name: str, now: datetime, *, kind: str = "client",
    domain: str | None = None, partner_id: int | None = None,
) -> Organisation:
    org = await org_by_name(session, name)
    if org is None:
        org = Organisation(name=name, kind=kind, domain=domain, partner_id=partner_id, created_at=now)
        session.add(org)
        await session.flush()
    return org


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    stmt = select(User).where(User.email == email.strip().lower())
    return (await session.execute(stmt)).scalar_one_or_none()


async def user_by_login(session: AsyncSession, login: str) -> User | None:
    """An e-mail address, or a bare domain ("acme.com") for that organisation's domain administrator."""
    login = login.strip().lower()
    if "@" in login:
        return await user_by_email(session, login)
    stmt = (select(User).join(Organisation, Organisation.id == User.org_id)
            .where(Organisation.domain == login, User.role == Role.DOMAIN_ADMIN.value).order_by(User.id).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_token(
    session: AsyncSession, user_id: int, token_hash: str, now: datetime, expires_at: datetime, kind: str = "api"
) -> None:
    session.add(ApiToken(user_id=user_id, token_hash=token_hash, created_at=now, expires_at=expires_at, kind=kind,
                         last_used_at=now))


async def user_by_token(session: AsyncSession, token_hash: str, now: datetime) -> tuple[User, ApiToken] | None:
    stmt = (
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_hash, ApiToken.expires_at > now, User.disabled_at.is_(None))
    )
    row = (await session.execute(stmt)).first()
    return (row[0], row[1]) if row else None


async def touch_token(session: AsyncSession, token_id: int, now: datetime) -> None:
    await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


async def delete_token(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(ApiToken).where(ApiToken.token_hash == token_hash))


async def delete_tokens_of(session: AsyncSession, user_id: int) -> list[str]:
    """End every session and token of a user; returns their hashes (to close their sockets)."""
    hashes = list((await session.execute(select(ApiToken.token_hash).where(ApiToken.user_id == user_id))).scalars())
    await session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    return hashes


async def purge_tokens(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(ApiToken).where(ApiToken.expires_at <= now))
