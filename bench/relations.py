"""Cost of a relations read at depth 1 and depth 3 against ReadDPPById, in the same run.

    python -m bench.relations --assemblies 50 --samples 500

Starts its own stack and the app on the local host; loads assemblies of three levels through the
core (each assembly names 4 modules, each module 4 cells: 21 passports), then interleaves over one
keep-alive connection, for random assemblies: ReadDPPById of the assembly (the baseline), its
relations going out at depth 1 (4 nodes named) and at depth 3 (the whole tree, 21 nodes). Prints
p50/p99 and each p50 as a ratio of the baseline's.
"""

from __future__ import annotations

import argparse
import http.client
import random
import time
from typing import Any
from urllib.parse import quote

from bench.common import app_stack, percentile
from local.run import assign_namespaces

OPERATOR_ID = "did:example:bench-relations"
PREFIX = "urn:bench-relations:"


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


def _timed(connection: http.client.HTTPConnection, path: str) -> float:
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status}")
    return (time.perf_counter() - started) * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assemblies", type=int, default=50)
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args(argv)

    with app_stack() as root:
        from functions import create_app
        from functions.routes import ROUTE_PREFIX
        from local.host.server import start_in_thread
        from shared.access.authentication import Principal
        from shared.access.roles import OPERATOR

        run = f"{random.randrange(16**6):06x}"
        assign_namespaces(root, OPERATOR_ID, [PREFIX], [])
        owner = Principal("bench", frozenset({OPERATOR}), OPERATOR_ID)
        roots = [_tree(root, owner, run, index) for index in range(args.assemblies)]
        server, base = start_in_thread(create_app(root), route_prefix=ROUTE_PREFIX)
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port))
        figures: dict[str, list[float]] = {"baseline": [], "depth1": [], "depth3": []}
        for round_index in range(args.samples + 30):
            dpp_id = quote(random.choice(roots), safe="")
            timings = {
                "baseline": _timed(connection, f"/api/v1/dpps/{dpp_id}"),
                "depth1": _timed(connection, f"/api/v1/dpps/{dpp_id}/relations?direction=out&depth=1"),
                "depth3": _timed(connection, f"/api/v1/dpps/{dpp_id}/relations?direction=out&depth=3"),
            }
            if round_index >= 30:
                for kind, value in timings.items():
                    figures[kind].append(value)
        server.shutdown()

    baseline = percentile(figures["baseline"], 0.5)
    print(f"{args.samples} requests per kind, random assemblies out of {args.assemblies} (21 passports each)")
    names = {
        "baseline": "ReadDPPById (baseline)",
        "depth1": "relations, depth 1 (5 nodes)",
        "depth3": "relations, depth 3 (21 nodes)",
    }
    for kind, name in names.items():
        values = figures[kind]
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(f"  {name:<30}: p50 {p50:7.3f} ms   p99 {p99:7.3f} ms   ratio p50 {p50 / baseline:5.2f}x")


if __name__ == "__main__":
    main()
