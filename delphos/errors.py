"""One error base class: an HTTP status, a stable code and a message safe to show.

Messages never carry patient text or stack traces; they are written here, not copied
from exceptions.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DelphosError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"
    default_message: ClassVar[str] = "Unexpected server error"

    def __init__(
        self, message: str | None = None, *, retry_after: int | None = None, **extra: Any
    ) -> None:
        self.message = message or self.default_message
        # Seconds after which the request may succeed: sent as the Retry-After header.
        self.retry_after = retry_after
        self.extra = extra
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


class BadRequest(DelphosError):
    status_code = 400
    code = "BAD_REQUEST"
    default_message = "The request body is not valid JSON"


class Unauthorized(DelphosError):
    status_code = 401
    code = "UNAUTHORIZED"
    default_message = "Missing or unknown API key (send it in the x-api-key header)"


class NotFound(DelphosError):
    status_code = 404
    code = "NOT_FOUND"
    default_message = "Not found"


class PayloadTooLarge(DelphosError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "The request body is too large"


class UnsupportedMediaType(DelphosError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "Send the body as JSON with Content-Type: application/json"


class ValidationFailed(DelphosError):
    status_code = 422
    code = "VALIDATION_ERROR"
    default_message = "The request body is invalid"


class ProcessingTimeout(DelphosError):
    status_code = 504
    code = "PROCESSING_TIMEOUT"
    default_message = "Processing request timed out"


class ProcessingError(DelphosError):
    status_code = 502
    code = "PROCESSING_ERROR"
    default_message = "The note engine failed while generating the note"


class ParseError(DelphosError):
    status_code = 502
    code = "PARSE_ERROR"
    default_message = "The engine output could not be parsed into SOAP sections"


class InternalError(DelphosError):
    status_code = 500
    code = "INTERNAL_ERROR"
    default_message = "Unexpected server error"


# Retry-After of a 503 for a database that is down or out of free connections.
DATABASE_RETRY_SECONDS = 2


class ServiceUnavailable(DelphosError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "A required service is unavailable"
