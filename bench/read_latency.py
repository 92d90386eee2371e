"""Read latency through the local HTTP host against a raw SDK point read, in the same run.

    python -m bench.read_latency --n 1000 [--samples 2000]

Starts its own stack (Azurite + Cosmos-compatible server on free ports), loads N passports
through the core (the same write path as the API), then measures, interleaved so both see the
same machine state:
  - ReadDPPById over HTTP (keep-alive) vs a raw `read_item` of the head item;
  - ReadDPPByProductId over HTTP vs the raw two point reads it needs (lookup, then head).
Prints p50/p99 in milliseconds and the HTTP/raw ratio of each. Not a test: figures, not verdicts.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _passport(index: int, run: str) -> dict:
    return {
        "digitalProductPassportId": f"urn:bench:{run}:dpp/{index}",
        "uniqueProductIdentifier": f"https://id.example.org/01/{run}/21/{index}",
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


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _timed(call: Callable[..., object], *args: object) -> float:
    start = time.perf_counter()
    call(*args)
    return (time.perf_counter() - start) * 1000


def _report(name: str, http_ms: list[float], raw_ms: list[float]) -> None:
    p50h, p99h = _percentile(http_ms, 0.50), _percentile(http_ms, 0.99)
    p50r, p99r = _percentile(raw_ms, 0.50), _percentile(raw_ms, 0.99)
    mean_h, mean_r = statistics.mean(http_ms), statistics.mean(raw_ms)
    print(f"{name}")
    print(f"  HTTP via local host : p50 {p50h:7.3f} ms   p99 {p99h:7.3f} ms   mean {mean_h:7.3f} ms")
    print(f"  raw SDK             : p50 {p50r:7.3f} ms   p99 {p99r:7.3f} ms   mean {mean_r:7.3f} ms")
    print(f"  ratio HTTP/raw      : p50 {p50h / p50r:5.2f}x     p99 {p99h / p99r:5.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000, help="passports to load")
    parser.add_argument("--samples", type=int, default=2000, help="timed reads per operation and side")
    parser.add_argument("--workers", type=int, default=8, help="parallel writers while loading")
    args = parser.parse_args(argv)

    import requests

    from local.run import dev_environment
    from local.stack import start_stack

    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp))
        try:
            os.environ.update(dev_environment(stack.env(), Path(tmp) / "issuer"))
            from function_app import app
            from local.host import start_in_thread
            from shared.auth import OPERATOR, Principal
            from shared.service import get_service
            from shared.store import PASSPORTS, PRODUCTS, get_store

            service = get_service()
            owner = Principal("bench", frozenset({OPERATOR}), "did:example:bench")
            run = f"{random.randrange(16**8):08x}"
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.workers) as pool:
                list(pool.map(lambda i: service.create(_passport(i, run), owner), range(args.n)))
            load_s = time.perf_counter() - started
            rate = args.n / load_s
            print(f"loaded {args.n} passports in {load_s:.1f} s ({rate:.0f}/s, {args.workers} writers)")

            server, base = start_in_thread(app)
            passports, products = get_store().container(PASSPORTS), get_store().container(PRODUCTS)
            session = requests.Session()
            picks = [random.randrange(args.n) for _ in range(args.samples)]
            for index in picks[:50]:  # warm connections and caches on both sides
                session.get(
                    f"{base}/api/v1/dpps/{quote(_passport(index, run)['digitalProductPassportId'], safe='')}"
                )
                passports.read_item("head", partition_key=_passport(index, run)["digitalProductPassportId"])

            def raw_by_product(product_id: str) -> None:
                lookup = products.read_item("lookup", partition_key=product_id)
                passports.read_item("head", partition_key=lookup["dppId"])

            by_id_http, by_id_raw, by_product_http, by_product_raw = [], [], [], []
            for index in picks:
                doc = _passport(index, run)
                dpp_id, product_id = doc["digitalProductPassportId"], doc["uniqueProductIdentifier"]
                by_id_http.append(_timed(session.get, f"{base}/api/v1/dpps/{quote(dpp_id, safe='')}"))
                by_id_raw.append(_timed(passports.read_item, "head", dpp_id))
                by_product_http.append(
                    _timed(session.get, f"{base}/api/v1/dppsByProductId/{quote(product_id, safe='')}")
                )
                by_product_raw.append(_timed(raw_by_product, product_id))
            server.shutdown()
            print(f"{args.samples} reads each, random passports out of {args.n}")
            _report("ReadDPPById", by_id_http, by_id_raw)
            _report("ReadDPPByProductId", by_product_http, by_product_raw)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
