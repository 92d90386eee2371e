"""Cost of the resolver and the consumer page against ReadDPPById, and of rendering carriers.

    python -m bench.resolver --n 200 --samples 1000

Starts its own stack and the app on the local host; loads N GS1-identified passports through the
core; then, for random passports, interleaves over one keep-alive connection each sample:
ReadDPPById (the baseline), the resolver answering `Accept: text/html` (a 307 to the page),
`application/ld+json` (a 307 to the lite view), the linkset (200), and the consumer page itself
(200 HTML). Prints p50/p99 and each p50 as a ratio of the baseline's. Then renders the carrier of
one passport in every format, in process, and prints the time per rendering. Goals from the
issue: page ≤ 1.5x, linkset ≤ 1.2x (point reads only, no queries).
"""

from __future__ import annotations

import argparse
import http.client
import random
import time
from typing import Any
from urllib.parse import quote

from bench.common import app_stack, create_passports, percentile

OPERATOR_ID = "did:example:bench-resolver"
COMPANY_PREFIX = "9506"


def _gtin(body: str) -> str:
    from shared.documents.digital_link import check_digit

    return body + check_digit(body)


def _passport(index: int, run: str) -> dict[str, Any]:
    gtin = _gtin(f"0{COMPANY_PREFIX}{run}{index:04d}"[:13])
    return {
        "digitalProductPassportId": f"urn:bench:resolver:{run}:{index}",
        "uniqueProductIdentifier": f"https://id.gs1.org/01/{gtin}",
        "granularity": "Model",
        "dppSchemaVersion": "EN18223:v1.0",
        "dppStatus": "Active",
        "economicOperatorId": OPERATOR_ID,
        "nameplate": {
            "ProductName": [
                {"value": f"Product {index}", "language": "en"},
                {"value": f"Produkt {index}", "language": "de"},
            ],
            "ManufacturerName": "Bench Co",
        },
        "composition": {"fibres": "cotton 95%, elastane 5%"},
        "sustainability": {"carbonFootprintKgCO2e": 2.3, "waterUsageLitres": 95},
        "certification": {"label": "GOTS"},
    }


class _Client:
    def __init__(self, base: str):
        host, port = base.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port))

    def get(self, path: str, accept: str, expected: int) -> None:
        self.connection.request("GET", path, headers={"Accept": accept})
        response = self.connection.getresponse()
        response.read()
        if response.status != expected:
            raise RuntimeError(f"GET {path} ({accept}): {response.status}")


def _timed(call: Any, *args: Any) -> float:
    started = time.perf_counter()
    call(*args)
    return (time.perf_counter() - started) * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=200, help="passports to load")
    parser.add_argument("--samples", type=int, default=1000, help="timed requests per kind")
    args = parser.parse_args(argv)

    with app_stack() as root:
        from functions import create_app
        from functions.routes import ROUTE_PREFIX
        from local.host.server import start_in_thread
        from shared.publication.carriers import CarrierRequest, carrier_content, render

        run = f"{random.randrange(10**4):04d}"
        documents = (_passport(i, run) for i in range(args.n))
        create_passports(root, OPERATOR_ID, documents, company_prefixes=[COMPANY_PREFIX])
        server, base = start_in_thread(create_app(root), route_prefix=ROUTE_PREFIX)
        client = _Client(base)
        kinds = ("baseline", "html", "jsonld", "linkset", "page")
        figures: dict[str, list[float]] = {kind: [] for kind in kinds}
        picks = [random.randrange(args.n) for _ in range(args.samples + 50)]
        for round_index, index in enumerate(picks):
            document = _passport(index, run)
            dpp_id = quote(document["digitalProductPassportId"], safe="")
            resolver = "/01/" + document["uniqueProductIdentifier"].rsplit("/01/", 1)[1]
            timings = {
                "baseline": _timed(client.get, f"/api/v1/dpps/{dpp_id}", "application/json", 200),
                "html": _timed(client.get, resolver, "text/html", 307),
                "jsonld": _timed(client.get, resolver, "application/ld+json", 307),
                "linkset": _timed(client.get, resolver, "application/linkset+json", 200),
                "page": _timed(client.get, f"/api/v1/dpps/{dpp_id}/page", "text/html", 200),
            }
            if round_index >= 50:
                for kind, value in timings.items():
                    figures[kind].append(value)
        server.shutdown()

        head = root.passports.head(_passport(0, run)["digitalProductPassportId"])
        assert head is not None
        content = carrier_content(head, root.settings.public_url)
        renderings = {}
        for symbology in ("qr", "datamatrix"):
            for kind in ("png", "svg"):
                request = CarrierRequest(format=kind, symbology=symbology)
                started = time.perf_counter()
                for _ in range(50):
                    carrier = render(content, request)
                renderings[f"{symbology} {kind}"] = ((time.perf_counter() - started) * 1000 / 50, carrier)
        started = time.perf_counter()
        for _ in range(50):
            render(content, CarrierRequest(format="ndef"))
        ndef_ms = (time.perf_counter() - started) * 1000 / 50

    baseline = percentile(figures["baseline"], 0.5)
    print(
        f"{args.samples} requests per kind over one keep-alive connection, random passports out of {args.n}"
    )
    names = {
        "baseline": "ReadDPPById (baseline)",
        "html": "resolver, Accept text/html (307)",
        "jsonld": "resolver, Accept ld+json (307)",
        "linkset": "resolver, linkset (200)",
        "page": "consumer page (200 HTML)",
    }
    for kind in kinds:
        values = figures[kind]
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(
            f"  {names[kind]:<34}: p50 {p50:6.3f} ms   p99 {p99:6.3f} ms   ratio p50 {p50 / baseline:4.2f}x"
        )
    print(f"Carrier of one passport: {len(content.encode())} bytes encoded, core token included")
    for name, (ms, carrier) in renderings.items():
        print(
            f"  {name:<16}: {ms:6.2f} ms per rendering, "
            f"symbol {carrier.symbol_version}, {len(carrier.data)} bytes"
        )
    print(f"  ndef            : {ndef_ms:6.2f} ms per rendering")


if __name__ == "__main__":
    main()
