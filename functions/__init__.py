"""HTTP and trigger adapters: one Blueprint per area of `shared/`, one function per operation.

`create_app(root)` registers them all on a FunctionApp; each area's `blueprint(root, catalog)` closes over
the composition root it is given (so no function reaches for a global) and records its operations
in the catalog the OpenAPI document is built from.
"""

from __future__ import annotations

from typing import Any

import azure.functions as func

from functions import (
    aas,
    access,
    changes,
    connectors,
    integrity,
    onboarding,
    passports,
    platform,
    publication,
    resolver,
)
from functions.routes import Links, own_routes
from shared.composition import Root
from shared.platform.openapi import Catalog
from shared.platform.settings import Settings

AREAS = (
    passports,
    access,
    integrity,
    publication,
    aas,
    resolver,
    onboarding,
    connectors,
    platform,
    changes,
)


def app_root(settings: Settings, **given: Any) -> Root:
    """The composition root as the function app uses it: with the route table's own URLs, so
    relations naming this service by URL are read and indexed locally, and UNTP credentials
    name their status lists and passports at the public URL, as the bulk export's AAS
    environments name passports."""
    links = Links(settings.public_url)
    routes = {"own_routes": own_routes(settings.public_url), "credential_urls": links, "aas_links": links}
    return Root(settings, **{**routes, **given})


def create_app(root: Root) -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    # What every area registers, as the OpenAPI document describes it (functions/platform.py).
    catalog = Catalog()
    for area in AREAS:
        app.register_functions(area.blueprint(root, catalog))
    return app
