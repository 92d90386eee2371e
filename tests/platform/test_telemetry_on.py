"""Telemetry switched on, over the real wire (logs and metrics; spans are not checked here): the
app's own configure_telemetry, in a process of its own (OpenTelemetry's providers are global),
exporting to a test double of the Application Insights ingestion endpoint (https, with a CA of
the test's own: bearer tokens travel over TLS only), signed in as its managed identity through a
test double of the App Service identity endpoint (the protocol ManagedIdentityCredential speaks)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from typing import Any

from tests.doubles.web import Answer, WebServer, certificates
from tests.support.documents import REPO

IKEY = "00000000-0000-0000-0000-000000000001"
CHILD = """
import logging, sys
from shared.platform.settings import load_settings
from shared.platform.telemetry import configure_telemetry

assert configure_telemetry(load_settings()) is True
logging.getLogger("dpp.probe").warning("telemetry probe %s", sys.argv[1])
for handler in logging.getLogger("dpp").handlers:
    handler.flush()
import opentelemetry._logs as logs
logs.get_logger_provider().force_flush()
"""


def _envelopes(body: bytes) -> list[dict[str, Any]]:
    text = gzip.decompress(body) if body[:2] == b"\\x1f\\x8b" else body
    loaded = json.loads(text)
    return (
        loaded
        if isinstance(loaded, list)
        else [json.loads(line) for line in text.splitlines() if line.strip()]
    )


def test_logs_and_traces_reach_application_insights_signed_in_as_the_managed_identity(tmp_path):
    token = {
        "access_token": "mi-token",
        "expires_on": str(int(time.time()) + 3600),
        "token_type": "Bearer",
        "resource": "https://monitor.azure.com/",
    }
    accepted = {"itemsReceived": 1, "itemsAccepted": 1, "errors": []}
    # Bearer tokens travel over TLS only: the ingestion double is https, with a CA of the test's own.
    ca, tls = certificates(tmp_path, "localhost")
    with WebServer() as identity, WebServer(tls=tls) as ingestion:
        identity.script["/token"] = Answer(
            200, json.dumps(token).encode(), {"Content-Type": "application/json"}
        )
        ingestion.script["/v2.1/track"] = lambda request: Answer(
            200,
            json.dumps(
                {
                    **accepted,
                    "itemsReceived": len(_envelopes(request.body)),
                    "itemsAccepted": len(_envelopes(request.body)),
                }
            ).encode(),
            {"Content-Type": "application/json"},
        )
        env = {
            **os.environ,
            "APPLICATIONINSIGHTS_CONNECTION_STRING": f"InstrumentationKey={IKEY};"
            f"IngestionEndpoint=https://localhost:{ingestion.port}/",
            "IDENTITY_ENDPOINT": identity.url("/token"),
            "IDENTITY_HEADER": "identity-secret",
            "PYTHONPATH": str(REPO),
            "REQUESTS_CA_BUNDLE": str(ca),
            "SSL_CERT_FILE": str(ca),
        }
        env.pop("MSI_ENDPOINT", None)
        env.pop("MSI_SECRET", None)
        done = subprocess.run(
            [sys.executable, "-c", CHILD, "probe-7"],
            check=False,
            env=env,
            cwd=REPO,
            timeout=120,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
            r.path.startswith("/v2.1/track") for r in ingestion.requests
        ):
            time.sleep(0.2)
        posts = [r for r in ingestion.requests if r.path.startswith("/v2.1/track")]
    assert posts, [r.path for r in ingestion.requests]
    assert all(r.headers.get("authorization") == "Bearer mi-token" for r in posts)
    assert any(r.headers.get("x-identity-header") == "identity-secret" for r in identity.requests)
    envelopes = [envelope for request in posts for envelope in _envelopes(request.body)]
    assert all(e["iKey"] == IKEY for e in envelopes)
    messages = [
        e["data"]["baseData"].get("message", "") for e in envelopes if e["data"]["baseType"] == "MessageData"
    ]
    assert any("telemetry probe probe-7" in message for message in messages), messages
    # The distro's own metrics (process and runtime) go out the same way.
    assert any(e["data"]["baseType"] == "MetricData" for e in envelopes)
