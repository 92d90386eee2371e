"""Azure Functions entry point (Python v2 programming model): one composition root, one app.

Building the root connects to nothing; every part is made on first use (see shared/composition.py).
"""

from functions import app_root, create_app
from shared.platform.settings import load_settings
from shared.platform.telemetry import configure_telemetry

settings = load_settings()
configure_telemetry(settings)

app = create_app(app_root(settings))
