"""Telemetry starts only where Application Insights is configured (Azure), never locally."""

import sys
from dataclasses import replace

from shared.platform.settings import Settings
from shared.platform.telemetry import configure_telemetry


def test_no_connection_string_means_no_exporter_and_no_import():
    loaded_before = "azure.monitor.opentelemetry" in sys.modules
    assert configure_telemetry(Settings()) is False
    assert configure_telemetry(replace(Settings(), appinsights_connection_string="")) is False
    assert ("azure.monitor.opentelemetry" in sys.modules) == loaded_before
