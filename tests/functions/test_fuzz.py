"""The fuzz suite: schemathesis generates requests from two contracts and sends them to the app
served over HTTP, against this service's own OpenAPI document (`/api/openapi.json`) and against
the reference implementation's EN 18222 contract (tests/fixtures/reference/).

Every answer must be: no 5xx; a status the contract documents for the operation; the content
type it documents; a body matching the documented schema (own contract); and on every error an
EN 18222 Result object. Generation is derandomized, so a failure reproduces on every run; half of
the cases are sent anonymously and half as an economic operator, so both the refusals and the
operations behind authentication are reached. Explicit examples name passports that exist.
"""

from __future__ import annotations

import base64
import copy
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.documents import FIXTURES, enc, make_passport

# Per operation; the own contract has ~47 operations, the reference 9.
OWN_EXAMPLES = 30
REFERENCE_EXAMPLES = 60
MINIMUM_CASES = 1000
WRITES = {"POST", "PATCH", "PUT", "DELETE"}


@dataclass
class Run:
    """What one contract's run sent and what failed, per operation."""

    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: dict[str, list[str]] = field(default_factory=dict)

    def report(self) -> str:
        lines = []
        for name, problems in sorted(self.failures.items()):
            lines.append(f"{name}: {len(problems)} failing cases")
            lines += [f"    {problem}" for problem in sorted(set(problems))[:3]]
        return "\n".join(lines)


def result_schema() -> dict[str, Any]:
    """The Result object's JSON Schema from the own contract (what every error body must be)."""
    from functions.platform import read_description

    # Rooted so the contract's own `#/components/schemas/...` references resolve.
    return {"$ref": "#/components/schemas/Result", "components": read_description()["components"]}


RESULT = result_schema()


def _result_errors(response: Any) -> str | None:
    if response.status_code < 400:
        return None
    media_type = (response.headers.get("content-type") or [""])[0]
    if not media_type.startswith("application/json"):
        return f"{response.status_code} error is {media_type or 'without a body type'}, not a Result"
    try:
        jsonschema.validate(response.json(), RESULT)
    except (ValueError, jsonschema.ValidationError) as exc:
        return f"{response.status_code} error is not a Result object: {str(exc)[:200]}"
    return None


def _with_examples(
    contract: dict[str, Any], dpp_ids: list[str], product_ids: list[str], document: dict
) -> dict:
    """The contract with explicit examples: ids of stored passports for the id parameters and a
    valid passport for creation, so generated requests reach the stored passports too."""
    changed = copy.deepcopy(contract)
    parameters = changed["components"]["parameters"]
    parameters["dppId"]["examples"] = {f"stored{i}": {"value": v} for i, v in enumerate(dpp_ids)}
    parameters["productId"]["examples"] = {f"stored{i}": {"value": v} for i, v in enumerate(product_ids)}
    # The AAS repository's ids of the same passports (base64url of the ids the export writes).
    passports = [f"{changed['servers'][0]['url']}/api/v1/dpps/{enc(v)}" for v in dpp_ids]
    for name, suffix in (("aasIdentifier", "/aas"), ("submodelIdentifier", "/submodels/nameplate")):
        ids = [base64.urlsafe_b64encode(f"{url}{suffix}".encode()).decode().rstrip("=") for url in passports]
        parameters[name]["examples"] = {f"stored{i}": {"value": v} for i, v in enumerate(ids)}
    create = changed["paths"]["/api/v1/dpps"]["post"]["requestBody"]["content"]["application/json"]
    create["examples"] = {"valid": {"value": document}}
    return changed


def full_representation_write(case: Any, response: Any) -> bool:
    """The one 5xx excused, in this one place: a write in the full representation answers 501, as
    EN 18222 and the reference contract say; the reference does not list 501 among those
    operations' responses (its own inconsistency), so the status checks skip that answer too."""
    full = (case.query or {}).get("representation") == "full"
    return response.status_code == 501 and full and case.method.upper() in WRITES


def fuzz(schema: Any, base_url: str, auth: dict[str, str], examples: int, checks: list[Any]) -> Run:
    """Each operation's examples from the contract, sent as the operator; then `examples`
    generated cases, every other one anonymous."""
    from schemathesis.generation.hypothesis.examples import generate_one

    run = Run()
    session = requests.Session()
    # Deletions last: the stored passports the examples name stay for every other operation.
    operations = sorted((found.ok() for found in schema.get_all_operations()), key=_deletes)
    for operation in operations:
        send = _sender(run, f"{operation.method.upper()} {operation.path}", session, base_url, checks)
        for strategy in operation.get_strategies_from_examples(fill_missing=True):
            send(generate_one(strategy), auth)
        settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
        )(given(case=_positive_and_negative(operation))(_every_other(run, send, auth)))()
    return run


