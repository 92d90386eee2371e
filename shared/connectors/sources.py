"""Which source each connector kind reads: the one place a new PIM is plugged in."""

from __future__ import annotations

from shared.connectors.akeneo import AkeneoSource
from shared.connectors.base import Source
from shared.connectors.config import ConnectorConfig
from shared.platform.outbound import OutboundClient


def make_source(config: ConnectorConfig, outbound: OutboundClient) -> Source:
    """The source of a connector (a new kind: its class here, its name in config.KINDS)."""
    if config.kind == "akeneo":
        return AkeneoSource(config, outbound)
    raise ValueError(f"no source for connector kind {config.kind!r}")
