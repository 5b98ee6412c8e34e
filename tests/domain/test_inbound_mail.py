"""Reading e-mail that came in, on a corpus of replies as real mail clients write them (tests/fixtures/mail)."""

from __future__ import annotations

from pathlib import Path

import pytest

from livesupport.domain.inbound_mail import parse
from livesupport.domain.inbound_rules import Outcome, Sender, decide, dmarc_failed, loop_reason

CORPUS = Path(__file__).parent.parent / "fixtures" / "mail"


def corpus(name: str, ticket: int = 42, sender: str = "alice@acme.test", n: str = "n1", **extra: str) -> bytes:
    raw = (CORPUS / name).read_bytes()
    for key, value in {"TICKET": str(ticket), "FROM_ADDR": sender, "TO": "support+t@support.test", "N": n,
                       **extra}.items():
        raw = raw.replace(f"@@{key}@@".encode(), value.encode())
    return raw


@pytest.mark.parametrize(("name", "new", "subject", "who", "files"), [
    ("gmail.eml", "Thanks, that worked! GMAIL-NEW\n\nThe tray feeds again.", "Re: [#42] Printer jams on tray 2",
     "Alice Client", []),
    ("outlook.eml", "It still jams when I print double-sided. OUTLOOK-NEW", "Re: [#42] Printer jams on tray 2",
     "Alice Client", []),
    ("outlook_html_only.eml", "It still jams when I print double-sided. OUTLOOK-NEW",
     "Re: [#42] Printer jams on tray 2", "Alice Client", []),
    ("apple_mail.eml", "Done \u2013 it prints now. APPLE-NEW\nScreenshot attached.", "Re: [#42] Printer jams on tray 2",
     "Alice Client", [("IMG_0412.png", "image/png", True)]),
    ("thunderbird.eml", "Here is the printer's status page. THUNDERBIRD-NEW", "Re: [#42] Printer jams on tray 2",
     "Alice Client", [("status page.txt", "text/plain", False)]),
    ("iso_8859_1.eml", "Merci, \u00e7a marche tr\u00e8s bien maintenant. ISO-NEW", "Re: [#42] Imprimante bloqu\u00e9e",
     "Am\u00e9lie Cl\u00e9ment", []),
    ("shift_jis.eml", "\u30d7\u30ea\u30f3\u30bf\u30fc\u304c\u76f4\u308a\u307e\u3057\u305f\u3002\u3042\u308a\u304c\u3068"
     "\u3046\u3054\u3056\u3044\u307e\u3059\u3002 SJIS-NEW", "Re: [#42] \u30d7\u30ea\u30f3\u30bf\u30fc\u304c\u8a70\u307e\u308b",
     "\u5c71\u7530\u82b1\u5b50", []),
])
def test_each_client_s_reply_reads_as_its_new_words(name: str, new: str, subject: str, who: str,
                                                    files: list[tuple[str, str, bool]]) -> None:
    mail = parse(corpus(name))
    assert mail.text == new  # no quote, no signature, no "Sent from my iPhone"
    assert "QUOTED-OLD" in mail.full_text or name == "gmail.eml"  # the whole text is kept for staff
    assert mail.subject == subject and mail.from_name == who and mail.from_addr == "alice@acme.test"
    assert [(p.name, p.content_type, p.inline) for p in mail.parts] == files
    assert "<ticket-42@support.test>" in mail.references


OWN = frozenset({"support@support.test"})


@pytest.mark.parametrize(("headers", "reason"), [
    ("Auto-Submitted: auto-replied\r\n", "auto_submitted"),
    ("Auto-Submitted: auto-generated\r\n", "auto_submitted"),
    ("Auto-Submitted: no\r\n", None),
    ("Precedence: bulk\r\n", "precedence"),
    ("Precedence: junk\r\n", "precedence"),
    ("Precedence: auto_reply\r\n", "precedence"),
    ("X-Autoreply: yes\r\n", "autoreply"),
    ("", None),
])
def test_automatic_mail_makes_no_message(headers: str, reason: str | None) -> None:
    raw = corpus("gmail.eml").replace(b"MIME-Version: 1.0\r\n", f"MIME-Version: 1.0\r\n{headers}".encode())
    assert loop_reason(parse(raw), OWN, "support.test", "support") == reason


@pytest.mark.parametrize("sender", ["support@support.test", "support+12-1-0-abc@support.test"])
def test_our_own_addresses_make_no_message(sender: str) -> None:
    assert loop_reason(parse(corpus("gmail.eml", sender=sender)), OWN, "support.test", "support") == "own_address"


def test_a_delivery_report_makes_no_message() -> None:
    raw = (b"From: MAILER-DAEMON@mx.acme.test\r\nTo: support@support.test\r\nSubject: Undelivered\r\n"
           b"Message-ID: <dsn1@mx.acme.test>\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n--b\r\n'
           b"Content-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n--b--\r\n")
    assert loop_reason(parse(raw), OWN, "support.test", "support") == "report"


def test_failed_dmarc_is_held_even_from_a_known_contact() -> None:
    raw = corpus("gmail.eml").replace(b"dmarc=pass", b"dmarc=fail (p=reject)")
    mail = parse(raw)
    assert dmarc_failed(mail)
    decision = decide(mail, loop=None, ticket_id=42, sender=Sender(True, True), to_support=False)
    assert (decision.outcome, decision.reason) == (Outcome.HOLD, "dmarc_failed")


@pytest.mark.parametrize(("ticket", "sender", "to_support", "outcome", "reason"), [
    (42, Sender(True, True), False, Outcome.POST, None),
    (42, Sender(True, False), False, Outcome.HOLD, "not_allowed"),  # never posted as someone else
    (42, Sender(False, False), False, Outcome.HOLD, "unknown_sender"),
    (None, Sender(True, True), True, Outcome.OPEN, None),  # a known contact writes to the support address
    (None, Sender(False, False), True, Outcome.HOLD, "unknown_sender"),
    (None, Sender(True, True), False, Outcome.HOLD, "no_ticket"),
    (None, Sender(True, True, stale_token=True), False, Outcome.HOLD, "stale_token"),
    (42, Sender(True, True, stale_token=True), False, Outcome.HOLD, "stale_token"),  # a revoked address: held
    (None, Sender(True, True, stale_token=True), True, Outcome.HOLD, "stale_token"),
    (None, Sender(True, False), True, Outcome.HOLD, "no_ticket"),  # staff writing to the desk open nothing
])
def test_what_becomes_of_a_mail(ticket: int | None, sender: Sender, to_support: bool, outcome: Outcome,
                                reason: str | None) -> None:
    decision = decide(parse(corpus("gmail.eml")), loop=None, ticket_id=ticket, sender=sender, to_support=to_support)
    assert (decision.outcome, decision.reason) == (outcome, reason)
