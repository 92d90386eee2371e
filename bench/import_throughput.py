"""Bulk import throughput: a generated CSV imported end to end, against raw SDK upserts.

    python -m bench.import_throughput --rows 10000

Starts its own Azurite and Cosmos-compatible server. Generates a CSV of N products, uploads it
to the `imports` container through an import grant, and runs the import exactly as the blob
trigger does (spool, count, map, validate, sign, version, checkpoint, report), counting the
store calls it makes by container: writes per new passport on the write path (passports, products
and the indexes, which the write path no longer touches) and the job's own. Then the derived data
(search and relation indexes) is brought up to date as the local host's emulation of the
change-feed trigger does it (`local.host.cosmos_triggers`, one poll over the app's own function),
timed: how long search trails a bulk import. Then, in the same run against the same store, upserts
the same N documents with the raw SDK (one `upsert_item` each, the same number of threads as the
import's pool), the cheapest way to put those bytes in. Prints rows/s for both and their ratio.
Last, the peak RSS of a CSV import at each of `--memory-rows` (bench.import_memory, one fresh
process each). Figures, not verdicts.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.common import app_stack
from local.run import assign_namespaces
from tests.support.documents import gtin14
from tests.support.store_calls import READS, WRITES, StoreCalls

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


def counted_import(root: Any, blob_name: str) -> tuple[str, float, StoreCalls]:
    """Run the import as the blob trigger does: its outcome, seconds and store calls."""
    counts = StoreCalls(root.store)  # every thread: the import writes from its pool
    try:
        started = time.perf_counter()
        outcome = root.imports.run(blob_name)
        return outcome, time.perf_counter() - started, counts
    finally:
        counts.restore()


def catch_up_derived(root: Any) -> tuple[float, int]:
    """One poll of the local host's change-feed emulation over the app's function: seconds, and
    batches delivered."""
    from functions import create_app
    from local.host.cosmos_triggers import CosmosTriggers

    triggers = CosmosTriggers.from_app(create_app(root), os.environ)
    assert not triggers.errors, triggers.errors
    started = time.perf_counter()
    assert triggers.poll_once()
    return time.perf_counter() - started, triggers.batches


def _arguments(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--memory-rows",
        default="10000,100000",
        help="row counts whose CSV import's peak RSS is printed after (bench.import_memory); '' skips",
    )
    args = parser.parse_args(argv)
    memory_rows = [part.strip() for part in args.memory_rows.split(",") if part.strip()]
    if args.rows < 1 or not all(part.isdigit() and int(part) > 0 for part in memory_rows):
        parser.error("--rows and --memory-rows take positive row counts")
    return args, memory_rows


def main(argv: list[str] | None = None) -> None:
    args, memory_rows = _arguments(argv)

    with app_stack() as root:
        from shared.access.authentication import Principal
        from shared.access.roles import OPERATOR
        from shared.onboarding.imports import IMPORTS_CONTAINER
        from shared.publication.search import entry_id
        from shared.storage.cosmos import PASSPORTS, PRODUCTS, RELATIONS, SEARCH_INDEX

        run = uuid.uuid4().hex[:6]
        data = generate_csv(args.rows, run)
        assign_namespaces(root, OPERATOR_ID, [], [COMPANY_PREFIX])
        owner = Principal("bench", frozenset({OPERATOR}), OPERATOR_ID)
        job = root.imports.grant({"fileName": "bench.csv", "mapping": MAPPING}, owner)
        root.blobs.container(IMPORTS_CONTAINER).upload_blob(job["blobName"], data)
        workers = root.settings.import_concurrency

        outcome, import_seconds, counts = counted_import(root, job["blobName"])
        result = root.store.read("jobs", "job", job["jobId"])
        assert outcome == "done" and result is not None and result["created"] == args.rows, (outcome, result)
        # Readable at once; in the search index only once derived data caught up.
        assert root.passports.head(f"urn:bench:dpp:{run}-{args.rows - 1}") is not None
        write_path = (PASSPORTS, PRODUCTS, SEARCH_INDEX, RELATIONS)
        writes = counts.per_container(WRITES, write_path) / args.rows
        reads = counts.per_container(READS, write_path) / args.rows
        write_path_requests = counts.per_container((*WRITES, *READS), write_path, items=False)
        requests = write_path_requests / args.rows
        indexes = counts.per_container(WRITES, (SEARCH_INDEX, RELATIONS)) / args.rows
        job_calls = sum(counts.requests.values()) - write_path_requests

        derived_seconds, batches = catch_up_derived(root)
        last = f"urn:bench:dpp:{run}-{args.rows - 1}"
        assert root.store.read(SEARCH_INDEX, entry_id(last), f"kw:{COLOURS[(args.rows - 1) % 5].lower()}")

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
    print(f"ratio import/raw: {import_rate / raw_rate:.2f}x  (raw/import {raw_rate / import_rate:.1f}x)")
    print(
        f"store per new passport on the write path: {writes:.2f} items written ({indexes:.2f} to "
        f"the indexes), {reads:.2f} read, in {requests:.2f} requests; the job's own: {job_calls} requests"
    )
    print(
        f"derived data (search, relations) caught up off the write path: {derived_seconds:7.1f} s "
        f"{args.rows / derived_seconds:8.0f} passports/s ({batches} change batches)"
    )
    if memory_rows:
        from bench import import_memory

        import_memory.main(["--rows", ",".join(memory_rows), "--formats", "csv"])


if __name__ == "__main__":
    main()
