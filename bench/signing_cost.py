"""Cost of signing on write: the same create, issued as an SD-JWT with the local ES256 signer and
not signed at all.

    python -m bench.signing_cost --n 500

Starts its own stack; writes N passports through the core with the real issuance (disclosures,
digests, one ES256 signature with the local key file) and N with a pass-through issuance,
interleaved in batches so both see the same machine state; prints per-write p50/mean and the
ratio, and the bare cost of issuing one version, with and without its UNTP credential. Not a
test: figures, not verdicts.

Key Vault bounds bulk writes in Azure: about 4,000 P-256 sign operations per 10 s per vault
(published service limit), i.e. ~400 signed writes/s per vault before 429s, whatever the host.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench.common import app_stack, percentile
from bench.read_latency import BENCH_OPERATOR, BENCH_PREFIX, _passport
from local.run import assign_namespaces


class _PassThrough:
    """Stores the version as it is: the write path minus issuing and signing."""

    def sealed(self, record: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        return {**record, "sdJwt": "", "disclosures": [], "versionDigest": ""}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=500, help="writes per side")
    args = parser.parse_args(argv)

    with app_stack() as root:
        from shared.access.authentication import Principal
        from shared.access.roles import OPERATOR
        from shared.composition import Root

        signed = root.service
        # The same graph on the same store, but its sealer seals nothing: only the signature differs.
        unsigned = Root(root.settings, store=root.store, issuance=_PassThrough()).service
        assign_namespaces(root, BENCH_OPERATOR, [BENCH_PREFIX], [])
        owner = Principal("bench", frozenset({OPERATOR}), BENCH_OPERATOR)
        timings: dict[str, list[float]] = {"signed": [], "unsigned": []}
        for index in range(20):  # warm both paths
            signed.create(_passport(index, "warm-s"), owner)
            unsigned.create(_passport(index, "warm-u"), owner)
        for batch in range(0, args.n, 50):
            for name, service in (("signed", signed), ("unsigned", unsigned)):
                for index in range(batch, min(batch + 50, args.n)):
                    started = time.perf_counter()
                    service.create(_passport(index, name), owner)
                    timings[name].append((time.perf_counter() - started) * 1000)
        record = root.passports.head(_passport(0, "signed")["digitalProductPassportId"])
        assert record is not None
        issued_ms = {}
        credentials = root.issuance.credentials
        for name, further in (("with", credentials), ("without", None)):
            root.issuance.credentials = further
            started = time.perf_counter()
            for number in range(1, 1001):
                root.issuance.sealed({**record, "version": number})
            issued_ms[name] = time.perf_counter() - started
        root.issuance.credentials = credentials

    print(f"{args.n} creates per side, interleaved in batches of 50, local stack, local ES256 key")
    for name in ("signed", "unsigned"):
        values = timings[name]
        print(f"  {name:<9}: p50 {percentile(values, 0.5):6.3f} ms   mean {statistics.mean(values):6.3f} ms")
    ratio = percentile(timings["signed"], 0.5) / percentile(timings["unsigned"], 0.5)
    print(f"  ratio signed/unsigned: p50 {ratio:.2f}x")
    with_untp, without = issued_ms["with"], issued_ms["without"]
    print(f"  issuing one version alone (SD-JWT, core token, UNTP): {with_untp:.3f} ms (1000 runs)")
    print(f"  the same without the UNTP credential                : {without:.3f} ms")
    print(f"  ratio with/without the UNTP credential: {with_untp / without:.2f}x")


if __name__ == "__main__":
    main()
