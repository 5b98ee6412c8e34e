"""Phone support's rules: what a caller may ask for, with or without a verified PIN, and what never by phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from livesupport.domain.errors import BadRequestError
from livesupport.domain.numbers import parse_code

PIN_DIGITS = 6
VERIFIED_FOR = timedelta(minutes=30)


class Group(StrEnum):
    PUBLIC = "public"  # anyone, no PIN
    PIN = "pin"  # a verified caller in good standing
    NEVER = "never"  # not by phone, PIN or not


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    label: str
    group: Group
    why: str = ""  # for the red lines: the reason the console shows


ACTIONS = {a.name: a for a in (
    Action("product_help", "How our products work, documentation", Group.PUBLIC),
    Action("service_status", "Service status and known issues", Group.PUBLIC),
    Action("become_partner", "How to become a partner; marketing material", Group.PUBLIC),
    Action("open_ticket", "Open a ticket on the caller's behalf", Group.PIN),
    Action("email_invoice", "E-mail a copy of the latest invoice to the caller", Group.PIN),
    Action("request_change", "Request a service or settings change (filed for Level 2/3)", Group.PIN),
    Action("add_contact", "Add a new contact to the portal", Group.NEVER,
           "Never by phone: for legal and compliance reasons a new contact is added in the portal by the "
           "organisation's domain administrator."),
    Action("delete_service", "Delete a service or subscription", Group.NEVER,
           "Never by phone: deleting a service or subscription is done in writing through the portal."),
)}


def check_pin(pin: object) -> str:
    """What the caller said: six digits, spaces allowed ("123 456")."""
    if not isinstance(pin, str):
        raise BadRequestError("Type the caller's PIN: six digits.")
    cleaned = parse_code(pin, PIN_DIGITS)
    if cleaned is None:
        raise BadRequestError("A support PIN has six digits (0 to 9).")
    return cleaned


def may_act(action: str, verified: bool, good_standing: bool, standing: str = "good") -> tuple[bool, str]:
    """(allowed, why not) for an action asked by phone."""
    found = ACTIONS.get(action)
    if found is None:
        return False, "There is no such action."
    if found.group is Group.NEVER:
        return False, found.why
    if found.group is Group.PUBLIC:
        return True, ""
    if not verified:
        return False, "Verify the caller first: their e-mail address and PIN."
    if not good_standing:
        return False, (f"The caller's organisation is {standing}: confidential help waits until its invoices are "
                       "paid. Public help only.")
    return True, ""
