"""The service's OpenAPI 3.1 document: the route table joined with the description of each operation.

Paths and methods come only from the operations as the HTTP layer registered them, so the
document cannot describe a route that is not served or miss one that is: an operation without a
description, or a description without an operation, is refused when the document is built.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OPENAPI_VERSION = "3.1.0"
_PARAMETER = re.compile(r"\{\*?([A-Za-z]+)\}")
_ACCESS: dict[str, list[dict[str, list[str]]]] = {
    "anonymous": [],
    "optional": [{}, {"bearerAuth": []}],
    "bearer": [{"bearerAuth": []}],
}


@dataclass(frozen=True)
class Operation:
    """One registered HTTP function: its name, route template (relative to the route prefix, as
    Azure Functions writes it: `{*name}` is a catch-all) and methods."""

    name: str
    template: str
    methods: tuple[str, ...]


class Catalog:
    """The operations as the HTTP layer registers them, in order: what the document describes."""

    def __init__(self) -> None:
        self._operations: list[Operation] = []

    def record(self, name: str, template: str, methods: Iterable[str]) -> None:
        self._operations.append(Operation(name, template, tuple(methods)))

    def operations(self) -> list[Operation]:
        return list(self._operations)


class DescriptionError(ValueError):
    """The description and the route table disagree."""


def openapi_path(template: str, route_prefix: str) -> str:
    """`api/v1/dpps/{dppId}` → `/api/v1/dpps/{dppId}`; a catch-all `{*keys}` is the parameter
    `{keys}` (its value may hold `/`)."""
    path = _PARAMETER.sub(lambda found: "{" + found.group(1) + "}", template)
    return f"/{route_prefix}/{path}" if route_prefix else f"/{path}"


def path_parameter_names(template: str) -> list[str]:
    return _PARAMETER.findall(template)


def build_document(
    operations: Iterable[Operation],
    description: Mapping[str, Any],
    *,
    route_prefix: str,
    server_url: str,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `operations`, each described by `description["operations"]`."""
    operations = list(operations)
    described: Mapping[str, Any] = description["operations"]
    _check_coverage(operations, described)
    # Path parameters described once, as components (dppId, productId), are referenced by name.
    shared = {
        name
        for name, parameter in description["components"].get("parameters", {}).items()
        if parameter.get("in") == "path"
    }
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        entry = paths.setdefault(openapi_path(operation.template, route_prefix), {})
        for method in operation.methods:
            key = method.lower()
            if key in entry:
                raise DescriptionError(f"{method} {operation.template} is registered twice")
            entry[key] = _operation_object(operation, method, described[operation.name], shared)
    return {
        "openapi": OPENAPI_VERSION,
        "info": description["info"],
        "servers": [{"url": server_url.rstrip("/")}],
        "tags": description.get("tags", []),
        "paths": dict(sorted(paths.items())),
        "components": description["components"],
    }


def _check_coverage(operations: list[Operation], described: Mapping[str, Any]) -> None:
    names = {operation.name for operation in operations}
    missing = sorted(names - set(described))
    unused = sorted(set(described) - names)
    if missing or unused:
        raise DescriptionError(
            f"Operations without a description: {missing}; descriptions of no operation: {unused}"
        )


def _operation_object(
    operation: Operation, method: str, entry: Mapping[str, Any], shared: set[str]
) -> dict[str, Any]:
    given = copy.deepcopy(dict(entry))
    access = given.pop("access")
    errors = given.pop("errors", [])
    if access not in _ACCESS:
        raise DescriptionError(f"{operation.name}: access must be one of {sorted(_ACCESS)}")
    result: dict[str, Any] = {
        **given,
        # One function may serve two methods (PATCH and PUT of an element): ids stay unique.
        "operationId": operation.name
        if len(operation.methods) == 1
        else f"{operation.name}_{method.lower()}",
        "security": _ACCESS[access],
        "parameters": _parameters(operation, given.get("parameters", []), shared),
    }
    responses = dict(given.get("responses", {}))
    for status in errors:
        responses.setdefault(str(status), {"$ref": f"#/components/responses/{status}"})
    result["responses"] = dict(sorted(responses.items()))
    return result


def _parameters(operation: Operation, listed: list[dict[str, Any]], shared: set[str]) -> list[dict[str, Any]]:
    """The listed parameters, and every path parameter of the template not listed: a reference to
    the component of its name in `shared`, else a required string, as the route table serves it."""
    named = {parameter.get("name") for parameter in listed if parameter.get("in") == "path"}
    named |= {parameter["$ref"].rsplit("/", 1)[-1] for parameter in listed if "$ref" in parameter}
    implied = [
        {"$ref": f"#/components/parameters/{name}"}
        if name in shared
        else {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in path_parameter_names(operation.template)
        if name not in named
    ]
    return [*implied, *listed]
