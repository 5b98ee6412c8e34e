"""Each outside party's personal link to their transfer page: signed, expiring, and bound to one transfer.

No account is needed: the link is the credential. It names the transfer and the party and carries a
version, so that staff can revoke every link sent to a party by raising it. Forged, altered and
other-transfer links are refused alike; an expired one is recognised (its signature is genuine) so the
page can offer to e-mail a fresh one to the address on file.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from livesupport.clock import Clock
from livesupport.domain.errors import ForbiddenError
from livesupport.domain.ids import is_id

INVALID = ("This link is not valid: it may have been mistyped or cut short. Open the link from your latest "
           "e-mail about this transfer.")


@dataclass(frozen=True, slots=True)
class PartyLink:
    transfer_id: int
    party_id: int
    version: int
    expired: bool = False


class PartyLinks:
    def __init__(self, secret_key: str, max_age_days: int, clock: Clock) -> None:
        class Signer(TimestampSigner):
            def get_timestamp(self) -> int:  # the injected clock, for signing and for checking the age
                return int(clock.now().timestamp())

        self.signer = URLSafeTimedSerializer(secret_key, salt="livesupport.transfer-party", signer=Signer)
        self.max_age = max_age_days * 86400
        self.days = max_age_days

    def make(self, transfer_id: int, party_id: int, version: int) -> str:
        return self.signer.dumps([transfer_id, party_id, version])

    def read(self, transfer_id: int, token: str) -> PartyLink:
        """The party this link is for, if it is genuine and for this transfer (expired links say so)."""
        expired = False
        try:
            payload = self.signer.loads(token, max_age=self.max_age)
        except SignatureExpired as exc:  # genuine, only old: its payload can be trusted
            payload, expired = self.signer.load_payload(exc.payload or b""), True
        except BadSignature:
            raise ForbiddenError(INVALID) from None
        if not (isinstance(payload, list) and len(payload) == 3 and all(is_id(v) for v in payload)):
            raise ForbiddenError(INVALID)
        if payload[0] != transfer_id:
            raise ForbiddenError(INVALID)  # a genuine link, but to another transfer
        return PartyLink(payload[0], payload[1], payload[2], expired)
