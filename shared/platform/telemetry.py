"""Traces, logs and metrics to Application Insights through OpenTelemetry, in Azure only.

The Application Insights resource has local authentication disabled, so the exporter signs in as
the app's managed identity (Monitoring Metrics Publisher on the resource). Locally there is no
connection string and nothing is imported: the OpenTelemetry packages cost cold-start time.
"""

from __future__ import annotations

import logging

from shared.platform.settings import Settings

log = logging.getLogger(__name__)


def configure_telemetry(config: Settings) -> bool:
    """Start exporting when Application Insights is configured; returns whether it did."""
    if not config.appinsights_connection_string:
        return False
    from azure.identity import ManagedIdentityCredential
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor(
        connection_string=config.appinsights_connection_string,
        credential=ManagedIdentityCredential(client_id=config.managed_identity_client_id),
        logger_name="dpp",
    )
    log.info("OpenTelemetry export to Application Insights is on")
    return True
