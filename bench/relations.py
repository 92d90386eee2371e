"""Cost of a relations read at depth 1 and depth 3 against ReadDPPById, in the same run.

    python -m bench.relations --assemblies 50 --samples 500

Starts its own stack and the app on the local host; loads assemblies of three levels through the
core (each assembly names 4 modules, each module 4 cells: 21 passports), then interleaves over one
keep-alive connection, for random assemblies: ReadDPPById of the assembly (the baseline), its
relations going out at depth 1 (4 nodes named) and at depth 3 (the whole tree, 21 nodes), and
the depth 1 relations of an assembly naming 4 parts on a second instance of the service (its own
database, key and port, like a provider elsewhere): each part's answer is `no-cache`, so every
read revalidates it (resolver redirect, then a 304), and the first read of each also fetched and
verified it. Prints p50/p99 and each p50 as a ratio of the baseline's.
"""

from __future__ import annotations

import argparse
import http.client
import random
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.common import app_stack, percentile
from local.run import assign_namespaces

OPERATOR_ID = "did:example:bench-relations"
PREFIX = "urn:bench-relations:"
OTHER_OPERATOR, OTHER_COMPANY = "did:example:bench-provider-b", "9508"


def _passport(pid: str, parts: list[str]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "digitalProductPassportId": f"{pid}:dpp",
        "uniqueProductIdentifier": pid,
        "granularity": "Item",
        "dppSchemaVersion": "EN18223:v1.0",
        "dppStatus": "Active",
        "economicOperatorId": OPERATOR_ID,
        "nameplate": {"ManufacturerName": "Bench Co"},
    }
    if parts:
        document["relations"] = {"hasPart": [{"target": part, "quantity": 1} for part in parts]}
    return document


def _tree(root: Any, owner: Any, run: str, index: int) -> str:
    assembly = f"{PREFIX}{run}:a{index}"
    modules = [f"{assembly}:m{m}" for m in range(4)]
    for module in modules:
        cells = [f"{module}:c{c}" for c in range(4)]
        for cell in cells:
            root.service.create(_passport(cell, []), owner)
        root.service.create(_passport(module, cells), owner)
    root.service.create(_passport(assembly, modules), owner)
    return f"{assembly}:dpp"


def _gtin(body: str) -> str:
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _other_provider(tmp: Path) -> tuple[Any, Any, str]:
    """A second instance on its own port: its root, its server, and its public origin."""
    import os
    import socket

    from functions import app_root, create_app
    from functions.routes import ROUTE_PREFIX
    from local.host.server import start_in_thread
    from shared.integrity.signers import ensure_local_key
    from shared.platform.settings import load_settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    origin = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "COSMOS_DATABASE": f"bench-b-{random.randrange(16**6):06x}",
        "DPP_PUBLIC_URL": origin,
        "DPP_SIGNING_KEY_FILE": str(ensure_local_key(tmp / "b-signing-key.pem")),
    }
    other = app_root(load_settings(env))
    assign_namespaces(other, OTHER_OPERATOR, [], [OTHER_COMPANY])
    server, _ = start_in_thread(create_app(other), port=port, route_prefix=ROUTE_PREFIX)
    return other, server, origin


def _remote_assembly(root: Any, owner: Any, other: Any, origin: str, *, run: str, index: int) -> str:
    from shared.access.authentication import Principal
    from shared.access.roles import OPERATOR

    theirs = Principal("bench-b", frozenset({OPERATOR}), OTHER_OPERATOR)
    parts = []
    for part in range(4):
        gtin = _gtin(f"0{OTHER_COMPANY}{random.randrange(10**8):08d}")
        document = _passport(f"https://id.gs1.org/01/{gtin}", [])
        document.update(
            digitalProductPassportId=f"urn:bench-b:{run}:{index}:{part}", economicOperatorId=OTHER_OPERATOR
        )
        other.service.create(document, theirs)
        parts.append(f"{origin}/01/{gtin}")
    assembly = f"{PREFIX}{run}:r{index}"
    root.service.create(_passport(assembly, parts), owner)
    return f"{assembly}:dpp"


def _timed(connection: http.client.HTTPConnection, path: str) -> float:
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status}")
    return (time.perf_counter() - started) * 1000


def _verified_nodes(connection: http.client.HTTPConnection, assemblies: list[str]) -> None:
    """Every part elsewhere was verified (a bench of failures would measure the wrong thing)."""
    import json

    for assembly in assemblies:
        connection.request("GET", f"/api/v1/dpps/{quote(assembly, safe='')}/relations?direction=out")
        nodes = json.loads(connection.getresponse().read())["nodes"]
        found = sorted(node["verification"] for node in nodes)
        if found != ["local"] + ["verified"] * 4:
            raise RuntimeError(f"{assembly}: {found}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assemblies", type=int, default=50)
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args(argv)

    with app_stack() as root, tempfile.TemporaryDirectory() as tmp:
        from functions import create_app
        from functions.routes import ROUTE_PREFIX
        from local.host.server import start_in_thread
        from shared.access.authentication import Principal
        from shared.access.roles import OPERATOR

        run = f"{random.randrange(16**6):06x}"
        assign_namespaces(root, OPERATOR_ID, [PREFIX], [])
        owner = Principal("bench", frozenset({OPERATOR}), OPERATOR_ID)
        roots = [_tree(root, owner, run, index) for index in range(args.assemblies)]
        other, other_server, origin = _other_provider(Path(tmp))
        remote = [
            _remote_assembly(root, owner, other, origin, run=run, index=index)
            for index in range(args.assemblies)
        ]
        server, base = start_in_thread(create_app(root), route_prefix=ROUTE_PREFIX)
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port))
        figures: dict[str, list[float]] = {"baseline": [], "depth1": [], "depth3": [], "remote": []}
        for round_index in range(args.samples + 30):
            dpp_id = quote(random.choice(roots), safe="")
            remote_id = quote(random.choice(remote), safe="")
            timings = {
                "baseline": _timed(connection, f"/api/v1/dpps/{dpp_id}"),
                "depth1": _timed(connection, f"/api/v1/dpps/{dpp_id}/relations?direction=out&depth=1"),
                "depth3": _timed(connection, f"/api/v1/dpps/{dpp_id}/relations?direction=out&depth=3"),
                "remote": _timed(connection, f"/api/v1/dpps/{remote_id}/relations?direction=out&depth=1"),
            }
            if round_index >= 30:
                for kind, value in timings.items():
                    figures[kind].append(value)
        _verified_nodes(connection, remote)
        server.shutdown()
        other_server.shutdown()

    baseline = percentile(figures["baseline"], 0.5)
    print(f"{args.samples} requests per kind, random assemblies out of {args.assemblies} (21 passports each)")
    names = {
        "baseline": "ReadDPPById (baseline)",
        "depth1": "relations, depth 1 (5 nodes)",
        "depth3": "relations, depth 3 (21 nodes)",
        "remote": "relations, 4 parts elsewhere",
    }
    for kind, name in names.items():
        values = figures[kind]
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(f"  {name:<30}: p50 {p50:7.3f} ms   p99 {p99:7.3f} ms   ratio p50 {p50 / baseline:5.2f}x")


if __name__ == "__main__":
    main()
