"""Clients connecting at once (bench/load.py starts 32) wait in the listen backlog until the host
accepts them, as with Kestrel, instead of being dropped by the kernel."""

from __future__ import annotations

import socket
import threading

import pytest

from local.host.server import make_server
from tests.local.host.toy_app import KEY, build_app

CLIENTS = 64


def test_connections_arriving_before_the_host_accepts_any_are_all_answered() -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCAL_FUNCTIONS_KEY", KEY)
        server = make_server(build_app())  # listening, not accepting yet
    port = server.server_address[1]
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    connections: list[socket.socket] = []
    try:
        # With socketserver's backlog of 5 the kernel dropped the SYN of the 7th: no connect.
        for _ in range(CLIENTS):
            connections.append(socket.create_connection(("127.0.0.1", port), timeout=0.5))
        serving.start()
        for connection in connections:
            connection.settimeout(10)
            connection.sendall(b"GET /api/missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status_lines = [connection.recv(64).split(b"\r\n", 1)[0] for connection in connections]
        assert status_lines == [b"HTTP/1.1 404 Not Found"] * CLIENTS
    finally:
        for connection in connections:
            connection.close()
        if serving.is_alive():
            server.shutdown()
        else:
            server.server_close()
