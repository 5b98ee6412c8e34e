"""Reply addresses' tokens read back only when signed by us, whatever a sender writes after the +."""

from __future__ import annotations

import pytest

from livesupport.actions.reply_tokens import ReplyToken, ReplyTokens

TOKENS = ReplyTokens("a secret of the test's own")


def test_a_signed_token_reads_back_in_any_case() -> None:
    signed = TOKENS.sign(ReplyToken(12, 7, 0))
    assert TOKENS.read(signed) == ReplyToken(12, 7, 0)
    assert TOKENS.read(signed.upper()) == ReplyToken(12, 7, 0)  # some servers change the case of addresses


@pytest.mark.parametrize("change", [
    lambda t: t[:-1] + ("a" if t[-1] != "a" else "b"),  # the signature changed
    lambda t: t.replace("12-", "13-", 1),  # another ticket under the same signature
    lambda t: t[:-2] + "éé",  # non-ASCII where the signature goes: refused, not a crash
    lambda t: "١٢" + t[2:],  # other scripts' digits
    lambda t: t + "-1",
    lambda t: "",
    lambda t: "--",
])
def test_anything_else_is_no_token(change: object) -> None:
    signed = TOKENS.sign(ReplyToken(12, 7, 0))
    assert TOKENS.read(change(signed)) is None  # type: ignore[operator]
