"""Peak memory of an import against the file's row count: `python -m bench.import_memory`.

For each format (CSV, XLSX, JSONL) and row count (10,000 and 100,000 by default) a fresh Python
process runs one whole import through `Imports.run` on a local stack (Azurite and the Cosmos
stand-in): the upload streamed in as the blob trigger gives it, spooled, counted, read, mapped,
validated, checkpointed every batch, and reported. Its peak RSS (VmHWM of that process alone) is
printed, with the ratio of the largest row count's to the smallest's.

What is written: the first `--valid` rows (default 200) are valid passports, created and signed
through the passport service against the stand-in like any import row; every other row fails
validation (an unknown `granularity`), after mapping, so it costs no store write but goes into the
failure parts, the report and the failed-rows file, which is where an import's memory could grow
with the file. Writing 100,000 passports to the stand-in would take most of an hour here and
measure the stand-in, not the import.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import REPO, stack_environment

OPERATOR = "did:example:bench-memory"
PREFIX = "https://id.example.org/bench-memory/"
COLUMNS = ("sku", "granularity", "name", "maker", "weight_g", "labels")
MAPPING: dict[str, Any] = {
    "version": 1,
    "constants": {"dppStatus": "Active", "dppSchemaVersion": "EN18223:v1.0"},
    "fields": [
        {"target": "digitalProductPassportId", "column": "sku", "template": "urn:bench:dpp:{value}"},
        {"target": "uniqueProductIdentifier", "column": "sku", "template": PREFIX + "item/{value}"},
        {"target": "granularity", "column": "granularity"},
        {"target": "$.nameplate.ProductName", "column": "name", "language": "en"},
        {"target": "$.nameplate.ManufacturerName", "column": "maker"},
        {
            "target": "$.nameplate.WeightKg",
            "column": "weight_g",
            "type": "number",
            "unit": {"from": "g", "to": "kg"},
        },
        {"target": "$.certification.labels", "column": "labels", "split": "|"},
    ],
}


def row(i: int, run: str, valid: int) -> dict[str, str]:
    # Every text differs from row to row, as real product data does: an XLSX holds them all in its
    # shared strings table.
    return {
        "sku": f"{run}-{i:07d}",
        "granularity": "Item" if i < valid else f"Unit{i}",
        "name": f"Shirt {i} in organic cotton",
        "maker": f"Maker {i % 997} GmbH",
        "weight_g": str(200 + i % 300),
        "labels": f"GOTS|OEKO-{i}",
    }


def document(values: dict[str, str]) -> dict[str, Any]:
    return {
        "digitalProductPassportId": f"urn:bench:dpp:{values['sku']}",
        "uniqueProductIdentifier": f"{PREFIX}item/{values['sku']}",
        "granularity": values["granularity"],
        "dppSchemaVersion": "EN18223:v1.0",
        "dppStatus": "Active",
        "economicOperatorId": OPERATOR,
        "nameplate": {
            "ProductName": [{"language": "en", "text": values["name"]}],
            "ManufacturerName": values["maker"],
            "WeightKg": int(values["weight_g"]) / 1000,
        },
    }


def write_file(path: Path, fmt: str, rows: int, valid: int) -> None:
    run = path.stem
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(row(i, run, valid) for i in range(rows))
    elif fmt == "jsonl":
        with path.open("w", encoding="utf-8") as out:
            for i in range(rows):
                out.write(json.dumps(document(row(i, run, valid))) + "\n")
    else:
        # With a shared strings table, as Excel and PIM exports write it (openpyxl writes inline
        # strings, which would leave the table out of the measurement).
        from tests.support.workbooks import write_workbook

        lines = ([row(i, run, valid)[column] for column in COLUMNS] for i in range(rows))
        with path.open("wb") as out:
            write_workbook(out, itertools.chain([COLUMNS], lines))


def peak_rss_kb() -> int:
    """This process's peak resident set (VmHWM). Not `ru_maxrss`: Linux carries that over from the
    parent's size at fork across exec, so a child would report the bench's own peak."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status: this bench measures on Linux")


