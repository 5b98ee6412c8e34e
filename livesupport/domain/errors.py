"""One error family: every refusal carries a code and a message a person understands."""

from __future__ import annotations

from typing import Any


class LivesupportError(Exception):
    code = "bad_request"
    details: dict[str, Any] | None = None  # more for the answer's `error` object (e.g. what to do instead)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequestError(LivesupportError):
    code = "bad_request"


class UnknownTypeError(LivesupportError):
    code = "unknown_type"


class UnauthorizedError(LivesupportError):
    code = "unauthorized"


class OtpRequiredError(LivesupportError):
    """The password was right; the account also needs its one-time code."""

    code = "otp_required"


class ForbiddenError(LivesupportError):
    code = "forbidden"


class NotFoundError(LivesupportError):
    code = "not_found"


class TooLargeError(LivesupportError):
    code = "too_large"


class ConflictError(LivesupportError):
    code = "conflict"


class RateLimitedError(LivesupportError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PolicyError(LivesupportError):
    code = "policy"


class UnavailableError(LivesupportError):
    """A write that truly failed; the author may try again."""

    code = "unavailable"


class RefusedFileError(LivesupportError):
    """An attachment whose content is a program, a script or a macro document."""

    code = "refused_file"
