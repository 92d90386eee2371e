"""Error codes live in one enumeration: unique, named for their value, every one in use, and no
code written as a bare string anywhere in the service."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from shared.platform.errors import DppError, ErrorCode, NotFound
from shared.platform.results import result_object

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(REPO / "shared").rglob("*.py"), *(REPO / "functions").rglob("*.py")])


def test_codes_are_unique_and_named_for_their_value():
    values = [code.value for code in ErrorCode]
    assert len(values) == len(set(values))
    for code in ErrorCode:
        assert code.name == re.sub(r"(?<!^)(?=[A-Z])", "_", code.value).upper(), code


def test_every_code_is_used_by_the_service():
    text = "\n".join(path.read_text(encoding="utf-8") for path in SOURCES)
    unused = [code.name for code in ErrorCode if f"ErrorCode.{code.name}" not in text]
    assert unused == []


def test_no_code_is_a_bare_string():
    bare = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "code" and isinstance(node.value, ast.Constant):
                bare.append(f"{path.relative_to(REPO)}:{node.value.lineno}")
    assert bare == []


def test_an_error_renders_as_a_result_object_with_its_code():
    error = NotFound("No passport", code=ErrorCode.PASSPORT_NOT_FOUND)
    assert (error.status, error.code) == (404, "PassportNotFound")
    assert DppError("x").code == ErrorCode.INTERNAL_SERVER_ERROR
    body = result_object(error.text, error.code, "cid-1")
    [message] = body["messages"]
    assert message["code"] == "PassportNotFound"
    assert (message["messageType"], message["correlationId"]) == ("Error", "cid-1")
