"""An e-mail that came in, read into what the desk needs: who, about what, the new words, the files.

Parsed with the standard library's modern policy (`email.policy.default`: encoded headers and non-UTF-8
charsets decoded); the text is text/plain, or HTML turned into text (html2text); the quoted reply and the
signature are cut off (mail-parser-reply knows Gmail's "On … wrote:", Outlook's From/Sent block, Apple Mail
and Thunderbird, in several languages). Pure: bytes in, a dataclass out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses

import html2text
from mailparser_reply import EmailReplyParser

from livesupport.domain.mail_threads import address_of

MAX_TEXT = 20_000  # characters kept of one message's new text (a chat message's own limit is applied later)
LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "ja"]
_PARSER = EmailReplyParser(languages=LANGUAGES)
# Outlook on the web and desktop put their quote under a rule of underscores, then From:/Sent: lines.
_OUTLOOK = re.compile(r"^(_{10,}\s*$|-{3,}\s*Original Message\s*-{3,}|From: .+\r?\n(Sent|Date): )",
                      re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Part:
    """A file that came with the mail (an attachment, or an inline image)."""

    name: str
    data: bytes
    content_type: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Inbound:
    message_id: str
    from_addr: str
    from_name: str
    recipients: tuple[str, ...]  # To and Cc, bare addresses
    subject: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str  # the new words only
    full_text: str  # the whole text part, quotes and all (kept for staff when held)
    parts: tuple[Part, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names: the ones the rules read
    is_report: bool = False  # multipart/report: a delivery status notice, a read receipt


RULE_HEADERS = ("auto-submitted", "precedence", "x-autoreply", "x-autorespond", "x-auto-response-suppress",
                "authentication-results", "return-path", "list-id")


def parse(raw: bytes) -> Inbound:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    sender = _header(msg, "From")
    pairs = getaddresses([sender])
    from_name = pairs[0][0].strip() if pairs else ""
    recipients = tuple(a.lower() for _, a in getaddresses([_header(msg, "To"), _header(msg, "Cc")]) if "@" in a)
    full = _text_of(msg)
    headers = {}
    for name in RULE_HEADERS:
        values = msg.get_all(name) or []
        if values:
            headers[name] = " ; ".join(_flat(str(v)) for v in values)
    return Inbound(
        message_id=_flat(_header(msg, "Message-ID"))[:300],
        from_addr=address_of(sender),
        from_name=_flat(from_name)[:200],
        recipients=recipients,
        subject=_flat(_header(msg, "Subject"))[:300],
        in_reply_to=tuple(_header(msg, "In-Reply-To").split()),
        references=tuple(_header(msg, "References").split()),
        text=new_words(full),
        full_text=full[:MAX_TEXT],
        parts=tuple(_files(msg)),
        headers=headers,
        is_report=msg.get_content_type() == "multipart/report",
    )


def new_words(text: str) -> str:
    """What the writer added: the quoted reply and the signature cut off."""
    text = text.replace("\r\n", "\n")
    outlook = _OUTLOOK.search(text)
    if outlook:
        text = text[:outlook.start()]
    try:
        replies = _PARSER.read(text=text).replies
        body = replies[0].body if replies else text
    except Exception:  # noqa: BLE001 - a parser's bad day must not lose the words: keep them all
        body = text
    body = re.sub(r"(?m)^-- ?$[\s\S]*", "", body)  # the standard signature separator
    return re.sub(r"\n{3,}", "\n\n", body).strip()[:MAX_TEXT]


def html_to_text(html: str) -> str:
    h = html2text.HTML2Text(bodywidth=0)
    h.ignore_images, h.ignore_emphasis, h.ignore_links = True, True, False
    h.inline_links, h.protect_links = False, True
    text = h.handle(html)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a header the policy cannot parse is read as absent
        return ""
    return str(value) if value is not None else ""


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _text_of(msg: EmailMessage) -> str:
    """text/plain when there is one, else the HTML as text; "" when neither."""
    try:
        body = msg.get_body(preferencelist=("plain", "html"))
    except Exception:  # noqa: BLE001
        body = None
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, UnicodeError):  # an unknown charset: decode what we can
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    return html_to_text(content) if body.get_content_type() == "text/html" else content


def _files(msg: EmailMessage) -> list[Part]:
    out: list[Part] = []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        disposition = part.get_content_disposition()
        name = part.get_filename()
        if disposition != "attachment" and not (name and part.get_content_maintype() != "text"):
            continue  # the body itself (or an alternative of it)
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            continue
        out.append(Part(_flat(name or "attachment")[:255], data, part.get_content_type(),
                        inline=disposition == "inline" or bool(part.get("Content-ID"))))
    return out
