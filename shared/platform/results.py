"""The EN 18222 Result object (clause 7): how errors and notes reach a client."""

from __future__ import annotations

from typing import Any

from shared.platform.clock import now_ts


def message(message_type: str, text: str, code: str, correlation_id: str | None) -> dict[str, Any]:
    """One EN 18222 Message object."""
    return {
        "messageType": message_type,
        "text": text,
        "code": code,
        "correlationId": correlation_id,
        "timestamp": now_ts(),
    }


def result_object(
    text: str, code: str, correlation_id: str | None, message_type: str = "Error"
) -> dict[str, Any]:
    """The EN 18222 Result object: an array of Message objects."""
    return {"messages": [message(message_type, text, code, correlation_id)]}
