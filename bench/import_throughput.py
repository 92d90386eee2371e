"""Bulk import throughput: a generated CSV imported end to end, against raw SDK upserts.

    python -m bench.import_throughput --rows 10000

Starts its own Azurite and Cosmos-compatible server. Generates a CSV of N products, uploads it
to the `imports` container through an import grant, and runs the import exactly as the blob
trigger does (spool, count, map, validate, sign, version, index, checkpoint, report). Then, in
the same run against the same store, upserts the same N documents with the raw SDK (one
`upsert_item` each, the same number of threads as the import's pool), the cheapest way to put
those bytes in. Prints rows/s for both and their ratio. Figures, not verdicts.
"""

from __future__ import annotations

import argparse
import csv
import io
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.common import app_stack
from local.run import assign_namespaces
from tests.support.documents import gtin14

MAPPING = {
    "version": 1,
    "constants": {"granularity": "Model", "dppSchemaVersion": "EN18223:v1.0", "dppStatus": "Active"},
    "fields": [
        {"target": "digitalProductPassportId", "column": "sku", "template": "urn:bench:dpp:{value}"},
        {"target": "uniqueProductIdentifier", "column": "gtin", "template": "https://id.gs1.org/01/{value}"},
        {"target": "$.nameplate.ProductName", "column": "name", "language": "en"},
        {"target": "$.nameplate.Colour", "column": "colour"},
        {
            "target": "$.nameplate.WeightKg",
            "column": "weight_g",
            "type": "number",
            "unit": {"from": "g", "to": "kg"},
        },
        {"target": "$.composition.materials", "column": "materials", "split": "|"},
        {"target": "$.sustainability.carbonFootprintKgCO2e", "column": "co2", "type": "number"},
    ],
}
COLOURS = ("Green", "Blue", "Red", "Black", "White")
OPERATOR_ID = "did:example:bench-importer"
# The bench importer's GS1 company prefix; each run takes its own range of item references.
COMPANY_PREFIX = "9510"


def _gtin(run: str, i: int) -> str:
    base = int(run, 16) % 1000 * 10**5  # room for 100,000 rows a run
    return gtin14(f"1{COMPANY_PREFIX}{base + i:08d}")


def generate_csv(rows: int, run: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sku", "gtin", "name", "colour", "weight_g", "materials", "co2"])
    for i in range(rows):
        colour = COLOURS[i % len(COLOURS)]
        writer.writerow(
            [
                f"{run}-{i}",
                _gtin(run, i),
                f"Polo {colour} {i}",
                colour,
                180 + i % 90,
                "Cotton|Elastane",
                2.3,
            ]
        )
    return out.getvalue().encode()


def raw_documents(rows: int, run: str) -> list[dict[str, Any]]:
    """The documents the import writes, as plain items for the raw side."""
    return [
        {
            "id": uuid.uuid4().hex,
            "dppId": f"urn:bench:raw:{run}-{i}",
            "document": {
                "digitalProductPassportId": f"urn:bench:raw:{run}-{i}",
                "uniqueProductIdentifier": f"https://id.gs1.org/01/{_gtin(run, i)}",
                "granularity": "Model",
                "dppSchemaVersion": "EN18223:v1.0",
                "dppStatus": "Active",
                "economicOperatorId": OPERATOR_ID,
                "nameplate": {
                    "ProductName": [{"value": f"Polo {COLOURS[i % 5]} {i}", "language": "en"}],
                    "Colour": COLOURS[i % 5],
                    "WeightKg": (180 + i % 90) / 1000,
                },
                "composition": {"materials": ["Cotton", "Elastane"]},
                "sustainability": {"carbonFootprintKgCO2e": 2.3},
            },
        }
        for i in range(rows)
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args(argv)

    with app_stack() as root:
        from shared.access.authentication import Principal
        from shared.access.roles import OPERATOR
        from shared.onboarding.imports import IMPORTS_CONTAINER
        from shared.storage.cosmos import PASSPORTS

        run = uuid.uuid4().hex[:6]
        data = generate_csv(args.rows, run)
        assign_namespaces(root, OPERATOR_ID, [], [COMPANY_PREFIX])
        owner = Principal("bench", frozenset({OPERATOR}), OPERATOR_ID)
        job = root.imports.grant({"fileName": "bench.csv", "mapping": MAPPING}, owner)
        root.blobs.container(IMPORTS_CONTAINER).upload_blob(job["blobName"], data)
        workers = root.settings.import_concurrency

        started = time.perf_counter()
        outcome = root.imports.run(job["blobName"])
        import_seconds = time.perf_counter() - started
        result = root.store.read("jobs", "job", job["jobId"])
        assert outcome == "done" and result is not None and result["created"] == args.rows, (outcome, result)

        items = raw_documents(args.rows, run)
        container = root.store.container(PASSPORTS)
        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(container.upsert_item, items))
        raw_seconds = time.perf_counter() - started

    import_rate, raw_rate = args.rows / import_seconds, args.rows / raw_seconds
    print(f"{args.rows} rows, {len(data) / 1e6:.2f} MB CSV, {workers} writers on each side")
    print(f"import end to end (blob to signed passports): {import_seconds:7.1f} s  {import_rate:8.0f} rows/s")
    print(f"raw SDK upserts of the same documents        : {raw_seconds:7.1f} s  {raw_rate:8.0f} rows/s")
    print(f"ratio raw/import: {raw_rate / import_rate:.1f}x  (import = {import_rate / raw_rate:.0%} of raw)")


if __name__ == "__main__":
    main()
