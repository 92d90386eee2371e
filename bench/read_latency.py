"""Read latency through the local HTTP host against a raw SDK point read, in the same run.

    python -m bench.read_latency --n 1000 [--samples 2000]

Starts its own stack (Azurite + Cosmos-compatible server on free ports), loads N passports
through the core (the same write path as the API), then measures, interleaved so both see the
same machine state:
  - ReadDPPById over HTTP (keep-alive) vs a raw `read_item` of the head item;
  - ReadDPPByProductId over HTTP vs the raw two point reads it needs (lookup, then head).
  - and, as the floor for any HTTP layer, a bare stdlib server (keep-alive, Nagle off) that does
    nothing but the same point read and writes its JSON.
HTTP requests use one keep-alive `http.client` connection: `requests` adds ~0.6 ms of client-side
work per call (it rescans proxy settings), which would be measured against the server otherwise.
Prints p50/p99 in milliseconds and ratios. Not a test: figures, not verdicts.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from bench.common import app_stack, create_passports, percentile

if TYPE_CHECKING:
    from shared.composition import Root


BENCH_OPERATOR, BENCH_PREFIX = "did:example:bench", "https://id.example.org/bench/"


def _passport(index: int, run: str) -> dict:
    return {
        "digitalProductPassportId": f"urn:bench:{run}:dpp/{index}",
        "uniqueProductIdentifier": f"{BENCH_PREFIX}{run}/{index}",
        "granularity": "Item",
        "dppSchemaVersion": "EN18223:v1.0",
        "dppStatus": "Active",
        "economicOperatorId": "did:example:bench",
        "contentSpecificationIds": ["https://spec.example.org/Nameplate/1"],
        "nameplate": {
            "ManufacturerName": "Bench Co",
            "ProductName": [{"value": f"Product {index}", "language": "en"}],
            "Materials": [{"name": "Cotton", "share": 0.95}, {"name": "Elastane", "share": 0.05}],
            "SerialNumber": f"SN-{index:08d}",
        },
    }


def _timed(call: Callable[..., object], *args: object) -> float:
    start = time.perf_counter()
    call(*args)
    return (time.perf_counter() - start) * 1000


class _Client:
    """One keep-alive HTTP/1.1 connection, as a browser or SDK would hold."""

    def __init__(self, base: str):
        host, port = base.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port))

    def get(self, path: str) -> bytes:
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
        return body


def _bare_server(container: object) -> tuple[ThreadingHTTPServer, str]:
    """The floor: an HTTP server that only does the point read (no routing, no app)."""

    class Bare(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            item = container.read_item("head", partition_key=unquote(self.path.rsplit("/", 1)[1]))
            body = json.dumps(item["document"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Bare)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _report(name: str, http_ms: list[float], raw_ms: list[float]) -> None:
    p50h, p99h = percentile(http_ms, 0.50), percentile(http_ms, 0.99)
    p50r, p99r = percentile(raw_ms, 0.50), percentile(raw_ms, 0.99)
    mean_h, mean_r = statistics.mean(http_ms), statistics.mean(raw_ms)
    print(f"{name}")
    print(f"  over HTTP           : p50 {p50h:7.3f} ms   p99 {p99h:7.3f} ms   mean {mean_h:7.3f} ms")
    print(f"  raw SDK             : p50 {p50r:7.3f} ms   p99 {p99r:7.3f} ms   mean {mean_r:7.3f} ms")
    print(f"  ratio HTTP/raw      : p50 {p50h / p50r:5.2f}x     p99 {p99h / p99r:5.2f}x")


def _load(root: Root, n: int, workers: int, run: str) -> None:
    started = time.perf_counter()
    documents = (_passport(i, run) for i in range(n))
    create_passports(root, BENCH_OPERATOR, documents, prefixes=[BENCH_PREFIX], workers=workers)
    load_s = time.perf_counter() - started
    print(f"loaded {n} passports in {load_s:.1f} s ({n / load_s:.0f}/s, {workers} writers, via the core)")


def _measure(root: Root, n: int, samples: int, run: str) -> dict[str, list[float]]:
    from functions import create_app
    from functions.routes import ROUTE_PREFIX
    from local.host.server import start_in_thread
    from shared.storage.cosmos import PASSPORTS, PRODUCTS

    server, base = start_in_thread(create_app(root), route_prefix=ROUTE_PREFIX)
    passports, products = root.store.container(PASSPORTS), root.store.container(PRODUCTS)
    bare_server, bare_base = _bare_server(passports)
    host, bare = _Client(base), _Client(bare_base)

    def raw_by_product(product_id: str) -> None:
        lookup = products.read_item("lookup", partition_key=product_id)
        passports.read_item("head", partition_key=lookup["dppId"])

    figures: dict[str, list[float]] = {
        key: [] for key in ("id", "id_raw", "id_bare", "product", "product_raw")
    }
    picks = [random.randrange(n) for _ in range(samples)]
    for round_index, index in enumerate([*picks[:50], *picks]):
        doc = _passport(index, run)
        dpp_id, product_id = doc["digitalProductPassportId"], doc["uniqueProductIdentifier"]
        timings = {
            "id": _timed(host.get, f"/api/v1/dpps/{quote(dpp_id, safe='')}"),
            "id_bare": _timed(bare.get, f"/{quote(dpp_id, safe='')}"),
            "id_raw": _timed(passports.read_item, "head", dpp_id),
            "product": _timed(host.get, f"/api/v1/dppsByProductId/{quote(product_id, safe='')}"),
            "product_raw": _timed(raw_by_product, product_id),
        }
        if round_index >= 50:  # the first 50 only warm connections and caches
            for key, value in timings.items():
                figures[key].append(value)
    server.shutdown()
    bare_server.shutdown()
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000, help="passports to load")
    parser.add_argument("--samples", type=int, default=2000, help="timed reads per operation and side")
    parser.add_argument("--workers", type=int, default=8, help="parallel writers while loading")
    args = parser.parse_args(argv)

    with app_stack() as root:
        run = f"{random.randrange(16**8):08x}"
        _load(root, args.n, args.workers, run)
        figures = _measure(root, args.n, args.samples, run)
    print(f"{args.samples} reads each, random passports out of {args.n}")
    _report("ReadDPPById", figures["id"], figures["id_raw"])
    _report("Floor: bare stdlib server over the same point read", figures["id_bare"], figures["id_raw"])
    over_floor = percentile(figures["id"], 0.5) / percentile(figures["id_bare"], 0.5)
    print(f"  ReadDPPById over the bare floor: p50 {over_floor:.2f}x")
    _report("ReadDPPByProductId", figures["product"], figures["product_raw"])


if __name__ == "__main__":
    main()
