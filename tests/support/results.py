"""What every error response must be: an EN 18222 Result object, and nothing else.

A refusal test names the code as well as the status: many refusals share a status (a 404 for a
route, a passport, an element or a job; a 403 for a role or an owner), and only the code tells
which one the service gave."""

from __future__ import annotations

import re
from typing import Any

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def assert_result(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["messages"]
    (message,) = body["messages"]
    assert set(message) == {"messageType", "text", "code", "correlationId", "timestamp"}
    assert message["messageType"] == "Error"
    assert message["text"] and message["code"]
    assert TIMESTAMP.match(message["timestamp"])
    assert message["correlationId"] == response.headers["x-correlation-id"]
    assert "Traceback" not in response.text
    if code:
        assert message["code"] == code, message
    return message