def _deletes(operation: Any) -> bool:
    return bool(operation.method.upper() == "DELETE")


def _every_other(
    run: Run, send: Callable[[Any, dict[str, str]], None], auth: dict[str, str]
) -> Callable[[Any], None]:
    """Send generated cases as the operator and anonymously in turn."""

    def alternate(case: Any) -> None:
        send(case, dict(auth) if sum(run.cases.values()) % 2 else {})

    return alternate


def _sender(
    run: Run, name: str, session: requests.Session, base_url: str, checks: list[Any]
) -> Callable[[Any, dict[str, str]], None]:
    """Send one case and record what it found (failures are collected, never raised, so one run
    reports every operation's)."""

    def send(case: Any, headers: dict[str, str]) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        run.cases[name] += 1
        run.statuses[(name, response.status_code)] += 1
        problems = [] if full_representation_write(case, response) else _check(case, response, checks)
        problem = _result_errors(response)
        problems += [problem] if problem else []
        if problems:
            request = f"{response.status_code} <- {case.method} {case.formatted_path} query={case.query}"
            run.failures.setdefault(name, []).extend(f"{problem} [{request}]" for problem in problems)

    return send


def _positive_and_negative(operation: Any) -> Any:
    """Valid requests, and requests that break the contract (wrong types, missing or extra
    members, out-of-range values), each drawn about half the time."""
    from hypothesis import strategies

    return strategies.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )


def _check(case: Any, response: Any, checks: list[Any]) -> list[str]:
    try:
        case.validate_response(response, checks=checks)
    except FailureGroup as group:  # one per response, with every failed check's message
        return [f"{failure.title}: {failure.message[:300]}" for failure in group.exceptions]
    return []


@pytest.fixture(scope="module")
def stored(create: Any) -> Iterator[tuple[list[str], list[str]]]:
    documents = [create() for _ in range(3)]
    yield (
        [d["digitalProductPassportId"] for d in documents],
        [d["uniqueProductIdentifier"] for d in documents],
    )


@pytest.fixture(scope="module")
def create(api: str, auth: dict[str, str]) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        document = make_passport()
        response = requests.post(f"{api}/v1/dpps", json=document, headers=auth, timeout=30)
        assert response.status_code == 201, response.text
        return document

    return make


@pytest.fixture(scope="module")
def contract(api: str) -> dict[str, Any]:
    response = requests.get(f"{api}/openapi.json", timeout=30)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_the_own_contract_fuzzed_finds_no_server_error_and_only_what_it_documents(
    api: str, contract: dict[str, Any], stored: tuple[list[str], list[str]], auth: dict[str, str]
) -> None:
    dpp_ids, product_ids = stored
    schema = schemathesis.openapi.from_dict(_with_examples(contract, dpp_ids, product_ids, make_passport()))
    origin = contract["servers"][0]["url"]
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    run = fuzz(schema, origin, auth, OWN_EXAMPLES, checks)
    print(json.dumps({"cases": sum(run.cases.values()), "operations": len(run.cases)}))
    print(sorted(run.statuses.items()))
    assert not run.failures, run.report()
    assert len(run.cases) == sum(len(methods) for methods in contract["paths"].values())
    assert sum(run.cases.values()) >= MINIMUM_CASES
    # The suite reached past authentication and found stored passports, not only refusals.
    assert any(status == 200 for (name, status) in run.statuses if name == "GET /api/v1/dpps/{dppId}")
    assert any(status == 201 for (name, status) in run.statuses if name == "POST /api/v1/dpps")


def test_the_reference_contract_fuzzed_finds_no_server_error_and_only_what_it_documents(
    api: str, contract: dict[str, Any], auth: dict[str, str]
) -> None:
    schema = schemathesis.openapi.from_path(FIXTURES / "reference" / "basyx-dpp-openapi.yaml")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance]
    run = fuzz(schema, api, auth, REFERENCE_EXAMPLES, checks)
    print(json.dumps({"cases": sum(run.cases.values()), "operations": len(run.cases)}))
    assert not run.failures, run.report()
    assert len(run.cases) == 9
    assert sum(run.cases.values()) >= 9 * 20
