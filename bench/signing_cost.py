"""Cost of signing on write: the same create, with the local ES256 signer and without signing.

    python -m bench.signing_cost --n 500

Starts its own stack; writes N passports through the core with the real Sealer (JCS + SHA-256 +
ES256 with the local key file + key publication) and N with a pass-through sealer, interleaved in
batches so both see the same machine state; prints per-write p50/mean and the ratio, and the bare
cost of one JCS + ES256 signature. Not a test: figures, not verdicts.

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
    """Stores the document as it is: the write path minus hashing and signing."""

    def __init__(self, keyring: Any):
        self.keyring = keyring

    def seal(self, document: dict[str, Any], seal: object) -> dict[str, Any]:
        return document


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
        from shared.integrity.signatures import Seal, sign_document

        signed = root.service
        # The same graph on the same store, but its sealer seals nothing: only the signature differs.
        unsigned = Root(root.settings, store=root.store, sealer=_PassThrough(root.keyring)).service
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

    signer = root.signer
    assert signer is not None
    document = _passport(0, "sign-only")
    started = time.perf_counter()
    for number in range(1, 1001):
        sign_document(
            document,
            Seal("urn:x", number, "create", None),
            signer.public_jwk()["kid"],
            lambda d: signer.sign(d)[1],
        )
    sign_ms = time.perf_counter() - started

    print(f"{args.n} creates per side, interleaved in batches of 50, local stack, local ES256 key")
    for name in ("signed", "unsigned"):
        values = timings[name]
        print(f"  {name:<9}: p50 {percentile(values, 0.5):6.3f} ms   mean {statistics.mean(values):6.3f} ms")
    ratio = percentile(timings["signed"], 0.5) / percentile(timings["unsigned"], 0.5)
    print(f"  ratio signed/unsigned: p50 {ratio:.2f}x")
    print(f"  JCS + SHA-256 + ES256 alone: {sign_ms:.3f} ms per document (1000 runs)")


if __name__ == "__main__":
    main()
