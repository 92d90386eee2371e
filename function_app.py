"""Azure Functions entry point (Python v2 programming model): the app and its Blueprints."""

import azure.functions as func

from functions import artifacts, contract, elements, exports, health, imports, integrity, passports
from functions.registry import bp as registry_bp
from shared.config import settings
from shared.telemetry import configure_telemetry

configure_telemetry(settings())

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(passports.bp)
app.register_functions(elements.bp)
app.register_functions(integrity.bp)
app.register_functions(contract.bp)
app.register_functions(artifacts.bp)
app.register_functions(imports.bp)
app.register_functions(exports.bp)
app.register_functions(health.bp)
app.register_functions(registry_bp)
