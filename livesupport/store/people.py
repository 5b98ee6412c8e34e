"""Organisations, users and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
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


async def add_token(session: AsyncSession, user_id: int, token_hash: str, now: datetime, expires_at: datetime) -> None:
    session.add(ApiToken(user_id=user_id, token_hash=token_hash, created_at=now, expires_at=expires_at))


async def user_by_token(session: AsyncSession, token_hash: str, now: datetime) -> User | None:
    stmt = (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_hash, ApiToken.expires_at > now)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def delete_token(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(ApiToken).where(ApiToken.token_hash == token_hash))


async def purge_tokens(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(ApiToken).where(ApiToken.expires_at <= now))
