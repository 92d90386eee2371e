"""Domain errors and the EN 18222 Result object (clause 7) they are rendered as."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


class DppError(Exception):
    """An error the client caused or must know about; carries its HTTP status and a stable code."""

    status: int = 500
    code: str = "InternalServerError"

    def __init__(self, text: str, *, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(text)
        self.text = text
        if code:
            self.code = code
        self.headers = headers or {}


class BadRequest(DppError):
    status, code = 400, "BadRequest"


class Unauthorized(DppError):
    status, code = 401, "Unauthorized"

    def __init__(self, text: str, *, code: str | None = None):
        super().__init__(text, code=code, headers={"WWW-Authenticate": 'Bearer realm="dpp"'})


class Forbidden(DppError):
    status, code = 403, "Forbidden"


class NotFound(DppError):
    status, code = 404, "NotFound"


class MethodNotAllowed(DppError):
    status, code = 405, "MethodNotAllowed"


class Conflict(DppError):
    status, code = 409, "Conflict"


class Gone(DppError):
    status, code = 410, "Gone"


class PreconditionFailed(DppError):
    status, code = 412, "PreconditionFailed"


class PayloadTooLarge(DppError):
    status, code = 413, "PayloadTooLarge"


class UnsupportedMediaType(DppError):
    status, code = 415, "UnsupportedMediaType"


class NotImplementedFeature(DppError):
    status, code = 501, "NotImplemented"


class ServiceUnavailable(DppError):
    status, code = 503, "ServiceUnavailable"


def utc_timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def result_object(text: str, code: str, correlation_id: str, message_type: str = "Error") -> dict[str, Any]:
    """The EN 18222 Result object: an array of Message objects."""
    return {
        "messages": [
            {
                "messageType": message_type,
                "text": text,
                "code": code,
                "correlationId": correlation_id,
                "timestamp": utc_timestamp(),
            }
        ]
    }
