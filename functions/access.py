"""Access: the operator registry, where authorities assign each economic operator the product id
namespaces it may issue passports for. Each function calls `shared.access.operators` directly."""

from __future__ import annotations

import azure.functions as func

from functions.routes import Route
from functions.web import PRIVATE, Adapter, json_response, path_param
from shared.access.operators import require_authority
from shared.composition import Root
from shared.platform.openapi import Catalog


def blueprint(root: Root, catalog: Catalog) -> func.Blueprint:
    bp = func.Blueprint()
    web = Adapter(root, catalog)

    @web.operation(bp, Route.OPERATOR, "PUT")
    def assign_operator_namespaces(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        require_authority(caller)  # 401/403 before the body is read
        operator_id = path_param(req, Route.OPERATOR, "operatorId")
        assignment = root.operators.assign(operator_id, web.json_body(req), caller)
        return json_response(assignment, headers=PRIVATE)

    @web.operation(bp, Route.OPERATOR, "GET")
    def read_operator_namespaces(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        assignment = root.operators.read(path_param(req, Route.OPERATOR, "operatorId"), caller)
        return json_response(assignment, headers=PRIVATE)

    return bp