def child(fmt: str, path: Path) -> None:
    """One import in this (fresh) process; prints its figures as one JSON line."""
    from functions import app_root
    from local.run import assign_namespaces
    from shared.access.authentication import Principal
    from shared.access.roles import OPERATOR as OPERATOR_ROLE
    from shared.onboarding.jobs import load_job
    from shared.platform.settings import load_settings

    root = app_root(load_settings())
    assign_namespaces(root, OPERATOR, [PREFIX])
    principal = Principal("bench-memory", frozenset({OPERATOR_ROLE}), OPERATOR)
    body: dict[str, Any] = {"fileName": path.name}
    if fmt != "jsonl":
        body["mapping"] = MAPPING
    job = root.imports.grant(body, principal)
    before = peak_rss_kb()
    started = time.perf_counter()
    with path.open("rb") as upload:
        result = root.imports.run(job["blobName"], data=upload)
    took = time.perf_counter() - started
    peak = peak_rss_kb()
    done = load_job(root.store, job["jobId"], "import") or {}
    counts = {name: done.get(name) for name in ("total", "created", "failed")}
    print(json.dumps({"result": result, "before_kb": before, "peak_kb": peak, "seconds": took, **counts}))


def read_child(fmt: str, path: Path) -> None:
    """The file's reading alone in this (fresh) process: counted, then every record read, as an
    import does before its rows are mapped (no stack, no mapping)."""
    from shared.onboarding.file_formats import count_records, read_records

    before = peak_rss_kb()
    started = time.perf_counter()
    with path.open("rb") as upload:
        total = count_records(upload, fmt)
        upload.seek(0)
        read = sum(1 for _ in read_records(upload, fmt))
    took = time.perf_counter() - started
    print(
        json.dumps(
            {"before_kb": before, "peak_kb": peak_rss_kb(), "seconds": took, "total": total, "read": read}
        )
    )


def measure(mode: str, fmt: str, path: Path) -> dict[str, Any]:
    process = subprocess.run(
        [sys.executable, "-m", "bench.import_memory", "--child", mode, fmt, str(path)],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    if process.returncode != 0:
        raise SystemExit(f"the {fmt} import failed:\n{process.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(process.stdout.strip().splitlines()[-1])
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000", help="row counts, smallest first")
    parser.add_argument("--formats", default="csv,xlsx,jsonl")
    parser.add_argument("--valid", type=int, default=200, help="rows that are valid passports")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "FORMAT", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, fmt, file = args.child
        (child if mode == "import" else read_child)(fmt, Path(file))
        return
    try:
        counts = [int(n) for n in args.rows.split(",") if n.strip()]
    except ValueError:
        counts = []
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not counts or any(n < 1 for n in counts) or not set(formats) <= {"csv", "xlsx", "jsonl"}:
        parser.error("--rows takes positive counts; --formats csv, xlsx and/or jsonl")
    with stack_environment(), tempfile.TemporaryDirectory() as tmp:
        print(f"peak RSS of one import per fresh process; first {args.valid} rows valid, the rest fail")
        for fmt in formats:
            peaks, reading = [], []
            for n in counts:
                path = Path(tmp) / f"m{n}-{fmt}.{fmt}"
                write_file(path, fmt, n, args.valid)
                figures = measure("import", fmt, path)
                alone = measure("read", fmt, path)
                peaks.append(figures["peak_kb"])
                reading.append(alone["peak_kb"])
                print(
                    f"{fmt:5} {n:>7} rows ({path.stat().st_size / 1e6:6.1f} MB): peak RSS "
                    f"{figures['peak_kb'] / 1024:6.1f} MiB "
                    f"(before the run {figures['before_kb'] / 1024:6.1f}), "
                    f"{figures['seconds']:6.1f} s, {figures['result']}, created {figures['created']}, "
                    f"failed {figures['failed']}; reading alone {alone['peak_kb'] / 1024:6.1f} MiB "
                    f"(before {alone['before_kb'] / 1024:5.1f}, {alone['seconds']:5.1f} s)"
                )
                path.unlink()
            print(
                f"{fmt:5} ratio {counts[-1]}/{counts[0]} rows: import {peaks[-1] / peaks[0]:.3f}, "
                f"reading alone {reading[-1] / reading[0]:.3f}"
            )


if __name__ == "__main__":
    main()
