"""The names of a ticket's e-mails: ids, the thread root, reply addresses and subject tags."""

from __future__ import annotations

import pytest

from livesupport.domain import mail_threads as mt


def test_a_ticket_mails_headers_name_the_ticket() -> None:
    h = mt.thread_headers(12, "notify.12.5.40", "support.example", "support+t@support.example")
    assert h == {"Message-ID": "<ticket-12.notify.12.5.40@support.example>", "In-Reply-To": "<ticket-12@support.example>",
                 "References": "<ticket-12@support.example>", "Reply-To": "support+t@support.example"}
    assert mt.tickets_referenced([h["Message-ID"]], "support.example") == [12]


@pytest.mark.parametrize(("ids", "domain", "found"), [
    (["<ticket-7@support.example>"], "support.example", [7]),
    (["<ticket-7.notify.7.3.9@SUPPORT.example>", "<ticket-8@support.example>"], "support.example", [7, 8]),
    (["<ticket-7@evil.example>"], "support.example", []),  # someone else's ids name nothing here
    (["<CAF=abc@mail.gmail.com> <ticket-9@support.example>"], "support.example", [9]),
    ([""], "support.example", []),
])
def test_references_name_tickets_of_our_domain_only(ids: list[str], domain: str, found: list[int]) -> None:
    assert mt.tickets_referenced(ids, domain) == found


@pytest.mark.parametrize(("recipient", "token"), [
    ("support+12-4-0-abcdefghijklmnopqrst@support.example", "12-4-0-abcdefghijklmnopqrst"),
    ("Support <SUPPORT+12-4-0-ABCDEFGHIJKLMNOPQRST@Support.Example>", "12-4-0-abcdefghijklmnopqrst"),
    ("support@support.example", None),
    ("support+12-4-0-abcdefghijklmnopqrst@other.example", None),
    ("support+x y@support.example", None),
])
def test_the_token_of_a_reply_address(recipient: str, token: str | None) -> None:
    assert mt.token_in(recipient, "support.example") == token


@pytest.mark.parametrize(("subject", "ticket"), [
    ("Re: [#123] Printer", 123), ("AW: AW: [#5] x [#6]", 5), ("[# 5] no", None), ("#5", None), ("", None),
    ("[#١٢]", None),  # ASCII digits only
])
def test_subject_tags(subject: str, ticket: int | None) -> None:
    assert mt.subject_ticket(subject) == ticket
