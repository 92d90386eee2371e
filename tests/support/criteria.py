"""A small runner for the `http` checks of OwnYourData's EN 18222 conformance criteria.

Implements the parts of CRITERIA-FORMAT.md (tests/fixtures/dpp-criteria) that `http` checks
use: placeholders, steps, status/content-type/JSON/header assertions, skip/warn statuses and
step severities. Results: passed, failed, warning, skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonpath_rfc9535 as jsonpath
import requests
import yaml

CRITERIA = Path(__file__).resolve().parents[1] / "fixtures" / "dpp-criteria"
PLACEHOLDERS = ("base", "dppId", "productId", "elementIdPath", "randomId", "now")


@dataclass
class Outcome:
    criterion: str
    result: str
    messages: list[str] = field(default_factory=list)


def load_criteria(*areas: str) -> list[dict[str, Any]]:
    files = sorted(path for area in areas for path in (CRITERIA / area).glob("*.yaml"))
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in files]


def _encode(value: str) -> str:
    return quote(value, safe="-._~")


def _substitute_path(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", _encode(value))
    return text


def _substitute_plain(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, replacement in values.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, list):
        return [_substitute_plain(item, values) for item in value]
    if isinstance(value, dict):
        return {_substitute_plain(k, values): _substitute_plain(v, values) for k, v in value.items()}
    return value


def _substitute_jsonpath(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        path = path.replace("{" + name + "}", escaped)
    return path


def _send(base: str, step: dict[str, Any], values: dict[str, str], token: str | None) -> requests.Response:
    request = step["request"]
    headers = {"Accept": "*/*", "User-Agent": "dpp-criteria-runner (project tests)"}
    headers.update(request.get("headers") or {})
    body = request.get("body")
    data: bytes | None = None
    if body is not None:
        if isinstance(body, str):
            data = _substitute_plain(body, values).encode("utf-8")
        else:
            data = json.dumps(_substitute_plain(body, values)).encode("utf-8")
            if not any(name.lower() == "content-type" for name in headers):
                headers["Content-Type"] = "application/json"
    if request.get("auth") == "token" and token:
        headers["Authorization"] = f"Bearer {token}"
    url = base + _substitute_path(request["path"], values)
    # A new connection per request, no redirects followed (as the format prescribes).
    with requests.Session() as session:
        return session.request(
            request["method"], url, data=data, headers=headers, allow_redirects=False, timeout=30
        )


def _json_failures(expect: dict[str, Any], body: Any, values: dict[str, str]) -> list[tuple[str, str]]:
    failures = []
    for assertion in expect.get("json") or []:
        path = _substitute_jsonpath(assertion["path"], values)
        found = [node.value for node in jsonpath.find(path, body)]
        severity = assertion.get("severity", "error")
        if "exists" in assertion and bool(found) != assertion["exists"]:
            failures.append((severity, f"{path} exists={bool(found)}"))
        if "equals" in assertion:
            wanted = _substitute_plain(assertion["equals"], values)
            if wanted not in found:
                failures.append((severity, f"{path}: {found!r} does not contain {wanted!r}"))
        if "in" in assertion:
            options = _substitute_plain(assertion["in"], values)
            if not any(value in options for value in found):
                failures.append((severity, f"{path}: {found!r} not in {options!r}"))
        if "matches" in assertion and not any(
            isinstance(value, str) and re.search(assertion["matches"], value) for value in found
        ):
            failures.append((severity, f"{path}: no value matches {assertion['matches']}"))
    return failures


def _header_failures(expect: dict[str, Any], response: requests.Response) -> list[tuple[str, str]]:
    failures = []
    for assertion in expect.get("headers") or []:
        value = response.headers.get(assertion["name"])
        severity = assertion.get("severity", "error")
        if "exists" in assertion and (value is not None) != assertion["exists"]:
            failures.append((severity, f"header {assertion['name']} exists={value is not None}"))
        if value is None:
            continue
        if "equals" in assertion and value != assertion["equals"]:
            failures.append((severity, f"header {assertion['name']}={value!r}"))
        members = [member.strip().lower() for member in value.split(",")]
        if "contains" in assertion and assertion["contains"].lower() not in members:
            failures.append((severity, f"header {assertion['name']} lacks {assertion['contains']}"))
        if "matches" in assertion and not re.search(assertion["matches"], value):
            failures.append((severity, f"header {assertion['name']} does not match"))
    return failures


def _evaluate(
    expect: dict[str, Any], response: requests.Response, bodies: list[bytes], values: dict[str, str]
):
    if response.status_code not in expect.get("status", [response.status_code]):
        return [("error", f"status {response.status_code} not in {expect['status']}: {response.text[:200]}")]
    wanted_type = expect.get("content_type")
    body: Any = None
    if wanted_type:
        actual = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if actual != wanted_type.lower():
            return [("error", f"content type {actual!r} is not {wanted_type!r}")]
        if wanted_type.endswith("json"):
            try:
                body = response.json()
            except ValueError:
                return [("error", "body is not JSON")]
    if body is None and (expect.get("json")):
        try:
            body = response.json()
        except ValueError:
            return [("error", "body is not JSON")]
    failures = _header_failures(expect, response) + _json_failures(expect, body, values)
    if "body_equals_step" in expect and response.content != bodies[expect["body_equals_step"] - 1]:
        failures.append(("error", f"body differs from step {expect['body_equals_step']}"))
    return failures


def run_http_check(
    criterion: dict[str, Any], base: str, values: dict[str, str], token: str | None
) -> Outcome:
    check = criterion["check"]
    outcome = Outcome(criterion["id"], "passed")
    if "base_matches" in check and not re.search(check["base_matches"], base):
        outcome.messages.append(f"base {base} does not match {check['base_matches']}")
        outcome.result = "failed"
    all_values = {**values, "base": base}
    bodies: list[bytes] = []
    worst = "passed" if outcome.result == "passed" else "failed"
    for index, step in enumerate(check["steps"], start=1):
        response = _send(base, step, all_values, token)
        bodies.append(response.content)
        if response.status_code in (step.get("skip_if_status") or []):
            return Outcome(criterion["id"], "failed" if worst == "failed" else "skipped", outcome.messages)
        if response.status_code in (step.get("warn_if_status") or []):
            worst = "failed" if worst == "failed" else "warning"
            continue
        for severity, message in _evaluate(step.get("expect", {}), response, bodies, all_values):
            level = "warning" if step.get("severity") == "warning" or severity == "warning" else "failed"
            outcome.messages.append(f"step {index}: {message}")
            if level == "failed":
                worst = "failed"
            elif worst == "passed":
                worst = "warning"
    outcome.result = worst
    return outcome
