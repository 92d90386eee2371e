"""A free loopback port: for a server whose URL must be known before it starts (its public URL
is a setting, as DPP_PUBLIC_URL is in Azure), or as an address where nothing listens (a store
or a vault that cannot be reached)."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
