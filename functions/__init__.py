"""HTTP and trigger adapters: one Blueprint per area of `shared/`, one function per operation.

`create_app(root)` registers them all on a FunctionApp; each area's `blueprint(root)` closes over
the composition root it is given, so no function reaches for a global.
"""

from __future__ import annotations

import azure.functions as func

from functions import access, integrity, onboarding, passports, platform, publication, resolver
from shared.composition import Root

AREAS = (passports, access, integrity, publication, resolver, onboarding, platform)


def create_app(root: Root) -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    for area in AREAS:
        app.register_functions(area.blueprint(root))
    return app
