"""Who is who: roles, tiers and what each may see."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CLIENT = "client"
    DOMAIN_ADMIN = "domain_admin"
    PARTNER = "partner"
    STAFF = "staff"
    ADMIN = "admin"
    BILLING = "billing"  # billing staff: invoices, payments and services of every organisation


STAFF_ROLES = frozenset({Role.STAFF, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Person:
    """The acting user, as the rules need to know them."""

    id: int
    name: str
    role: Role
    org_id: int | None = None
    tier: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def public(self) -> dict[str, object]:
        """How others see this person on the wire."""
        out: dict[str, object] = {"id": self.id, "name": self.name, "role": str(self.role)}
        if self.tier:
            out["tier"] = self.tier
        return out


def landing_path(person: Person) -> str:
    """Where a person lands after signing in (or at `/`) with no return path: their own work."""
    return "/billing/orgs" if person.role is Role.BILLING else "/tickets"


def can_see_org(person: Person, org_id: int, org_partner_id: int | None) -> bool:
    """Staff see everything; a partner sees its clients; everyone else only their own organisation."""
    if person.is_staff:
        return True
    if person.org_id is None:
        return False
    if person.role is Role.PARTNER:
        return org_id == person.org_id or org_partner_id == person.org_id
    return org_id == person.org_id
